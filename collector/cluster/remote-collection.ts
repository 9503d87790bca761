/**
 * Collection as the alerting leader sees it in a cluster (issue #15): probe results arrive from the
 * collectors over JetStream (the durable consumer `alerting`, at least once), and a probe request is a
 * core NATS message `netmon.probe.<deviceId>` that the owning collector acts on.
 *
 *   ProbeFeed ──► ProbeGate (duplicate? stale?) ──► health (onProbe)
 *   health ── requestProbe ──► publish netmon.probe.<id> { delayMs }
 *
 * The gate: at-least-once delivery brings a probe again after a redelivery or a collector's retry; one
 * already seen for the device and source (same or older timeMs) changes nothing. A probe older than two
 * poll intervals (an edge collector's backlog after its uplink returns) updates nothing that pages: its
 * samples reached InfluxDB through the collector's own writer, so history and reports have it.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ProbeResult } from '../core/types.ts';
import type { PollCounts } from '../collection/collection.ts';
import type { CollectionPort } from '../monitor.ts';
import type { SampleWriterLike } from '../pipeline.ts';
import type { SchedulerStats } from '../scheduler/scheduler.ts';

export type ProbeVerdict = 'fresh' | 'duplicate' | 'stale';

/**
 * Pure: what to do with a probe result that arrived at `now`. Keeps, per device and source, the newest
 * probe time seen.
 */
export class ProbeGate {
  readonly #newest = new Map<string, number>();
  readonly #staleAfterMs: number;

  /** `intervalMs`: the poll interval; a probe older than two of them is stale. */
  constructor(intervalMs: number) {
    this.#staleAfterMs = 2 * intervalMs;
  }

  admit(p: ProbeResult, now: number): ProbeVerdict {
    const key = `${p.deviceId}\u0000${p.source}`;
    const newest = this.#newest.get(key);
    if (newest !== undefined && p.timeMs <= newest) return 'duplicate';
    this.#newest.set(key, p.timeMs);
    return now - p.timeMs > this.#staleAfterMs ? 'stale' : 'fresh';
  }
}

/** Where probe results come from: the JetStream consumer (collector/cluster/result-feed.ts) or a test. */
export interface ProbeFeed {
  /** Begin delivering probe results; the feed retries on its own while NATS is away. */
  start(onProbe: (probe: ProbeResult) => void): void;
  /** Stop at once: no probe is delivered after this returns; resolves once the pull has ended. */
  stop(): Promise<void>;
}

export interface RemoteCollectionDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly feed: ProbeFeed;
  /** Ask the owning collector for a probe (core NATS `netmon.probe.<id>`; lost if nobody listens). */
  readonly publishProbe: (deviceId: string, delayMs: number) => void;
  readonly writer: SampleWriterLike;
  readonly onProbe: (probe: ProbeResult) => void;
}

export interface RemoteCollectionSettings {
  readonly intervalMs: number;
  /** How often the feed's own health is written (`monitor` measurement, component alerting). */
  readonly selfMetricsMs: number;
}

export interface FeedCounts {
  readonly fresh: number;
  readonly duplicate: number;
  readonly stale: number;
}

export class RemoteCollection implements CollectionPort {
  readonly #deps: RemoteCollectionDeps;
  readonly #settings: RemoteCollectionSettings;
  readonly #gate: ProbeGate;
  #counts = { fresh: 0, duplicate: 0, stale: 0 };
  #since = { fresh: 0, duplicate: 0, stale: 0, atMs: 0 };
  #polls = { ok: 0, failed: 0, rounds: 0 };
  readonly #roundSeen = new Set<string>();
  #devices = new Set<string>();
  #running = false;
  #selfTimer: TimerHandle | undefined;
  #stopped: Promise<void> | undefined;

  constructor(deps: RemoteCollectionDeps, settings: RemoteCollectionSettings) {
    this.#deps = deps;
    this.#settings = settings;
    this.#gate = new ProbeGate(settings.intervalMs);
  }

  start(deviceIds: readonly string[]): void {
    this.#devices = new Set(deviceIds);
    this.#running = true;
    this.#stopped = undefined;
    this.#since = { fresh: 0, duplicate: 0, stale: 0, atMs: this.#deps.clock.now() };
    this.#deps.feed.start((p) => this.#take(p));
    this.#armSelfMetrics();
  }

  stop(): Promise<void> {
    this.#running = false;
    if (this.#selfTimer) this.#deps.clock.clearTimeout(this.#selfTimer);
    this.#selfTimer = undefined;
    this.#stopped ??= this.#deps.feed.stop();
    return this.#stopped;
  }

  requestProbe(deviceId: string, delayMs: number): void {
    if (!this.#running) return;
    try {
      this.#deps.publishProbe(deviceId, Math.max(0, delayMs));
    } catch (err) {
      this.#deps.log.warn('probe request not published', { device: deviceId, error: errorMessage(err) });
    }
  }

  /** Probe results taken (ok/failed) and rounds: every known device heard from at least once since the last. */
  polls(): PollCounts {
    return { ...this.#polls };
  }

  counts(): FeedCounts {
    return { ...this.#counts };
  }

  /** No scheduler here (the collectors have them): the figures of an idle one over the known devices. */
  schedulerStats(): SchedulerStats {
    return { jobs: this.#devices.size, running: 0, queued: 0, started: 0, overruns: 0, late: 0, maxLagMs: 0 };
  }

  pendingTimers(): number {
    return this.#selfTimer ? 1 : 0;
  }

  writeSelfMetrics(): void {
    const now = this.#deps.clock.now();
    const c = this.#counts;
    this.#deps.writer.push([
      {
        measurement: 'monitor',
        tags: { component: 'alerting' },
        fields: {
          period_s: (now - this.#since.atMs) / 1000,
          results_taken: c.fresh - this.#since.fresh,
          results_duplicate: c.duplicate - this.#since.duplicate,
          results_stale: c.stale - this.#since.stale,
        },
        timeMs: now,
      },
    ]);
    this.#since = { ...c, atMs: now };
  }

  #take(p: ProbeResult): void {
    if (!this.#running || !this.#devices.has(p.deviceId)) return;
    const verdict = this.#gate.admit(p, this.#deps.clock.now());
    this.#counts[verdict]++;
    if (verdict !== 'fresh') {
      if (verdict === 'stale')
        this.#deps.log.debug('stale probe result: history only', { device: p.deviceId, timeMs: p.timeMs });
      return;
    }
    // A ping is a second signal, not a poll: it feeds health, not the poll counts or the rounds.
    const poll = p.source !== 'ping';
    if (poll && p.ok) this.#polls.ok++;
    else if (poll) this.#polls.failed++;
    try {
      this.#deps.onProbe(p);
    } catch (err) {
      this.#deps.log.error('probe result not applied', { device: p.deviceId, error: errorMessage(err) });
    }
    if (!poll) return;
    this.#roundSeen.add(p.deviceId);
    if (this.#roundSeen.size >= this.#devices.size) {
      this.#polls.rounds++;
      this.#roundSeen.clear();
    }
  }

  #armSelfMetrics(): void {
    this.#selfTimer = this.#deps.clock.setTimeout(() => {
      this.writeSelfMetrics();
      if (this.#running) this.#armSelfMetrics();
    }, this.#settings.selfMetricsMs);
  }
}
