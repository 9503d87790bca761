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
import { AlertBook, type Alert, type FlapPolicy } from './alerting/alert.ts';
import type { Clock } from './core/clock.ts';
import { NetmonError, errorMessage } from './core/errors.ts';
import type { Logger } from './core/log.ts';
import type {
  Criticality,
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
import { hasSnmp, type Connection, type LivenessEvent } from './liveness/mqtt-liveness.ts';
import { Topology } from './health/topology.ts';
import { normalise } from './normalise/normalise.ts';
import { Dispatcher } from './notify/dispatcher.ts';
import type { Incident, IncidentStore } from './store/incident-store.ts';
import { buildAreaNotification, buildNotification, type Notification } from './notify/notification.ts';
import { AreaGrouper, type AreaPolicy } from './alerting/area.ts';
import { escalationText, flappingText, isoWita } from './alerting/messages.ts';
import { MaintenanceCalendar, suppressionOf } from './alerting/calendar.ts';
import type { MaintenanceWindow, Silence, Suppression } from './alerting/scope.ts';
import {
  decideSiteState,
  SITE_STATE_CODE,
  type SiteDevice,
  type SiteStateName,
} from './health/site-state.ts';
import { randomUUID } from 'node:crypto';
import {
  DEFAULT_ONCALL,
  channelsUpTo,
  escalationChain,
  readClock,
  severityOf,
  type OnCallPolicy,
} from './alerting/oncall.ts';
import type { Notifier } from './notify/notifier.ts';
import type { DevicePoller, SampleWriterLike, WriterStats } from './pipeline.ts';
import { CRITICALITY_RANK, Scheduler, overloadFields, type SchedulerStats } from './scheduler/scheduler.ts';
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
  /** How often every site's state is written (`site_state`, for maps and availability). Default 60 s. */
  readonly siteStateMs?: number | undefined;
  readonly linkBase?: string | undefined;
  /** Area correlation (mass outages per kecamatan); absent: every alert pages on its own. */
  readonly area?: AreaPolicy | undefined;
  /** An MQTT-only device whose connection was lost is down after this long without coming back. */
  readonly mqttGraceMs?: number | undefined;
  /** Severity overrides, clocks, contacts and routes (collector/alerting/oncall.ts). */
  readonly oncall?: OnCallPolicy | undefined;
  /** Recovery settling and flap detection (collector/alerting/alert.ts); absent: recoveries at once. */
  readonly flapping?: FlapPolicy | undefined;
  /** Maintenance windows from the config (those created over the API are in the store). */
  readonly maintenance?: readonly MaintenanceWindow[] | undefined;
  /** How often the incident clocks are read (escalations are at most this late). Default 15 s. */
  readonly clockCheckMs?: number | undefined;
}

export type IncidentActionResult =
  | { readonly outcome: 'ok'; readonly incident: Incident }
  | { readonly outcome: 'not_found' }
  | { readonly outcome: 'conflict'; readonly incident: Incident; readonly why: string };

/** What the MQTT side says about a device's connection (collector/liveness/mqtt-liveness.ts). */
export type LivenessReport = LivenessEvent;

export interface MonitorDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly inventory: Inventory;
  readonly poller: DevicePoller;
  readonly writer: SampleWriterLike;
  readonly notifiers: readonly Notifier[];
  /** Health points of the other components (the MQTT side), written with the monitor's own. */
  readonly extraMetrics?: (() => Sample[]) | undefined;
  /** Durable incidents and the ledger of sent notifications; without it alerts live in memory only. */
  readonly store?: IncidentStore | undefined;
}

export interface MonitorStatus {
  readonly startedAt: number;
  readonly devices: number;
  readonly sites: number;
  readonly states: Record<DeviceState, number>;
  /**
   * Polls done, and complete poll rounds: a round is complete when every polled device has been polled
   * (and its state updated) at least once since the last one. Tests wait for rounds to show that nothing
   * else happens, instead of sleeping (test/support/poll-rounds.ts).
   */
  readonly polls: { readonly ok: number; readonly failed: number; readonly rounds: number };
  /** Incident clock checks run (checkClocks) and the monitor time of the last: tests wait on it. */
  readonly clockChecks: { readonly count: number; readonly lastAtMs: number };
  readonly scheduler: SchedulerStats;
  readonly writer: WriterStats;
  readonly notifications: { sent: number; failed: number; retries: number };
}

const STATE_CODE: Record<DeviceState, number> = { up: 1, down: 0, unreachable: -1, suspect: 2, unknown: 3 };
export type { SiteStateName } from './health/site-state.ts';

/** What a site shows now (collector/health/site-state.ts decides it), with its devices. */
export interface SiteStateView {
  readonly state: SiteStateName;
  /** The site reaches the internet: its router (or, without one, any device) answers. */
  readonly up: boolean;
  readonly inMaintenance: boolean;
  /** While a recovery of the site settles: when it will be confirmed (ms). */
  readonly recoveryConfirmAt?: number | undefined;
  readonly devices: readonly SiteDevice[];
}

/** What an open incident shows besides its stored record: a recovery settling, a silence covering it. */
export interface IncidentLiveState {
  readonly recovery?: { readonly sinceMs: number; readonly confirmAtMs: number } | undefined;
  readonly suppression?: Suppression | undefined;
}
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
  readonly #siteListeners = new Set<(siteId: string, timeMs: number) => void>();
  #startedAt = 0;
  #polls = { ok: 0, failed: 0, rounds: 0 };
  #clockChecks = { count: 0, lastAtMs: 0 };
  /** Devices polled since the last complete round (see MonitorStatus.polls). */
  readonly #roundSeen = new Set<string>();
  #roundSize = 0;
  #sincePoint = newSincePoint(0, 0);
  #selfTimer: ReturnType<Clock['setTimeout']> | undefined;
  #siteTimer: ReturnType<Clock['setTimeout']> | undefined;
  #clockTimer: ReturnType<Clock['setTimeout']> | undefined;
  #calendarTimer: ReturnType<Clock['setTimeout']> | undefined;
  #settleTimer: ReturnType<Clock['setTimeout']> | undefined;
  readonly #calendar: MaintenanceCalendar;
  /** Open alerts held back by maintenance or a silence → the window or silence. */
  readonly #suppressed = new Map<string, Suppression>();
  /** Sites under maintenance at the last calendar read → the window or silence. */
  #covered = new Map<string, string>();
  readonly #oncall: OnCallPolicy;
  readonly #liveness: MqttLivenessController;
  #running = false;
  #started = false;
  #stopped = false;
  #pollingStopped: Promise<void> | undefined;

  constructor(deps: MonitorDeps, settings: MonitorSettings) {
    this.#deps = deps;
    this.#settings = settings;
    this.#topology = new Topology(deps.inventory);
    this.#oncall = settings.oncall ?? DEFAULT_ONCALL;
    this.#calendar = new MaintenanceCalendar(
      [
        ...(settings.maintenance ?? []),
        ...((deps.store?.suppressions('maintenance') ?? []) as MaintenanceWindow[]),
      ],
      (deps.store?.suppressions('silence') ?? []) as Silence[],
    );
    this.#alerts = new AlertBook(
      this.#topology,
      deps.store,
      (site) => severityOf(this.#oncall, site),
      settings.flapping,
    );
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
          const routed = { kind: 'area_outage', severity: 'critical' as const, kecamatan: inc.kecamatan };
          this.#dispatcher.dispatch(
            buildAreaNotification(inc, settings.linkBase),
            channelsUpTo(this.#oncall, routed, 0),
          );
        },
      });
    this.#scheduler = new Scheduler({
      clock: deps.clock,
      log: deps.log.child({ component: 'scheduler' }),
      intervalMs: settings.intervalMs,
      jitterMs: settings.jitterMs,
      concurrency: settings.concurrency,
      run: (id) => this.#pollDevice(id),
      // Past capacity, critical sites' devices are polled first (scheduler.ts, overload).
      priority: (id) => CRITICALITY_RANK[this.#topology.siteOfDevice(id)?.criticality ?? 'low'],
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

  /**
   * Called when a site's state may have changed without a device transition: a recovery confirmed (it
   * settled), a maintenance window or silence opened or closed. (Transitions reach onTransition.)
   */
  onSiteChange(listener: (siteId: string, timeMs: number) => void): () => void {
    this.#siteListeners.add(listener);
    return () => this.#siteListeners.delete(listener);
  }

  #siteChanged(siteIds: Iterable<string>, timeMs: number): void {
    for (const id of siteIds)
      for (const l of this.#siteListeners) {
        try {
          l(id, timeMs);
        } catch (err) {
          this.#deps.log.error('site listener failed', { error: errorMessage(err) });
        }
      }
  }

  async start(): Promise<void> {
    this.#startedAt = this.#deps.clock.now();
    this.#sincePoint = newSincePoint(0, this.#startedAt);
    this.#running = true;
    this.#started = true;
    this.#stopped = false;
    this.#pollingStopped = undefined;
    await this.#deps.writer.start();
    // Sensors speak only MQTT: their liveness comes from the broker, not from polls.
    const polled = this.#deps.inventory.devices.filter(hasSnmp).map((d) => d.id);
    this.#roundSize = polled.length;
    this.#scheduler.start(polled);
    // A heartbeat at once: the reports count the monitor as watching from here (reports/availability.ts).
    this.#writeSelfMetrics();
    this.#armSelfMetrics();
    this.#armSiteStates();
    this.#armClocks();
    this.#onCalendarChange();
    this.#deps.log.info('monitor started', {
      sites: this.#deps.inventory.sites.length,
      devices: this.#deps.inventory.devices.length,
      intervalMs: this.#settings.intervalMs,
    });
  }

  /**
   * The first half of stop(): no new polls, polls in flight finish, MQTT liveness is no longer heard, and
   * from here on a failure is not a transition (the monitor going away is not news about the fleet). The
   * runtime calls it before closing its other parts (HTTP, MQTT, the broker), whose closing would look
   * like devices vanishing.
   */
  stopPolling(): Promise<void> {
    this.#running = false;
    this.#pollingStopped ??= (async () => {
      this.#liveness.stop();
      await this.#scheduler.stop();
    })();
    return this.#pollingStopped;
  }

  /** Stop polling, let polls in flight finish, deliver pending notifications, flush every sample. */
  async stop(): Promise<void> {
    if (!this.#started || this.#stopped) return;
    this.#stopped = true;
    this.#running = false;
    if (this.#selfTimer) this.#deps.clock.clearTimeout(this.#selfTimer);
    if (this.#siteTimer) this.#deps.clock.clearTimeout(this.#siteTimer);
    if (this.#clockTimer) this.#deps.clock.clearTimeout(this.#clockTimer);
    if (this.#calendarTimer) this.#deps.clock.clearTimeout(this.#calendarTimer);
    if (this.#settleTimer) this.#deps.clock.clearTimeout(this.#settleTimer);
    await this.stopPolling();
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
      polls: { ...this.#polls },
      clockChecks: { ...this.#clockChecks },
      scheduler: this.#scheduler.stats(),
      writer: this.#deps.writer.stats(),
      notifications: this.#dispatcher.stats(),
    };
  }

  /**
   * What the monitor knows of a device's MQTT connection ('closed' after a clean goodbye), and how many
   * devices are waiting out their grace: with none pending, no MQTT outage can page (tests read this).
   */
  mqttLiveness(deviceId: string): {
    readonly connection: Connection | undefined;
    readonly pendingWakes: number;
  } {
    return { connection: this.#liveness.connection(deviceId), pendingWakes: this.#liveness.pending() };
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
          tags,
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
    // The state machine runs after the samples are queued: a transition's point never precedes its data.
    this.#health.observe(probe);
    this.#roundSeen.add(id);
    if (this.#roundSeen.size >= this.#roundSize) {
      this.#polls.rounds++;
      this.#roundSeen.clear();
    }
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
    // A recovery due by now settles first, even if its timer is late: a new outage is then a new incident.
    this.#settleDue(t.timeMs);
    const alert = this.#alerts.onTransition(t);
    if (alert)
      this.#incidentPoint(
        alert,
        alert.status === 'resolved' ? 'resolved' : alert.flaps !== undefined ? 'flapping' : 'opened',
        t.timeMs,
      );
    if (alert?.flaps !== undefined && alert.status === 'firing') this.#flapping(alert);
    else if (alert && !this.#suppress(alert, t.timeMs)) this.#offer(alert);
    else if (!alert && t.to === 'up') this.#recovering(t);
    this.#armSettle();
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

  /**
   * The device of an open incident answers again and its recovery settles: machine-read feeds (CAP push,
   * and the log) hear that it is recovering and when that is confirmed; people are told once it is.
   */
  #recovering(t: Transition): void {
    const recovery = this.#alerts.recoveryOf(t.deviceId);
    const open = this.#alerts.open().find((a) => a.deviceId === t.deviceId);
    if (!recovery || !open || recovery.sinceMs !== t.timeMs || this.#suppressed.has(open.id)) return;
    const device = this.#topology.device(open.deviceId);
    const site = this.#topology.site(open.siteId);
    if (!device || !site) return;
    const routed = {
      kind: open.kind,
      severity: open.severity,
      category: site.category,
      kecamatan: site.kecamatan,
    };
    const level = this.#deps.store?.get(open.id)?.escalationLevel ?? 0;
    const routedTo = channelsUpTo(this.#oncall, routed, level);
    const feeds = this.#deps.notifiers
      .filter((x) => x.statusUpdates && (!routedTo || routedTo.includes(x.name)))
      .map((x) => x.name);
    const n = buildNotification({ ...open, recovery }, site, device, this.#settings.linkBase);
    // The log (an `always` channel) hears it with the feeds; without a feed, it is told here.
    if (feeds.length > 0) this.#dispatcher.dispatch(n, feeds);
    else
      this.#deps.log.info('RECOVERING', {
        alert: n.id,
        device: device.id,
        site: site.id,
        confirmAt: n.recovery?.confirmAt,
        text_en: n.text.en,
      });
  }

  /** One notice that an incident is flapping, to the contacts it reached; pages stop until it is stable. */
  #flapping(alert: Alert): void {
    const device = this.#topology.device(alert.deviceId);
    const site = this.#topology.site(alert.siteId);
    if (!device || !site || this.#suppressed.has(alert.id)) return;
    this.#deps.log.warn('flapping', { alert: alert.id, flaps: alert.flaps });
    const routed = {
      kind: 'flapping',
      severity: alert.severity,
      category: site.category,
      kecamatan: site.kecamatan,
    };
    const level = this.#deps.store?.get(alert.id)?.escalationLevel ?? 0;
    const base = buildNotification(alert, site, device, this.#settings.linkBase);
    this.#dispatcher.dispatch(
      { ...base, kind: 'flapping', text: flappingText(alert, site, device, base.link) },
      channelsUpTo(this.#oncall, routed, level),
    );
  }

  /** Recoveries settle after flapping.settleMs up: one timer for the next one due. */
  #armSettle(): void {
    const at = this.#alerts.nextSettleAt();
    if (at === undefined || !this.#running) return;
    if (this.#settleTimer) this.#deps.clock.clearTimeout(this.#settleTimer);
    this.#settleTimer = this.#deps.clock.setTimeout(
      () => {
        this.#settleTimer = undefined;
        this.#settleDue(this.#deps.clock.now());
        this.#armSettle();
      },
      Math.max(1, at - this.#deps.clock.now()),
    );
  }

  /** What a site shows now (collector/health/site-state.ts decides it, for every surface). */
  siteState(siteId: string): SiteStateView | undefined {
    if (!this.#topology.site(siteId)) return undefined;
    const devices = this.#topology.devicesOfSite(siteId).map((d) => {
      const h = this.#health.get(d.id);
      return { id: d.id, role: d.role, state: h?.state ?? 'unknown', since: h?.since ?? 0 };
    });
    const recoveriesConfirmAt = devices.flatMap((d) => {
      const r = this.#alerts.recoveryOf(d.id);
      return r ? [r.confirmAtMs] : [];
    });
    const decision = decideSiteState({
      devices,
      inMaintenance: this.inMaintenance(siteId),
      flapping: devices.some((d) => this.isFlapping(d.id)),
      recoveriesConfirmAt,
    });
    return { ...decision, devices };
  }

  /** Every site's state as a `site_state` point: what the map colours and availability averages. */
  #writeSiteStates(): void {
    const now = this.#deps.clock.now();
    const samples: Sample[] = [];
    for (const id of this.#topology.siteIds()) {
      const site = this.#topology.site(id);
      const view = this.siteState(id);
      if (!site || !view) continue;
      samples.push({
        measurement: 'site_state',
        tags: {
          site: site.id,
          site_name: site.name,
          category: site.category,
          kecamatan: site.kecamatan,
          desa: site.desa,
        },
        fields: {
          state: view.state,
          state_code: SITE_STATE_CODE[view.state],
          up: view.up ? 1 : 0,
          in_maintenance: view.inMaintenance ? 1 : 0,
          devices_down: view.devices.filter((d) => d.state === 'down' || d.state === 'unreachable').length,
          lat: site.lat,
          lon: site.lon,
        },
        timeMs: now,
      });
    }
    this.#deps.writer.push(samples);
  }

  #armSiteStates(): void {
    this.#siteTimer = this.#deps.clock.setTimeout(() => {
      this.#writeSiteStates();
      if (this.#running) this.#armSiteStates();
    }, this.#settings.siteStateMs ?? 60_000);
  }

  /** An `incident` point (opened, flapping, clock breached, resolved): annotations and SLA panels. */
  #incidentPoint(alert: Alert, event: string, timeMs: number): void {
    const site = this.#topology.site(alert.siteId);
    const device = this.#topology.device(alert.deviceId);
    if (!site || !device) return;
    const duration = alert.resolvedAt !== undefined ? (alert.resolvedAt - alert.startedAt) / 1000 : undefined;
    this.#deps.writer.push([
      {
        measurement: 'incident',
        tags: {
          site: site.id,
          site_name: site.name,
          category: site.category,
          kecamatan: site.kecamatan,
          desa: site.desa,
          device: device.id,
          severity: alert.severity,
          kind: alert.kind,
          event,
        },
        fields: {
          id: alert.id,
          text: `${event}: ${device.id} (${site.name})`,
          ...(duration === undefined ? {} : { duration_s: duration }),
        },
        timeMs,
      },
    ]);
  }

  /** Send the recoveries that have settled by `nowMs`. */
  #settleDue(nowMs: number): void {
    const sites = new Set<string>();
    for (const alert of this.#alerts.settle(nowMs)) {
      this.#incidentPoint(alert, 'resolved', alert.resolvedAt ?? nowMs);
      if (!this.#suppress(alert, nowMs)) this.#offer(alert);
      sites.add(alert.siteId);
    }
    this.#siteChanged(sites, nowMs);
  }

  /** An open alert with its recovery (if one is settling): what the surfaces show of it. */
  #withRecovery(alert: Alert): Alert {
    const recovery = alert.status === 'firing' ? this.#alerts.recoveryOf(alert.deviceId) : undefined;
    return recovery ? { ...alert, recovery } : alert;
  }

  /** The recovery settling and the window or silence covering an open incident, if any. */
  incidentLiveState(incidentId: string): IncidentLiveState {
    const alert = this.#alerts.open().find((a) => a.id === incidentId);
    const recovery = alert && this.#alerts.recoveryOf(alert.deviceId);
    const suppression = this.#suppressed.get(incidentId);
    return { ...(recovery ? { recovery } : {}), ...(suppression ? { suppression } : {}) };
  }

  /** Whether the device has gone down again before its recovery settled, often enough to be flapping. */
  isFlapping(deviceId: string): boolean {
    return this.#alerts.open().some((a) => a.deviceId === deviceId && (a.flaps ?? 0) > 0);
  }

  #offer(alert: Alert): void {
    if (this.#areas) this.#areas.offer(alert);
    else this.#page(alert);
  }

  /**
   * Maintenance and silences: an alert that fires inside one is recorded but pages nobody, nor does its
   * recovery. If the window ends while the device is still down, it pages then (#onCalendarChange).
   */
  #suppress(alert: Alert, timeMs: number): boolean {
    if (alert.status === 'resolved') {
      const was = this.#suppressed.get(alert.id);
      if (!was) return false;
      this.#suppressed.delete(alert.id);
      this.#deps.store?.addEvent({
        incidentId: alert.id,
        timeMs,
        type: was.kind === 'silence' ? 'recovered_while_silenced' : 'recovered_in_maintenance',
        note: `${was.kind} ${was.id}`,
      });
      return true;
    }
    const site = this.#topology.site(alert.siteId);
    const cover = site && this.#calendar.activeFor({ site, deviceId: alert.deviceId }, timeMs);
    if (!cover) return false;
    const s = suppressionOf(cover, timeMs);
    // The timeline records who silenced it and until when (the API shows it as `silenced`).
    if (!this.#suppressed.has(alert.id))
      this.#deps.store?.addEvent({
        incidentId: alert.id,
        timeMs,
        type: 'suppressed',
        actor: s.by,
        note: suppressionNote(s),
      });
    this.#suppressed.set(alert.id, s);
    this.#deps.log.info('alert suppressed', {
      alert: alert.id,
      kind: s.kind,
      id: s.id,
      by: s.by,
      until: isoWita(s.untilMs),
      reason: s.reason,
    });
    return true;
  }

  /** Whether a site is under maintenance or silenced now (for the API and dashboards). */
  inMaintenance(siteId: string): boolean {
    const site = this.#topology.site(siteId);
    return site !== undefined && this.#calendar.activeFor({ site }, this.#deps.clock.now()) !== undefined;
  }

  maintenanceWindows(): MaintenanceWindow[] {
    return this.#calendar.windows();
  }

  addMaintenance(w: Omit<MaintenanceWindow, 'id' | 'source' | 'createdBy'>, by: string): MaintenanceWindow {
    const window: MaintenanceWindow = { ...w, id: `mw-${randomUUID()}`, source: 'api', createdBy: by };
    this.#deps.store?.saveSuppression('maintenance', window.id, window, this.#deps.clock.now());
    this.#calendar.addWindow(window);
    this.#deps.log.info('maintenance window added', { id: window.id, name: window.name, by });
    this.#onCalendarChange();
    return window;
  }

  deleteMaintenance(id: string, by: string): 'ok' | 'not_found' | 'config' {
    const w = this.#calendar.window(id);
    if (!w) return 'not_found';
    if (w.source === 'config') return 'config';
    this.#deps.store?.deleteSuppression('maintenance', id);
    this.#calendar.removeWindow(id);
    this.#deps.log.info('maintenance window deleted', { id, by });
    this.#onCalendarChange();
    return 'ok';
  }

  silences(): Silence[] {
    return this.#calendar.silences();
  }

  addSilence(s: Omit<Silence, 'id' | 'createdBy'>, by: string): Silence {
    const silence: Silence = { ...s, id: `sil-${randomUUID()}`, createdBy: by };
    this.#deps.store?.saveSuppression('silence', silence.id, silence, this.#deps.clock.now());
    this.#calendar.addSilence(silence);
    this.#deps.log.info('silence added', { id: silence.id, by, comment: s.comment });
    this.#onCalendarChange();
    return silence;
  }

  deleteSilence(id: string, by: string): boolean {
    if (!this.#calendar.removeSilence(id)) return false;
    this.#deps.store?.deleteSuppression('silence', id);
    this.#deps.log.info('silence deleted', { id, by });
    this.#onCalendarChange();
    return true;
  }

  /**
   * A window or silence opened or closed (or was added or removed): write the sites whose cover changed
   * (`maintenance` measurement), page the suppressed alerts no longer covered, and arm the next change.
   */
  #onCalendarChange(): void {
    const now = this.#deps.clock.now();
    for (const id of this.#calendar.expire(now)) this.#deps.store?.deleteSuppression('silence', id);
    const covered = new Map<string, string>();
    for (const id of this.#topology.siteIds()) {
      const site = this.#topology.site(id);
      const cover = site && this.#calendar.activeFor({ site }, now);
      if (cover) covered.set(id, cover.kind === 'maintenance' ? cover.window.name : cover.silence.comment);
    }
    const samples: Sample[] = [];
    const point = (siteId: string, active: number, reason: string) => {
      const site = this.#topology.site(siteId);
      if (!site) return;
      samples.push({
        measurement: 'maintenance',
        tags: {
          site: site.id,
          site_name: site.name,
          category: site.category,
          kecamatan: site.kecamatan,
          desa: site.desa,
        },
        fields: { active, reason },
        timeMs: now,
      });
    };
    for (const [id, reason] of covered) if (!this.#covered.has(id)) point(id, 1, reason);
    for (const [id, reason] of this.#covered) if (!covered.has(id)) point(id, 0, reason);
    if (samples.length > 0) this.#deps.writer.push(samples);
    const changed = new Set<string>();
    for (const id of covered.keys()) if (!this.#covered.has(id)) changed.add(id);
    for (const id of this.#covered.keys()) if (!covered.has(id)) changed.add(id);
    this.#covered = covered;

    for (const alert of this.#alerts.open()) {
      const was = this.#suppressed.get(alert.id);
      if (!was) continue;
      const site = this.#topology.site(alert.siteId);
      const cover = site && this.#calendar.activeFor({ site, deviceId: alert.deviceId }, now);
      if (cover) {
        // Still covered, perhaps by another window or silence: the incident shows the one that holds now.
        this.#suppressed.set(alert.id, suppressionOf(cover, now));
        continue;
      }
      this.#suppressed.delete(alert.id);
      // A silence that ended or was deleted is a silence over, not a maintenance window.
      const ended = was.kind === 'silence' ? 'silence_ended' : 'maintenance_ended';
      this.#deps.store?.addEvent({
        incidentId: alert.id,
        timeMs: now,
        type: ended,
        note: `${was.kind} ${was.id}: ${was.reason}`,
      });
      this.#deps.log.warn(`${was.kind} over, device still down`, { alert: alert.id, [was.kind]: was.id });
      this.#offer(alert);
    }
    // After the pages: a listener reading the site state sees the alerts as they now stand.
    this.#siteChanged(changed, now);

    if (this.#calendarTimer) this.#deps.clock.clearTimeout(this.#calendarTimer);
    this.#calendarTimer = undefined;
    const next = this.#calendar.nextChange(now);
    if (next !== undefined && this.#running)
      this.#calendarTimer = this.#deps.clock.setTimeout(
        () => this.#onCalendarChange(),
        // Re-read at most daily: a window added far ahead is picked up by the next read.
        Math.max(1, Math.min(next - now, 86_400_000)),
      );
  }

  #page(alert: Alert): void {
    const device = this.#topology.device(alert.deviceId);
    const site = this.#topology.site(alert.siteId);
    if (!device || !site) return;
    const routed = {
      kind: alert.kind,
      severity: alert.severity,
      category: site.category,
      kecamatan: site.kecamatan,
    };
    // A recovery goes to everyone the incident reached, escalations included.
    const level = alert.status === 'resolved' ? (this.#deps.store?.get(alert.id)?.escalationLevel ?? 0) : 0;
    this.#dispatcher.dispatch(
      buildNotification(alert, site, device, this.#settings.linkBase),
      channelsUpTo(this.#oncall, routed, level),
    );
  }

  /**
   * The notifications the emergency feeds show (collector/feeds/): every open outage (device and area),
   * and device outages resolved since `resolvedSinceMs` (their all-clear).
   */
  feedNotifications(resolvedSinceMs: number): { current: Notification[]; recent: Notification[] } {
    const link = this.#settings.linkBase;
    const toNotification = (a: Alert): Notification[] => {
      const device = this.#topology.device(a.deviceId);
      const site = this.#topology.site(a.siteId);
      return device && site ? [buildNotification(a, site, device, link)] : [];
    };
    const marked = (n: Notification): Notification => {
      const s = this.#suppressed.get(n.id);
      if (!s) return n;
      const until = new Date(s.untilMs).toISOString();
      return { ...n, silenced: { kind: s.kind, id: s.id, reason: s.reason, by: s.by, until } };
    };
    const current = [
      ...this.#alerts
        .open()
        .map((a) => this.#withRecovery(a))
        .flatMap(toNotification)
        .map(marked),
      ...(this.#areas?.open() ?? []).map((inc) => buildAreaNotification(inc, link)),
    ];
    const recent = (this.#deps.store?.list({ status: ['resolved'], limit: 1000 }) ?? [])
      .filter((inc) => inc.kind === 'device_down' && (inc.resolvedAt ?? 0) >= resolvedSinceMs)
      .flatMap((inc) => {
        const a = inc.data.alert as Alert | undefined;
        return a ? toNotification({ ...a, id: inc.id, status: 'resolved', resolvedAt: inc.resolvedAt }) : [];
      });
    return { current, recent };
  }

  /** Outcome of an operator's action on an incident. */
  acknowledge(id: string, by: string, note: string | undefined): IncidentActionResult {
    const store = this.#deps.store;
    const inc = store?.get(id);
    if (!store || !inc) return { outcome: 'not_found' };
    if (inc.status === 'resolved')
      return { outcome: 'conflict', incident: inc, why: 'it is already resolved' };
    if (inc.status === 'acknowledged')
      return {
        outcome: 'conflict',
        incident: inc,
        why: `acknowledged by ${inc.acknowledgedBy ?? '?'} already`,
      };
    const done = store.acknowledge(id, by, this.#deps.clock.now(), note) ?? inc;
    this.#deps.log.info('incident acknowledged', { incident: id, by, note });
    return { outcome: 'ok', incident: done };
  }

  /** An operator closes an incident: its recovery notice goes out as for a device that came back. */
  resolveByHand(id: string, by: string, note: string | undefined): IncidentActionResult {
    const store = this.#deps.store;
    const inc = store?.get(id);
    if (!store || !inc) return { outcome: 'not_found' };
    if (inc.status === 'resolved')
      return { outcome: 'conflict', incident: inc, why: 'it is already resolved' };
    const now = this.#deps.clock.now();
    const done = store.resolve(id, now, by, note) ?? inc;
    const alert = this.#alerts.closeByHand(id, now);
    if (alert) {
      this.#incidentPoint(alert, 'resolved', now);
      this.#page(alert);
    }
    this.#deps.log.info('incident resolved by hand', { incident: id, by, note });
    return { outcome: 'ok', incident: done };
  }

  /**
   * Read every open incident's clock: one that ran out unacknowledged has breached it (recorded once, for
   * the reports) and goes to the next contact of its route, one contact further per clock period.
   * Everything is in the store, so a restart neither forgets nor repeats an escalation.
   */
  checkClocks(): void {
    const now = this.#deps.clock.now();
    this.#clockChecks = { count: this.#clockChecks.count + 1, lastAtMs: now };
    const store = this.#deps.store;
    if (!store) return;
    for (const inc of store.unresolved()) {
      if (inc.status !== 'open' || inc.kind !== 'device_down') continue;
      // Inside maintenance nobody was paged, so nobody is late: its clock is not read.
      if (this.#suppressed.has(inc.id)) continue;
      const severity = inc.severity as Criticality;
      const reading = readClock(this.#oncall, { severity, openedAt: inc.openedAt }, now);
      if (!reading.breached) continue;
      const clockMs = this.#oncall.clocksMs[severity];
      const alert = this.#alerts.open().find((a) => a.id === inc.id);
      if (store.markClockBreached(inc.id, reading.deadlineMs, `clock ${Math.round(clockMs / 60_000)} min`)) {
        this.#deps.log.warn('incident clock breached', { incident: inc.id, severity, site: inc.siteId });
        if (alert) this.#incidentPoint(alert, 'clock_breached', reading.deadlineMs);
      }
      const device = alert && this.#topology.device(alert.deviceId);
      const site = alert && this.#topology.site(alert.siteId);
      if (!alert || !device || !site) continue;
      const routed = { kind: alert.kind, severity, category: site.category, kecamatan: site.kecamatan };
      const chain = escalationChain(this.#oncall, routed) ?? [];
      const level = Math.min(reading.level, chain.length - 1);
      const contact = chain[level];
      if (!contact || level <= inc.escalationLevel) continue;
      if (!store.escalate(inc.id, level, now, contact.name)) continue;
      this.#deps.log.warn('incident escalated', { incident: inc.id, level, contact: contact.name });
      const base = buildNotification(alert, site, device, this.#settings.linkBase);
      this.#dispatcher.dispatch(
        {
          ...base,
          escalation: { level, contact: contact.name, deadline: new Date(reading.deadlineMs).toISOString() },
          text: escalationText(base.text, { level, contact: contact.name, clockMs, openedAt: inc.openedAt }),
        },
        contact.channels,
      );
    }
  }

  #armClocks(): void {
    this.#clockTimer = this.#deps.clock.setTimeout(() => {
      try {
        this.checkClocks();
      } catch (err) {
        this.#deps.log.error('incident clock check failed', { error: errorMessage(err) });
      }
      if (this.#running) this.#armClocks();
    }, this.#settings.clockCheckMs ?? 15_000);
  }

  #armSelfMetrics(): void {
    this.#selfTimer = this.#deps.clock.setTimeout(() => {
      this.#writeSelfMetrics();
      if (this.#running) this.#armSelfMetrics();
    }, this.#settings.selfMetricsMs);
  }

  #writeSelfMetrics(): void {
    const w = this.#deps.writer.stats();
    const now = this.#deps.clock.now();
    this.#deps.writer.push([
      {
        measurement: 'monitor',
        tags: { component: 'collector' },
        fields: {
          period_s: (now - this.#sincePoint.sinceMs) / 1000,
          polls: this.#sincePoint.polls,
          poll_failures: this.#sincePoint.failures,
          written: Math.max(0, w.written - this.#sincePoint.written),
          buffered: w.buffered,
          dropped: w.dropped,
          invalid: w.invalid,
          ...overloadFields(this.#scheduler.load()),
          ...Object.fromEntries(REASONS.map((r) => [`failures_${r}`, this.#sincePoint.byReason[r]])),
        },
        timeMs: now,
      },
    ]);
    this.#sincePoint = newSincePoint(w.written, now);
    try {
      const extra = this.#deps.extraMetrics?.() ?? [];
      if (extra.length > 0) this.#deps.writer.push(extra);
    } catch (err) {
      this.#deps.log.error('component metrics failed', { error: errorMessage(err) });
    }
  }
}

function newSincePoint(written: number, sinceMs: number) {
  const byReason = Object.fromEntries(REASONS.map((r) => [r, 0])) as Record<ProbeFailureReason, number>;
  return { polls: 0, failures: 0, written, byReason, sinceMs };
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

/** The timeline note of a suppressed outage: which window or silence, until when, why. */
function suppressionNote(s: Suppression): string {
  return `${s.kind} ${s.id} until ${isoWita(s.untilMs)}: ${s.reason}`;
}
