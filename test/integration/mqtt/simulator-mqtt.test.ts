/**
 * The simulator's MQTT devices against the running monitor (embedded broker, real InfluxDB): their
 * telemetry arrives, a device dropped through the control API pages, one disconnected cleanly does not.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../collector/core/log.ts';
import { Secret } from '../../../collector/core/secret.ts';
import type { Device } from '../../../collector/core/types.ts';
import type { Notification } from '../../../collector/notify/notification.ts';
import { startRuntime, type Runtime } from '../../../collector/runtime.ts';
import { demoPasswordHash, mqttPasswordFor } from '../../../config/badung/mqtt-identity.ts';
import { ControlServer } from '../../../simulator/control-http.ts';
import { FleetSimulator } from '../../../simulator/fleet.ts';
import { MqttFleet } from '../../../simulator/mqtt/mqtt-fleet.ts';
import { syntheticInventory } from '../../../simulator/synthetic-inventory.ts';
import { influxQuery, startTestInfluxd, type TestServer } from '../../support/influx.ts';
import { testMonitorConfig } from '../../support/monitor-config.ts';
import { freeUdpPort, waitFor } from '../../support/ports.ts';

let influx: TestServer;
let sim: FleetSimulator;
let fleet: MqttFleet;
let control: ControlServer;
let runtime: Runtime;
let dir: string;
let gateway: Device;
let sensor: Device;
/** A router without an MQTT account. */
let plain: Device;
const pages: Notification[] = [];
const log = memoryLogger('info');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-simmqtt-'));
  influx = await startTestInfluxd();
  const base = syntheticInventory({
    sites: 2,
    port: await freeUdpPort(),
    seed: 5,
    hostOctet: 200 + Math.floor(Math.random() * 20),
  });
  const routers = base.devices.filter((d) => d.role === 'router');
  const identity = (id: string) => ({ username: id, passwordHash: demoPasswordHash(id), keepaliveS: 2 });
  gateway = { ...routers[0]!, mqtt: identity(routers[0]!.id) };
  plain = routers[1]!;
  sensor = {
    id: `${routers[1]!.siteId}-env`,
    siteId: routers[1]!.siteId,
    role: 'sensor',
    host: '',
    port: 0,
    profile: 'generic',
    mqtt: identity(`${routers[1]!.siteId}-env`),
  };
  const inventory = {
    sites: base.sites,
    devices: [...base.devices.map((d) => (d.id === gateway.id ? gateway : d)), sensor],
  };
  sim = new FleetSimulator({ inventory, seed: 5 });
  await sim.start();
  runtime = await startRuntime(
    await testMonitorConfig({
      inventory,
      influxUrl: influx.url,
      database: 'simmqtt',
      dir,
      mqtt: {
        broker: { kind: 'embedded', host: '127.0.0.1', port: 0, allowAnonymous: false },
        username: 'netmon-collector',
        password: new Secret('collector-secret'),
        graceMs: 1000,
      },
    }),
    {
      log,
      notifiers: [{ name: 'pager', send: (n) => (pages.push(n), Promise.resolve()) }],
    },
  );
  fleet = new MqttFleet({
    url: runtime.broker?.url ?? '',
    inventory,
    sim,
    passwordFor: (id) => mqttPasswordFor(id),
    intervalMs: 300,
    log: memoryLogger('warn'),
  });
  control = new ControlServer(sim, { host: '127.0.0.1', port: 0, mqtt: fleet });
  await control.start();
  fleet.start();
});

/** What the monitor knew of these devices, for a failure message. */
const diagnose = (...ids: string[]): string =>
  JSON.stringify({
    health: ids.map((id) => ({ id, ...runtime.monitor.health.get(id) })),
    log: log.records
      .filter((r) => ids.some((id) => JSON.stringify(r).includes(id)))
      .slice(-30)
      .map((r) => JSON.stringify(r)),
    sent: pages.map((n) => `${n.status} ${n.device?.id ?? ''}`),
  });

afterAll(async () => {
  await fleet?.stop();
  await control?.stop();
  await runtime?.stop();
  await sim?.stop();
  await influx?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const post = async (path: string): Promise<number> =>
  (await fetch(`${control.url}${path}`, { method: 'POST' })).status;

describe('simulated MQTT devices', () => {
  it('publish telemetry that reaches InfluxDB: router values from the simulation, sensor readings', async () => {
    await waitFor(
      async () =>
        (await influxQuery(influx.url, 'simmqtt', 'SELECT count(*) FROM telemetry GROUP BY device'))
          .length === 2,
      { timeoutMs: 15_000 },
    );
    const row = await influxQuery(
      influx.url,
      'simmqtt',
      `SELECT last(uptime_s), last(rx_bps) FROM telemetry WHERE device = '${gateway.id}'`,
    );
    expect(Number(row[0]?.values[0]?.[1])).toBeGreaterThan(0);
    const t = await influxQuery(
      influx.url,
      'simmqtt',
      `SELECT last(temperature_c) FROM telemetry WHERE device = '${sensor.id}'`,
    );
    expect(Number(t[0]?.values[0]?.[1])).toBeGreaterThan(15);
  });

  it('a clean disconnect pages nothing; a drop through the control API pages once', async () => {
    await waitFor(() => runtime.monitor.health.get(sensor.id)?.state === 'up', { timeoutMs: 10_000 });
    expect(await post(`/devices/${sensor.id}/mqtt-disconnect`)).toBe(200);
    // The monitor has the goodbye, and no device waits out a grace: nothing is left that could page.
    await waitFor(() => runtime.monitor.mqttLiveness(sensor.id).connection?.state === 'closed', {
      timeoutMs: 5000,
      what: () => `the clean disconnect recorded: ${diagnose(sensor.id)}`,
    });
    expect(runtime.monitor.mqttLiveness(sensor.id).pendingWakes).toBe(0);
    expect(pages).toEqual([]);
    expect(await post(`/devices/${sensor.id}/mqtt-restore`)).toBe(200);
    await waitFor(() => fleet.status().connected === 2, { timeoutMs: 10_000 });
    expect(await post(`/devices/${sensor.id}/cut`)).toBe(200); // an MQTT-only device: its connection drops
    await waitFor(() => pages.some((p) => p.device?.id === sensor.id && p.status === 'firing'), {
      timeoutMs: 5000,
      what: () => `the sensor's page: ${diagnose(sensor.id, sensor.parent ?? '')}`,
    });
    expect(await post(`/devices/${sensor.id}/restore`)).toBe(200);
    await waitFor(() => pages.some((p) => p.device?.id === sensor.id && p.status === 'resolved'), {
      timeoutMs: 10_000,
    });
    expect(pages.map((p) => [p.device?.id, p.status])).toEqual([
      [sensor.id, 'firing'],
      [sensor.id, 'resolved'],
    ]);
    expect(await post(`/devices/${gateway.id}/mqtt-nothing`)).toBe(404);
  });

  it('the control API knows the MQTT-only sensor as it knows every device, and counts as the monitor does', async () => {
    const get = async (path: string) => {
      const res = await fetch(`${control.url}${path}`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    await waitFor(() => fleet.status().connected === 2, { timeoutMs: 10_000 });
    const dev = await get(`/devices/${sensor.id}`);
    expect(dev.status).toBe(200);
    expect(dev.body).toMatchObject({
      id: sensor.id,
      role: 'sensor',
      protocols: ['mqtt'],
      endpoint: null,
      state: 'up',
      mqtt: 'connected',
    });
    expect((dev.body.values as { temperature_c?: number }).temperature_c).toBeGreaterThan(15);
    const gw = await get(`/devices/${gateway.id}`);
    expect(gw.body).toMatchObject({ protocols: ['snmp', 'mqtt'], mqtt: 'connected' });

    const status = await get('/status');
    expect(status.body).toMatchObject({
      devices: runtime.monitor.status().devices,
      mqttOnlyDevices: 1,
      mqtt: { devices: 2, connected: 2 },
    });

    // Dropped through the API, the sensor says so; restored, it connects again.
    expect(await post(`/devices/${sensor.id}/mqtt-drop`)).toBe(200);
    expect((await get(`/devices/${sensor.id}`)).body.mqtt).toBe('dropped');
    expect(await post(`/devices/${sensor.id}/mqtt-restore`)).toBe(200);
    await waitFor(async () => (await get(`/devices/${sensor.id}`)).body.mqtt === 'connected', {
      timeoutMs: 10_000,
    });
    // SNMP-only actions on the sensor say why not; a device without MQTT refuses MQTT actions.
    const reboot = await fetch(`${control.url}/devices/${sensor.id}/reboot`, { method: 'POST' });
    expect(reboot.status).toBe(409);
    expect(((await reboot.json()) as { error: string }).error).toMatch(/speaks only MQTT/);
    expect(await post(`/devices/${plain.id}/mqtt-drop`)).toBe(409);
    expect(await post('/devices/no-such-device/mqtt-drop')).toBe(404);
  });
});
