/**
 * MQTT on the whole running monitor, against the embedded aedes broker and against Debian's Mosquitto,
 * with the same tests: authentication and topic rules, malformed payloads counted and dropped while good
 * telemetry from the same client reaches real InfluxDB, and liveness (an abrupt drop pages within
 * keepalive x 1.5 + 2 s; a clean disconnect pages nothing).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../../broker/accounts.ts';
import { deviceTopic } from '../../../broker/topics.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { Secret } from '../../../collector/core/secret.ts';
import type { Device, Inventory } from '../../../collector/core/types.ts';
import type { Notification } from '../../../collector/notify/notification.ts';
import type { Notifier } from '../../../collector/notify/notifier.ts';
import { startRuntime, type Runtime } from '../../../collector/runtime.ts';
import { FleetSimulator } from '../../../simulator/fleet.ts';
import { syntheticInventory } from '../../../simulator/synthetic-inventory.ts';
import { influxQuery, startTestInfluxd, type TestServer } from '../../support/influx.ts';
import { startMosquitto, type Mosquitto } from '../../support/mosquitto.ts';
import { testMonitorConfig } from '../../support/monitor-config.ts';
import { freeUdpPort, waitFor } from '../../support/ports.ts';

const KEEPALIVE_S = 2;
const COLLECTOR = { user: 'netmon-collector', password: 'collector-secret' };
const passwordOf = (id: string): string => `pw-${id}`;

class Pager implements Notifier {
  readonly name = 'pager';
  readonly sent: Notification[] = [];
  send(n: Notification): Promise<void> {
    this.sent.push(n);
    return Promise.resolve();
  }
}

describe.each(['embedded', 'mosquitto'] as const)('MQTT through the %s broker', (kind) => {
  let influx: TestServer;
  let sim: FleetSimulator;
  let mosq: Mosquitto | undefined;
  let runtime: Runtime;
  let dir: string;
  let url: string;
  let gateway: Device; // a router that also publishes telemetry
  let sensor: Device; // an MQTT-only device
  const pager = new Pager();
  const log = memoryLogger('info');
  const clients: MqttClient[] = [];
  const db = `mqtt_${kind}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netmon-mqtt-'));
    influx = await startTestInfluxd();
    const base = syntheticInventory({
      sites: 2,
      port: await freeUdpPort(),
      seed: 9,
      hostOctet: 170 + (kind === 'embedded' ? 0 : 10) + Math.floor(Math.random() * 10),
    });
    sim = new FleetSimulator({ inventory: base, seed: 9 });
    await sim.start();
    const routers = base.devices.filter((d) => d.role === 'router');
    const identity = (id: string) => ({
      username: id,
      passwordHash: hashPassword(passwordOf(id), { N: 1024 }),
      keepaliveS: KEEPALIVE_S,
    });
    gateway = { ...routers[0]!, mqtt: identity(routers[0]!.id) };
    const site2 = routers[1]!;
    sensor = {
      id: `${site2.siteId}-env`,
      siteId: site2.siteId,
      role: 'sensor',
      host: '',
      port: 0,
      profile: 'generic',
      parent: site2.id,
      mqtt: identity(`${site2.siteId}-env`),
    };
    const inventory: Inventory = {
      sites: base.sites,
      devices: [...base.devices.map((d) => (d.id === gateway.id ? gateway : d)), sensor],
    };
    if (kind === 'mosquitto') {
      mosq = await startMosquitto(
        {
          [COLLECTOR.user]: COLLECTOR.password,
          [gateway.id]: passwordOf(gateway.id),
          [sensor.id]: passwordOf(sensor.id),
        },
        COLLECTOR.user,
      );
    }
    const testConfig = await testMonitorConfig({
      inventory,
      influxUrl: influx.url,
      database: db,
      dir,
      mqtt: {
        broker: mosq
          ? { kind: 'external', url: mosq.url }
          : { kind: 'embedded', host: '127.0.0.1', port: 0, allowAnonymous: false },
        username: COLLECTOR.user,
        password: new Secret(COLLECTOR.password),
        graceMs: 1000,
      },
    });
    // Recoveries settle (as in production, alerts.flapping.settle): the site state says recovering meanwhile.
    const config = {
      ...testConfig,
      alerts: { ...testConfig.alerts, flapping: { settleMs: 60_000, flapThreshold: 2 } },
    };
    runtime = await startRuntime(config, { log, notifiers: [pager] });
    url = mosq?.url ?? runtime.broker?.url ?? '';
    await waitFor(() => runtime.monitor.health.get(gateway.id)?.state === 'up', { timeoutMs: 15_000 });
  });

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await runtime?.stop();
    await mosq?.stop();
    await sim?.stop();
    await influx?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** What the monitor knew of these devices, for a failure message. */
  const diagnose = (...ids: string[]): string =>
    JSON.stringify({
      health: ids.map((id) => ({ id, ...runtime.monitor.health.get(id) })),
      log: log.records
        .filter((r) => ids.some((id) => JSON.stringify(r).includes(id)))
        .slice(-30)
        .map((r) => JSON.stringify(r)),
      sent: pager.sent.map((n) => `${n.status} ${n.device?.id ?? n.area?.kecamatan ?? ''}`),
    });

  async function deviceClient(d: Device, opts: { password?: string } = {}): Promise<MqttClient> {
    const status = deviceTopic(d.siteId, d.id, 'status');
    const c = await mqtt.connectAsync(url, {
      username: d.mqtt?.username,
      password: opts.password ?? passwordOf(d.id),
      keepalive: KEEPALIVE_S,
      reconnectPeriod: 0,
      clientId: `${d.id}-${Math.random().toString(16).slice(2, 6)}`,
      will: {
        topic: status,
        payload: Buffer.from('{"state":"offline","clean":false}'),
        qos: 1,
        retain: true,
      },
    });
    clients.push(c);
    await c.publishAsync(status, '{"state":"online"}', { qos: 1, retain: true });
    return c;
  }

  const telemetryCount = async (deviceId: string): Promise<number> =>
    Number(
      (
        await influxQuery(influx.url, db, `SELECT count(cpu_pct) FROM telemetry WHERE device = '${deviceId}'`)
      )[0]?.values[0]?.[1] ?? 0,
    );

  it('refuses wrong credentials, anonymous clients, and topics outside a device its own', async () => {
    await expect(
      mqtt.connectAsync(url, { username: gateway.id, password: 'wrong', reconnectPeriod: 0 }),
    ).rejects.toThrow(/Bad username or password|Not authorized/);
    await expect(mqtt.connectAsync(url, { reconnectPeriod: 0 })).rejects.toThrow(
      /Not authorized|Bad username or password/,
    );

    const dev = await deviceClient(gateway);
    // Devices may not read: the embedded broker refuses the subscription (0x80); Mosquitto grants it but
    // its ACL delivers nothing. Either way nothing arrives.
    const delivered: string[] = [];
    dev.on('message', (t) => delivered.push(t));
    const sub = await dev.subscribeAsync('netmon/v1/#', { qos: 1 }).then(
      (g) => `granted ${g[0]?.qos ?? '?'}`,
      (err: Error) => err.message,
    );
    if (kind === 'embedded') expect(sub).toMatch(/Subscribe error/);
    // Pretending to be the sensor: dropped. Then a marker of its own, which arrives.
    await dev.publishAsync(
      deviceTopic(sensor.siteId, sensor.id, 'telemetry'),
      JSON.stringify({ cpu_pct: 99 }),
      { qos: 1 },
    );
    await dev.publishAsync(
      deviceTopic(gateway.siteId, gateway.id, 'telemetry'),
      JSON.stringify({ cpu_pct: 1 }),
      { qos: 1 },
    );
    await waitFor(async () => (await telemetryCount(gateway.id)) === 1, { timeoutMs: 10_000 });
    expect(await telemetryCount(sensor.id)).toBe(0);
    expect(delivered).toEqual([]);
    if (runtime.broker) expect(runtime.broker.stats().deniedPublishes).toBeGreaterThanOrEqual(1);
    dev.end();
  });

  it('counts and drops malformed payloads while good telemetry from the same client reaches InfluxDB', async () => {
    const before = await telemetryCount(gateway.id);
    const dev = await deviceClient(gateway);
    const topic = deviceTopic(gateway.siteId, gateway.id, 'telemetry');
    const bad = [
      '{not json',
      JSON.stringify({ cpu_pct: 'high' }),
      JSON.stringify({ cpu_pct: 5, pad: 'x'.repeat(10_000) }),
      JSON.stringify({ cpu_pct: 500 }),
    ];
    let good = 0;
    const t0 = Date.now();
    for (const b of bad) {
      await dev.publishAsync(topic, b, { qos: 1 });
      await dev.publishAsync(
        topic,
        // A real agent stamps its telemetry (points of one series at the same ms would overwrite each other).
        JSON.stringify({
          ts: t0 + good,
          cpu_pct: 10 + good,
          mem_pct: 40,
          clients: 7,
          rx_bps: 1e6,
          tx_bps: 2e5,
          uptime_s: 3600,
        }),
        { qos: 1 },
      );
      good++;
    }
    await dev.publishAsync(`netmon/v1/${gateway.siteId}/${gateway.id}/firmware`, 'x', { qos: 1 }); // unknown topic
    await waitFor(async () => (await telemetryCount(gateway.id)) === before + good, { timeoutMs: 10_000 });
    expect(runtime.mqtt?.stats().invalid.bad_payload).toBe(bad.length);
    const row = await influxQuery(
      influx.url,
      db,
      `SELECT last(cpu_pct), last(clients) FROM telemetry WHERE device = '${gateway.id}'`,
    );
    expect(row[0]?.values[0]?.slice(1)).toEqual([10 + good - 1, 7]);
    expect(dev.connected).toBe(true);
    dev.end();
  });

  it('a clean disconnect is not an outage; an abrupt drop pages within keepalive x 1.5 + 2 s', async () => {
    const bound = (KEEPALIVE_S * 1.5 + 2) * 1000;
    // Clean: the sensor says goodbye.
    const s1 = await deviceClient(sensor);
    await waitFor(() => runtime.monitor.health.get(sensor.id)?.state === 'up', { timeoutMs: 5000 });
    await s1.publishAsync(
      deviceTopic(sensor.siteId, sensor.id, 'status'),
      '{"state":"offline","clean":true}',
      { qos: 1, retain: true },
    );
    await s1.endAsync();
    const quietUntil = Date.now() + bound;
    await waitFor(() => Date.now() > quietUntil, { timeoutMs: bound + 1000 });
    expect(pager.sent.filter((n) => n.device?.id === sensor.id)).toEqual([]);
    expect(runtime.monitor.health.get(sensor.id)?.state).toBe('up');

    // Abrupt: the MQTT-only sensor vanishes (socket dropped): down after the grace, one page.
    const s2 = await deviceClient(sensor);
    let t0 = Date.now();
    s2.stream.destroy();
    await waitFor(() => pager.sent.some((n) => n.device?.id === sensor.id && n.status === 'firing'), {
      timeoutMs: bound + 2000,
      what: () => `the sensor's page: ${diagnose(sensor.id, sensor.parent ?? '')}`,
    });
    expect(Date.now() - t0).toBeLessThan(bound);

    // Abrupt: the gateway loses power (socket dropped, SNMP silent too): one SNMP probe confirms, one page.
    const g = await deviceClient(gateway);
    await waitFor(() => runtime.monitor.health.get(gateway.id)?.state === 'up', { timeoutMs: 5000 });
    sim.cutDevice(gateway.id);
    t0 = Date.now();
    g.stream.destroy();
    await waitFor(() => pager.sent.some((n) => n.device?.id === gateway.id && n.status === 'firing'), {
      timeoutMs: bound + 2000,
      what: () => `the gateway's page: ${diagnose(gateway.id)}`,
    });
    expect(Date.now() - t0).toBeLessThan(bound);
    expect(
      pager.sent
        .filter((n) => n.status === 'firing')
        .map((n) => n.device?.id)
        .sort(),
    ).toEqual([gateway.id, sensor.id].sort());

    // State out: other systems read the current state, retained, from the broker.
    const reader = await mqtt.connectAsync(url, {
      username: COLLECTOR.user,
      password: COLLECTOR.password,
      reconnectPeriod: 0,
    });
    clients.push(reader);
    const retained = new Map<string, { state: string; recoveryConfirmAt?: string | null }>();
    reader.on('message', (t, p) => retained.set(t, JSON.parse(p.toString()) as { state: string }));
    await reader.subscribeAsync(
      [`netmon/v1/state/device/${gateway.id}`, `netmon/v1/state/site/${gateway.siteId}`],
      { qos: 1 },
    );
    await waitFor(() => retained.size === 2, { timeoutMs: 5000 });
    expect(retained.get(`netmon/v1/state/device/${gateway.id}`)?.state).toBe('down');
    expect(retained.get(`netmon/v1/state/site/${gateway.siteId}`)?.state).toBe('down');
    sim.restoreDevice(gateway.id);
    // Back, while its recovery settles (alerts.flapping.settle): the site says recovering, and until when,
    // as the API does (collector/health/site-state.ts decides both).
    const siteTopic = `netmon/v1/state/site/${gateway.siteId}`;
    await waitFor(() => retained.get(siteTopic)?.state === 'recovering', {
      timeoutMs: 15_000,
      what: () => `site state recovering; have ${JSON.stringify(retained.get(siteTopic))}`,
    });
    expect(retained.get(siteTopic)?.recoveryConfirmAt).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00$/,
    );
    expect(retained.get(siteTopic)?.state).toBe(runtime.monitor.siteState(gateway.siteId)?.state);
  });
});
