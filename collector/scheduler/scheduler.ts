/**
 * Runs a job per device on a fixed interval with jitter, under a global concurrency cap.
 *
 * - Phases are spread over the first interval (deterministically, from the device id), so 3,500 devices
 *   do not all fire at start-up.
 * - A device whose previous job is still running when the next one falls due skips that turn (counted as
 *   an overrun) instead of stacking jobs.
 * - A slow or dead device only ever holds one slot for as long as its own timeout, so it never delays
 *   the others beyond the cap; raise the cap for fleets with many dead devices.
 * - `expedite(id)` runs a device's job as soon as a slot is free (health asks for this to confirm a
 *   suspected outage or a parent's state without waiting for a whole interval).
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import { errorMessage } from '../core/errors.ts';
import { hashString } from '../core/hash.ts';

export interface SchedulerOptions {
  readonly clock: Clock;
  readonly log: Logger;
  readonly intervalMs: number;
  /** Each turn is moved by a random amount in [-jitterMs/2, +jitterMs/2]. */
  readonly jitterMs: number;
  readonly concurrency: number;
  /** The job. It should not throw; if it does, the error is logged and the schedule goes on. */
  readonly run: (id: string) => Promise<void>;
  /** Random source in [0, 1): injectable for tests. */
  readonly random?: () => number;
  /** A turn that starts more than this after it was due (timer lag, a full queue) counts as late. Default 1 s. */
  readonly lateAfterMs?: number;
}

export interface SchedulerStats {
  readonly jobs: number;
  readonly running: number;
  readonly queued: number;
  readonly started: number;
  readonly overruns: number;
  /** Turns that started more than `lateAfterMs` after they were due (the event loop or the cap held them). */
  readonly late: number;
  /** The longest wait from due to start of any turn so far. */
  readonly maxLagMs: number;
}

interface Entry {
  readonly id: string;
  timer: TimerHandle | undefined;
  running: boolean;
  queued: boolean;
  /** When the turn now queued was due (its start minus this is its lag). */
  dueAt: number;
  /** The ideal time of the next turn; turns are scheduled from this, not from completion, so they do not drift. */
  nextDue: number;
}

export class Scheduler {
  readonly #opts: SchedulerOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #queue: Entry[] = [];
  readonly #random: () => number;
  #running = 0;
  #started = 0;
  #overruns = 0;
  #late = 0;
  #maxLagMs = 0;
  #active = false;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(opts: SchedulerOptions) {
    if (opts.intervalMs <= 0) throw new RangeError('intervalMs must be positive');
    if (opts.concurrency < 1) throw new RangeError('concurrency must be at least 1');
    this.#opts = opts;
    this.#random = opts.random ?? Math.random;
  }

  /** Start scheduling the given ids, their first turns spread over one interval. */
  start(ids: readonly string[]): void {
    this.#active = true;
    const now = this.#opts.clock.now();
    for (const id of ids) this.add(id, now + phaseOf(id, this.#opts.intervalMs));
  }

  /** Add one id (its first turn at `firstAt`, default now). Adding a known id does nothing. */
  add(id: string, firstAt = this.#opts.clock.now()): void {
    if (this.#entries.has(id)) return;
    const entry: Entry = {
      id,
      timer: undefined,
      running: false,
      queued: false,
      dueAt: firstAt,
      nextDue: firstAt,
    };
    this.#entries.set(id, entry);
    if (this.#active) this.#arm(entry);
  }

  remove(id: string): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    if (entry.timer) this.#opts.clock.clearTimeout(entry.timer);
    this.#entries.delete(id);
    const i = this.#queue.indexOf(entry);
    if (i >= 0) this.#queue.splice(i, 1);
  }

  /** Run this id's job as soon as a slot is free, without moving its regular schedule. */
  expedite(id: string): void {
    const entry = this.#entries.get(id);
    if (!entry || !this.#active || entry.running || entry.queued) return;
    this.#enqueue(entry, this.#opts.clock.now());
  }

  /** Stop scheduling and wait for the jobs in flight to finish. */
  async stop(): Promise<void> {
    this.#active = false;
    for (const e of this.#entries.values()) {
      if (e.timer) this.#opts.clock.clearTimeout(e.timer);
      e.timer = undefined;
      e.queued = false;
    }
    this.#queue.length = 0;
    await Promise.allSettled([...this.#inFlight]);
  }

  stats(): SchedulerStats {
    return {
      jobs: this.#entries.size,
      running: this.#running,
      queued: this.#queue.length,
      started: this.#started,
      overruns: this.#overruns,
      late: this.#late,
      maxLagMs: this.#maxLagMs,
    };
  }

  #arm(entry: Entry): void {
    const delay = Math.max(0, entry.nextDue - this.#opts.clock.now());
    entry.timer = this.#opts.clock.setTimeout(() => this.#due(entry), delay);
  }

  #due(entry: Entry): void {
    entry.timer = undefined;
    if (!this.#active || this.#entries.get(entry.id) !== entry) return;
    const { intervalMs, jitterMs } = this.#opts;
    const now = this.#opts.clock.now();
    const dueAt = entry.nextDue;
    // Next ideal turn, skipping whole intervals if we fell far behind (e.g. the process was suspended).
    let next = entry.nextDue + intervalMs;
    if (next < now) next = now + intervalMs;
    entry.nextDue = next + (this.#random() - 0.5) * jitterMs;
    this.#arm(entry);
    if (entry.running || entry.queued) {
      this.#overruns++;
      return;
    }
    this.#enqueue(entry, dueAt);
  }

  #enqueue(entry: Entry, dueAt: number): void {
    entry.queued = true;
    entry.dueAt = dueAt;
    this.#queue.push(entry);
    this.#pump();
  }

  #pump(): void {
    while (this.#running < this.#opts.concurrency && this.#queue.length > 0) {
      const entry = this.#queue.shift();
      if (!entry) break;
      entry.queued = false;
      entry.running = true;
      const lag = this.#opts.clock.now() - entry.dueAt;
      if (lag > this.#maxLagMs) this.#maxLagMs = lag;
      if (lag > (this.#opts.lateAfterMs ?? 1000)) this.#late++;
      this.#running++;
      this.#started++;
      const job = this.#runJob(entry);
      this.#inFlight.add(job);
      void job.finally(() => this.#inFlight.delete(job));
    }
  }

  async #runJob(entry: Entry): Promise<void> {
    try {
      await this.#opts.run(entry.id);
    } catch (err) {
      this.#opts.log.error('scheduled job failed', { id: entry.id, error: errorMessage(err) });
    } finally {
      entry.running = false;
      this.#running--;
      if (this.#active) this.#pump();
    }
  }
}

/** A stable offset in [0, intervalMs) from the id, so restarts keep devices' phases (core/hash.ts). */
export function phaseOf(id: string, intervalMs: number): number {
  return (hashString(id) / 0x100000000) * intervalMs;
}
