/**
 * Admission: whether the scheduler may start regular polls now. The back-pressure of issue #14.
 *
 * One event loop polls, normalises, and writes what it collected (line protocol, HTTP to the database,
 * the disk buffer). Polls are started by a timer and answered by the network, so past the loop's capacity
 * they take every turn of it: each turn of the loop grows long (150-250 ms measured at 1,900 polls/s), the
 * writer's work, which needs many turns per batch (encode, send in chunks, wait for the answer), crawls,
 * and what the polls collect piles up in memory instead of reaching the database (measured at 30x Badung
 * on one loop: 500 samples/s written of about 15,000 collected, 1.5 M waiting, 2.1 GB RSS).
 *
 * So polls are held, not started, while either
 *   - the event loop was busy for more than `maxUtilisation` of the last check period (its utilisation:
 *     time running callbacks over wall time, Node's performance.eventLoopUtilization): the loop has no
 *     room left, and a poll started now only takes it from the writer; or
 *   - the writer is congested: more samples in memory, neither written nor on disk, than it may hold
 *     (SampleWriter.congested(): its spill to disk does not keep up).
 * Checked every `checkMs`. Held turns wait in the scheduler's queue, by due time and criticality, as past
 * any other capacity limit (scheduler.ts, overload): the collector completes polls at the rate it can both
 * poll and store, critical sites first, and says it is overloaded with that rate. Turns expedited to confirm
 * a suspected outage are never held (the scheduler lets them through): detection stays fast.
 *
 * The decision (decideAdmission) is pure; this class only samples its inputs on the injected clock.
 */
import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../core/clock.ts';

/** Why polls are held: the event loop is full, or the writer cannot keep what is collected. */
export type HoldReason = 'event_loop' | 'writer';

/** What the scheduler asks before it starts a regular turn. */
export interface AdmissionGate {
  /** Undefined: polls may start; otherwise why they are held. */
  readonly heldBy: HoldReason | undefined;
  /** Called every time the gate opens again (the scheduler starts the waiting turns). Returns unsubscribe. */
  subscribe(onOpen: () => void): () => void;
}

export interface AdmissionThresholds {
  /** Hold polls when the loop was busy for more than this share of the last period (0-1). */
  readonly maxUtilisation: number;
}

export const DEFAULT_ADMISSION: AdmissionThresholds & { readonly checkMs: number } = {
  maxUtilisation: 0.9,
  checkMs: 250,
};

/** The pure rule: held by the writer first (memory is the harder limit), then by the loop. */
export function decideAdmission(
  utilisation: number | undefined,
  writerCongested: boolean,
  t: AdmissionThresholds,
): HoldReason | undefined {
  if (writerCongested) return 'writer';
  if (utilisation !== undefined && utilisation > t.maxUtilisation) return 'event_loop';
  return undefined;
}

export interface AdmissionOptions {
  readonly clock: Clock;
  /** The loop's utilisation since the previous call (0-1); absent: not measured (only the writer holds). */
  readonly loopUtilisation?: (() => number) | undefined;
  /** The writer's memory is over its bound (SampleWriter.congested). */
  readonly writerCongested: () => boolean;
  readonly maxUtilisation?: number | undefined;
  readonly checkMs?: number | undefined;
}

/** Time held, by reason, since start: the `monitor` point's figures. */
export interface AdmissionStats {
  readonly heldBy: HoldReason | undefined;
  readonly heldMs: Readonly<Record<HoldReason, number>>;
  /** The last utilisation measured (undefined when not measured). */
  readonly loopUtilisation: number | undefined;
  /** Its check timer is armed (between start and stop). */
  readonly checking: boolean;
}

export class Admission implements AdmissionGate {
  readonly #o: AdmissionOptions;
  readonly #t: AdmissionThresholds;
  readonly #checkMs: number;
  readonly #listeners = new Set<() => void>();
  #heldBy: HoldReason | undefined;
  #heldSince = 0;
  readonly #heldMs: Record<HoldReason, number> = { event_loop: 0, writer: 0 };
  #utilisation: number | undefined;
  #timer: TimerHandle | undefined;

  constructor(opts: AdmissionOptions) {
    const maxUtilisation = opts.maxUtilisation ?? DEFAULT_ADMISSION.maxUtilisation;
    if (!(maxUtilisation > 0 && maxUtilisation <= 1)) {
      throw new RangeError('Admission: maxUtilisation must be in (0, 1]');
    }
    this.#o = opts;
    this.#t = { maxUtilisation };
    this.#checkMs = opts.checkMs ?? DEFAULT_ADMISSION.checkMs;
    if (!(this.#checkMs > 0)) throw new RangeError('Admission: checkMs must be > 0');
  }

  get heldBy(): HoldReason | undefined {
    return this.#heldBy;
  }

  subscribe(onOpen: () => void): () => void {
    this.#listeners.add(onOpen);
    return () => this.#listeners.delete(onOpen);
  }

  /** Start checking; the loop's utilisation is measured from here. */
  start(): void {
    if (this.#timer) return;
    this.#o.loopUtilisation?.(); // the first period starts now
    this.#arm();
  }

  /** Stop checking; the gate opens (nothing is held by a stopped admission). */
  stop(): void {
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#set(undefined);
  }

  /** Check now (the timer does this every checkMs). */
  check(): void {
    this.#utilisation = this.#o.loopUtilisation?.();
    this.#set(decideAdmission(this.#utilisation, this.#o.writerCongested(), this.#t));
  }

  stats(): AdmissionStats {
    const heldMs = { ...this.#heldMs };
    if (this.#heldBy) heldMs[this.#heldBy] += this.#o.clock.now() - this.#heldSince;
    return {
      heldBy: this.#heldBy,
      heldMs,
      loopUtilisation: this.#utilisation,
      checking: this.#timer !== undefined,
    };
  }

  #arm(): void {
    this.#timer = this.#o.clock.setTimeout(() => {
      this.check();
      if (this.#timer) this.#arm();
    }, this.#checkMs);
  }

  #set(reason: HoldReason | undefined): void {
    if (reason === this.#heldBy) return;
    const now = this.#o.clock.now();
    if (this.#heldBy) this.#heldMs[this.#heldBy] += now - this.#heldSince;
    this.#heldBy = reason;
    this.#heldSince = now;
    if (reason === undefined) for (const l of [...this.#listeners]) l();
  }
}

/** The real loop's utilisation since the previous call (Node's performance.eventLoopUtilization). */
export function eventLoopUtilisation(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const u = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    return u;
  };
}
