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
import type { MonitorConfig } from '../config/monitor.ts';
import { Monitor, type CollectionFactory, type MonitorSettings } from './monitor.ts';
import type { ClusterConfig } from '../config/cluster.ts';
import { AlertingNode } from './cluster/alerting-node.ts';
import { RemoteCollection } from './cluster/remote-collection.ts';
import { BusProbeFeed, natsLeaseKv } from './cluster/result-feed.ts';
import { LEADER_BUCKET } from './cluster/leader.ts';
import { PgIncidentStore } from './store/pg-store.ts';
import { mqttHealth } from './collection/mqtt-health.ts';
import { collectionParts, sampleWriter } from './collection/collection-parts.ts';
import type { SampleWriter } from './sinks/writer.ts';
import { WorkerCollection, mergeWriterStats } from './collection/worker-collection.ts';
import type { SampleWriterLike } from './pipeline.ts';
import { resolveWorkers } from './collection/worker-plan.ts';
import { availableParallelism } from 'node:os';
import { isoWitaOrNull } from './core/time-zone.ts';
import { systemClock, type Clock } from './core/clock.ts';
import { ConfigError, errorMessage } from './core/errors.ts';
import type { Logger } from './core/log.ts';
import { tightenFile } from './core/private-fs.ts';
import type { Sample } from './core/types.ts';
import { startHttp, type RunningHttp } from './http/server.ts';
import { buildConsole, type ConsoleAssets } from './http/console.ts';
import { MonitorApi } from './monitor-service.ts';
import { defaultTargets } from './reports/report.ts';
import { feedsRouter } from './feeds/routes.ts';
import { statusRouter } from './http/status-page.ts';
import { readHistory } from './reports/history.ts';
import { StatusPage } from './status/status-page.ts';
import { monitorStatusSource } from './status/source.ts';
import { CapPushNotifier } from './feeds/push.ts';
import { LogNotifier } from './notify/log-notifier.ts';
import type { Notifier } from './notify/notifier.ts';
import { createNotifier } from './notify/create-notifier.ts';
import { serviceActions } from './notify/incident-actions.ts';
import { keepRetention, type RetentionSetup } from './sinks/retention-setup.ts';
import { startSignals, type RunningSignals } from './sources/signals.ts';
import { IncidentStore } from './store/incident-store.ts';
import { MqttSource } from './sources/mqtt/mqtt-source.ts';
import { Accounts, hashPassword, type Account } from '../broker/accounts.ts';
import { startConsoleBackend, type ConsoleBackend } from './http/console-backend.ts';
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
}

export interface RuntimeOptions {
  readonly log: Logger;
  readonly clock?: Clock | undefined;
  /** Extra channels (tests add a recorder; issue #4 adds Telegram, e-mail, MQTT). */
  readonly notifiers?: readonly Notifier[] | undefined;
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
  // snmp.workers > 1: collection in worker threads; the Monitor's writer figures include theirs.
  const workers = workerCollection(config, clock, log, writer, () => mqttMetrics?.() ?? []);
  const monitor = new Monitor(
    {
      clock,
      log,
      inventory: config.inventory,
      poller,
      writer: workers?.writer ?? writer,
      notifiers,
      store,
      extraMetrics: () => mqttMetrics?.() ?? [],
      collection: workers?.factory,
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
  const influx1 = config.influx.api === 'v1' ? config.influx : undefined;
  consoleBackend?.attach({
    monitor,
    inventory: config.inventory,
    influx: influx1 && {
      url: influx1.url,
      database: influx1.database,
      username: influx1.username,
      password: influx1.password,
      timeoutMs: influx1.timeoutMs,
    },
    mqttClients: broker ? () => broker.stats().connected : undefined,
  });
  let http: RunningHttp;
  let statusPage: StatusPage | undefined;
  try {
    const httpLog = log.child({ component: 'http' });
    const publicBase = config.api?.publicBaseUrl ?? listenUrl(config.http.listen);
    const reports =
      config.influx.api === 'v1'
        ? {
            source: {
              url: config.influx.url,
              database: config.influx.database,
              username: config.influx.username,
              password: config.influx.password,
            },
            inventory: config.inventory,
            targets: config.reports?.targets ?? defaultTargets(),
          }
        : undefined;
    const api = new MonitorApi(monitor, store, clock, reports);
    const statusConfig = fromLoader(config.status, 'status');
    if (statusConfig.enabled) {
      // The public page: rebuilt from the monitor's state on a timer and after each transition; the
      // availability figures from InfluxDB in the background (the reports' engine, 1.x API only).
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
      statusPage = page;
      monitor.onTransition(() => page.changed());
      page.start();
    }
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
  return {
    monitor,
    store,
    http,
    broker,
    mqtt,
    statusPage,
    signals,
    stop: async () => {
      stopping.value = true;
      // Inputs first: once polling has stopped, closing the rest is not seen as devices going down.
      await monitor.stopPolling();
      await signals.stop();
      // No presses acted on while the monitor stops.
      await Promise.allSettled(channels.map(async (c) => c.updates?.stop()));
      consoleBackend?.hub?.stop(); // open event streams would hold the server's close
      await http.close();
      await statusPage?.stop();
      await mqtt?.stop();
      await broker?.close();
      retention?.stop();
      await monitor.stop();
      await Promise.allSettled(channels.map((c) => c.close()));
      store.close();
      await consoleBackend?.close();
    },
  };
}

// ---- a cluster member (issue #15, config/cluster.ts) -----------------------------------------------------

/** A cluster member as main.ts runs it: its roles over one NATS connection. */
export interface ClusterRuntime {
  /** The collector role, when the member has it. */
  readonly collector?: CollectorNode | undefined;
  /** The alerting role (a candidate; the leader when elected), when the member has it. */
  readonly alerting?: RunningAlerting | undefined;
  readonly bus: Bus;
  stop(): Promise<void>;
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
  });
  let collector: CollectorNode | undefined;
  let alerting: RunningAlerting | undefined;
  try {
    if (cluster.roles.includes('collector')) {
      const { poller, writer } = collectionParts(config, clock, log);
      collector = new CollectorNode(
        { clock, log, inventory: config.inventory, poller, writer, bus },
        {
          cluster,
          intervalMs: config.snmp.intervalMs,
          concurrency: config.snmp.concurrency,
          selfMetricsMs: Math.min(10_000, config.snmp.intervalMs),
        },
      );
      await collector.start();
    }
    if (cluster.roles.includes('alerting'))
      alerting = await startAlertingRole(config, cluster, bus, { ...opts, clock, log });
  } catch (err) {
    await alerting?.stop().catch(() => undefined);
    await collector?.stop().catch(() => undefined);
    await bus.close();
    throw err;
  }
  return {
    collector,
    alerting,
    bus,
    stop: async () => {
      // Inputs first: no more results from this member, then the alerting role drains its pages.
      await collector?.stop();
      await alerting?.stop();
      await bus.close();
    },
  };
}

// ─── Cluster: the alerting role (issue #15) ─────────────────────────────────────────────────────────
//
//   candidate ─► LeaderElection (KV netmon_leader) ─► elected(term) ─► PgIncidentStore.open(url, term)
//     ─► Monitor (health, incidents, alert pipeline, dispatcher) on RemoteCollection
//        ◄─ probe results: durable consumer `alerting` on NETMON_RESULTS; requestProbe ─► netmon.probe.<id>
//     deposed ─► halt at once (no pull, no page), stop the Monitor, close the store; back to standby
//
// A standby holds no store and no consumer and serves nothing that writes.

export interface RunningAlerting {
  readonly node: AlertingNode<PgIncidentStore, Monitor>;
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
  const node = new AlertingNode<PgIncidentStore, Monitor>({
    clock,
    log,
    lease: natsLeaseKv(() => openBucket(bus.js, LEADER_BUCKET, bus.replicas)),
    settings: { node: cluster.node, leaseMs: cluster.leader.leaseMs, renewMs: cluster.leader.renewMs },
    openStore: (term, fenced) => PgIncidentStore.open(url, { term, log, clock, onDeposed: fenced }),
    buildMonitor: (store, term) =>
      new Monitor(
        {
          clock,
          log: log.child({ term }),
          inventory: config.inventory,
          writer: termWriter,
          notifiers,
          store,
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
  });
  node.start();
  return {
    node,
    stop: async () => {
      await node.stop();
      await Promise.allSettled(channels.map((c) => c.close()));
      await writer.stop();
    },
  };
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
    url,
    username: m.username,
    password: m.password,
    inventory: config.inventory,
    clock,
    log: log.child({ component: 'mqtt' }),
    writer,
    embedded: broker,
    // Once stopping, the broker's own close drops every device: that is no loss of a device.
    onLiveness: (ev) => {
      if (!stopping.value) monitor.reportLiveness(ev);
    },
    rateLimit: m.rateLimit,
    timestampWindow: m.timestampWindow,
  });
  try {
    await mqtt.start();
  } catch (err) {
    await broker?.close();
    throw err;
  }
  // State out: every transition and alert, for the regency's other systems. The site's state is the
  // Monitor's (collector/health/site-state.ts), the one the API and the feeds show.
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
  return { broker, mqtt };
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
