/**
 * Issue #15, MQTT in a cluster, against real servers: Debian's Mosquitto 2 (the external broker every
 * member and device uses), a NATS JetStream node, PostgreSQL, InfluxDB, the fleet simulator (the sites'
 * routers and APs over SNMP) and a webhook receiver.
 *
 *   two collector members (in this process: startClusterRuntime, what main.ts runs with `cluster:`), each
 *   reading telemetry through the shared subscription $share/netmon/...; two alerting candidates as their
 *   own processes (collector/main.ts), so the leader can be killed with SIGKILL.
 *
 * 1. N MQTT sensors publish telemetry: every message is handled by exactly one collector (the two counts
 *    add up to what was sent, both take a share) and lands once in InfluxDB; no collector judges liveness.
 * 2. A sensor's socket dropped abruptly: Mosquitto publishes its Will (retained), the leader pages once.
 * 3. kill -9 of the leader: the standby leads, learns every device's state from the retained status
 *    messages (the dropped sensor judged down again, not paged again), and a sensor dropped after the
 *    failover pages once.
 *
 * The test watches what an operator can: the leader's retained state topics netmon/v1/state/device/<id>,
 * the lease in KV `netmon_leader`, the pages the receiver got, and the incidents in PostgreSQL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { hashPassword } from '../../../broker/accounts.ts';
import { deviceTopic } from '../../../broker/topics.ts';
import { startClusterRuntime, type ClusterRuntime } from '../../../collector/app.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { Device, Inventory } from '../../../collector/core/types.ts';
import type { Notification } from '../../../collector/notify/notification.ts';
import { loadConfig } from '../../../config/monitor.ts';
import { startNatsCluster } from '../../../scripts/lib/servers/nats-server.ts';
import { startPostgres } from '../../../scripts/lib/servers/postgres.ts';
import { FleetSimulator } from '../../../simulator/fleet.ts';
import { syntheticInventory } from '../../../simulator/synthetic-inventory.ts';
import { endProcess } from '../../support/alerting-candidates.ts';
import { influxQuery, influxRows, startTestInfluxd, type TestServer } from '../../support/influx.ts';
import { startMosquitto, type Mosquitto } from '../../support/mosquitto.ts';
import { freeTcpPort, freeUdpPort, waitFor } from '../../support/ports.ts';
import { freshDatabase, sqlRows } from '../../support/postgres-db.ts';
import { startWebhookPeer, type WebhookPeer } from '../../support/webhook-peer.ts';

const LEASE_MS = 3000;
const RENEW_MS = 500;
const GRACE_MS = 2000;
const SITES = 4;
const SENSORS_PER_SITE = 2;
const MESSAGES_PER_SENSOR = 25;
const COLLECTOR = { user: 'netmon-collector', password: 'collector-secret' };
const DB = 'mqttcluster';
const pw = (id: string): string => `pw-${id}`;

let dir: string;
let nats: Awaited<ReturnType<typeof startNatsCluster>>;
let postgres: Awaited<ReturnType<typeof startPostgres>>;
let pgUrl: string;
let influx: TestServer;
let mosq: Mosquitto;
let sim: FleetSimulator;
let hook: WebhookPeer;
let nc: NatsConnection;
let watcher: MqttClient;
const collectors: ClusterRuntime[] = [];
const children = new Map<string, ChildProcess>();
const devices = new Map<string, MqttClient>();
/** Every state message the leader published (retained ones read at subscribe included), as it arrived. */
const states: { device: string; state: string; at: number }[] = [];

const base = syntheticInventory({
  sites: SITES,
  port: 0,
  seed: 16,
  hostOctet: 220 + Math.floor(Math.random() * 20),
});
const sensors: Device[] = base.sites.flatMap((s) =>
  Array.from({ length: SENSORS_PER_SITE }, (_, i): Device => {
    const id = `${s.id}-env${i + 1}`;
    return {
      id,
      siteId: s.id,
      role: 'sensor',
      host: '',
      port: 0,
      profile: 'generic',
      parent: `${s.id}-gw`,
      mqtt: { username: id, passwordHash: hashPassword(pw(id), { N: 1024 }), keepaliveS: 2 },
    };
  }),
);

/** The inventory file every member reads: the synthetic sites (SNMP at the simulator) and the sensors. */
function writeInventory(inv: Inventory, port: number): void {
  writeFileSync(
    join(dir, 'inventory.yaml'),
    stringify({
      credentials: { c: { version: '2c', community: 'public' } },
      defaults: { credentials: 'c', port },
      sites: inv.sites.map((s) => ({
        ...s,
        upstream: undefined,
        devices: [
          ...inv.devices
            .filter((d) => d.siteId === s.id)
            .map((d) => ({ id: d.id, role: d.role, host: d.host, profile: d.profile })),
          ...sensors
            .filter((d) => d.siteId === s.id)
            .map((d) => ({
              id: d.id,
              role: 'sensor',
              mqtt: { username: d.id, passwordHash: d.mqtt?.passwordHash, keepalive: '2s' },
            })),
        ],
      })),
    }),
  );
}

/** Each alerting candidate serves HTTP on a port of its own (the leader the API, a standby 503s). */
const httpPorts = new Map<string, number>();

function writeConfig(node: string, roles: string[]): string {
  const httpPort = httpPorts.get(node);
  const file = join(dir, `${node}.yaml`);
  writeFileSync(
    file,
    stringify({
      inventory: 'inventory.yaml',
      influx: { api: 'v1', url: influx.url, database: DB },
      writer: { flushInterval: '200ms', bufferDir: `buffer-${node}` },
      snmp: { interval: '2s', jitter: '0ms', timeout: '300ms', retries: 0 },
      health: { downAfterFailures: 2, recheck: '300ms' },
      incidents: { file: `incidents-${node}.db` },
      alerts: {
        webhooks: [{ name: 'oncall', url: hook.url }],
        flapping: { settle: '1s' },
        area: { groupWait: '2s' },
      },
      log: { level: 'info' },
      ...(httpPort === undefined ? {} : { http: { host: '127.0.0.1', port: httpPort } }),
      mqtt: {
        broker: 'external',
        url: mosq.url,
        username: COLLECTOR.user,
        password: COLLECTOR.password,
        grace: `${GRACE_MS}ms`,
        rateLimit: { perSecond: 100, burst: 100 },
      },
      cluster: {
        node,
        roles,
        nats: { servers: nats.urls },
        ...(roles.includes('alerting') ? { postgres: { url: pgUrl } } : {}),
        membership: { heartbeat: '500ms', timeout: '2s' },
        leader: { lease: `${LEASE_MS}ms`, renew: `${RENEW_MS}ms` },
      },
    }),
  );
  return file;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-mqtt-cluster-'));
  // PostgreSQL runs as the `postgres` user when the tests run as root: it must reach its data under here.
  chmodSync(dir, 0o755);
  for (const node of ['alert-a', 'alert-b']) httpPorts.set(node, await freeTcpPort());
  const users: Record<string, string> = { [COLLECTOR.user]: COLLECTOR.password };
  for (const s of sensors) users[s.id] = pw(s.id);
  [nats, postgres, influx, mosq] = await Promise.all([
    startNatsCluster({ nodes: 1, dir: join(dir, 'nats') }),
    startPostgres({ dir: join(dir, 'pg') }),
    startTestInfluxd(),
    startMosquitto(users, COLLECTOR.user),
  ]);
  pgUrl = await freshDatabase(postgres.url, 'mqttcluster');
  const port = await freeUdpPort();
  const inv = { sites: base.sites, devices: base.devices.map((d) => ({ ...d, port })) };
  sim = new FleetSimulator({ inventory: inv, seed: 16 });
  await sim.start();
  hook = await startWebhookPeer();
  nc = await connect({ servers: [...nats.urls], maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  writeInventory(inv, port);
  watcher = await mqtt.connectAsync(mosq.url, { username: COLLECTOR.user, password: COLLECTOR.password });
  watcher.on('message', (topic, payload) => {
    const m = JSON.parse(payload.toString()) as { device: string; state: string };
    states.push({ device: m.device, state: m.state, at: Date.now() });
  });
  await watcher.subscribeAsync('netmon/v1/state/device/+', { qos: 1 });
});

afterAll(async () => {
  for (const child of children.values())
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const c of devices.values()) c.end(true);
  await watcher?.endAsync();
  for (const c of collectors) await c.stop().catch(() => undefined);
  await nc?.close();
  await sim?.stop();
  await hook?.stop();
  await mosq?.stop();
  await nats?.stop();
  await postgres?.stop();
  await influx?.dispose();
  if (dir && !process.env.NETMON_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
  else if (dir) process.stdout.write(`kept ${dir}\n`);
});

/** A sensor on the broker: its Will is the retained offline status; it says it is online, retained. */
async function connectSensor(d: Device): Promise<MqttClient> {
  const status = deviceTopic(d.siteId, d.id, 'status');
  const c = await mqtt.connectAsync(mosq.url, {
    username: d.id,
    password: pw(d.id),
    keepalive: 2,
    reconnectPeriod: 0,
    clientId: d.id,
    will: { topic: status, payload: Buffer.from('{"state":"offline","clean":false}'), qos: 1, retain: true },
  });
  c.on('error', () => undefined);
  devices.set(d.id, c);
  await c.publishAsync(status, '{"state":"online"}', { qos: 1, retain: true });
  return c;
}

/** The socket dropped with no DISCONNECT: the broker publishes the Will. */
function dropSensor(d: Device): void {
  devices.get(d.id)?.stream.destroy();
}

/** An alerting candidate as its own process: collector/main.ts on its cluster config. */
function startNode(node: string): ChildProcess {
  const file = writeConfig(node, ['alerting']);
  const log = openSync(join(dir, `${node}.log`), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', 'collector/main.ts', '--config', file], {
    stdio: ['ignore', log, 'inherit'],
  });
  closeSync(log);
  children.set(node, child);
  return child;
}

const logOf = (node: string): string => readFileSync(join(dir, `${node}.log`), 'utf8');

const kill9 = (node: string): Promise<void> => endProcess(children.get(node), 'SIGKILL');
const stopNode = (node: string): Promise<void> => endProcess(children.get(node), 'SIGTERM');

async function lease(): Promise<{ holder: string; term: number } | undefined> {
  const kv = await nc.jetstream().views.kv('netmon_leader');
  const e = await kv.get('alerting');
  if (!e || e.operation !== 'PUT') return undefined;
  return JSON.parse(e.string()) as { holder: string; term: number };
}

/**
 * Wait until the leader has pulled `rounds` more polls of every SNMP device than the results stream held
 * now: time measured in the cluster's own work (each round is one 2 s poll interval), not a sleep.
 */
async function pulledRounds(rounds: number, what: string): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const last = (await jsm.streams.info('NETMON_RESULTS')).state.last_seq;
  const target = last + rounds * base.devices.length;
  await waitFor(
    async () => (await jsm.consumers.info('NETMON_RESULTS', 'alerting')).delivered.stream_seq >= target,
    {
      timeoutMs: 30_000,
      what,
    },
  );
}

/** The last state the leader published for `device` at or after `since`. */
const stateOf = (device: string, since = 0): string | undefined =>
  states.filter((s) => s.device === device && s.at >= since).at(-1)?.state;

const pagesFor = (device: string): Notification[] => hook.received.filter((p) => p.device?.id === device);

async function telemetryRows(): Promise<number> {
  const rows = await influxRows(influx.url, DB, 'SELECT count(cpu_pct) AS n FROM telemetry');
  return Number(rows[0]?.n ?? 0);
}

describe('MQTT in a cluster (Mosquitto, NATS, PostgreSQL, processes)', () => {
  it('telemetry through the shared subscription: every message handled by exactly one collector, once in InfluxDB', async () => {
    for (const node of ['col-1', 'col-2']) {
      const config = await loadConfig(writeConfig(node, ['collector']));
      collectors.push(await startClusterRuntime(config, { log: memoryLogger('warn') }));
    }
    for (const s of sensors) await connectSensor(s);
    const t0 = Date.now() - 60_000;
    let sent = 0;
    for (let i = 0; i < MESSAGES_PER_SENSOR; i++)
      for (const s of sensors) {
        // A distinct ts per message: InfluxDB would merge two points of one series at one time.
        const ts = t0 + i * 1000 + sensors.indexOf(s);
        await devices
          .get(s.id)
          ?.publishAsync(deviceTopic(s.siteId, s.id, 'telemetry'), JSON.stringify({ ts, cpu_pct: 10 }), {
            qos: 1,
          });
        sent++;
      }
    const counts = () => collectors.map((c) => c.telemetry?.stats().telemetry ?? 0);
    const sum = () => counts().reduce((a, b) => a + b, 0);
    await waitFor(() => sum() >= sent, { timeoutMs: 20_000, what: () => `${sent} messages, have ${sum()}` });
    // Every point written: by then a message given to both collectors would have been counted twice.
    await waitFor(async () => (await telemetryRows()) >= sent, {
      timeoutMs: 20_000,
      what: `${sent} telemetry points in InfluxDB`,
    });
    process.stdout.write(`telemetry: sent ${sent}, handled per collector ${counts().join(' + ')}\n`);
    expect(sum()).toBe(sent);
    expect(await telemetryRows()).toBe(sent);
    // Both members take a share (Mosquitto hands a shared subscription's messages round robin).
    for (const n of counts()) expect(n).toBeGreaterThan(0);
    // Each member's own health point (monitor, component mqtt, tag node) counts what it took.
    const written = async (): Promise<Record<string, number>> => {
      const series = await influxQuery(
        influx.url,
        DB,
        "SELECT sum(mqtt_received) AS n FROM monitor WHERE component = 'mqtt' GROUP BY node",
      );
      return Object.fromEntries(series.map((x) => [x.tags?.node ?? '', Number(x.values[0]?.[1] ?? 0)]));
    };
    await waitFor(
      async () =>
        JSON.stringify(await written()) === JSON.stringify({ 'col-1': counts()[0], 'col-2': counts()[1] }),
      {
        timeoutMs: 20_000,
        what: () => `mqtt health points per node matching ${counts().join(', ')}`,
      },
    );
    for (const c of collectors) {
      const st = c.telemetry?.stats();
      expect(st?.status).toBe(0); // the status topics are the leader's: no liveness judged here
      expect(st?.invalid).toEqual({});
    }
  });

  it('a sensor whose socket drops: its Will reaches the leader alone, one page', async () => {
    startNode('alert-a');
    await waitFor(async () => (await lease().catch(() => undefined))?.holder === 'alert-a', {
      timeoutMs: 60_000,
      what: 'alert-a leading',
    });
    startNode('alert-b');
    await waitFor(() => logOf('alert-b').includes('"msg":"alerting candidate"'), {
      timeoutMs: 60_000,
      what: 'alert-b in the election',
    });
    // The leader learned every sensor from its retained online status.
    await waitFor(() => sensors.every((s) => stateOf(s.id) === 'up'), {
      timeoutMs: 30_000,
      what: () => `every sensor up (${sensors.map((s) => `${s.id}=${stateOf(s.id)}`).join(', ')})`,
    });
    expect(logOf('alert-b')).not.toContain('mqtt source subscribed'); // a standby reads nothing
    expect(hook.received).toEqual([]);

    const [first] = sensors;
    if (!first) throw new Error('no sensor');
    const droppedAt = Date.now();
    dropSensor(first);
    await waitFor(() => pagesFor(first.id).some((p) => p.status === 'firing'), {
      timeoutMs: GRACE_MS + 15_000,
      what: `a page for ${first.id}`,
    });
    process.stdout.write(`will: ${first.id} paged ${Date.now() - droppedAt} ms after its socket dropped\n`);
    await waitFor(() => stateOf(first.id, droppedAt) === 'down', { timeoutMs: 10_000 });
    // Two more rounds of every device pulled by the leader (each longer than the grace): still one page.
    await pulledRounds(2, 'two rounds pulled after the page');
    expect(pagesFor(first.id).map((p) => p.status)).toEqual(['firing']);
    expect(hook.received).toHaveLength(1);
  });

  it('kill -9 of the leader: the standby judges from the retained state, no page twice; a later drop pages once', async () => {
    const [first, second] = sensors;
    if (!first || !second) throw new Error('no sensors');
    const before = await lease();
    expect(before?.holder).toBe('alert-a');
    const killedAt = Date.now();
    await kill9('alert-a');
    const next = await waitFor(
      async () => {
        const l = await lease().catch(() => undefined);
        return l?.holder === 'alert-b' ? l : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 20, what: 'alert-b leading' },
    );
    expect(next.term).toBe((before?.term ?? 0) + 1);
    // The new term's Monitor starts with every device unknown: it learns each sensor from its retained
    // status and publishes it again, the dropped one down (its Will), the others up.
    await waitFor(
      () =>
        stateOf(first.id, killedAt) === 'down' &&
        sensors.slice(1).every((s) => stateOf(s.id, killedAt) === 'up'),
      {
        timeoutMs: 30_000,
        what: () =>
          `the retained state judged by alert-b (${sensors.map((s) => `${s.id}=${stateOf(s.id, killedAt)}`).join(', ')})`,
      },
    );
    process.stdout.write(
      `failover: alert-b judged the retained state ${Date.now() - killedAt} ms after kill -9\n`,
    );
    expect(pagesFor(first.id).map((p) => p.status)).toEqual(['firing']);

    const droppedAt = Date.now();
    dropSensor(second);
    await waitFor(() => pagesFor(second.id).some((p) => p.status === 'firing'), {
      timeoutMs: GRACE_MS + 15_000,
      what: `a page for ${second.id} from alert-b`,
    });
    process.stdout.write(
      `will after failover: ${second.id} paged ${Date.now() - droppedAt} ms after the drop\n`,
    );
    await pulledRounds(2, 'two rounds pulled by alert-b after the page');
    expect(pagesFor(second.id).map((p) => p.status)).toEqual(['firing']);
    expect(pagesFor(first.id).map((p) => p.status)).toEqual(['firing']);
    expect(hook.received).toHaveLength(2);
    const open = await sqlRows(
      pgUrl,
      "SELECT device_id FROM incidents WHERE status != 'resolved' ORDER BY device_id",
    );
    expect(open.map((r) => r.device_id)).toEqual([first.id, second.id].sort());

    await stopNode('alert-b');
  });
});
