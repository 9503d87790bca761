/**
 * The monitor in one process: the two roles (collection, alerting) joined by function calls, behind the
 * face the HTTP API, the console, the feeds and the tests use. Collection is a port (CollectionPort): the
 * local Collection by default; in a cluster the alerting leader's feed of probe results over JetStream
 * (collector/cluster/alerting-node.ts), where a probe request is a message to the collectors.
 *
 *   collection (collector/collection/) ── ProbeResult ──► health (device state, topology)
 *   MQTT liveness events ──────────────────────────────► liveness controller ──► health
 *   health ── Transition ─► incidents (collector/incidents/) ─► notice ─► suppression pipeline
 *                                                                   (collector/alerting/pipeline.ts) ─► channels
 *   health ── requestProbe ─► collection (a recheck of a suspect, a parent to confirm)
 *
 * The seams are typed data: ProbeResult and LivenessEvent in, Transition and the alert notices out. What a
 * site shows is decided in one place (collector/health/site-state.ts) and read by every surface here.
 */
import type { Alert, FlapPolicy } from './alerting/alert.ts';
import type { AreaIncident, AreaPolicy } from './alerting/area.ts';
import { StoredAreas } from './alerting/area-book.ts';
import { EdgeBook, type LostEdgeIncident } from './alerting/edge-book.ts';
import { MaintenanceBook } from './alerting/maintenance-book.ts';
import { DEFAULT_ONCALL, channelsUpTo, type OnCallPolicy } from './alerting/oncall.ts';
import { routeOf } from './alerting/stages/routing.ts';
import { AlertPipeline } from './alerting/pipeline.ts';
import type { MaintenanceWindow, Silence, Suppression } from './alerting/scope.ts';
import type { EdgeEvent } from './cluster/edge-watch.ts';
import { buildAreaNotification, type Notification } from './notify/notification.ts';
import { Collection, type PollCounts } from './collection/collection.ts';
import type { Clock } from './core/clock.ts';
import { errorMessage } from './core/errors.ts';
import type { Logger } from './core/log.ts';
import type { DeviceState, Inventory, ProbeResult, Sample, Transition } from './core/types.ts';
import { HealthTracker } from './health/health-tracker.ts';
import {
  decideSiteState,
  siteStateSample,
  type SiteDevice,
  type SiteStateName,
} from './health/site-state.ts';
import { Topology } from './health/topology.ts';
import { IncidentLifecycle, type IncidentActionResult } from './incidents/lifecycle.ts';
import { MqttLivenessController } from './liveness/liveness-controller.ts';
import { hasSnmp, type Connection, type LivenessEvent } from './liveness/mqtt-liveness.ts';
import { Dispatcher } from './notify/dispatcher.ts';
import type { Notifier } from './notify/notifier.ts';
import type { DevicePoller, SampleWriterLike, WriterStats } from './pipeline.ts';
import type { SchedulerStats } from './scheduler/scheduler.ts';
import { deviceTags } from './sinks/schema.ts';
import type { IncidentStoreLike } from './store/store.ts';
import type { TimerHandle } from './core/clock.ts';

export type { IncidentActionResult } from './incidents/lifecycle.ts';
export type { SiteStateName } from './health/site-state.ts';

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

/**
 * Collection as the Monitor sees it: the local Collection (collector/collection/collection.ts) in one
 * process, or in a cluster the alerting leader's feed of probe results from the collectors over JetStream
 * (collector/cluster/remote-collection.ts), where a probe request is a message to the owning collector.
 */
export interface CollectionPort {
  /** Start: poll these devices (local), or take their probe results from the feed (remote). */
  start(deviceIds: readonly string[]): void;
  /** No new probes from here; polls in flight finish (local) or pulling stops (remote). */
  stop(): Promise<void>;
  /** Probe a device now (0) or after `delayMs`: a recheck of a suspect, a parent to confirm. */
  requestProbe(deviceId: string, delayMs: number): void;
  polls(): PollCounts;
  schedulerStats(): SchedulerStats;
  pendingTimers(): number;
  /** The `monitor` point of this side (collection's health, or the feed's). */
  writeSelfMetrics(): void;
}

/** Builds the collection port; `onProbe` is health's input (every probe result goes there). */
export type CollectionFactory = (hooks: { readonly onProbe: (probe: ProbeResult) => void }) => CollectionPort;

/** What the MQTT side says about a device's connection (collector/liveness/mqtt-liveness.ts). */
export type LivenessReport = LivenessEvent;

export interface MonitorDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly inventory: Inventory;
  /** The SNMP poller of the local Collection; not needed when `collection` is given. */
  readonly poller?: DevicePoller | undefined;
  /** Collection as a port (a cluster's alerting node); absent: the local Collection on `poller`. */
  readonly collection?: CollectionFactory | undefined;
  readonly writer: SampleWriterLike;
  readonly notifiers: readonly Notifier[];
  /** Health points of the other components (the MQTT side), written with the monitor's own. */
  readonly extraMetrics?: (() => Sample[]) | undefined;
  /** Durable incidents and the ledger of sent notifications; without it alerts live in memory only. */
  readonly store?: IncidentStoreLike | undefined;
  /** The event loop's utilisation, for the local Collection's back-pressure; absent: not measured. */
  readonly loopUtilisation?: (() => number) | undefined;
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

function requirePoller(poller: DevicePoller | undefined): DevicePoller {
  if (!poller) throw new Error('Monitor: a poller is needed when no collection port is given');
  return poller;
}

const STATE_CODE: Record<DeviceState, number> = { up: 1, down: 0, unreachable: -1, suspect: 2, unknown: 3 };

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

export class Monitor {
  readonly #deps: MonitorDeps;
  readonly #settings: MonitorSettings;
  readonly #topology: Topology;
  readonly #collection: CollectionPort;
  readonly #health: HealthTracker;
  readonly #liveness: MqttLivenessController;
  readonly #dispatcher: Dispatcher;
  readonly #pipeline: AlertPipeline;
  readonly #incidents: IncidentLifecycle;
  readonly #maintenance: MaintenanceBook;
  /** "Monitoring lost" incidents of the edges (a cluster's alerting leader raises them). */
  readonly #edges: EdgeBook;
  readonly #listeners = new Set<(t: Transition, alert: Alert | undefined) => void>();
  readonly #siteListeners = new Set<(siteId: string, timeMs: number) => void>();
  #startedAt = 0;
  #clockChecks = { count: 0, lastAtMs: 0 };
  #siteTimer: TimerHandle | undefined;
  #clockTimer: TimerHandle | undefined;
  #running = false;
  #started = false;
  #stopped = false;
  #pollingStopped: Promise<void> | undefined;
  /** Area incidents open in the store when this Monitor was built (a restart, a new leader). */
  readonly #areasTakenOver: readonly AreaIncident[];

  constructor(deps: MonitorDeps, settings: MonitorSettings) {
    this.#deps = deps;
    this.#settings = settings;
    const { clock, log, store } = deps;
    const topology = new Topology(deps.inventory);
    this.#topology = topology;
    const oncall = settings.oncall ?? DEFAULT_ONCALL;

    // Collection: polls, counter memory, samples; a ProbeResult per poll to health. In a cluster the
    // probe results come from the collectors instead (deps.collection).
    const onProbe = (p: ProbeResult): void => this.#health.observe(p);
    this.#collection = deps.collection
      ? deps.collection({ onProbe })
      : new Collection(
          {
            clock,
            log,
            topology,
            poller: requirePoller(deps.poller),
            writer: deps.writer,
            extraMetrics: deps.extraMetrics,
            onProbe,
            loopUtilisation: deps.loopUtilisation,
          },
          {
            intervalMs: settings.intervalMs,
            jitterMs: settings.jitterMs,
            concurrency: settings.concurrency,
            selfMetricsMs: settings.selfMetricsMs,
          },
        );
    // Alerting: health, then the incident lifecycle and the suppression pipeline.
    this.#health = new HealthTracker(
      topology,
      { downAfterFailures: settings.downAfterFailures, recheckMs: settings.recheckMs },
      {
        onTransition: (t) => this.#onTransition(t),
        requestProbe: (id, delayMs) => this.#collection.requestProbe(id, delayMs),
      },
      clock.now(),
    );
    this.#liveness = new MqttLivenessController({
      clock,
      log: log.child({ component: 'liveness' }),
      policy: { graceMs: settings.mqttGraceMs ?? 10_000, retryMs: Math.min(settings.recheckMs, 1000) },
      hooks: {
        observe: (p) => this.#health.observe(p),
        probeSnmp: (id) => this.#collection.requestProbe(id, 0),
        stateOf: (id) => this.#health.get(id)?.state,
      },
    });
    this.#dispatcher = new Dispatcher(
      deps.notifiers,
      clock,
      log.child({ component: 'notify' }),
      undefined,
      store,
    );
    this.#maintenance = new MaintenanceBook({
      clock,
      log,
      topology,
      writer: deps.writer,
      store,
      windows: settings.maintenance,
      release: (now) => {
        for (const alert of this.#pipeline.maintenance.release(this.#incidents.open(), now))
          this.#pipeline.resume({ kind: 'page', alert, timeMs: now }, 'area');
      },
      changed: (sites, now) => this.#siteChanged(sites, now),
    });
    this.#pipeline = new AlertPipeline({
      topology,
      clock,
      log,
      dependency: { parentOf: (id) => topology.parentOf(id), stateOf: (id) => this.#health.get(id)?.state },
      maintenance: {
        coverOf: (target, timeMs) => this.#maintenance.coverOf(target, timeMs),
        addEvent: store && ((ev) => store.addEvent(ev)),
      },
      area: settings.area,
      routing: { oncall, levelOf: (id) => store?.get(id)?.escalationLevel ?? 0 },
      linkBase: settings.linkBase,
      dispatch: (n, channels) => this.#dispatcher.dispatch(n, channels),
    });
    // Area incidents live in the store too (issue #15): fenced, and continued by a new leader.
    this.#areasTakenOver = store
      ? this.#pipeline.area.keepIn(new StoredAreas(store, clock, log.child({ component: 'area' })))
      : [];
    // "Monitoring lost" of an edge lives in the store too: continued by a new leader, never raised twice.
    this.#edges = new EdgeBook({
      store,
      clock,
      log: log.child({ component: 'edges' }),
      sites: deps.inventory.sites,
      send: (n, kecamatan) => this.notifyCluster(n, kecamatan),
    });
    this.#incidents = new IncidentLifecycle({
      clock,
      log,
      topology,
      store,
      writer: deps.writer,
      pipeline: this.#pipeline,
      dispatcher: this.#dispatcher,
      notifiers: deps.notifiers,
      oncall,
      flapping: settings.flapping,
      linkBase: settings.linkBase,
      sitesChanged: (sites, now) => this.#siteChanged(sites, now),
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

  async start(): Promise<void> {
    const { clock, writer, inventory, log } = this.#deps;
    this.#startedAt = clock.now();
    this.#running = true;
    this.#started = true;
    this.#stopped = false;
    this.#pollingStopped = undefined;
    await writer.start();
    this.#incidents.start();
    // An area incident taken over: its notice again, in case the last holder died before sending it (the
    // ledger skips every channel it went out on).
    for (const incident of this.#areasTakenOver)
      this.#pipeline.resume({ kind: 'area', incident, timeMs: clock.now() }, 'routing');
    this.#edges.resume();
    // Sensors speak only MQTT: their liveness comes from the broker, not from polls.
    this.#collection.start(inventory.devices.filter(hasSnmp).map((d) => d.id));
    this.#armSiteStates();
    this.#armClocks();
    this.#maintenance.start();
    log.info('monitor started', {
      sites: inventory.sites.length,
      devices: inventory.devices.length,
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
      await this.#collection.stop();
    })();
    return this.#pollingStopped;
  }

  /**
   * The alerting leader was deposed (collector/cluster/alerting-node.ts): from this instant nothing is
   * sent (not even a retry) and no probe result is taken; stop() then cleans up. A newer leader, with a
   * newer term, owns the incidents now.
   */
  halt(): void {
    this.#dispatcher.halt();
    // stop() awaits the same promise and reports its failure; here only the start of it matters.
    this.stopPolling().catch(() => undefined);
  }

  /**
   * A notification the cluster raises itself (collector/cluster/edge-watch.ts: monitoring of an edge
   * lost, and back): routed like an area incident of its kecamatan, sent by this monitor's dispatcher, so
   * a deposed leader (halted) sends none.
   */
  notifyCluster(n: Notification, kecamatan: string | undefined): void {
    const oncall = this.#settings.oncall ?? DEFAULT_ONCALL;
    this.#dispatcher.dispatch(n, channelsUpTo(oncall, routeOf(n.kind, n.severity, { kecamatan }), 0));
  }

  /**
   * Monitoring of an edge lost, or back (collector/cluster/edge-watch.ts, on the alerting leader): its
   * "monitoring lost" incident opened or resolved in the store and paged (collector/alerting/edge-book.ts);
   * the sites of its kecamatan show `not_monitored` while it is open.
   */
  edgeEvent(ev: EdgeEvent): void {
    this.#edges.record(ev);
    const sites = this.#deps.inventory.sites.filter((s) => ev.edge.kecamatan.includes(s.kecamatan));
    this.#siteChanged(
      sites.map((s) => s.id),
      this.#deps.clock.now(),
    );
  }

  /** The edges whose "monitoring lost" incident is open: the leader's edge watch starts from them. */
  lostEdges(): LostEdgeIncident[] {
    return this.#edges.lost();
  }

  /** Stop polling, let polls in flight finish, deliver pending notifications, flush every sample. */
  async stop(): Promise<void> {
    if (!this.#started || this.#stopped) return;
    this.#stopped = true;
    this.#running = false;
    const { clock } = this.#deps;
    if (this.#siteTimer) clock.clearTimeout(this.#siteTimer);
    if (this.#clockTimer) clock.clearTimeout(this.#clockTimer);
    this.#siteTimer = this.#clockTimer = undefined;
    this.#maintenance.stop();
    this.#incidents.stop();
    await this.stopPolling();
    this.#pipeline.area.flush();
    this.#collection.writeSelfMetrics();
    await this.#dispatcher.stop();
    this.#deps.poller?.close();
    await this.#deps.writer.stop();
    this.#deps.log.info('monitor stopped', { ...this.#collection.polls() });
  }

  status(): MonitorStatus {
    return {
      startedAt: this.#startedAt,
      devices: this.#deps.inventory.devices.length,
      sites: this.#deps.inventory.sites.length,
      states: this.#health.countByState(),
      polls: this.#collection.polls(),
      clockChecks: { ...this.#clockChecks },
      scheduler: this.#collection.schedulerStats(),
      writer: this.#deps.writer.stats(),
      notifications: this.#dispatcher.stats(),
    };
  }

  /** Timers the monitor's parts hold now: none once stop() has returned (test/unit/app/shutdown.test.ts). */
  pendingTimers(): number {
    return this.#collection.pendingTimers() + (this.#siteTimer ? 1 : 0) + (this.#clockTimer ? 1 : 0);
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

  /**
   * What a site shows now (collector/health/site-state.ts decides it, for every surface). Read for every
   * site by the periodic surfaces (status page, live feed, site_state points): one pass over its devices,
   * one lookup each.
   */
  siteState(siteId: string): SiteStateView | undefined {
    const site = this.#topology.site(siteId);
    if (!site) return undefined;
    const devices: SiteDevice[] = [];
    const recoveriesConfirmAt: number[] = [];
    let flapping = false;
    for (const d of this.#topology.devicesOfSite(siteId)) {
      const h = this.#health.get(d.id);
      devices.push({ id: d.id, role: d.role, state: h?.state ?? 'unknown', since: h?.since ?? 0 });
      const r = this.#incidents.recoveryOf(d.id);
      if (r) recoveriesConfirmAt.push(r.confirmAtMs);
      flapping ||= this.#incidents.isFlapping(d.id);
    }
    const decision = decideSiteState({
      devices,
      inMaintenance: this.inMaintenance(siteId),
      flapping,
      recoveriesConfirmAt,
      notMonitoredSince: this.#edges.lostSince(site.kecamatan),
    });
    return { ...decision, devices };
  }

  /** Whether a site is under maintenance or silenced now (for the API and dashboards). */
  inMaintenance(siteId: string): boolean {
    return this.#maintenance.inMaintenance(siteId);
  }

  maintenanceWindows(): MaintenanceWindow[] {
    return this.#maintenance.windows();
  }

  addMaintenance(w: Omit<MaintenanceWindow, 'id' | 'source' | 'createdBy'>, by: string): MaintenanceWindow {
    return this.#maintenance.addWindow(w, by);
  }

  deleteMaintenance(id: string, by: string): 'ok' | 'not_found' | 'config' {
    return this.#maintenance.deleteWindow(id, by);
  }

  silences(): Silence[] {
    return this.#maintenance.silences();
  }

  addSilence(s: Omit<Silence, 'id' | 'createdBy'>, by: string): Silence {
    return this.#maintenance.addSilence(s, by);
  }

  deleteSilence(id: string, by: string): boolean {
    return this.#maintenance.deleteSilence(id, by);
  }

  /**
   * The notifications the emergency feeds show (collector/feeds/): every open outage (device and area),
   * and device outages resolved since `resolvedSinceMs` (their all-clear).
   */
  feedNotifications(resolvedSinceMs: number): { current: Notification[]; recent: Notification[] } {
    const { current, recent } = this.#incidents.feedNotifications(resolvedSinceMs);
    const marked = (n: Notification): Notification => {
      const s = this.#pipeline.maintenance.suppression(n.id);
      if (!s) return n;
      const until = new Date(s.untilMs).toISOString();
      return { ...n, silenced: { kind: s.kind, id: s.id, reason: s.reason, by: s.by, until } };
    };
    const areas = this.#pipeline.area
      .open()
      .map((inc) => buildAreaNotification(inc, this.#settings.linkBase));
    return { current: [...current.map(marked), ...areas], recent };
  }

  /** Outcome of an operator's action on an incident. */
  acknowledge(id: string, by: string, note: string | undefined): IncidentActionResult {
    return this.#incidents.acknowledge(id, by, note);
  }

  /** An operator closes an incident: its recovery notice goes out as for a device that came back. */
  resolveByHand(id: string, by: string, note: string | undefined): IncidentActionResult {
    return this.#incidents.resolveByHand(id, by, note);
  }

  /** Read every open incident's clock (collector/incidents/lifecycle.ts: breach and escalation). */
  checkClocks(): void {
    const now = this.#deps.clock.now();
    this.#clockChecks = { count: this.#clockChecks.count + 1, lastAtMs: now };
    this.#incidents.checkClocks((id) => this.#pipeline.maintenance.suppression(id) !== undefined);
  }

  /** The recovery settling and the window or silence covering an open incident, if any. */
  incidentLiveState(incidentId: string): IncidentLiveState {
    const alert = this.#incidents.open().find((a) => a.id === incidentId);
    const recovery = alert && this.#incidents.recoveryOf(alert.deviceId);
    const suppression = this.#pipeline.maintenance.suppression(incidentId);
    return { ...(recovery ? { recovery } : {}), ...(suppression ? { suppression } : {}) };
  }

  /** Whether the device has gone down again before its recovery settled, often enough to be flapping. */
  isFlapping(deviceId: string): boolean {
    return this.#incidents.isFlapping(deviceId);
  }

  #onTransition(t: Transition): void {
    const device = this.#topology.device(t.deviceId);
    const site = this.#topology.siteOfDevice(t.deviceId);
    if (!device || !site) return;
    this.#deps.writer.push([
      {
        measurement: 'device_state',
        tags: { ...deviceTags(site, device), state: t.to },
        fields: { state: t.to, previous: t.from, state_code: STATE_CODE[t.to], cause: t.cause ?? '' },
        timeMs: t.timeMs,
      },
    ]);
    const alert = this.#incidents.onTransition(t);
    if (t.to !== 'up' || t.from !== 'unknown')
      this.#deps.log.info('state', {
        device: t.deviceId,
        site: t.siteId,
        from: t.from,
        to: t.to,
        cause: t.cause,
      });
    for (const l of this.#listeners) {
      try {
        l(t, alert);
      } catch (err) {
        this.#deps.log.error('transition listener failed', { error: errorMessage(err) });
      }
    }
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

  #armSiteStates(): void {
    this.#siteTimer = this.#deps.clock.setTimeout(() => {
      this.#writeSiteStates();
      if (this.#running) this.#armSiteStates();
    }, this.#settings.siteStateMs ?? 60_000);
  }

  /** Every site's state as a `site_state` point: what the map colours and availability averages. */
  #writeSiteStates(): void {
    const now = this.#deps.clock.now();
    const samples: Sample[] = [];
    for (const id of this.#topology.siteIds()) {
      const site = this.#topology.site(id);
      const view = this.siteState(id);
      // Not monitored (its edge lost): nothing is known, so no point (availability leaves the time out).
      if (site && view && view.state !== 'not_monitored') samples.push(siteStateSample(site, view, now));
    }
    this.#deps.writer.push(samples);
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
}
