/**
 * Runs a job per device on a fixed interval with jitter, under a global concurrency cap.
 *
 * - Phases are spread over the first interval (deterministically, from the device id), so 3,500 devices
 *   do not all fire at start-up.
 * - A device whose previous job is still running (or still waiting for a slot) when the next one falls
 *   due skips that turn (counted as an overrun) instead of stacking jobs.
 * - A slow or dead device only ever holds one slot for as long as its own timeout, so it never delays
 *   the others beyond the cap; raise the cap for fleets with many dead devices.
 * - `expedite(id)` runs a device's job as soon as a slot is free, ahead of regular turns (health asks for
 *   this to confirm a suspected outage or a parent's state without waiting for a whole interval).
 *
 * Cost per turn is the same at any fleet size: one timer for the whole fleet (the earliest turn of a
 * min-heap of next turns), a min-heap of turns waiting for a slot, no scan or splice over the fleet.
 *
 * Overload (more turns due than the jobs can complete): the waiting turns are served by the time they
 * fell due, each rank of a device's criticality holding it back by `priorityStepMs` (default one
 * interval): critical sites keep their rate as long as they alone fit in the capacity, and a low-priority
 * device is never starved (its turn goes first once it has waited 3 steps longer than a critical one's). A device keeps its place while it waits and skips its later turns, so every device is polled
 * at the rate the collector can sustain, the lateness spread over all of them. The queue busy without a
 * break for `overloadAfterMs` is the overload state (stats().overload), with the completion rate
 * measured meanwhile: the polls per second the collector sustains.
 *
 * Back-pressure (`gate`, scheduler/admission.ts): while the gate is closed (the event loop is full, or the
 * writer cannot keep what is collected) no regular turn starts; turns wait in the same queue, so a held
 * collector is an overloaded one, with the same fairness. Expedited turns are never held.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { Criticality } from '../core/types.ts';
import { errorMessage } from '../core/errors.ts';
import { hashString } from '../core/hash.ts';
import type { AdmissionGate, HoldReason } from './admission.ts';
import { IndexedHeap } from './heap.ts';

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
  /**
   * A device's rank when turns wait for a slot: 0 (first) to 3, e.g. its site's criticality
   * (critical, high, medium, low). Read once, when the id is added. Default 0 for all.
   */
  readonly priority?: ((id: string) => number) | undefined;
  /** How far ahead one rank moves a waiting turn. Default one interval. */
  readonly priorityStepMs?: number | undefined;
  /** The queue busy without a break this long is overload. Default max(10 s, interval / 6). */
  readonly overloadAfterMs?: number | undefined;
  /**
   * Wall-clock-aligned turns (a cluster's collectors, collector/cluster/): a device's turns fall on its
   * slots, floor(t / interval) * interval + phaseOf(id, interval), with no jitter, whoever polls it; an
   * id added (or started) has its first turn at its next slot after now, never at once. Collectors that
   * hand a device over between two slots therefore never both poll it in one interval. Default false:
   * turns phased from the start time, with jitter (the embedded monitor).
   */
  readonly aligned?: boolean | undefined;
  /** Back-pressure: regular turns start only while the gate is open (scheduler/admission.ts). */
  readonly gate?: AdmissionGate | undefined;
  /**
   * When the timer fires, turns due within this many ms after now are taken with the one due (started up
   * to this much early), so the fleet's timer wakes the event loop about once per coalesceMs instead of once
   * per turn: at the Badung load 165 wake-ups a second for 111 polls (issue #14: a wake-up costs more
   * than a poll's own scheduling). Default 0; not with `aligned` (a turn never starts before its slot).
   */
  readonly coalesceMs?: number | undefined;
}

/** Whether the jobs keep up with the turns due, and the rates that say so. */
export interface SchedulerLoad {
  /** Turns have waited for a slot without a break for overloadAfterMs: the collector is past capacity. */
  readonly overloaded: boolean;
  /** Turns due per second (devices / interval). */
  readonly duePerSecond: number;
  /** Jobs completed per second over the last 9 whole seconds. */
  readonly completedPerSecond: number;
  /**
   * The jobs per second the collector sustains: while overloaded, the rate measured since the queue
   * last emptied; otherwise the cap's estimate (concurrency / mean job time), which only bounds it.
   */
  readonly sustainablePerSecond: number;
  /** How long the oldest waiting turn has waited (0 when none waits). */
  readonly oldestWaitMs: number;
  /** Why regular turns are held right now (the gate), if they are. */
  readonly heldBy?: HoldReason | undefined;
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
  /** Always present from the Scheduler; optional for figures built by hand (tests, older readers). */
  readonly overload?: SchedulerLoad | undefined;
}

interface Entry {
  readonly id: string;
  readonly rank: number;
  running: boolean;
  /** Waiting as an expedited turn: started even while the gate holds regular ones. */
  expedited: boolean;
  /** When the turn now waiting was due (its start minus this is its lag). */
  dueAt: number;
  /** Order among waiting turns: dueAt plus rank x step (expedited turns: far ahead). */
  readyKey: number;
  /** The ideal time of the next turn; turns are scheduled from this, not from completion, so they do not drift. */
  nextDue: number;
  timerIndex: number;
  readyIndex: number;
}

/** Completions over the last RATE_BUCKETS seconds, one bucket a second. */
const RATE_BUCKETS = 10;

export class Scheduler {
  readonly #opts: SchedulerOptions;
  readonly #entries = new Map<string, Entry>();
  /** Every entry, by its next turn: one clock timer is armed for the earliest. */
  readonly #turns = new IndexedHeap<Entry>((e) => e.nextDue, {
    get: (e) => e.timerIndex,
    set: (e, i) => (e.timerIndex = i),
  });
  /** Turns waiting for a slot, most urgent first. */
  readonly #ready = new IndexedHeap<Entry>((e) => e.readyKey, {
    get: (e) => e.readyIndex,
    set: (e, i) => (e.readyIndex = i),
  });
  readonly #random: () => number;
  readonly #stepMs: number;
  readonly #overloadAfterMs: number;
  /** coalesceMs, bounded so that one fire never takes a device's next turn too (and 0 when aligned). */
  readonly #coalesceMs: number;
  #timer: TimerHandle | undefined;
  #timerAt = Infinity;
  #running = 0;
  #started = 0;
  #overruns = 0;
  #late = 0;
  #maxLagMs = 0;
  #active = false;
  #unsubscribeGate: (() => void) | undefined;
  /** What stop() waits on while jobs are in flight: resolved when the last one ends. */
  #drain: { readonly promise: Promise<void>; readonly resolve: () => void } | undefined;
  /** Since when turns have waited for a slot without a break (undefined: none waits). */
  #busySince: number | undefined;
  /** Jobs completed since #busySince. */
  #busyDone = 0;
  readonly #buckets = new Array<number>(RATE_BUCKETS).fill(0);
  #bucketSecond = 0;
  /** Mean job time, ms (exponentially weighted). */
  #meanJobMs = 0;

  constructor(opts: SchedulerOptions) {
    if (opts.intervalMs <= 0) throw new RangeError('intervalMs must be positive');
    if (opts.concurrency < 1) throw new RangeError('concurrency must be at least 1');
    this.#opts = opts;
    this.#random = opts.random ?? Math.random;
    this.#stepMs = opts.priorityStepMs ?? opts.intervalMs;
    this.#overloadAfterMs = opts.overloadAfterMs ?? Math.max(10_000, opts.intervalMs / 6);
    this.#coalesceMs = opts.aligned
      ? 0
      : Math.max(0, Math.min(opts.coalesceMs ?? 0, (opts.intervalMs - opts.jitterMs / 2) / 4));
  }

  /** Start scheduling the given ids, their first turns spread over one interval (aligned: at their slots). */
  start(ids: readonly string[]): void {
    this.#active = true;
    this.#unsubscribeGate ??= this.#opts.gate?.subscribe(() => {
      if (this.#active) this.#pump();
    });
    const now = this.#opts.clock.now();
    for (const id of ids) this.add(id, this.#firstTurn(id, now));
    this.#arm();
  }

  /**
   * Add one id (its first turn at `firstAt`; default now, or its next slot when aligned). Adding a known id
   * does nothing.
   */
  add(id: string, firstAt = this.#firstTurn(id, this.#opts.clock.now(), false)): void {
    if (this.#entries.has(id)) return;
    const rank = Math.min(3, Math.max(0, Math.floor(this.#opts.priority?.(id) ?? 0))) || 0;
    const entry: Entry = {
      id,
      rank,
      running: false,
      expedited: false,
      dueAt: firstAt,
      readyKey: firstAt,
      nextDue: firstAt,
      timerIndex: -1,
      readyIndex: -1,
    };
    this.#entries.set(id, entry);
    this.#turns.push(entry);
    if (this.#active && firstAt < this.#timerAt) this.#arm();
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  remove(id: string): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#entries.delete(id);
    this.#turns.remove(entry);
    this.#ready.remove(entry);
    if (this.#ready.size === 0) this.#idle();
  }

  /** Run this id's job as soon as a slot is free, ahead of regular turns, without moving its schedule. */
  expedite(id: string): void {
    const entry = this.#entries.get(id);
    if (!entry || !this.#active || entry.running) return;
    const now = this.#opts.clock.now();
    const front = now - 4 * this.#stepMs - this.#opts.intervalMs;
    if (this.#ready.has(entry)) {
      // Already waiting (overload): it goes to the front, keeping the time its turn fell due.
      entry.readyKey = Math.min(entry.readyKey, front);
      entry.expedited = true;
      this.#ready.update(entry);
      this.#pump();
      return;
    }
    this.#enqueue(entry, now, front, true);
  }

  /** Stop scheduling and wait for the jobs in flight to finish. */
  async stop(): Promise<void> {
    this.#active = false;
    this.#unsubscribeGate?.();
    this.#unsubscribeGate = undefined;
    if (this.#timer) this.#opts.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#ready.clear();
    this.#idle();
    // A count, not a set of the jobs' promises: a long-lived collection with an entry in and out per poll
    // costs GC work (request-table.ts says why).
    if (this.#running === 0) return;
    if (this.#drain === undefined) {
      let resolve = (): void => {};
      const promise = new Promise<void>((r) => (resolve = r));
      this.#drain = { promise, resolve };
    }
    await this.#drain.promise;
  }

  stats(): SchedulerStats {
    return {
      jobs: this.#entries.size,
      running: this.#running,
      queued: this.#ready.size,
      started: this.#started,
      overruns: this.#overruns,
      late: this.#late,
      maxLagMs: this.#maxLagMs,
      overload: this.load(),
    };
  }

  /** The overload verdict and its rates, now. */
  load(): SchedulerLoad {
    const now = this.#opts.clock.now();
    this.#roll(now);
    // The whole seconds before this one (the current bucket is still filling).
    const current = this.#buckets[this.#bucketSecond % RATE_BUCKETS] ?? 0;
    const completed = (this.#buckets.reduce((a, b) => a + b, 0) - current) / (RATE_BUCKETS - 1);
    const busyMs = this.#busySince === undefined ? 0 : now - this.#busySince;
    const overloaded = busyMs >= this.#overloadAfterMs;
    const cap = this.#meanJobMs > 0 ? (this.#opts.concurrency * 1000) / this.#meanJobMs : 0;
    let oldestWaitMs = 0;
    const head = this.#ready.peek();
    if (head) oldestWaitMs = Math.max(0, now - head.dueAt);
    return {
      overloaded,
      duePerSecond: round2((this.#entries.size * 1000) / this.#opts.intervalMs),
      completedPerSecond: round2(completed),
      sustainablePerSecond: round2(overloaded && busyMs > 0 ? (this.#busyDone * 1000) / busyMs : cap),
      oldestWaitMs: Math.round(oldestWaitMs),
      heldBy: this.#opts.gate?.heldBy,
    };
  }

  /** A new id's first turn: aligned, its next slot after now; otherwise spread (`spread`) or now. */
  #firstTurn(id: string, now: number, spread = true): number {
    if (this.#opts.aligned) return nextSlot(id, this.#opts.intervalMs, now);
    return spread ? now + phaseOf(id, this.#opts.intervalMs) : now;
  }

  #arm(): void {
    if (!this.#active) return;
    const head = this.#turns.peek();
    const at = head ? head.nextDue : Infinity;
    if (at === this.#timerAt && this.#timer) return;
    if (this.#timer) this.#opts.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = at;
    if (at === Infinity) return;
    this.#timer = this.#opts.clock.setTimeout(() => this.#fire(), Math.max(0, at - this.#opts.clock.now()));
  }

  /** The earliest turn fell due: take every turn due by now, then arm for the next. */
  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    if (!this.#active) return;
    const now = this.#opts.clock.now();
    const horizon = now + this.#coalesceMs;
    for (let head = this.#turns.peek(); head && head.nextDue <= horizon; head = this.#turns.peek()) {
      this.#due(head, now);
    }
    this.#arm();
    this.#pump();
  }

  #due(entry: Entry, now: number): void {
    const { intervalMs, jitterMs } = this.#opts;
    const dueAt = entry.nextDue;
    // Next ideal turn, skipping whole intervals if we fell far behind (e.g. the process was suspended).
    let next = entry.nextDue + intervalMs;
    if (this.#opts.aligned) {
      // On the device's slots only: after a stall, the next slot after now (never two in one interval).
      entry.nextDue = next <= now ? nextSlot(entry.id, intervalMs, now) : next;
    } else {
      if (next < now) next = now + intervalMs;
      entry.nextDue = next + (this.#random() - 0.5) * jitterMs;
    }
    this.#turns.update(entry);
    if (entry.running || this.#ready.has(entry)) {
      // Still running, or still waiting for a slot: it keeps its place, this turn is skipped.
      this.#overruns++;
      return;
    }
    this.#enqueue(entry, dueAt, dueAt + entry.rank * this.#stepMs, false, false);
  }

  #enqueue(entry: Entry, dueAt: number, key: number, expedited: boolean, pump = true): void {
    entry.dueAt = dueAt;
    entry.readyKey = key;
    entry.expedited = expedited;
    this.#ready.push(entry);
    if (pump) this.#pump();
  }

  #pump(): void {
    const now = this.#opts.clock.now();
    const gate = this.#opts.gate;
    while (this.#running < this.#opts.concurrency && this.#ready.size > 0) {
      // Held: only expedited turns (always at the front of the queue) start; the gate's opening pumps again.
      if (gate?.heldBy !== undefined && !(this.#ready.peek() as Entry).expedited) break;
      const entry = this.#ready.pop() as Entry;
      entry.running = true;
      entry.expedited = false;
      const lag = now - entry.dueAt;
      if (lag > this.#maxLagMs) this.#maxLagMs = lag;
      if (lag > (this.#opts.lateAfterMs ?? 1000)) this.#late++;
      this.#running++;
      this.#started++;
      void this.#runJob(entry, now);
    }
    if (this.#ready.size === 0) this.#idle();
    else if (this.#busySince === undefined) {
      this.#busySince = now;
      this.#busyDone = 0;
    }
  }

  #idle(): void {
    this.#busySince = undefined;
    this.#busyDone = 0;
  }

  async #runJob(entry: Entry, startedAt: number): Promise<void> {
    try {
      await this.#opts.run(entry.id);
    } catch (err) {
      this.#opts.log.error('scheduled job failed', { id: entry.id, error: errorMessage(err) });
    } finally {
      entry.running = false;
      this.#running--;
      const now = this.#opts.clock.now();
      this.#roll(now);
      this.#buckets[this.#bucketSecond % RATE_BUCKETS]! += 1;
      if (this.#busySince !== undefined) this.#busyDone++;
      const ms = Math.max(1, now - startedAt);
      this.#meanJobMs = this.#meanJobMs === 0 ? ms : this.#meanJobMs * 0.99 + ms * 0.01;
      if (this.#running === 0 && this.#drain !== undefined) {
        this.#drain.resolve();
        this.#drain = undefined;
      }
      if (this.#active) this.#pump();
    }
  }

  /** Move the rate buckets on to the current second, emptying the ones passed. */
  #roll(now: number): void {
    const second = Math.floor(now / 1000);
    if (second === this.#bucketSecond) return;
    const steps = Math.min(RATE_BUCKETS, second - this.#bucketSecond);
    for (let i = 1; i <= steps; i++) this.#buckets[(this.#bucketSecond + i) % RATE_BUCKETS] = 0;
    this.#bucketSecond = second;
  }
}

/** The order in which waiting turns are served, by the site's criticality (the `priority` option). */
export const CRITICALITY_RANK: Readonly<Record<Criticality, number>> = {
  critical: 0,
  high: 1,
  medium: 2,
  low: 3,
};

/** The overload figures as fields of the `monitor` measurement (component=collector). */
export function overloadFields(load: SchedulerLoad): Record<string, number | boolean> {
  return {
    overloaded: load.overloaded,
    polls_due_per_s: load.duePerSecond,
    polls_done_per_s: load.completedPerSecond,
    polls_sustainable_per_s: load.sustainablePerSecond,
    oldest_wait_ms: load.oldestWaitMs,
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** A stable offset in [0, intervalMs) from the id, so restarts keep devices' phases (core/hash.ts). */
export function phaseOf(id: string, intervalMs: number): number {
  return (hashString(id) / 0x100000000) * intervalMs;
}

/** The start of the slot of `id` that contains `t`: floor((t - phase) / interval) * interval + phase. */
export function slotOf(id: string, intervalMs: number, t: number): number {
  const phase = phaseOf(id, intervalMs);
  return Math.floor((t - phase) / intervalMs) * intervalMs + phase;
}

/** The first slot of `id` strictly after `t` (wall-clock aligned, the same on every collector). */
export function nextSlot(id: string, intervalMs: number, t: number): number {
  return slotOf(id, intervalMs, t) + intervalMs;
}
