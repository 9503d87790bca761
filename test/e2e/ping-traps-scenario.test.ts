/**
 * Ping and traps on the running monitor (collector/runtime.ts, as `npm start` runs it), with real parts:
 * Debian's fping, the fleet simulator's SNMP agents on loopback, Debian's influxd, a webhook receiver.
 * A cut is a real one: the address is blackholed (ip route add blackhole ... table local), so it stops
 * answering ping and SNMP alike (needs root; the addresses 127.213.x.y are this file's alone).
 *
 * SNMP is polled every 20 s, so the fast outage page can only come through ping (10 s for critical
 * routers). Timeline:
 *   t0  every device up (ping and SNMP)
 *   a   the critical site's router is cut: paged within 20 s, by ping (the delay is printed)
 *   b   SNMP stops on a router that still answers ping: the "SNMP not answering" warning, no page
 *   c   a ping-only site's router is cut: paged
 *   d   a linkDown trap from a known device: polled within 1 s; e  a wrong community: counted, dropped
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, type LogRecord } from '../../collector/core/log.ts';
import { Secret } from '../../collector/core/secret.ts';
import type { Device, Inventory, Site } from '../../collector/core/types.ts';
import type { Notification } from '../../collector/notify/notification.ts';
import { startRuntime, type Runtime } from '../../collector/runtime.ts';
import { startInfluxd } from '../../scripts/lib/servers/influxd.ts';
import type { RunningServer } from '../../scripts/lib/servers/process.ts';
import { Blackholes } from '../../simulator/blackhole.ts';
import { FleetSimulator } from '../../simulator/fleet.ts';
import { sendTrap } from '../../simulator/traps.ts';
import { testMonitorConfig, testPingConfig } from '../support/monitor-config.ts';
import { freeUdpPort, waitFor } from '../support/ports.ts';
import { startWebhookPeer, type WebhookPeer } from '../support/webhook-peer.ts';

const DB = 'netmon_ping';
const COMMUNITY = 'kominfo-e2e';

const site = (
  id: string,
  name: string,
  category: Site['category'],
  criticality: Site['criticality'],
): Site => ({
  id,
  name,
  category,
  kecamatan: 'Kuta',
  desa: 'Kuta',
  lat: -8.72,
  lon: 115.17,
  criticality,
});
const device = (
  id: string,
  siteId: string,
  host: string,
  port: number,
  extra: Partial<Device> = {},
): Device => ({
  id,
  siteId,
  role: 'router',
  host,
  port,
  profile: 'mikrotik-routeros',
  snmp: { version: '2c', community: new Secret(COMMUNITY) },
  ...extra,
});

let dir: string;
let influx: RunningServer;
let sim: FleetSimulator;
let runtime: Runtime;
let hook: WebhookPeer;
let inventory: Inventory;
const holes = new Blackholes();
const logs: LogRecord[] = [];

const pagesFor = (id: string): Notification[] =>
  hook.received.filter((n) => n.device?.id === id && n.status === 'firing');

async function query(q: string): Promise<unknown[][]> {
  const url = `${influx.url}/query?db=${DB}&epoch=ms&q=${encodeURIComponent(q)}`;
  const body = (await (await fetch(url)).json()) as { results: { series?: { values: unknown[][] }[] }[] };
  return body.results[0]?.series?.[0]?.values ?? [];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-ping-'));
  influx = await startInfluxd({ dataDir: join(dir, 'influxdb') });
  const port = await freeUdpPort();
  inventory = {
    sites: [
      site('pkm-kuta-1', 'Puskesmas Kuta I', 'puskesmas', 'critical'),
      site('pkm-kuta-2', 'Puskesmas Kuta II', 'puskesmas', 'critical'),
      site('bjr-pande', 'Banjar Pande', 'banjar', 'low'),
      site('kd-kedonganan', 'Kantor Desa Kedonganan', 'kantor_desa', 'high'),
    ],
    devices: [
      device('pkm-kuta-1-rtr', 'pkm-kuta-1', '127.213.1.1', port),
      device('pkm-kuta-2-rtr', 'pkm-kuta-2', '127.213.2.1', port),
      device('bjr-pande-isp', 'bjr-pande', '127.213.3.1', port, { ping: 'only', snmp: undefined }),
      device('kd-kedonganan-rtr', 'kd-kedonganan', '127.213.4.1', port),
    ],
  };
  // The simulator serves SNMP for every device (the ping-only one's agent is simply never asked).
  sim = new FleetSimulator({ inventory, seed: 13 });
  await sim.start();
  hook = await startWebhookPeer();
  const base = await testMonitorConfig({
    inventory,
    influxUrl: influx.url,
    database: DB,
    dir,
    webhooks: [{ name: 'oncall', url: hook.url, headers: {} }],
  });
  const config = {
    ...base,
    snmp: { ...base.snmp, intervalMs: 20_000, jitterMs: 1000 },
    health: { downAfterFailures: 2, recheckMs: 1000 },
    ping: testPingConfig({ intervalMs: 5000, fastIntervalMs: 10_000, recheckMs: 1000 }),
    traps: { host: '127.0.0.1', port: 0 },
  };
  runtime = await startRuntime(config, {
    log: createLogger({ level: 'info', write: (_line, rec) => logs.push(rec) }),
  });
}, 60_000);

afterAll(async () => {
  await holes.removeAll();
  await runtime?.stop();
  await sim?.stop();
  await hook?.stop();
  await influx?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const stateOf = (id: string) => runtime.monitor.health.get(id)?.state;

describe('ping and traps on the running monitor', () => {
  it('t0: every device is up, ping-only one included, with ping points in InfluxDB', async () => {
    await waitFor(() => inventory.devices.every((d) => stateOf(d.id) === 'up'), { timeoutMs: 30_000 });
    await waitFor(
      async () => (await query(`SELECT rtt_ms FROM ping WHERE device = 'bjr-pande-isp'`)).length > 0,
      { timeoutMs: 15_000 },
    );
    expect(hook.received).toEqual([]);
  }, 60_000);

  it("a: a critical site's router cut is paged within 20 s, through ping", async () => {
    const id = 'pkm-kuta-1-rtr';
    const cutAt = Date.now();
    await holes.add('127.213.1.1');
    sim.cutDevice(id);
    await waitFor(() => pagesFor(id).length > 0, { timeoutMs: 30_000 });
    const delayS = (Date.now() - cutAt) / 1000;
    console.log(`critical router cut -> page: ${delayS.toFixed(1)} s (SNMP interval 20 s, ping 10 s)`);
    expect(delayS).toBeLessThan(20);
    // Ping saw it: its last word is a loss (the SNMP poll it asked for then confirmed the cut).
    const h = runtime.monitor.health.get(id);
    expect(h?.state).toBe('down');
    expect(h?.ping?.ok).toBe(false);
    await holes.remove('127.213.1.1');
    sim.restoreDevice(id);
    await waitFor(() => stateOf(id) === 'up', { timeoutMs: 20_000 });
  }, 60_000);

  it('b: SNMP stopped on a router that answers ping: the warning, and no outage page', async () => {
    const id = 'pkm-kuta-2-rtr';
    sim.stopSnmp(id); // SNMP only: its address still answers ping (POST /devices/:id/snmp-stop)
    await waitFor(() => runtime.monitor.health.warnings().some((w) => w.deviceId === id), {
      timeoutMs: 45_000,
    });
    const warned = logs.find((l) => l.msg === 'SNMP NOT ANSWERING' && l.device === id);
    expect(warned?.text_id).toMatch(/SNMP tidak menjawab/);
    expect(warned?.text_en).toMatch(/SNMP not answering/);
    // Two more ping rounds of this router (10 s each): still up, nobody paged.
    const rounds = async () => (await query(`SELECT received FROM ping WHERE device = '${id}'`)).length;
    const before = await rounds();
    await waitFor(async () => (await rounds()) >= before + 2, { timeoutMs: 30_000 });
    expect(stateOf(id)).toBe('up');
    expect(pagesFor(id)).toEqual([]);
    const points = await query(`SELECT active FROM device_warning WHERE device = '${id}'`);
    expect(points.map((p) => p[1])).toEqual([1]);
    sim.startSnmp(id);
    await waitFor(() => !runtime.monitor.health.warnings().some((w) => w.deviceId === id), {
      timeoutMs: 45_000,
    });
  }, 120_000);

  it("c: a ping-only site's outage pages", async () => {
    const id = 'bjr-pande-isp';
    const cutAt = Date.now();
    await holes.add('127.213.3.1');
    await waitFor(() => pagesFor(id).length > 0, { timeoutMs: 30_000 });
    console.log(
      `ping-only router cut -> page: ${((Date.now() - cutAt) / 1000).toFixed(1)} s (ping every 5 s)`,
    );
    await holes.remove('127.213.3.1');
    await waitFor(() => stateOf(id) === 'up', { timeoutMs: 20_000 });
  }, 60_000);

  it('d: a linkDown trap from a known device makes it polled within 1 s', async () => {
    const id = 'kd-kedonganan-rtr';
    const traps = runtime.signals.traps;
    if (!traps) throw new Error('no trap receiver');
    const sentAt = Date.now();
    await sendTrap({
      from: '127.213.4.1',
      to: { host: '127.0.0.1', port: traps.port },
      community: COMMUNITY,
      type: 'linkDown',
      uptimeCs: 1000,
      ifIndex: 2,
    });
    const polls = async () =>
      await query(`SELECT reachable FROM device WHERE device = '${id}' AND time >= ${sentAt}ms`);
    await waitFor(async () => (await polls()).length > 0, { timeoutMs: 10_000 });
    const polledAt = Number((await polls())[0]?.[0]);
    const recorded = await query(
      `SELECT source, if_index FROM trap WHERE device = '${id}' AND "trap" = 'linkDown'`,
    );
    expect(recorded.map((r) => r.slice(1))).toEqual([['127.213.4.1', 2]]);
    // The trap point is stamped when the monitor received it: from there to the poll is the monitor's part.
    const receivedAt = Number(recorded[0]?.[0]);
    console.log(
      `linkDown trap: sent -> received ${receivedAt - sentAt} ms, received -> polled ${polledAt - receivedAt} ms`,
    );
    expect(polledAt - receivedAt).toBeLessThan(1000);
    expect(polledAt).toBeGreaterThanOrEqual(receivedAt);
  }, 30_000);

  it('e: a trap with a wrong community is counted and dropped', async () => {
    const traps = runtime.signals.traps;
    if (!traps) throw new Error('no trap receiver');
    const before = traps.stats();
    await sendTrap({
      from: '127.213.4.1',
      to: { host: '127.0.0.1', port: traps.port },
      community: 'public',
      type: 'coldStart',
      uptimeCs: 5,
    });
    await waitFor(() => traps.stats().droppedAuth === before.droppedAuth + 1, { timeoutMs: 5000 });
    expect(traps.stats().accepted).toBe(before.accepted);
    const recorded = await query(`SELECT source FROM trap WHERE "trap" = 'coldStart'`);
    expect(recorded).toEqual([]);
  }, 30_000);
});
