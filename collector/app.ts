/**
 * The composition root: the whole monitor, both flows, wired in this one file from a validated config.
 * main.ts is the CLI around it; the scenario tests start the same thing, so what they test is what
 * `npm start` runs.
 *
 *   collection (collector/collection/)
 *     inventory ─► Scheduler ─► AutoProfilePoller (profile: auto ─► detect) ─► SnmpPoller ─► normalise ─► Sample[] ──┐
 *     inventory ─► Pinger (fping batches; fast for critical routers) ─► ping Sample[] + ProbeResult (ping) ─┤
 *     trap receiver (known device, right community/user) ─► trap Sample ─► requestProbe (never a state) ───┤
 *     devices ─► embedded broker ─► MqttSource ─► telemetry Sample[] ─┼─► SampleWriter ─► sink ─► InfluxDB
 *                                       │                             │   (buffer on disk)   (keepRetention:
 *                        LivenessEvent ◄┘    ProbeResult (every poll) │                       raw + rollups)
 *                              │                      │               │
 *   alerting (collector/monitor.ts)                   ▼               │
 *     liveness controller ─► HealthTracker + Topology ─► Transition ─┬┴► device_state, site_state points
 *                             │ requestProbe ─► collection           ├─► site state (health/site-state.ts)
 *                             │                                      │     ─► API, MQTT state topic, console
 *                             │                                      ▼
 *     incidents (collector/incidents/lifecycle.ts, IncidentStore) ─► notice ─► suppression pipeline
 *       (collector/alerting/pipeline.ts: dependency ► flapping ► maintenance ► area ► routing)
 *       ─► Dispatcher ─► channels (log, webhook, Telegram, e-mail, WhatsApp, MQTT), CAP push
 *
 *   service: MonitorApi (collector/monitor-service.ts) ─► HTTP API, console, status page, CAP/GeoJSON feeds;
 *            Telegram buttons act through the same port
 *
 * Start order: accounts (console), parts without the network, retention, monitor, ping and traps, MQTT, HTTP.
 * Stop order: inputs first (polling, ping, traps, MQTT liveness), then HTTP, MQTT and the broker, then the monitor drains.
 */
import { dirname } from 'node:path';
import type { ChannelConfig } from '../config/channels.ts';
import type { MonitorConfig, MqttConfig } from '../config/monitor.ts';
import { Monitor, type CollectionFactory, type MonitorSettings } from './monitor.ts';
import type { ClusterConfig } from '../config/cluster.ts';
import { AlertingNode, type LeaderView } from './cluster/alerting-node.ts';
import { EdgeWatch } from './cluster/edge-watch.ts';
import { RemoteCollection } from './cluster/remote-collection.ts';
import { BusProbeFeed, natsLeaseKv } from './cluster/result-feed.ts';
import { LEADER_BUCKET } from './cluster/leader.ts';
import { PgIncidentStore } from './store/pg-store.ts';
import { PgSessionStore } from './http/pg-session-store.ts';
import { FrontDoor, TermGate } from './http/front-door.ts';
import { observeIncidentStore, type ObservedIncidentStore } from './http/live-feed.ts';
import type { UserDirectory } from './http/accounts.ts';
import type { IncidentStoreLike } from './store/store.ts';
import { hostname } from 'node:os';
import { mqttHealth } from './collection/mqtt-health.ts';
import { collectionParts, sampleWriter } from './collection/collection-parts.ts';
import type { SampleWriter } from './sinks/writer.ts';
import { WorkerCollection, mergeWriterStats } from './collection/worker-collection.ts';
import type { SampleWriterLike } from './pipeline.ts';
import { resolveWorkers } from './collection/worker-plan.ts';
import { availableParallelism } from 'node:os';
import { isoWitaOrNull } from './core/time-zone.ts';
import { systemClock, type Clock, type TimerHandle } from './core/clock.ts';
import { eventLoopUtilisation } from './scheduler/admission.ts';
import { ConfigError, errorMessage } from './core/errors.ts';
import type { Logger } from './core/log.ts';
import { tightenFile } from './core/private-fs.ts';
import { processMemoryPoint } from './collection/thread-memory.ts';
import { Shutdown, type StopProgress } from './core/shutdown.ts';
import type { Sample } from './core/types.ts';
import { buildApp, listenHttp, startHttp, type RunningHttp } from './http/server.ts';
import { buildConsole, type ConsoleAssets } from './http/console.ts';
import { MonitorApi, type ReportSettings } from './monitor-service.ts';
import { defaultTargets } from './reports/report.ts';
import { feedsRouter } from './feeds/routes.ts';
import { statusRouter } from './http/status-page.ts';
import { readHistory, type InfluxSource } from './reports/history.ts';
import { StatusPage } from './status/status-page.ts';
import { monitorStatusSource } from './status/source.ts';
import { CapPushNotifier } from './feeds/push.ts';
import { LogNotifier } from './notify/log-notifier.ts';
import type { Notifier } from './notify/notifier.ts';
import { createNotifier } from './notify/create-notifier.ts';
import { serviceActions } from './notify/incident-actions.ts';
import { keepRetention, type RetentionSetup } from './sinks/retention-setup.ts';
import { startSignals, type RunningSignals } from './sources/signals.ts';
import { watchPing } from './sources/ping/attach.ts';
import { startTraps, type RunningTraps } from './sources/traps/attach.ts';
import { IncidentStore } from './store/incident-store.ts';
import { MqttSource } from './sources/mqtt/mqtt-source.ts';
import { Accounts, hashPassword, type Account } from '../broker/accounts.ts';
import { openUserDirectory, startConsoleBackend, type ConsoleBackend } from './http/console-backend.ts';
import { startEmbeddedBroker, type RunningBroker } from '../broker/embedded-broker.ts';
import { CollectorNode } from './cluster/collector-node.ts';
import { connectBus, openBucket, type Bus } from './cluster/nats.ts';

export { Monitor } from './monitor.ts';
export type {
  IncidentActionResult,
  IncidentLiveState,
  LivenessReport,
  MonitorDeps,
  MonitorSettings,
  MonitorStatus,
  SiteStateName,
  SiteStateView,
} from './monitor.ts';
export { mqttHealth } from './collection/mqtt-health.ts';

/** alerts.webhooks have no timeout of their own: the webhook channel's default (config/channels.ts, 10s). */
const WEBHOOK_TIMEOUT_MS = 10_000;

export interface Runtime {
  readonly monitor: Monitor;
  /** The durable incidents (for the API and tests). */
  readonly store: IncidentStore;
  readonly http: RunningHttp;
  /** The embedded MQTT broker, when the config runs one. */
  readonly broker?: RunningBroker | undefined;
  readonly mqtt?: MqttSource | undefined;
  /** The public status page's cache, when `status.enabled`. */
  readonly statusPage?: StatusPage | undefined;
  /** Ping and the trap receiver (collector/sources/signals.ts), when configured. */
  readonly signals: RunningSignals;
  /** Stops polling, delivers pending notifications, flushes samples (or persists them to the buffer). */
  stop(): Promise<void>;
  /** While stop() runs: the part it waits on (core/shutdown.ts). */
  stopProgress(): StopProgress | undefined;
}

export interface RuntimeOptions {
  readonly log: Logger;
  readonly clock?: Clock | undefined;
  /**
   * The event loop's utilisation, for the collection's back-pressure (scheduler/admission.ts). Default:
   * the real loop's, measured only on the system clock (a test on fake time passes its own or none).
   */
  readonly loopUtilisation?: (() => number) | undefined;
  /** Extra channels (tests add a recorder; issue #4 adds Telegram, e-mail, MQTT). */
  readonly notifiers?: readonly Notifier[] | undefined;
}

/** The loop utilisation the collection's back-pressure reads: given, or the real loop's on real time. */
function loopUtilisationOf(opts: RuntimeOptions): (() => number) | undefined {
  return opts.loopUtilisation ?? (opts.clock ? undefined : eventLoopUtilisation());
}

export async function startRuntime(config: MonitorConfig, opts: RuntimeOptions): Promise<Runtime> {
  const clock = opts.clock ?? systemClock;
  const { log } = opts;
  tightenInventory(config, log);
  // Sign-in accounts first: a bad users file stops the start before anything runs.
  const consoleBackend: ConsoleBackend | undefined = config.console?.enabled
    ? await startConsoleBackend(config.console, { clock, log: log.child({ component: 'console' }) })
    : undefined;
  const { poller, writer } = collectionParts(config, clock, log);
  const { notifiers, channels } = buildNotifiers(config, clock, log, opts.notifiers);
  const feeds = fromLoader(config.feeds, 'feeds');
  const cap = { sender: feeds.sender, senderName: feeds.senderName };
  // The MQTT side's health, with the monitor's own points (set once the MQTT side runs).
  let mqttMetrics: (() => Sample[]) | undefined;
  // With the console, the store also tells the live events of every incident change.
  const store = consoleBackend
    ? consoleBackend.openIncidentStore(config.incidents.file)
    : new IncidentStore(config.incidents.file);
  // The process's memory (real only on the system clock: a test on fake time writes none), then MQTT's.
  const processMetrics = opts.clock ? () => [] : () => [processMemoryPoint(clock)];
  const extraMetrics = (): Sample[] => [...processMetrics(), ...(mqttMetrics?.() ?? [])];
  // snmp.workers > 1: collection in worker threads; the Monitor's writer figures include theirs.
  const workers = workerCollection(config, clock, log, writer, extraMetrics);
  const monitor = new Monitor(
    {
      clock,
      log,
      inventory: config.inventory,
      poller,
      writer: workers?.writer ?? writer,
      notifiers,
      store,
      extraMetrics,
      collection: workers?.factory,
      loopUtilisation: loopUtilisationOf(opts),
    },
    monitorSettings(config),
  );
  // The raw and rollup policies before the first batch, so samples land in `raw` (InfluxDB 1.x only).
  const influx = config.influx;
  let retention: RetentionSetup | undefined;
  if (influx.api === 'v1' && influx.retention && influx.retentionPolicy === undefined) {
    retention = keepRetention(
      { url: influx.url, username: influx.username, password: influx.password, timeoutMs: influx.timeoutMs },
      { database: influx.database, ...influx.retention },
      { log: log.child({ component: 'retention' }), clock },
    );
    await retention.firstAttempt;
  }
  await monitor.start();
  // Ping (fping batches) and the SNMP trap receiver: signals into the same health tracker (issue #13).
  const signals = await startSignals(config, {
    clock,
    log,
    health: monitor.health,
    push: (s) => writer.push(s),
  });
  // Set when stop() begins: what closing the parts causes is not news about the fleet.
  const stopping = { value: false };
  const { broker, mqtt } = config.mqtt ? await startMqtt(config, monitor, writer, clock, log, stopping) : {};
  if (mqtt) mqttMetrics = mqttHealth(mqtt, broker, clock);
  // The console's live events follow the running monitor; its history reads InfluxDB (1.x API).
  consoleBackend?.attach({
    monitor,
    inventory: config.inventory,
    influx: historySource(config),
    mqttClients: broker ? () => broker.stats().connected : undefined,
  });
  let http: RunningHttp;
  let statusPage: StatusPage | undefined;
  try {
    const httpLog = log.child({ component: 'http' });
    const publicBase = config.api?.publicBaseUrl ?? listenUrl(config.http.listen);
    const reports = reportSettings(config);
    const api = new MonitorApi(monitor, store, clock, reports);
    statusPage = startStatusPage(config, monitor, store, reports, clock, log);
    // Button presses on Telegram pages act through the same port as the API, as the mapped operator.
    const actions = serviceActions(api, { now: () => clock.now(), addEvent: (ev) => store.addEvent(ev) });
    for (const c of channels) c.updates?.start(actions);
    const consoleAssets = await buildConsoleOrWarn(config, httpLog);
    http = await startHttp(api, {
      console: consoleAssets,
      listen: config.http.listen,
      session: consoleBackend?.session,
      moreRoutes: consoleBackend?.routes,
      tokens: config.api?.tokens ?? [],
      log: httpLog,
      clock,
      feedsPublic: config.api?.feedsPublic ?? false,
      feedKeys: feeds.keys ?? [],
      status: statusPage && statusRouter(statusPage),
      feeds: feedsRouter(monitor, { clock, cap, baseUrl: `${publicBase}/feeds`, recentMs: feeds.recentMs }),
      hooks: channels.flatMap((c) => (c.updates?.hook ? [c.updates.hook] : [])),
    });
    if ((config.api?.tokens.length ?? 0) === 0 && !consoleBackend)
      log.warn('no api.tokens configured: /api/v1 refuses every request (make one: scripts/make-token.ts)');
  } catch (err) {
    await Promise.allSettled(channels.map(async (c) => c.updates?.stop()));
    await statusPage?.stop();
    await signals.stop();
    retention?.stop();
    await mqtt?.stop();
    await broker?.close();
    await monitor.stop();
    store.close();
    await consoleBackend?.close();
    throw err;
  }
  log.info('http listening', { url: http.url });
  const shutdown = new Shutdown(clock, log);
  return {
    monitor,
    store,
    http,
    broker,
    mqtt,
    statusPage,
    signals,
    stopProgress: () => shutdown.progress(),
    stop: async () => {
      stopping.value = true;
      const step = shutdown.step.bind(shutdown);
      // Inputs first: once polling has stopped, closing the rest is not seen as devices going down.
      await step('polling', () => monitor.stopPolling());
      await step('ping and traps', () => signals.stop());
      // No presses acted on while the monitor stops.
      await step('chat updates', () => Promise.allSettled(channels.map(async (c) => c.updates?.stop())));
      consoleBackend?.hub?.stop(); // open event streams would hold the server's close
      await step('http', () => http.close());
      await step('status page', () => statusPage?.stop());
      await step('mqtt', () => mqtt?.stop());
      await step('mqtt broker', () => broker?.close());
      retention?.stop();
      await step('monitor (notifications, samples)', () => monitor.stop());
      await step('channels', () => Promise.allSettled(channels.map((c) => c.close())));
      await step('incident store', () => store.close());
      await step('console', () => consoleBackend?.close());
      shutdown.done();
    },
  };
}

/** Where the console's site history reads from: InfluxDB 1.x only; absent otherwise (the route says 503). */
function historySource(config: MonitorConfig): InfluxSource | undefined {
  const influx = config.influx;
  if (influx.api !== 'v1') return undefined;
  return {
    url: influx.url,
    database: influx.database,
    username: influx.username,
    password: influx.password,
    timeoutMs: influx.timeoutMs,
  };
}

/** Where reports (and the status page's availability) read from: InfluxDB 1.x only; absent otherwise. */
function reportSettings(config: MonitorConfig): ReportSettings | undefined {
  if (config.influx.api !== 'v1') return undefined;
  return {
    source: {
      url: config.influx.url,
      database: config.influx.database,
      username: config.influx.username,
      password: config.influx.password,
    },
    inventory: config.inventory,
    targets: config.reports?.targets ?? defaultTargets(),
  };
}

/**
 * The public status page, when `status.enabled`: rebuilt from the monitor's state on a timer and after
 * each transition; the availability figures from InfluxDB in the background (the reports' engine, 1.x only).
 */
function startStatusPage(
  config: MonitorConfig,
  monitor: Monitor,
  store: IncidentStoreLike,
  reports: ReportSettings | undefined,
  clock: Clock,
  log: Logger,
): StatusPage | undefined {
  const statusConfig = fromLoader(config.status, 'status');
  if (!statusConfig.enabled) return undefined;
  const page = new StatusPage({
    source: monitorStatusSource(monitor, config.inventory, store),
    clock,
    log: log.child({ component: 'status-page' }),
    rebuildMs: statusConfig.rebuildMs,
    availability: reports && {
      inventory: config.inventory,
      read: (fromMs, toMs) => readHistory({ ...reports.source, timeoutMs: 30_000 }, fromMs, toMs),
      refreshMs: statusConfig.availabilityRefreshMs,
    },
  });
  monitor.onTransition(() => page.changed());
  page.start();
  return page;
}

// ---- a cluster member (issue #15, config/cluster.ts) -----------------------------------------------------

/** A cluster member as main.ts runs it: its roles over one NATS connection. */
export interface ClusterRuntime {
  /** The collector role, when the member has it. */
  readonly collector?: CollectorNode | undefined;
  /** The alerting role (a candidate; the leader when elected), when the member has it. */
  readonly alerting?: RunningAlerting | undefined;
  /** The collector role's share of the devices' MQTT telemetry, when the config has `mqtt:`. */
  readonly telemetry?: MqttSource | undefined;
  /** The collector role's trap receiver, when the config has `traps:` (a trap asks the owner for a poll). */
  readonly traps?: RunningTraps | undefined;
  readonly bus: Bus;
  stop(): Promise<void>;
  /** While stop() runs: the part it waits on (core/shutdown.ts). */
  stopProgress(): StopProgress | undefined;
}

/**
 * The roles `cluster.roles` names, joined by NATS JetStream (collector/cluster/). The collector role:
 * the devices this member owns, polled on aligned slots, samples to InfluxDB through its own buffered
 * writer, every ProbeResult to the results stream (collector/cluster/collector-node.ts). The alerting
 * role: a candidate in the election; as leader, the Monitor on the results (startAlertingRole below).
 */
export async function startClusterRuntime(
  config: MonitorConfig,
  opts: RuntimeOptions,
): Promise<ClusterRuntime> {
  const cluster = config.cluster;
  if (!cluster)
    throw new ConfigError('(config)', 'cluster is missing: startClusterRuntime runs a cluster member');
  const clock = opts.clock ?? systemClock;
  const log = opts.log.child({ node: cluster.node });
  tightenInventory(config, log);
  const bus = await connectBus({
    servers: cluster.nats.servers,
    name: `netmon-${cluster.node}`,
    log: log.child({ component: 'nats' }),
    domain: cluster.domain,
    hubDomain: cluster.hubDomain,
    edgeDomains: cluster.edges.map((e) => e.domain),
    node: cluster.node,
  });
  let collector: CollectorNode | undefined;
  let alerting: RunningAlerting | undefined;
  let telemetry: ClusterTelemetry | undefined;
  let traps: RunningTraps | undefined;
  try {
    if (cluster.roles.includes('collector')) {
      const { poller, writer } = collectionParts(config, clock, log);
      collector = new CollectorNode(
        {
          clock,
          log,
          inventory: config.inventory,
          poller,
          writer,
          bus,
          loopUtilisation: loopUtilisationOf(opts),
        },
        {
          cluster,
          intervalMs: config.snmp.intervalMs,
          concurrency: config.snmp.concurrency,
          selfMetricsMs: Math.min(10_000, config.snmp.intervalMs),
          // Its owned devices pinged, results on the results stream with its polls (collector-node.ts).
          ping: config.ping,
        },
      );
      await collector.start();
      if (config.mqtt) telemetry = await startClusterTelemetry(config, cluster.node, writer, clock, log);
      // A trap asks for a poll (never a state): any collector that receives one asks the device's owner
      // over netmon.probe.<id>, as the alerting leader does; its `trap` point goes to this member's writer.
      if (config.traps)
        traps = await startTraps(config.traps, {
          clock,
          log,
          inventory: config.inventory,
          health: { requestProbe: (id) => bus.requestProbe(id, 0) },
          push: (s) => writer.push(s),
        });
    }
    if (cluster.roles.includes('alerting'))
      alerting = await startAlertingRole(config, cluster, bus, { ...opts, clock, log });
  } catch (err) {
    await alerting?.stop().catch(() => undefined);
    await telemetry?.stop().catch(() => undefined);
    await traps?.stop().catch(() => undefined);
    await collector?.stop().catch(() => undefined);
    await bus.close();
    throw err;
  }
  const shutdown = new Shutdown(clock, log);
  return {
    collector,
    alerting,
    telemetry: telemetry?.source,
    traps,
    bus,
    stopProgress: () => shutdown.progress(),
    stop: async () => {
      const step = shutdown.step.bind(shutdown);
      // Inputs first: no more results from this member, then the alerting role drains its pages.
      await step('mqtt telemetry', () => telemetry?.stop());
      await step('traps', () => traps?.stop());
      await step('collector role', () => collector?.stop());
      await step('alerting role', () => alerting?.stop());
      await step('nats', () => bus.close());
      shutdown.done();
    },
  };
}

// ─── Cluster: the alerting role (issue #15) ─────────────────────────────────────────────────────────
//
//   candidate ─► LeaderElection (KV netmon_leader) ─► elected(term) ─► PgIncidentStore.open(url, term)
//     (+ PgSessionStore with the same term, when the console is on)
//     ─► Monitor (health, incidents, alert pipeline, dispatcher) on RemoteCollection
//        ◄─ probe results: durable consumer `alerting` on NETMON_RESULTS; requestProbe ─► netmon.probe.<id>
//     deposed ─► halt at once (no pull, no page), stop the Monitor, close the stores; back to standby
//
//   HTTP (collector/http/front-door.ts): one listener from the start (`http.listen` of this member's config),
//   its address in the lease. Leader: the term's API, console, sessions, status page, feeds and chat hooks
//   (termFront below), wired to the term's Monitor when it runs. Standby (or starting): /health 503 naming
//   the leader, /health/cluster 200, anything else 503 with the leader's address. Deposed: the term's routes
//   answer nothing more at once, their writes are refused (TermGate), then they are closed.
//
// A standby holds no store and no consumer and serves nothing that writes.

/** A term's stores: the incidents (observed for the console's live events) and the console's sessions. */
interface TermStores {
  readonly incidents: ObservedIncidentStore<PgIncidentStore>;
  readonly sessions?: PgSessionStore | undefined;
  /** Closed the moment the term ends: the HTTP side's writes are refused from then on. */
  readonly gate: TermGate;
  close(): Promise<void>;
}

export interface RunningAlerting {
  readonly node: AlertingNode<TermStores, Monitor>;
  /** The candidate's HTTP listener: leader or standby, it answers. */
  readonly http: RunningHttp;
  readonly front: FrontDoor;
  stop(): Promise<void>;
}

export async function startAlertingRole(
  config: MonitorConfig,
  cluster: ClusterConfig,
  bus: Bus,
  opts: RuntimeOptions,
): Promise<RunningAlerting> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log.child({ role: 'alerting' });
  const url = cluster.postgres?.url;
  if (!url) throw new ConfigError('cluster.postgres.url', 'required with the alerting role');
  const httpLog = log.child({ component: 'http' });
  // Read once for every term: the accounts and the console's files.
  const consoleConfig = config.console?.enabled ? config.console : undefined;
  const users = consoleConfig && (await openUserDirectory(consoleConfig, httpLog, clock));
  // Built while the election runs (esbuild, ~100 ms on a quiet machine): the first term's routes wait for it.
  const assets = buildConsoleOrWarn(config, httpLog);
  // Who leads, for the standby's answers: the lease as the node below last read it (none until it runs).
  let leaderView: () => LeaderView | undefined = () => undefined;
  const front = new FrontDoor({ node: cluster.node, leader: () => leaderView() });
  // device_state, site_state and the feed's own points go to InfluxDB, as in one process.
  const writer = sampleWriter(config, clock, log);
  await writer.start();
  // Every term's Monitor pushes into the one writer; the writer lives as long as the process.
  const termWriter = {
    push: (s: readonly Sample[]) => writer.push(s),
    stats: () => writer.stats(),
    start: () => Promise.resolve(),
    stop: () => Promise.resolve(),
  };
  const { notifiers, channels } = buildNotifiers(config, clock, log, opts.notifiers);
  const settings = monitorSettings(config);
  // Listening before the election: the lease carries the bound address (port 0 in tests).
  let http: RunningHttp;
  try {
    http = await listenHttp(front.handler, config.http.listen, undefined, httpLog);
  } catch (err) {
    await Promise.allSettled(channels.map((c) => c.close()));
    await writer.stop();
    throw err;
  }
  log.info('http listening', { url: http.url, role: 'standby' });
  const fronts = new Map<number, Promise<TermFront | undefined>>();
  // One gate per term, closed the moment the term ends (even while its HTTP side is still being built).
  const gates = new Map<number, TermGate>();
  const gateOf = (term: number): TermGate => {
    const gate = gates.get(term) ?? new TermGate(cluster.node, term);
    gates.set(term, gate);
    return gate;
  };
  const frontCtx: TermFrontContext = { config, clock, log: httpLog, front, users, assets, channels };
  // The edges' "monitoring lost" incidents (collector/cluster/edge-watch.ts), raised by the leader only,
  // kept in the store by its Monitor (collector/alerting/edge-book.ts): each term's watch starts from the
  // incidents open there, so a new leader continues them.
  let edgeWatch: EdgeWatch | undefined;
  const watchEdges = (monitor: Monitor): void => {
    edgeWatch?.stop();
    if (cluster.edges.length === 0) return;
    const watch = new EdgeWatch({
      store: { watch: async (fn) => (await bus.members()).watch(fn) },
      clock,
      log: log.child({ component: 'edges' }),
      edges: cluster.edges,
      timeoutMs: cluster.membership.timeoutMs,
      lost: monitor.lostEdges(),
      onEvent: (ev) => monitor.edgeEvent(ev),
    });
    edgeWatch = watch;
    watch
      .start()
      .catch((err: unknown) => log.error('edge watch did not start', { error: errorMessage(err) }));
  };
  const liveness = config.mqtt && leaderLiveness(config, termWriter, clock, log);
  // The term's tracker sees the owners' ping results: its ping requests go to the owner (netmon.probe,
  // kind ping), its "SNMP not answering" warnings are logged and written as in one process.
  let pingWatch: { readonly term: number; readonly off: () => void } | undefined;
  const unwatchPing = (term: number): void => {
    if (pingWatch?.term !== term) return;
    pingWatch.off();
    pingWatch = undefined;
  };
  const node = new AlertingNode<TermStores, Monitor>({
    clock,
    log,
    lease: natsLeaseKv(() => openBucket(bus.js, LEADER_BUCKET, bus.replicas, log)),
    settings: {
      node: cluster.node,
      leaseMs: cluster.leader.leaseMs,
      renewMs: cluster.leader.renewMs,
      http: advertisedUrl(http.url),
    },
    openStore: async (term, fenced) => {
      const incidents = await PgIncidentStore.open(url, { term, log, clock, onDeposed: fenced });
      let sessions: PgSessionStore | undefined;
      try {
        // Sessions in PostgreSQL: a person signed in stays signed in across a change of leader.
        if (consoleConfig) sessions = await PgSessionStore.open(url, { term, log, clock, onDeposed: fenced });
      } catch (err) {
        await incidents.close();
        throw err;
      }
      return {
        incidents: observeIncidentStore(incidents),
        sessions,
        gate: gateOf(term),
        close: async () => {
          await sessions?.close();
          await incidents.close();
        },
      };
    },
    buildMonitor: (stores, term) =>
      new Monitor(
        {
          clock,
          log: log.child({ term }),
          inventory: config.inventory,
          writer: termWriter,
          notifiers,
          store: stores.incidents,
          collection: ({ onProbe }) =>
            new RemoteCollection(
              {
                clock,
                log: log.child({ component: 'remote-collection' }),
                feed: new BusProbeFeed(bus.consumer(), clock, log.child({ component: 'results' })),
                publishProbe: (id, delayMs) => bus.requestProbe(id, delayMs),
                writer: termWriter,
                onProbe,
              },
              { intervalMs: settings.intervalMs, selfMetricsMs: settings.selfMetricsMs },
            ),
        },
        settings,
      ),
    onElected: (term) => front.starting(term),
    onLeading: (term, monitor, stores) => {
      watchEdges(monitor);
      pingWatch?.off();
      pingWatch = {
        term,
        off: watchPing(monitor.health, {
          log: log.child({ component: 'ping', term }),
          inventory: config.inventory,
          push: (s) => termWriter.push(s),
          requestPing: (id) => bus.requestProbe(id, 0, 'ping'),
        }),
      };
      liveness?.lead(term, monitor);
      fronts.set(
        term,
        startTermFront(frontCtx, term, monitor, stores).catch((err: unknown) => {
          httpLog.error('the HTTP side of the term did not start; alerting goes on', {
            term,
            error: errorMessage(err),
          });
          return undefined;
        }),
      );
    },
    // At once: the term's routes answer nothing more and write nothing; then they are closed.
    onDeposed: (term) => {
      unwatchPing(term);
      gates.get(term)?.close();
      gates.delete(term);
      front.standby(term);
      const f = fronts.get(term);
      fronts.delete(term);
      void f?.then((t) => t?.stop());
    },
    onStandby: (term) => {
      unwatchPing(term);
      liveness?.standBy(term);
      edgeWatch?.stop();
      edgeWatch = undefined;
    },
  });
  leaderView = () => node.leader();
  node.start();
  return {
    node,
    http,
    front,
    stop: async () => {
      await node.stop();
      edgeWatch?.stop();
      await Promise.allSettled([...fronts.values()].map(async (f) => (await f)?.stop()));
      await http.close();
      await liveness?.close();
      await Promise.allSettled(channels.map((c) => c.close()));
      await writer.stop();
    },
  };
}

interface TermFrontContext {
  readonly config: MonitorConfig;
  readonly clock: Clock;
  readonly log: Logger;
  readonly front: FrontDoor;
  readonly users: UserDirectory | undefined;
  readonly assets: Promise<ConsoleAssets | undefined>;
  readonly channels: readonly ReturnType<typeof createNotifier>[];
}

/** What a term serves over HTTP, stopped when the term ends. */
interface TermFront {
  stop(): Promise<void>;
}

/**
 * The leader's HTTP side for one term, on that term's Monitor and stores: the same routes as one process
 * (server.ts buildApp), with every write behind the term's gate; then the front door points at it.
 */
async function startTermFront(
  ctx: TermFrontContext,
  term: number,
  monitor: Monitor,
  stores: TermStores,
): Promise<TermFront> {
  const { config, clock, log, front, gate } = { ...ctx, gate: stores.gate };
  const feeds = fromLoader(config.feeds, 'feeds');
  const consoleBackend = config.console?.enabled
    ? await startConsoleBackend(config.console, {
        clock,
        log: log.child({ component: 'console' }),
        users: ctx.users,
        sessions: stores.sessions && gate.sessions(stores.sessions),
        incidents: stores.incidents,
      })
    : undefined;
  consoleBackend?.attach({ monitor, inventory: config.inventory, influx: historySource(config) });
  const reports = reportSettings(config);
  const api = gate.service(new MonitorApi(monitor, stores.incidents, clock, reports));
  const statusPage = startStatusPage(config, monitor, stores.incidents, reports, clock, log);
  // Telegram buttons act on the leader only (one poller of the bot's updates in the cluster).
  const actions = serviceActions(api, {
    now: () => clock.now(),
    addEvent: (ev) => {
      gate.check('event');
      stores.incidents.addEvent(ev);
    },
  });
  for (const c of ctx.channels) c.updates?.start(actions);
  const publicBase = config.api?.publicBaseUrl ?? listenUrl(config.http.listen);
  const app = buildApp(api, {
    console: await ctx.assets,
    session: consoleBackend?.session,
    moreRoutes: consoleBackend?.routes,
    tokens: config.api?.tokens ?? [],
    log,
    clock,
    feedsPublic: config.api?.feedsPublic ?? false,
    feedKeys: feeds.keys ?? [],
    status: statusPage && statusRouter(statusPage),
    feeds: feedsRouter(monitor, {
      clock,
      cap: { sender: feeds.sender, senderName: feeds.senderName },
      baseUrl: `${publicBase}/feeds`,
      recentMs: feeds.recentMs,
    }),
    hooks: ctx.channels.flatMap((c) => (c.updates?.hook ? [c.updates.hook] : [])),
  });
  const stop = async (): Promise<void> => {
    gate.close();
    await Promise.allSettled(ctx.channels.map(async (c) => c.updates?.stop()));
    consoleBackend?.hub?.stop(); // open event streams end: the browsers reconnect, to the new leader
    await statusPage?.stop();
    await consoleBackend?.close();
  };
  // Deposed while this was being built: it never serves.
  if (!gate.open) {
    await stop();
    return { stop: () => Promise.resolve() };
  }
  front.lead(term, app, gate);
  log.info('http serving as leader', { term });
  return { stop };
}

/** The address written into the lease: the listener's, with a wildcard host named by this machine. */
function advertisedUrl(listening: string): string {
  const u = new URL(listening);
  if (u.hostname === '0.0.0.0' || u.hostname === '[::]') u.hostname = hostname();
  return u.origin;
}

/**
 * `snmp.workers` above 1 (or auto on a machine of several cores): collection in worker threads that share
 * the fleet (collector/collection/worker-collection.ts); otherwise undefined, the Monitor's own Collection.
 */
function workerCollection(
  config: MonitorConfig,
  clock: Clock,
  log: Logger,
  writer: SampleWriter,
  extraMetrics: () => Sample[],
): { factory: CollectionFactory; writer: SampleWriterLike } | undefined {
  const workers = resolveWorkers(config.snmp.workers, availableParallelism());
  if (workers <= 1) return undefined;
  let collection: WorkerCollection | undefined;
  const factory: CollectionFactory = ({ onProbe }) => {
    collection = new WorkerCollection(
      {
        clock,
        log: log.child({ component: 'collection' }),
        inventory: config.inventory,
        config,
        writer,
        onProbe,
        extraMetrics,
      },
      {
        workers,
        intervalMs: config.snmp.intervalMs,
        jitterMs: config.snmp.jitterMs,
        concurrency: config.snmp.concurrency,
        selfMetricsMs: Math.min(10_000, config.snmp.intervalMs),
      },
    );
    return collection;
  };
  // The main thread's writer, whose figures (health, /api/v1/health) add the workers' writers.
  const combined: SampleWriterLike = {
    push: (samples) => writer.push(samples),
    start: () => writer.start(),
    stop: () => writer.stop(),
    stats: () => mergeWriterStats([writer.stats(), collection?.writerStats()]),
  };
  return { factory, writer: combined };
}

/** The Monitor's settings from the config: the same for one process and for a cluster's alerting leader. */
export function monitorSettings(config: MonitorConfig): MonitorSettings {
  return {
    intervalMs: config.snmp.intervalMs,
    jitterMs: config.snmp.jitterMs,
    concurrency: config.snmp.concurrency,
    downAfterFailures: config.health.downAfterFailures,
    recheckMs: config.health.recheckMs,
    // The heartbeat the reports take as "watching": at least once per poll interval.
    selfMetricsMs: Math.min(10_000, config.snmp.intervalMs),
    // A site's state changes no faster than its devices are polled.
    siteStateMs: config.snmp.intervalMs,
    linkBase: config.alerts.linkBase,
    mqttGraceMs: config.mqtt?.graceMs,
    area: config.alerts.area,
    oncall: config.alerts.oncall,
    clockCheckMs: config.alerts.clockCheckMs,
    flapping: config.alerts.flapping,
    maintenance: config.maintenance,
  };
}

/**
 * Every notification channel of the config: the log, the extra ones (tests), the configured channels
 * (webhooks among them) and the CAP push targets. `channels`: the configured ones (they may take updates,
 * and are closed at stop).
 */
function buildNotifiers(
  config: MonitorConfig,
  clock: Clock,
  log: Logger,
  extra: readonly Notifier[] | undefined,
): { notifiers: Notifier[]; channels: ReturnType<typeof createNotifier>[] } {
  const notifiers: Notifier[] = [new LogNotifier(log.child({ component: 'alert' })), ...(extra ?? [])];
  // One path for webhooks: alerts.webhooks are webhook channels (named `webhook:<name>` either way).
  const channelConfigs: ChannelConfig[] = [
    ...config.alerts.webhooks.map((w): ChannelConfig => ({
      type: 'webhook',
      ...w,
      timeoutMs: WEBHOOK_TIMEOUT_MS,
    })),
    ...(config.alerts.channels ?? []),
  ];
  const channels = channelConfigs.map((ch) =>
    createNotifier(ch, {
      log: log.child({ component: 'notify', channel: ch.name }),
      clock,
      // Telegram's offset and pages sent live beside the incidents (in memory with an in-memory store).
      stateDir: config.incidents.file === ':memory:' ? undefined : dirname(config.incidents.file),
    }),
  );
  notifiers.push(...channels);
  const feeds = fromLoader(config.feeds, 'feeds');
  const cap = { sender: feeds.sender, senderName: feeds.senderName };
  notifiers.push(
    ...feeds.push.map(
      (p) => new CapPushNotifier({ name: p.name, url: p.url, headers: p.headers, cap, clock }),
    ),
  );
  return { notifiers, channels };
}

/**
 * The console's files (esbuild bundles web/console in memory, ~100 ms). A console that does not build is
 * logged and left out: the monitor, its API and its alerts keep working without it.
 */
async function buildConsoleOrWarn(config: MonitorConfig, log: Logger): Promise<ConsoleAssets | undefined> {
  try {
    const assets = await buildConsole({
      sites: config.inventory.sites,
      tileUrl: config.console?.tileUrl,
      tileAttribution: config.console?.tileAttribution,
    });
    log.info('console built', { ms: assets.buildMs, files: assets.files.size });
    return assets;
  } catch (err) {
    log.error('console did not build; serving the API without it', {
      error: err instanceof Error ? err.message : String(err),
    });
    return undefined;
  }
}

/** The MQTT side: the embedded broker (or none, for an external one) and the collector's client. */
async function startMqtt(
  config: MonitorConfig,
  monitor: Monitor,
  writer: SampleWriter,
  clock: Clock,
  log: Logger,
  stopping: { readonly value: boolean },
): Promise<{ broker?: RunningBroker | undefined; mqtt: MqttSource }> {
  const m = config.mqtt;
  if (!m) throw new Error('no mqtt config');
  let broker: RunningBroker | undefined;
  let url: string;
  if (m.broker.kind === 'embedded') {
    // The collector's own account: the configured password, hashed here (the broker never keeps it).
    const collector: Account = {
      username: m.username,
      passwordHash: hashPassword(m.password.reveal(), { N: 1024 }),
      role: 'collector',
    };
    broker = await startEmbeddedBroker({
      host: m.broker.host,
      port: m.broker.port,
      allowAnonymous: m.broker.allowAnonymous,
      tls: m.broker.tls,
      accounts: Accounts.fromInventory(config.inventory, [collector]),
      log: log.child({ component: 'broker' }),
    });
    url = broker.url;
  } else {
    url = m.broker.url;
  }
  const mqtt = new MqttSource({
    ...mqttClientBase(config, m, clock),
    url,
    log: log.child({ component: 'mqtt' }),
    writer,
    embedded: broker,
    // Once stopping, the broker's own close drops every device: that is no loss of a device.
    onLiveness: (ev) => {
      if (!stopping.value) monitor.reportLiveness(ev);
    },
  });
  try {
    await mqtt.start();
  } catch (err) {
    await broker?.close();
    throw err;
  }
  publishMonitorState(monitor, mqtt);
  return { broker, mqtt };
}

/**
 * State out: every transition and alert, for the regency's other systems. The site's state is the
 * Monitor's (collector/health/site-state.ts), the one the API and the feeds show. One process: its
 * MqttSource; a cluster: the alerting leader's.
 */
function publishMonitorState(monitor: Monitor, mqtt: MqttSource): void {
  const siteStatePayload = (siteId: string): Record<string, unknown> => {
    const view = monitor.siteState(siteId);
    const site = monitor.topology.site(siteId);
    return {
      state: view?.state ?? 'unknown',
      recoveryConfirmAt: isoWitaOrNull(view?.recoveryConfirmAt),
      devices: Object.fromEntries((view?.devices ?? []).map((d) => [d.id, d.state])),
      category: site?.category,
    };
  };
  monitor.onTransition((t, alert) => {
    mqtt.publishState(t.deviceId, t.to, siteStatePayload(t.siteId), t.timeMs);
    if (alert) mqtt.publishAlert(alert);
  });
  // A recovery confirmed or a window opened or closed changes the site with no device transition.
  monitor.onSiteChange((siteId, timeMs) => mqtt.publishSiteState(siteId, siteStatePayload(siteId), timeMs));
}

// ─── Cluster: MQTT (issue #15; README: MQTT in the cluster) ───────────────────────────────────────────
//
//   devices ─► external broker (Mosquitto 2) ─┬─ $share/netmon/…/telemetry ─► one collector member each
//                                             │     ─► its SampleWriter ─► InfluxDB
//                                             └─ …/status (retained online, Will offline) ─► the alerting
//                                                   leader only ─► Monitor.reportLiveness ─► health, pages
//
// Each leader term opens its own client after its Monitor runs: the retained status of every device
// arrives on subscribe, so a new leader learns the current state without anyone telling it again.

interface ClusterTelemetry {
  readonly source: MqttSource;
  /** Unsubscribe, then write the last health point (before the collector's writer stops). */
  stop(): Promise<void>;
}

/**
 * A collector member's share of the telemetry: MQTT 5 shared subscription, samples to its own writer, and
 * its health (`monitor`, component mqtt, tag node) with collection's, every min(10 s, interval).
 */
async function startClusterTelemetry(
  config: MonitorConfig,
  node: string,
  writer: SampleWriter,
  clock: Clock,
  log: Logger,
): Promise<ClusterTelemetry> {
  const source = new MqttSource({
    ...externalMqtt(config, clock),
    log: log.child({ component: 'mqtt' }),
    writer,
    onLiveness: () => undefined, // never called: a collector member reads no status
    topics: 'telemetry',
    shareGroup: TELEMETRY_SHARE_GROUP,
    clientLabel: 'telemetry',
  });
  await source.start();
  const health = mqttHealth(source, undefined, clock);
  const write = (): void => writer.push(health().map((p) => ({ ...p, tags: { ...p.tags, node } })));
  const everyMs = Math.min(10_000, config.snmp.intervalMs);
  let timer: TimerHandle | undefined;
  const arm = (): void => {
    timer = clock.setTimeout(() => {
      write();
      arm();
    }, everyMs);
  };
  arm();
  return {
    source,
    stop: async () => {
      if (timer) clock.clearTimeout(timer);
      timer = undefined;
      await source.stop();
      write();
    },
  };
}

/** What every MQTT client of the monitor takes from the config: its account, the inventory, the limits. */
function mqttClientBase(config: MonitorConfig, m: MqttConfig, clock: Clock) {
  return {
    username: m.username,
    password: m.password,
    inventory: config.inventory,
    clock,
    rateLimit: m.rateLimit,
    timestampWindow: m.timestampWindow,
  };
}

/** A cluster member's MQTT client on the external broker (config/monitor.ts refuses the embedded one). */
function externalMqtt(
  config: MonitorConfig,
  clock: Clock,
): ReturnType<typeof mqttClientBase> & { url: string } {
  const m = config.mqtt;
  if (m?.broker.kind !== 'external')
    throw new ConfigError('mqtt.broker', 'a cluster member needs an external broker (mqtt.url)');
  return { ...mqttClientBase(config, m, clock), url: m.broker.url };
}

/** The broker's share group of the collector members (MQTT 5 `$share/<group>/<filter>`). */
export const TELEMETRY_SHARE_GROUP = 'netmon';

/**
 * The alerting leader's MQTT: per term, a client on the status topics feeding that term's Monitor and
 * publishing its state topics; closed when the term ends. A standby has none.
 */
function leaderLiveness(
  config: MonitorConfig,
  writer: SampleWriterLike,
  clock: Clock,
  log: Logger,
): { lead(term: number, monitor: Monitor): void; standBy(term: number): void; close(): Promise<void> } {
  const client = externalMqtt(config, clock);
  const terms = new Map<number, MqttSource>();
  const end = async (term: number): Promise<void> => {
    const source = terms.get(term);
    terms.delete(term);
    await source
      ?.stop()
      .catch((err: unknown) =>
        log.warn('mqtt liveness client did not close cleanly', { term, error: errorMessage(err) }),
      );
  };
  return {
    lead: (term, monitor) => {
      const source = new MqttSource({
        ...client,
        log: log.child({ component: 'mqtt', term }),
        writer,
        // A halted (deposed) Monitor takes no more liveness: Monitor.reportLiveness checks it runs.
        onLiveness: (ev) => monitor.reportLiveness(ev),
        topics: 'status',
        clientLabel: 'liveness',
      });
      terms.set(term, source);
      publishMonitorState(monitor, source);
      // The client retries on its own while the broker is away; a refusal (login, ACL) is logged loudly.
      source.start().catch((err: unknown) =>
        log.error('mqtt liveness not subscribed: devices are not judged by their Will', {
          term,
          error: errorMessage(err),
        }),
      );
    },
    standBy: (term) => void end(term),
    close: async () => {
      await Promise.all([...terms.keys()].map(end));
    },
  };
}

/**
 * An inventory with MQTT accounts holds their password hashes: 0600 when it is ours (one written 0644 by an
 * older scripts/generate-inventory.ts is tightened; the incident store and buffer tighten their own files).
 */
export function tightenInventory(
  config: Pick<MonitorConfig, 'inventory' | 'inventoryFile'>,
  log: Logger,
): void {
  if (!config.inventory.devices.some((d) => d.mqtt)) return;
  try {
    tightenFile(config.inventoryFile);
  } catch (err) {
    log.warn('could not make the inventory private (it holds MQTT password hashes)', {
      file: config.inventoryFile,
      error: errorMessage(err),
    });
  }
}

/**
 * A section loadConfig always fills with the schema's defaults (config/monitor.ts): they are not repeated
 * here. A config built by hand without it is a programming error, named as such.
 */
function fromLoader<T>(section: T | undefined, name: string): T {
  if (section === undefined)
    throw new ConfigError('(config)', `${name} is missing: build the config with loadConfig or parseConfig`);
  return section;
}

/** Where the API is reached when no publicBaseUrl is configured: its own listen address. */
function listenUrl(listen: { host: string; port: number }): string {
  return `http://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`;
}
