/**
 * The collection role: scheduler ─► source (SNMP) ─► normalise ─► Sample[] ─► writer, and one ProbeResult
 * per poll out to whoever judges health (in one process the alerting role; over a bus, later, a subject).
 * It keeps its own counter memory (the previous reading of each device, for counter deltas) and its own
 * health figures (polls, failures by reason: the `monitor` measurement). MQTT telemetry reaches the same
 * writer through collector/sources/mqtt; its liveness events go to alerting as they come (app.ts wires it).
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { NetmonError, errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ProbeFailureReason, ProbeResult, Sample } from '../core/types.ts';
import type { Topology } from '../health/topology.ts';
import { CounterMemory } from '../normalise/counter-memory.ts';
import { normalise } from '../normalise/normalise.ts';
import type { DevicePoller, SampleWriterLike } from '../pipeline.ts';
import { Admission, type AdmissionStats } from '../scheduler/admission.ts';
import { CRITICALITY_RANK, Scheduler, overloadFields, type SchedulerStats } from '../scheduler/scheduler.ts';
import { deviceTags } from '../sinks/schema.ts';

export interface CollectionDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly topology: Topology;
  readonly poller: DevicePoller;
  readonly writer: SampleWriterLike;
  /** Every probe result, after its samples are queued (a transition's point never precedes its data). */
  readonly onProbe: (probe: ProbeResult) => void;
  /** Health points of the other components (the MQTT side), written with collection's own. */
  readonly extraMetrics?: (() => Sample[]) | undefined;
  /**
   * The event loop's utilisation since the previous call (scheduler/admission.ts eventLoopUtilisation):
   * polls are held while the loop is full. Absent: not measured (unit tests on fake time); polls are then
   * held only while the writer is congested.
   */
  readonly loopUtilisation?: (() => number) | undefined;
  /** Fields of this thread's memory for its `monitor` point (thread-memory.ts); absent: none. */
  readonly memory?: (() => Record<string, number>) | undefined;
}

export interface CollectionSettings {
  readonly intervalMs: number;
  readonly jitterMs: number;
  readonly concurrency: number;
  /** How often collection writes its own health (`monitor` measurement). */
  readonly selfMetricsMs: number;
  /** Wall-clock-aligned turns (a cluster's collectors: scheduler.ts `aligned`). Default false. */
  readonly aligned?: boolean | undefined;
  /** Tags added to its `monitor` points (a cluster member's `node`, so members do not share a series). */
  readonly metricTags?: Readonly<Record<string, string>> | undefined;
}

/** Polls done, and complete poll rounds (every polled device polled at least once since the last). */
export interface PollCounts {
  readonly ok: number;
  readonly failed: number;
  readonly rounds: number;
}

export const FAILURE_REASONS: readonly ProbeFailureReason[] = [
  'timeout',
  'refused',
  'auth',
  'decode',
  'agent_error',
  'internal',
];

/**
 * How far ahead a timer fire takes the turns due (scheduler.ts coalesceMs): 500 ms, at most 1/60 of the
 * interval. Why (issue #14): at the Badung load the collector's cost is mostly per wake-up of the event
 * loop, not per poll. With turns taken 20 ms ahead, `npm run bench:fleet -- --sizes 1 --interval 30` cost
 * 0.48 CPU-ms per poll; 200 ms: 0.40; 500 ms: 0.28; 1 s: 0.28 (the simulator's share fell the same way:
 * its replies leave in bursts too). A turn then starts up to 500 ms early, inside the default jitter
 * (10 s at a 30 s interval, each turn moved at random by up to 5 s either way); the scheduler bounds it
 * further for short intervals.
 */
export function coalesceWindowMs(intervalMs: number): number {
  return Math.min(500, Math.floor(intervalMs / 60));
}

export class Collection {
  readonly #deps: CollectionDeps;
  readonly #settings: CollectionSettings;
  readonly #scheduler: Scheduler;
  /** Back-pressure: polls wait while the loop is full or the writer congested. */
  readonly #admission: Admission;
  /** The counter memory: of each device's previous reading, what rates need (compact: counter-memory.ts). */
  readonly #previous = new CounterMemory();
  #polls = { ok: 0, failed: 0, rounds: 0 };
  readonly #roundSeen = new Set<string>();
  #roundSize = 0;
  #sincePoint = newSincePoint(0, 0, undefined);
  #selfTimer: TimerHandle | undefined;
  /** Probes asked for later (a recheck): tracked, so stop() clears every one. */
  readonly #probeTimers = new Set<TimerHandle>();
  #running = false;
  #stopped: Promise<void> | undefined;

  constructor(deps: CollectionDeps, settings: CollectionSettings) {
    this.#deps = deps;
    this.#settings = settings;
    const writer = deps.writer;
    this.#admission = new Admission({
      clock: deps.clock,
      loopUtilisation: deps.loopUtilisation,
      writerCongested: () => writer.congested?.() ?? false,
    });
    this.#scheduler = new Scheduler({
      clock: deps.clock,
      log: deps.log.child({ component: 'scheduler' }),
      intervalMs: settings.intervalMs,
      jitterMs: settings.jitterMs,
      concurrency: settings.concurrency,
      run: (id) => this.#poll(id),
      // Past capacity, critical sites' devices are polled first (scheduler.ts, overload).
      priority: (id) => CRITICALITY_RANK[deps.topology.siteOfDevice(id)?.criticality ?? 'low'],
      aligned: settings.aligned,
      gate: this.#admission,
      // Turns due soon start together (not with aligned: scheduler.ts): see coalesceWindowMs.
      coalesceMs: coalesceWindowMs(settings.intervalMs),
    });
  }

  get running(): boolean {
    return this.#running;
  }

  /** Start polling `deviceIds`; a heartbeat at once (the reports count the monitor as watching from here). */
  start(deviceIds: readonly string[]): void {
    this.#running = true;
    this.#stopped = undefined;
    this.#sincePoint = newSincePoint(0, this.#deps.clock.now(), this.#admission.stats());
    this.#roundSize = deviceIds.length;
    this.#admission.start();
    this.#scheduler.start([...deviceIds]);
    this.writeSelfMetrics();
    this.#armSelfMetrics();
  }

  /**
   * Start polling one more device while running (a cluster member acquired it): its first poll at its
   * next turn (aligned: its next slot), never at once. Its counter memory starts afresh.
   */
  add(deviceId: string): void {
    if (this.#scheduler.has(deviceId)) return;
    this.#roundSize++;
    this.#scheduler.add(deviceId);
  }

  /** Stop polling one device (a poll in flight finishes); its counter memory is forgotten. */
  remove(deviceId: string): void {
    if (!this.#scheduler.has(deviceId)) return;
    this.#roundSize--;
    this.#roundSeen.delete(deviceId);
    this.#previous.delete(deviceId);
    this.#scheduler.remove(deviceId);
  }

  /** Probe a device now (delay 0) or after `delayMs`: a recheck of a suspect, a parent to confirm. */
  requestProbe(deviceId: string, delayMs: number): void {
    if (!this.#running) return;
    if (delayMs <= 0) return this.#scheduler.expedite(deviceId);
    const timer = this.#deps.clock.setTimeout(() => {
      this.#probeTimers.delete(timer);
      this.#scheduler.expedite(deviceId);
    }, delayMs);
    this.#probeTimers.add(timer);
  }

  /** No new polls; polls in flight finish. From here a failure is not a probe result. */
  stop(): Promise<void> {
    this.#running = false;
    if (this.#selfTimer) this.#deps.clock.clearTimeout(this.#selfTimer);
    this.#selfTimer = undefined;
    for (const t of this.#probeTimers) this.#deps.clock.clearTimeout(t);
    this.#probeTimers.clear();
    // The scheduler first: the admission's stop opens its gate, which must not start the held turns.
    this.#stopped ??= this.#scheduler.stop();
    this.#admission.stop();
    return this.#stopped;
  }

  polls(): PollCounts {
    return { ...this.#polls };
  }

  schedulerStats(): SchedulerStats {
    return this.#scheduler.stats();
  }

  /** Timers collection holds now (tests prove stop() leaves none). */
  pendingTimers(): number {
    return this.#probeTimers.size + (this.#selfTimer ? 1 : 0) + (this.#admission.stats().checking ? 1 : 0);
  }

  async #poll(id: string): Promise<void> {
    const { topology, clock, poller, writer, log } = this.#deps;
    const device = topology.device(id);
    const site = topology.siteOfDevice(id);
    if (!device || !site) return;
    const started = clock.now();
    let probe: ProbeResult;
    try {
      const reading = await poller.poll(device);
      const durationMs = clock.now() - started;
      probe = { deviceId: id, timeMs: reading.timeMs, ok: true, durationMs, source: 'snmp' };
      const result = normalise(this.#previous.get(id), reading, { site, device, pollMs: durationMs });
      this.#previous.set(reading);
      for (const w of result.warnings) log.warn('counter warning', { device: id, warning: w });
      writer.push(result.samples);
      this.#polls.ok++;
    } catch (err) {
      // A poll that fails once stop() has begun says nothing about the device: the monitor is closing
      // its sockets, or the simulator/network behind it is going away with it. Not a sample, not a state.
      if (!this.#running) return;
      const now = clock.now();
      const reason = failureReason(err);
      probe = {
        deviceId: id,
        timeMs: now,
        ok: false,
        durationMs: now - started,
        source: 'snmp',
        failure: { reason, message: errorMessage(err) },
      };
      writer.push([
        {
          measurement: 'device',
          tags: deviceTags(site, device),
          fields: { reachable: 0, poll_ms: now - started, failure: reason },
          timeMs: now,
        },
      ]);
      this.#polls.failed++;
      this.#sincePoint.failures++;
      this.#sincePoint.byReason[reason]++;
      if (reason === 'internal' || reason === 'decode')
        log.warn('poll failed', { device: id, reason, error: errorMessage(err) });
    }
    this.#sincePoint.polls++;
    this.#deps.onProbe(probe);
    this.#roundSeen.add(id);
    if (this.#roundSeen.size >= this.#roundSize) {
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

  /** The `monitor` point of component collector (and the other components' points) since the last. */
  writeSelfMetrics(): void {
    const { writer, clock, log } = this.#deps;
    const w = writer.stats();
    const now = clock.now();
    const held = this.#admission.stats();
    writer.push([
      {
        measurement: 'monitor',
        tags: { component: 'collector', ...this.#settings.metricTags },
        fields: {
          period_s: (now - this.#sincePoint.sinceMs) / 1000,
          polls: this.#sincePoint.polls,
          poll_failures: this.#sincePoint.failures,
          written: Math.max(0, w.written - this.#sincePoint.written),
          buffered: w.buffered,
          ...overloadFields(this.#scheduler.load()),
          held_event_loop_s: (held.heldMs.event_loop - this.#sincePoint.held.event_loop) / 1000,
          held_writer_s: (held.heldMs.writer - this.#sincePoint.held.writer) / 1000,
          dropped: w.dropped,
          invalid: w.invalid,
          ...Object.fromEntries(FAILURE_REASONS.map((r) => [`failures_${r}`, this.#sincePoint.byReason[r]])),
          ...this.#deps.memory?.(),
        },
        timeMs: now,
      },
    ]);
    this.#sincePoint = newSincePoint(w.written, now, held);
    try {
      const extra = this.#deps.extraMetrics?.() ?? [];
      if (extra.length > 0) writer.push(extra);
    } catch (err) {
      log.error('component metrics failed', { error: errorMessage(err) });
    }
  }
}

function newSincePoint(written: number, sinceMs: number, admission: AdmissionStats | undefined) {
  const byReason = Object.fromEntries(FAILURE_REASONS.map((r) => [r, 0])) as Record<
    ProbeFailureReason,
    number
  >;
  const held = { ...(admission?.heldMs ?? { event_loop: 0, writer: 0 }) };
  return { polls: 0, failures: 0, written, byReason, sinceMs, held };
}

function failureReason(err: unknown): ProbeFailureReason {
  if (err instanceof NetmonError && (FAILURE_REASONS as readonly string[]).includes(err.code))
    return err.code as ProbeFailureReason;
  return 'internal';
}
