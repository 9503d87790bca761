/**
 * The monitor's working figures for the console's health page and the `health` event, added to
 * GET /api/v1/health as `metrics`:
 *
 *   { at, uptimeS,
 *     polls:     { perSecond, ok, failed }            perSecond over the time since the previous reading
 *                                                    (readings come every 5 s with the health event)
 *     failing:   { total, byReason: { timeout, refused, auth, decode, agent_error, internal } }
 *                                                    devices whose last poll failed, by why
 *     buffer:    { queued, onDisk, dropped, written, failures, lastError? }   the InfluxDB write buffer
 *     scheduler: { jobs, running, queued, overruns,  overruns: turns skipped, the previous one still going
 *                  overload: { overloaded, duePerSecond, completedPerSecond, sustainablePerSecond,
 *                              oldestWaitMs } }      past capacity, and the polls/s it sustains
 *     mqtt:      { clients } | null                   devices connected to the embedded broker
 *     events:    { clients, dropped }                 open /api/v1/events streams }
 *
 * Pure arithmetic over what it is given: the rate needs the previous reading, kept here.
 */
import type { Clock } from '../core/clock.ts';
import type { SchedulerStats } from '../scheduler/scheduler.ts';
import type { WriterStats } from '../pipeline.ts';
import { isoWita } from '../core/time-zone.ts';

const REASONS = ['timeout', 'refused', 'auth', 'decode', 'agent_error', 'internal'] as const;

export interface HealthInputs {
  status(): {
    readonly startedAt: number;
    readonly polls: { readonly ok: number; readonly failed: number };
    readonly scheduler: SchedulerStats;
    readonly writer: WriterStats;
  };
  /** `lastFailure` (`<reason>: <message>`) of every device whose last poll failed. */
  failing(): Iterable<string>;
  mqttClients?: (() => number | undefined) | undefined;
  events?: (() => { clients: number; dropped: number }) | undefined;
}

export interface ConsoleHealthMetrics {
  readonly at: string;
  readonly uptimeS: number;
  readonly polls: { perSecond: number; ok: number; failed: number };
  readonly failing: { total: number; byReason: Record<string, number> };
  readonly buffer: {
    queued: number;
    onDisk: number;
    dropped: number;
    written: number;
    failures: number;
    lastError?: string | undefined;
  };
  readonly scheduler: SchedulerStats;
  readonly mqtt: { clients: number } | null;
  readonly events: { clients: number; dropped: number } | null;
}

export class HealthMeter {
  readonly #inputs: HealthInputs;
  readonly #clock: Clock;
  #last: { atMs: number; polls: number } | undefined;
  #rate = 0;

  constructor(inputs: HealthInputs, clock: Clock) {
    this.#inputs = inputs;
    this.#clock = clock;
  }

  read(): ConsoleHealthMetrics {
    const now = this.#clock.now();
    const s = this.#inputs.status();
    const polls = s.polls.ok + s.polls.failed;
    const last = this.#last ?? { atMs: s.startedAt, polls: 0 };
    // Readings closer than a second apart keep the previous rate (a burst of requests would be noise).
    if (now - last.atMs >= 1000) {
      this.#rate = Math.round(((polls - last.polls) * 1000 * 100) / (now - last.atMs)) / 100;
      this.#last = { atMs: now, polls };
    }
    const byReason: Record<string, number> = Object.fromEntries(REASONS.map((r) => [r, 0]));
    let total = 0;
    for (const f of this.#inputs.failing()) {
      const reason = f.split(':')[0] ?? 'internal';
      byReason[reason] = (byReason[reason] ?? 0) + 1;
      total++;
    }
    const w = s.writer;
    const clients = this.#inputs.mqttClients?.();
    return {
      at: isoWita(now),
      uptimeS: Math.round((now - s.startedAt) / 1000),
      polls: { perSecond: this.#rate, ok: s.polls.ok, failed: s.polls.failed },
      failing: { total, byReason },
      buffer: {
        queued: w.buffered,
        onDisk: w.onDisk ?? 0,
        dropped: w.dropped,
        written: w.written,
        failures: w.failures,
        ...(w.lastError ? { lastError: w.lastError } : {}),
      },
      scheduler: s.scheduler,
      mqtt: clients === undefined ? null : { clients },
      events: this.#inputs.events?.() ?? null,
    };
  }
}
