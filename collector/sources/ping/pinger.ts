/**
 * The ping schedule: every target is due at its own interval (fast for routers of critical sites), and
 * whatever is due is pinged together, in batches of `batchSize` addresses per fping process, `parallel`
 * processes at most. A target whose ping was lost is due again after `recheckMs` (the health state
 * machine needs N failures); the health tracker may ask for a target at once (`request`).
 *
 * Each answered or lost target becomes a ProbeResult (source 'ping') for the health state machine and a
 * `ping` sample (RTT, loss). A target fping printed no result for is neither: it is counted as bad output
 * and logged, as is a run of fping that failed outright. No I/O here besides the injected PingBatch.
 */
import type { Clock, TimerHandle } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { ProbeResult, Sample } from '../../core/types.ts';
import type { PingBatch } from './fping.ts';
import { pingStats, type FpingParse } from './fping-output.ts';

export interface PingTarget {
  readonly deviceId: string;
  readonly host: string;
  readonly intervalMs: number;
  /** The `ping` sample's tags (collector/sinks/schema.ts deviceTags). */
  readonly tags: Readonly<Record<string, string>>;
}

export interface PingerOptions {
  readonly clock: Clock;
  readonly log: Logger;
  readonly batch: PingBatch;
  readonly targets: readonly PingTarget[];
  /** A lost target is pinged again this soon. */
  readonly recheckMs: number;
  readonly batchSize: number;
  readonly parallel: number;
  /** Targets due within this much of the first one ride in the same round (fewer processes). */
  readonly gatherMs?: number | undefined;
  readonly observe: (probe: ProbeResult) => void;
  readonly push: (samples: Sample[]) => void;
}

export interface PingerStats {
  /** fping processes run. */
  readonly runs: number;
  /** Addresses pinged. */
  readonly targets: number;
  /** Output lines not understood, and targets without a result. */
  readonly badOutput: number;
  /** fping runs that failed outright. */
  readonly errors: number;
  readonly lastError?: string | undefined;
}

interface Entry {
  readonly targets: PingTarget[];
  dueAt: number;
}

export class Pinger {
  readonly #o: PingerOptions;
  /** host → the devices behind it (tests put many devices on one address). */
  readonly #hosts = new Map<string, Entry>();
  readonly #byDevice = new Map<string, Entry>();
  #timer: TimerHandle | undefined;
  #round: Promise<void> | undefined;
  #running = false;
  #stats: { runs: number; targets: number; badOutput: number; errors: number; lastError?: string } = {
    runs: 0,
    targets: 0,
    badOutput: 0,
    errors: 0,
  };

  constructor(o: PingerOptions) {
    this.#o = o;
    this.#place(o.targets, () => 0);
  }

  get size(): number {
    return this.#hosts.size;
  }

  /** The devices pinged now. */
  deviceIds(): string[] {
    return [...this.#byDevice.keys()];
  }

  /**
   * Ping these targets from now on (a cluster member's devices follow ownership). An address already
   * pinged keeps its schedule; a new one is due at once (while running); one no longer listed is
   * dropped, and a result for it from the round in flight is neither observed nor written.
   */
  setTargets(targets: readonly PingTarget[]): void {
    const before = new Map([...this.#hosts].map(([h, e]) => [h, e.dueAt]));
    const now = this.#o.clock.now();
    this.#hosts.clear();
    this.#byDevice.clear();
    this.#place(targets, (host) => before.get(host) ?? now);
    if (this.#running && !this.#round) this.#arm();
  }

  #place(targets: readonly PingTarget[], dueAt: (host: string) => number): void {
    for (const t of targets) {
      let e = this.#hosts.get(t.host);
      if (!e) {
        e = { targets: [], dueAt: dueAt(t.host) };
        this.#hosts.set(t.host, e);
      }
      e.targets.push(t);
      this.#byDevice.set(t.deviceId, e);
    }
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const now = this.#o.clock.now();
    for (const e of this.#hosts.values()) e.dueAt = now;
    this.#arm();
  }

  /** No new rounds; the round in flight finishes (its results still count). */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#round;
  }

  /** Ping this device's address in the next round, now (the health tracker confirms a state). */
  request(deviceId: string): void {
    const e = this.#byDevice.get(deviceId);
    if (!e || !this.#running) return;
    e.dueAt = Math.min(e.dueAt, this.#o.clock.now());
    if (!this.#round) this.#arm();
  }

  stats(): PingerStats {
    return { ...this.#stats };
  }

  #arm(): void {
    if (!this.#running || this.#round) return;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    let next = Infinity;
    for (const e of this.#hosts.values()) next = Math.min(next, e.dueAt);
    if (next === Infinity) return;
    this.#timer = this.#o.clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.#round = this.#runRound().finally(() => {
          this.#round = undefined;
          this.#arm();
        });
      },
      Math.max(0, next - this.#o.clock.now()),
    );
  }

  async #runRound(): Promise<void> {
    const now = this.#o.clock.now();
    const horizon = now + (this.#o.gatherMs ?? 500);
    const due = [...this.#hosts.entries()].filter(([, e]) => e.dueAt <= horizon).map(([h]) => h);
    const batches: string[][] = [];
    for (let i = 0; i < due.length; i += this.#o.batchSize) batches.push(due.slice(i, i + this.#o.batchSize));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (this.#running && next < batches.length) {
        const b = batches[next++];
        if (b) await this.#runBatch(b);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#o.parallel, batches.length) }, worker));
  }

  async #runBatch(hosts: string[]): Promise<void> {
    const { clock, log } = this.#o;
    const started = clock.now();
    this.#stats.runs++;
    this.#stats.targets += hosts.length;
    let parsed: FpingParse;
    try {
      parsed = await this.#o.batch(hosts);
    } catch (err) {
      // No result is not a lost ping: the state machine hears nothing, the next round tries again.
      this.#stats.errors++;
      this.#stats.lastError = errorMessage(err);
      log.error('fping failed', { targets: hosts.length, error: errorMessage(err) });
      this.#reschedule(hosts, clock.now(), false);
      return;
    }
    const now = clock.now();
    const durationMs = now - started;
    const bad = parsed.unreadable.length + parsed.missing.length;
    if (bad > 0) {
      this.#stats.badOutput += bad;
      log.warn('fping output not understood', {
        unreadable: parsed.unreadable.slice(0, 3),
        missing: parsed.missing.slice(0, 10),
        count: bad,
      });
    }
    if (parsed.unresolved.length > 0) {
      this.#stats.errors++;
      log.warn('ping targets fping could not resolve', { hosts: parsed.unresolved.slice(0, 10) });
    }
    const samples: Sample[] = [];
    for (const host of hosts) {
      const tally = parsed.tallies.get(host);
      const entry = this.#hosts.get(host);
      if (!entry) continue;
      if (!tally) {
        this.#reschedule([host], now, false);
        continue;
      }
      const s = pingStats(tally);
      const ok = s.received > 0;
      for (const t of entry.targets) {
        samples.push({
          measurement: 'ping',
          tags: t.tags,
          fields: {
            sent: s.sent,
            received: s.received,
            loss_pct: s.lossPct,
            ...(s.rttMs === undefined
              ? {}
              : { rtt_ms: s.rttMs, rtt_min_ms: s.rttMinMs ?? s.rttMs, rtt_max_ms: s.rttMaxMs ?? s.rttMs }),
          },
          timeMs: now,
        });
      }
      this.#reschedule([host], now, !ok);
      if (!this.#running) continue;
      for (const t of entry.targets) {
        this.#o.observe(
          ok
            ? { deviceId: t.deviceId, timeMs: now, ok, durationMs, source: 'ping' }
            : {
                deviceId: t.deviceId,
                timeMs: now,
                ok,
                durationMs,
                source: 'ping',
                failure: { reason: 'timeout', message: `no echo reply (${s.sent} sent)` },
              },
        );
      }
    }
    if (samples.length > 0) this.#o.push(samples);
  }

  #reschedule(hosts: readonly string[], now: number, lost: boolean): void {
    for (const h of hosts) {
      const e = this.#hosts.get(h);
      if (!e) continue;
      const interval = Math.min(...e.targets.map((t) => t.intervalMs));
      e.dueAt = now + (lost ? Math.min(this.#o.recheckMs, interval) : interval);
    }
  }
}
