/**
 * The whole monitor on real parts: the fleet simulator answering SNMP on loopback, Debian's influxd, a
 * local webhook receiver, and the same runtime `npm start` runs (collector/runtime.ts). Written as a
 * timeline:
 *   t0   every device of 6 sites is polled and up; samples of every site are in InfluxDB
 *   t1   a legacy (32-bit) device's counters wrap, another device reboots: rates stay true, no spike
 *   t2   one site's router is cut: one page for the router, its APs unreachable and silent
 *   t3   the router is restored: one recovery, everything up again
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, type LogRecord } from '../../collector/core/log.ts';
import type { Device, DeviceState } from '../../collector/core/types.ts';
import type { Notification } from '../../collector/notify/notification.ts';
import { startRuntime, type Runtime } from '../../collector/runtime.ts';
import { startInfluxd } from '../../scripts/lib/servers/influxd.ts';
import type { RunningServer } from '../../scripts/lib/servers/process.ts';
import { FleetSimulator } from '../../simulator/fleet.ts';
import { deviceValuesAt, octetsBetween } from '../../simulator/device-model.ts';
import { syntheticInventory } from '../../simulator/synthetic-inventory.ts';
import { testMonitorConfig, TEST_INTERVAL_MS, TEST_VIEWER_HEADERS } from '../support/monitor-config.ts';
import { waitForAllUp, waitForPollRounds } from '../support/poll-rounds.ts';
import { freeUdpPort, waitFor } from '../support/ports.ts';
import { startWebhookPeer, type WebhookPeer } from '../support/webhook-peer.ts';

const INTERVAL_MS = TEST_INTERVAL_MS;
const DB = 'netmon_e2e';

let dir: string;
let influx: RunningServer;
let sim: FleetSimulator;
let runtime: Runtime;
let hook: WebhookPeer;
let pages: Notification[] = [];
const logs: LogRecord[] = [];
let devices: readonly Device[] = [];

interface Series {
  readonly tags?: Record<string, string>;
  readonly columns: string[];
  readonly values: unknown[][];
}

async function query(q: string): Promise<Series[]> {
  const url = `${influx.url}/query?db=${DB}&epoch=ms&q=${encodeURIComponent(q)}`;
  const body = (await (await fetch(url)).json()) as {
    results: { series?: Series[]; error?: string }[];
  };
  const r = body.results[0];
  if (r?.error) throw new Error(`${q}: ${r.error}`);
  return r?.series ?? [];
}

function stateOf(id: string): DeviceState | undefined {
  return runtime.monitor.health.get(id)?.state;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-e2e-'));
  influx = await startInfluxd({ dataDir: join(dir, 'influxdb') });
  const port = await freeUdpPort();
  const inventory = syntheticInventory({
    sites: 6,
    port,
    seed: 2,
    hostOctet: 121 + Math.floor(Math.random() * 8),
  });
  devices = inventory.devices;
  sim = new FleetSimulator({ inventory, seed: 2 });
  await sim.start();

  hook = await startWebhookPeer();
  pages = hook.received;

  const config = await testMonitorConfig({
    inventory,
    influxUrl: influx.url,
    database: DB,
    dir,
    webhooks: [{ name: 'oncall', url: hook.url, headers: {} }],
  });
  const log = createLogger({ level: 'info', write: (_line, rec) => logs.push(rec) });
  runtime = await startRuntime(config, { log });
});

afterAll(async () => {
  await runtime?.stop();
  await sim?.stop();
  await hook?.stop();
  await influx?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('outage scenario on the real simulator and InfluxDB', () => {
  it('t0: every device comes up and every site has samples in InfluxDB with the documented tags', async () => {
    await waitForAllUp(
      runtime.monitor,
      devices.map((d) => d.id),
      { timeoutMs: 20_000 },
    );
    await waitFor(
      async () => (await query('SHOW TAG VALUES FROM device WITH KEY = "site"'))[0]?.values.length === 6,
      { timeoutMs: 20_000 },
    );
    const tags = (await query('SHOW TAG KEYS FROM interface'))[0]?.values.map((v) => v[0]);
    expect(tags).toEqual(
      expect.arrayContaining(['site', 'category', 'kecamatan', 'desa', 'device', 'role', 'ifName']),
    );
    // Status over HTTP shows the same.
    const status = (await (
      await fetch(`${runtime.http.url}/api/v1/health`, { headers: TEST_VIEWER_HEADERS })
    ).json()) as {
      details: { states: Record<string, number> };
    };
    expect(status.details.states.up).toBe(devices.length);
    expect(pages).toEqual([]);
  });

  it('t1: a 32-bit counter wrap and a reboot give true rates and no spike', async () => {
    const legacy = devices.find(
      (d) => sim.deviceStatus(d.id).legacy && sim.model(d.id).interfaces.some((i) => i.inPeakBytesPerS > 0),
    );
    const rebooted = devices.find((d) => d.role === 'router' && d.id !== legacy?.id);
    if (!legacy || !rebooted) throw new Error('the synthetic fleet has no legacy device');
    // The counters jump now and wrap about 4 s later (halfway through withinS): the first poll after the
    // jump is the baseline, and the wrap falls between two later polls.
    const { setAtMs, wrapsBeforeMs } = sim.wrapCounters32(legacy.id, 8);
    const { bootAtMs } = sim.rebootDevice(rebooted.id);
    const pollTimes = async (): Promise<number[]> =>
      (
        (await query(`SELECT reachable FROM device WHERE device = '${legacy.id}' AND time > ${setAtMs}ms`))[0]
          ?.values ?? []
      ).map((v) => Number(v[0]));
    await waitFor(async () => (await pollTimes()).some((t) => t > wrapsBeforeMs + INTERVAL_MS), {
      timeoutMs: 20_000,
    });
    const [baseline, ...polls] = await pollTimes();
    if (baseline === undefined) throw new Error('no poll after the wrap was set');

    // Every poll after the baseline has a rate, and it equals what the model moved over the interval.
    const model = sim.model(legacy.id);
    const control = sim.control(legacy.id);
    const series = await query(
      `SELECT in_bps FROM interface WHERE device = '${legacy.id}' AND time > ${setAtMs}ms GROUP BY "ifIndex"`,
    );
    let wrapsSeen = 0;
    let checked = 0;
    for (const ifc of model.interfaces.filter((i) => i.inPeakBytesPerS > 0)) {
      const rates = new Map(
        (series.find((x) => x.tags?.ifIndex === String(ifc.ifIndex))?.values ?? []).map((v) => [
          Number(v[0]),
          Number(v[1]),
        ]),
      );
      let t0 = baseline;
      for (const t1 of polls) {
        const rate = rates.get(t1);
        expect(rate, `${legacy.id} if${ifc.ifIndex}: no rate for the poll at ${t1}`).toBeDefined();
        const expected = (octetsBetween(model, ifc, 'in', t0, t1) * 8 * 1000) / (t1 - t0);
        // Counters are whole octets (the model floors its integral), so the delta the monitor sees is off
        // from the model's real-valued octets by less than one octet whatever the rate. A quiet interface
        // (lo at night: ~10 octets a poll) would otherwise fail a purely relative bound on that alone.
        const oneOctetBps = (8 * 1000) / (t1 - t0);
        expect(
          Math.abs((rate ?? 0) - expected),
          `${legacy.id} if${ifc.ifIndex} at ${t1}: ${rate} vs ${expected} bit/s`,
        ).toBeLessThan(0.02 * expected + oneOctetBps);
        const c0 =
          deviceValuesAt(model, control, t0).interfaces.find((i) => i.ifIndex === ifc.ifIndex)?.inOctets32 ??
          0;
        const c1 =
          deviceValuesAt(model, control, t1).interfaces.find((i) => i.ifIndex === ifc.ifIndex)?.inOctets32 ??
          0;
        if (c1 < c0) wrapsSeen++;
        checked++;
        t0 = t1;
      }
    }
    expect(checked).toBeGreaterThan(0);
    // The test is only worth something if the 32-bit counters really wrapped between two polls.
    expect(wrapsSeen).toBeGreaterThan(0);

    // The reboot is recorded once and no rate after it exceeds the interface's speed.
    await waitFor(
      async () =>
        (await query(`SELECT rebooted FROM device WHERE device = '${rebooted.id}' AND rebooted = 1`)).length >
        0,
      { timeoutMs: 10_000 },
    );
    const after = await query(
      `SELECT max(in_bps), max(out_bps) FROM interface WHERE device = '${rebooted.id}' AND time >= ${bootAtMs - INTERVAL_MS}ms`,
    );
    const rebootedModel = sim.model(rebooted.id);
    const maxPeak =
      Math.max(...rebootedModel.interfaces.map((i) => Math.max(i.inPeakBytesPerS, i.outPeakBytesPerS))) * 8;
    const [, maxIn, maxOut] = (after[0]?.values[0] ?? [0, 0, 0]) as number[];
    expect(maxIn ?? 0).toBeLessThanOrEqual(maxPeak * 1.5);
    expect(maxOut ?? 0).toBeLessThanOrEqual(maxPeak * 1.5);
    expect(pages).toEqual([]);
  });

  it('t2: cutting a router gives one page; its APs go unreachable without pages of their own', async () => {
    const router = devices.find((d) => d.role === 'router' && devices.some((a) => a.parent === d.id));
    if (!router) throw new Error('no router with APs');
    const aps = devices.filter((d) => d.parent === router.id);
    sim.cutDevice(router.id);
    await waitFor(() => stateOf(router.id) === 'down' && aps.every((a) => stateOf(a.id) === 'unreachable'), {
      timeoutMs: 20_000,
    });
    await waitFor(() => pages.length >= 1, { timeoutMs: 10_000 });
    // Every device polled twice more: nothing else pages.
    await waitForPollRounds(runtime.monitor, 2, { what: 'no page for the APs' });
    expect(pages.map((p) => [p.status, p.device?.id])).toEqual([['firing', router.id]]);
    const page = pages[0];
    expect(page?.text.id).toContain('GANGGUAN');
    expect(page?.text.en).toContain('DOWN');
    expect([...(page?.affected.devices ?? [])].sort()).toEqual(aps.map((a) => a.id).sort());

    const states = await query(
      `SELECT "state", device FROM device_state WHERE site = '${router.siteId}' AND time > now() - 1m`,
    );
    const byDevice = new Map((states[0]?.values ?? []).map((v) => [String(v[2]), String(v[1])]));
    expect(byDevice.get(router.id)).toBe('down');
    for (const ap of aps) expect(byDevice.get(ap.id)).toBe('unreachable');

    sim.restoreDevice(router.id);
    await waitFor(() => [router, ...aps].every((d) => stateOf(d.id) === 'up'), { timeoutMs: 20_000 });
    await waitFor(() => pages.length >= 2, { timeoutMs: 10_000 });
    expect(pages.map((p) => [p.status, p.device?.id])).toEqual([
      ['firing', router.id],
      ['resolved', router.id],
    ]);
    expect(pages[1]?.text.id).toContain('PULIH');
  });
});
