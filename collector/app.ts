/**
 * The composition root: the whole flow of the monitor, wired in one place.
 *
 *   inventory ─► Scheduler ─► DevicePoller (SNMP) ─► DeviceReading ─► normalise ─► Sample[] ─► SampleWriter ─► InfluxDB
 *                                 │
 *                                 └─► ProbeResult ─► HealthTracker ─► Transition ─┬─► device_state sample ─► SampleWriter
 *                                                        ▲                        └─► AlertBook ─► Dispatcher ─► log, webhooks
 *                                                        └── requestProbe (recheck a suspect, confirm a parent) ◄┘
 *
 * Everything with I/O is passed in (poller, writer, notifiers, clock), so tests can run the same wiring
 * against real servers or fakes.
 */
import { AlertBook, type Alert } from './alerting/alert.ts';
import type { Clock } from './core/clock.ts';
import { NetmonError, errorMessage } from './core/errors.ts';
import type { Logger } from './core/log.ts';
import type {
  DeviceReading,
  DeviceState,
  Inventory,
  ProbeFailureReason,
  ProbeResult,
  Sample,
  Transition,
} from './core/types.ts';
import { HealthTracker } from './health/health-tracker.ts';
import { MqttLivenessController } from './liveness/liveness-controller.ts';
import { hasSnmp, type LivenessEvent } from './liveness/mqtt-liveness.ts';
import { Topology } from './health/topology.ts';
import { normalise } from './normalise/normalise.ts';
import { Dispatcher } from './notify/dispatcher.ts';
import type { IncidentStore } from './store/incident-store.ts';
import { buildAreaNotification, buildNotification } from './notify/notification.ts';
import { AreaGrouper, type AreaIncident, type AreaPolicy } from './alerting/area.ts';
import type { Notifier } from './notify/notifier.ts';
import type { DevicePoller, SampleWriterLike, WriterStats } from './pipeline.ts';
import { Scheduler, type SchedulerStats } from './scheduler/scheduler.ts';
import { deviceTags } from './sinks/schema.ts';

export interface MonitorSettings {
  readonly intervalMs: number;
  readonly jitterMs: number;
  readonly concurrency: number;
  readonly downAfterFailures: number;
  /** How soon a device that failed once is polled again to confirm. */
  readonly recheckMs: number;
  /** How often the monitor writes its own health (`monitor` measurement). */
  readonly selfMetricsMs: number;
  readonly linkBase?: string | undefined;
  /** Area correlation (mass outages per kecamatan); absent: every alert pages on its own. */
  readonly area?: AreaPolicy | undefined;
  /** An MQTT-only device whose connection was lost is down after this long without coming back. */
  readonly mqttGraceMs?: number | undefined;
}

/** What the MQTT side says about a device's connection (collector/liveness/mqtt-liveness.ts). */
export type LivenessReport = LivenessEvent;

export interface MonitorDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly inventory: Inventory;
  readonly poller: DevicePoller;
  readonly writer: SampleWriterLike;
  readonly notifiers: readonly Notifier[];
  /** Durable incidents and the ledger of sent notifications; without it alerts live in memory only. */
  readonly store?: IncidentStore | undefined;
}

export interface MonitorStatus {
  readonly startedAt: number;
  readonly devices: number;
  readonly sites: number;
  readonly states: Record<DeviceState, number>;
  readonly openAlerts: readonly Alert[];
  readonly openAreas: readonly AreaIncident[];
  readonly polls: { readonly ok: number; readonly failed: number };
  readonly scheduler: SchedulerStats;
  readonly writer: WriterStats;
  readonly notifications: { sent: number; failed: number; retries: number };
}

const STATE_CODE: Record<DeviceState, number> = { up: 1, down: 0, unreachable: -1, suspect: 2, unknown: 3 };
const REASONS: readonly ProbeFailureReason[] = [
  'timeout',
  'refused',
  'auth',
  'decode',
  'agent_error',
  'internal',
];

export class Monitor {
  readonly #deps: MonitorDeps;
  readonly #settings: MonitorSettings;
  readonly #topology: Topology;
  readonly #scheduler: Scheduler;
  readonly #health: HealthTracker;
  readonly #alerts: AlertBook;
  readonly #dispatcher: Dispatcher;
  readonly #areas: AreaGrouper | undefined;
  readonly #previous = new Map<string, DeviceReading>();
  readonly #listeners = new Set<(t: Transition, alert: Alert | undefined) => void>();
  #startedAt = 0;
  #polls = { ok: 0, failed: 0 };
  #sincePoint = { polls: 0, failures: 0, written: 0 };
  #selfTimer: ReturnType<Clock['setTimeout']> | undefined;
  readonly #liveness: MqttLivenessController;
  #running = false;

  constructor(deps: MonitorDeps, settings: MonitorSettings) {
    this.#deps = deps;
    this.#settings = settings;
    this.#topology = new Topology(deps.inventory);
    this.#alerts = new AlertBook(this.#topology, deps.store);
    this.#dispatcher = new Dispatcher(
      deps.notifiers,
      deps.clock,
      deps.log.child({ component: 'notify' }),
      undefined,
      deps.store,
    );
    this.#areas =
      settings.area &&
      new AreaGrouper(settings.area, this.#topology, deps.clock, {
        page: (alert) => this.#page(alert),
        area: (inc) => {
          deps.log.warn(inc.status === 'firing' ? 'AREA OUTAGE' : 'AREA RECOVERED', {
            kecamatan: inc.kecamatan,
            sites: inc.sites.length,
          });
          this.#dispatcher.dispatch(buildAreaNotification(inc, settings.linkBase));
        },
      });
    this.#scheduler = new Scheduler({
      clock: deps.clock,
      log: deps.log.child({ component: 'scheduler' }),
      intervalMs: settings.intervalMs,
      jitterMs: settings.jitterMs,
      concurrency: settings.concurrency,
      run: (id) => this.#pollDevice(id),
    });
    this.#health = new HealthTracker(
      this.#topology,
      { downAfterFailures: settings.downAfterFailures, recheckMs: settings.recheckMs },
      {
        onTransition: (t) => this.#onTransition(t),
        requestProbe: (id, delayMs) => {
          if (delayMs <= 0) this.#scheduler.expedite(id);
          else deps.clock.setTimeout(() => this.#scheduler.expedite(id), delayMs);
        },
      },
      deps.clock.now(),
    );
    this.#liveness = new MqttLivenessController({
      clock: deps.clock,
      log: deps.log.child({ component: 'liveness' }),
      policy: { graceMs: settings.mqttGraceMs ?? 10_000, retryMs: Math.min(settings.recheckMs, 1000) },
      hooks: {
        observe: (p) => this.#health.observe(p),
        probeSnmp: (id) => this.#scheduler.expedite(id),
        stateOf: (id) => this.#health.get(id)?.state,
      },
    });
  }

  get topology(): Topology {
    return this.#topology;
  }

  get health(): HealthTracker {
    return this.#health;
  }

  /** Called for every transition, with the alert event it caused (if any). For the HTTP API and tests. */
  onTransition(listener: (t: Transition, alert: Alert | undefined) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async start(): Promise<void> {
    this.#startedAt = this.#deps.clock.now();
    this.#running = true;
    await this.#deps.writer.start();
    // Sensors speak only MQTT: their liveness comes from the broker, not from polls.
    this.#scheduler.start(this.#deps.inventory.devices.filter(hasSnmp).map((d) => d.id));
    this.#armSelfMetrics();
    this.#deps.log.info('monitor started', {
      sites: this.#deps.inventory.sites.length,
      devices: this.#deps.inventory.devices.length,
      intervalMs: this.#settings.intervalMs,
    });
  }

  /** Stop polling, let polls in flight finish, deliver pending notifications, flush every sample. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    if (this.#selfTimer) this.#deps.clock.clearTimeout(this.#selfTimer);
    this.#liveness.stop();
    await this.#scheduler.stop();
    this.#areas?.flush();
    this.#writeSelfMetrics();
    await this.#dispatcher.stop();
    this.#deps.poller.close();
    await this.#deps.writer.stop();
    this.#deps.log.info('monitor stopped', { ...this.#polls });
  }

  status(): MonitorStatus {
    return {
      startedAt: this.#startedAt,
      devices: this.#deps.inventory.devices.length,
      sites: this.#deps.inventory.sites.length,
      states: this.#health.countByState(),
      openAlerts: this.#alerts.open(),
      openAreas: this.#areas?.open() ?? [],
      polls: { ...this.#polls },
      scheduler: this.#scheduler.stats(),
      writer: this.#deps.writer.stats(),
      notifications: this.#dispatcher.stats(),
    };
  }

  /**
   * MQTT liveness (collector/liveness/): a lost connection makes the device suspect at once; a device that
   * also speaks SNMP gets one immediate SNMP probe, which confirms or clears; an MQTT-only device is down
   * once `mqttGraceMs` passes without it coming back. A clean disconnect is not an outage.
   */
  reportLiveness(ev: LivenessReport): void {
    const device = this.#topology.device(ev.deviceId);
    if (device && this.#running) this.#liveness.report(ev, device);
  }

  async #pollDevice(id: string): Promise<void> {
    const device = this.#topology.device(id);
    const site = this.#topology.siteOfDevice(id);
    if (!device || !site) return;
    const { clock, poller, writer, log } = this.#deps;
    const started = clock.now();
    const tags = deviceTags(site, device);
    let probe: ProbeResult;
    try {
      const reading = await poller.poll(device);
      const durationMs = clock.now() - started;
      probe = { deviceId: id, timeMs: reading.timeMs, ok: true, durationMs, source: 'snmp' };
      const result = normalise(this.#previous.get(id), reading, { site, device });
      this.#previous.set(id, reading);
      for (const w of result.warnings) log.warn('counter warning', { device: id, warning: w });
      writer.push(withPollMs(result.samples, durationMs));
      this.#polls.ok++;
    } catch (err) {
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
          tags,
          fields: { reachable: 0, poll_ms: now - started, failure: reason },
          timeMs: now,
        },
      ]);
      this.#polls.failed++;
      this.#sincePoint.failures++;
      if (reason === 'internal' || reason === 'decode')
        log.warn('poll failed', { device: id, reason, error: errorMessage(err) });
    }
    this.#sincePoint.polls++;
    // The state machine runs after the samples are queued: a transition's point never precedes its data.
    this.#health.observe(probe);
  }

  #onTransition(t: Transition): void {
    const device = this.#topology.device(t.deviceId);
    const site = this.#topology.siteOfDevice(t.deviceId);
    if (!device || !site) return;
    const sample: Sample = {
      measurement: 'device_state',
      tags: { ...deviceTags(site, device), state: t.to },
      fields: { state: t.to, previous: t.from, state_code: STATE_CODE[t.to], cause: t.cause ?? '' },
      timeMs: t.timeMs,
    };
    this.#deps.writer.push([sample]);
    const alert = this.#alerts.onTransition(t);
    if (alert) {
      if (this.#areas) this.#areas.offer(alert);
      else this.#page(alert);
    }
    if (t.to !== 'up' || t.from !== 'unknown') {
      this.#deps.log.info('state', {
        device: t.deviceId,
        site: t.siteId,
        from: t.from,
        to: t.to,
        cause: t.cause,
      });
    }
    for (const l of this.#listeners) {
      try {
        l(t, alert);
      } catch (err) {
        this.#deps.log.error('transition listener failed', { error: errorMessage(err) });
      }
    }
  }

  #page(alert: Alert): void {
    const device = this.#topology.device(alert.deviceId);
    const site = this.#topology.site(alert.siteId);
    if (device && site)
      this.#dispatcher.dispatch(buildNotification(alert, site, device, this.#settings.linkBase));
  }

  #armSelfMetrics(): void {
    this.#selfTimer = this.#deps.clock.setTimeout(() => {
      this.#writeSelfMetrics();
      if (this.#running) this.#armSelfMetrics();
    }, this.#settings.selfMetricsMs);
  }

  #writeSelfMetrics(): void {
    const w = this.#deps.writer.stats();
    this.#deps.writer.push([
      {
        measurement: 'monitor',
        tags: { component: 'collector' },
        fields: {
          polls: this.#sincePoint.polls,
          poll_failures: this.#sincePoint.failures,
          written: Math.max(0, w.written - this.#sincePoint.written),
          buffered: w.buffered,
          dropped: w.dropped,
          invalid: w.invalid,
        },
        timeMs: this.#deps.clock.now(),
      },
    ]);
    this.#sincePoint = { polls: 0, failures: 0, written: w.written };
  }
}

function withPollMs(samples: readonly Sample[], pollMs: number): Sample[] {
  return samples.map((s) =>
    s.measurement === 'device' ? { ...s, fields: { ...s.fields, poll_ms: pollMs } } : s,
  );
}

function failureReason(err: unknown): ProbeFailureReason {
  if (err instanceof NetmonError && (REASONS as readonly string[]).includes(err.code))
    return err.code as ProbeFailureReason;
  return 'internal';
}
