/**
 * The uptime report against ground truth: outages of known length scripted in the simulator, polled by the
 * running monitor into real InfluxDB, reported from what it wrote. The monitor runs on a clock set to
 * 30 November 2026, 23:59:00 WITA (real time, shifted), so one outage crosses midnight at the month's end.
 *   A   a plain outage of a few seconds (down, polled down once more, restored)
 *   B   an outage around a 10 s maintenance window: down before and after it, 10 s maintenance
 *   D   an outage across midnight: cut ~20 s before, restored after two poll rounds after it
 *   C   cut, then the monitor stops for ~8 s, C comes back while it is away: down until the stop, the
 *       gap unknown
 *   E   never touched: 100 %
 * Each figure must match the truth within one poll interval (plus its jitter) per outage.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../collector/core/clock.ts';
import { memoryLogger } from '../../collector/core/log.ts';
import type { Device, Inventory, Site } from '../../collector/core/types.ts';
import type { MonitorConfig } from '../../config/monitor.ts';
import { readHistory } from '../../collector/reports/history.ts';
import type { SiteRow } from '../../collector/reports/model.ts';
import { witaMonthRange } from '../../collector/core/time-zone.ts';
import { buildReport, defaultTargets } from '../../collector/reports/report.ts';
import { DEFAULT_ADMISSION } from '../../collector/scheduler/admission.ts';
import { renderReportCsv } from '../../collector/reports/render-csv.ts';
import { startRuntime, type Runtime } from '../../collector/runtime.ts';
import { FleetSimulator } from '../../simulator/fleet.ts';
import { syntheticInventory } from '../../simulator/synthetic-inventory.ts';
import { influxRows, startTestInfluxd, type TestServer } from '../support/influx.ts';
import { waitForAllUp, waitForPollRounds } from '../support/poll-rounds.ts';
import { testMonitorConfig, TEST_INTERVAL_MS, TEST_VIEWER_HEADERS } from '../support/monitor-config.ts';
import { freeUdpPort, waitFor } from '../support/ports.ts';

const DB = 'report_e2e';
/** Monitor time starts here (WITA): a minute before the month ends. */
const START = Date.parse('2026-11-30T23:59:00+08:00');
const MIDNIGHT = Date.parse('2026-12-01T00:00:00+08:00');
/**
 * How late a poll may see a change, at either end of an outage: a poll interval, its jitter (200 ms) and
 * the SNMP timeout (300 ms), plus one back-pressure check (scheduler/admission.ts): on a loaded machine the
 * test's own event loop can be over 90 % busy, and a turn then waits for the next check (a clean run measured 2,533 ms
 * against the 2,500 without it).
 */
const TOLERANCE_MS = TEST_INTERVAL_MS + 200 + 300 + DEFAULT_ADMISSION.checkMs;

/** Real time, shifted: timers are real, now() reads as if it were START when the test began. */
function shiftedClock(offsetMs: number): Clock {
  return {
    now: () => Date.now() + offsetMs,
    setTimeout: (fn, ms) => setTimeout(fn, ms) as never,
    clearTimeout: (h) => clearTimeout(h as never),
  };
}

let dir: string;
let influx: TestServer;
let sim: FleetSimulator;
let runtime: Runtime | undefined;
let config: MonitorConfig;
let inventory: Inventory;
let clock: Clock;
let A: Site, B: Site, C: Site, D: Site, E: Site;
/** Ground truth, in monitor time. */
const truth = {
  A: { down: 0 },
  B: { cut: 0, restore: 0 },
  C: { cut: 0, stop: 0, restart: 0 },
  D: { cut: 0, restore: 0 },
};

const routerOf = (s: Site): Device =>
  inventory.devices.find((d) => d.siteId === s.id && d.role === 'router')!;
const state = (s: Site) => runtime?.monitor.health.get(routerOf(s).id)?.state;
/** B's maintenance window, in monitor time. */
const WINDOW = { startMs: START + 20_000, endMs: START + 30_000 };
/** How long the monitor is stopped while C comes back: several heartbeats, so a clear gap. */
const AWAY_MS = 4 * TEST_INTERVAL_MS;
const monitorAway = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The monitor's poll counters while it runs (undefined while it is stopped). */
const polls = () => runtime?.monitor.status().polls;
/** The `active` values of the maintenance points the monitor wrote for a site, in time order. */
const maintenanceEdges = async (s: Site): Promise<number[]> =>
  (
    await influxRows(influx.url, DB, `SELECT active FROM maintenance WHERE site = '${s.id}'`).catch(() => [])
  ).map((r) => Number(r.active));
const start = async () => {
  runtime = await startRuntime(config, { log: memoryLogger('warn'), clock });
};
const stop = async () => {
  await runtime?.stop();
  runtime = undefined;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-report-'));
  influx = await startTestInfluxd();
  clock = shiftedClock(START - Date.now());
  inventory = syntheticInventory({
    sites: 5,
    port: await freeUdpPort(),
    seed: 9,
    hostOctet: 181 + Math.floor(Math.random() * 8),
  });
  [A, B, C, D, E] = inventory.sites as [Site, Site, Site, Site, Site];
  sim = new FleetSimulator({ inventory, seed: 9 });
  await sim.start();
  const base = await testMonitorConfig({ inventory, influxUrl: influx.url, database: DB, dir });
  config = {
    ...base,
    // B's window: 20 s to 30 s after the start, in monitor time.
    maintenance: [
      {
        id: 'config-1',
        name: 'Pemeliharaan / maintenance',
        scope: { sites: [B.id] },
        schedule: { kind: 'once', startMs: WINDOW.startMs, endMs: WINDOW.endMs },
        source: 'config',
      },
    ],
  };
  await start();
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  await sim?.stop();
  await influx?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('uptime report against scripted outages', () => {
  it('scripts the outages', async () => {
    await waitForAllUp(
      () => runtime?.monitor,
      inventory.devices.map((d) => d.id),
      { timeoutMs: 15_000 },
    );
    // Each step waits for what the monitor saw (a state, a poll round, a point it wrote), not for a time.
    // B: cut before its maintenance window opens; restored once the monitor has recorded its end.
    sim.cutDevice(routerOf(B).id);
    truth.B.cut = clock.now();
    expect(truth.B.cut, 'B is cut before its window opens').toBeLessThan(WINDOW.startMs - TOLERANCE_MS);
    // A, meanwhile: down, polled down once more, back.
    sim.cutDevice(routerOf(A).id);
    const aCut = clock.now();
    await waitFor(() => state(A) === 'down', { timeoutMs: 15_000, what: 'A down' });
    await waitForPollRounds(polls, 1, { what: 'A polled down again' });
    sim.restoreDevice(routerOf(A).id);
    truth.A.down = clock.now() - aCut;
    await waitFor(() => state(A) === 'up', { timeoutMs: 15_000, what: 'A up' });
    await waitFor(async () => (await maintenanceEdges(B)).includes(0), {
      timeoutMs: 60_000,
      what: "the monitor's record of the end of B's window",
    });
    await waitForPollRounds(polls, 1, { what: 'B polled down after its window' });
    sim.restoreDevice(routerOf(B).id);
    truth.B.restore = clock.now();
    expect(truth.B.restore).toBeGreaterThan(WINDOW.endMs);
    await waitFor(() => state(B) === 'up', { timeoutMs: 15_000, what: 'B up' });
    // D: cut before midnight; restored once the monitor has polled it down twice more after midnight
    // (E, never touched, answered a poll after midnight: the monitor's time has crossed it).
    sim.cutDevice(routerOf(D).id);
    truth.D.cut = clock.now();
    expect(truth.D.cut, 'D is cut before midnight').toBeLessThan(MIDNIGHT - 2 * TOLERANCE_MS);
    await waitFor(() => (runtime?.monitor.health.get(routerOf(E).id)?.lastOkAt ?? 0) >= MIDNIGHT, {
      timeoutMs: 90_000,
      what: 'a poll after midnight',
    });
    await waitForPollRounds(polls, 2, { what: 'D polled down after midnight' });
    sim.restoreDevice(routerOf(D).id);
    truth.D.restore = clock.now();
    // C: cut; the monitor stops while it is down; C comes back while the monitor is away.
    await waitFor(() => state(A) === 'up' && state(B) === 'up' && state(D) === 'up', { timeoutMs: 10_000 });
    sim.cutDevice(routerOf(C).id);
    truth.C.cut = clock.now();
    await waitFor(() => state(C) === 'down', { timeoutMs: 10_000 });
    await waitForPollRounds(polls, 1, { what: 'C polled down again' });
    await stop();
    truth.C.stop = clock.now();
    sim.restoreDevice(routerOf(C).id);
    // Scenario input, not synchronisation: the monitor stays away long enough for its heartbeats (every
    // poll interval) to show a gap. Nothing runs meanwhile that a test could wait on.
    await monitorAway(AWAY_MS);
    await start();
    truth.C.restart = clock.now();
    await waitFor(() => state(C) === 'up', { timeoutMs: 10_000 });
    // A few heartbeats after (one per interval, so per round), then everything written.
    await waitForPollRounds(polls, 2, { what: 'heartbeats after the restart' });
    await stop();
  }, 150_000);

  it('November: A, B (maintenance apart) and D up to midnight match the truth', async () => {
    const nov = witaMonthRange('2026-11');
    const history = await readHistory({ url: influx.url, database: DB }, nov.fromMs, nov.toMs);
    const report = buildReport(inventory, history, {
      ...nov,
      nowMs: clock.now(),
      periodLabel: '2026-11',
      targets: defaultTargets(),
    });
    const row = (s: Site): SiteRow => report.sites.find((r) => r.siteId === s.id)!;
    const near = (actual: number, expected: number, what: string) =>
      expect(Math.abs(actual - expected), `${what}: ${actual} ms vs ${expected} ms`).toBeLessThanOrEqual(
        TOLERANCE_MS,
      );

    near(row(A).downMs, truth.A.down, 'A down');
    expect(row(A)).toMatchObject({ outages: 1, maintenanceMs: 0 });
    // B: down around its window, the window itself apart, one outage.
    near(row(B).downMs, truth.B.restore - truth.B.cut - 10_000, 'B down');
    near(row(B).maintenanceMs, 10_000, 'B maintenance');
    expect(row(B).outages).toBe(1);
    near(row(D).downMs, MIDNIGHT - truth.D.cut, 'D down in November');
    expect(row(E)).toMatchObject({ downMs: 0, outages: 0, availabilityPct: 100 });
    // Before the monitor first started, nothing was known: unknown, not up.
    expect(row(E).unknownMs).toBeGreaterThanOrEqual(START - nov.fromMs - TOLERANCE_MS);
    expect(row(E).upMs).toBeLessThan(2 * 60_000);
    // Rolled up: the category and kecamatan rows add their sites up.
    const downAll = report.sites.reduce((n, r) => n + r.downMs, 0);
    expect(report.byKecamatan.reduce((n, g) => n + g.downMs, 0)).toBe(downAll);
    expect(report.overall.downMs).toBe(downAll);
    expect(report.overall.outages).toBe(3);

    const csv = renderReportCsv(report);
    expect(csv.split('\r\n')[0]).toContain('Ketersediaan % / availability %');
    expect(csv.split('\r\n')).toHaveLength(inventory.sites.length + 2);
  });

  it('December: D after midnight, and C with the monitor outage unknown, never down', async () => {
    const dec = witaMonthRange('2026-12');
    const history = await readHistory({ url: influx.url, database: DB }, dec.fromMs, dec.toMs);
    const report = buildReport(inventory, history, {
      ...dec,
      nowMs: clock.now(),
      periodLabel: '2026-12',
      targets: defaultTargets(),
    });
    const row = (s: Site): SiteRow => report.sites.find((r) => r.siteId === s.id)!;
    const near = (actual: number, expected: number, what: string) =>
      expect(Math.abs(actual - expected), `${what}: ${actual} ms vs ${expected} ms`).toBeLessThanOrEqual(
        TOLERANCE_MS,
      );

    near(row(D).downMs, truth.D.restore - MIDNIGHT, 'D down in December');
    expect(row(D).outages).toBe(1);
    near(row(C).downMs, truth.C.stop - truth.C.cut, 'C down while watched');
    const gap = truth.C.restart - truth.C.stop;
    near(row(C).unknownMs, gap, 'C unknown while the monitor was away');
    near(row(E).unknownMs, gap, 'E unknown while the monitor was away');
    expect(row(E)).toMatchObject({ downMs: 0, availabilityPct: 100 });
    expect(report.toMs).toBeLessThanOrEqual(clock.now());

    // The same over the HTTP API, for a viewer; a misspelt kecamatan is refused with the ones that exist.
    await start();
    const get = (q: string) =>
      fetch(`${runtime!.http.url}/api/v1/reports/availability?${q}`, { headers: TEST_VIEWER_HEADERS });
    const csv = await get('month=2026-12&format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toContain('badung-netmon-2026-12.csv');
    expect((await csv.text()).trim().split('\r\n')).toHaveLength(inventory.sites.length + 1);
    const json = (await (await get(`month=2026-12&format=json&site=${D.id}`)).json()) as {
      sites: SiteRow[];
      from: string;
      to: string;
      generatedAt: string;
    };
    expect(json.sites.map((r) => r.siteId)).toEqual([D.id]);
    // The v1 API's times: ISO 8601 in WITA (the month starts at midnight in Badung).
    expect(json.from).toBe('2026-12-01T00:00:00.000+08:00');
    expect(json.to).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00$/);
    expect(json.generatedAt).toMatch(/\+08:00$/);
    expect(json).not.toHaveProperty('fromMs');
    expect(Math.abs(json.sites[0]!.downMs - row(D).downMs)).toBeLessThanOrEqual(1);
    const bad = await get('month=2026-12&kecamatan=Mengwii');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(
      /unknown kecamatan 'Mengwii'; known: .*Mengwi/,
    );
    expect((await get('month=2026-13')).status).toBe(400);
    // October: the monitor never watched it. Not "0 of 5 meet target": 404, saying there is no data.
    for (const format of ['json', 'pdf']) {
      const none = await get(`month=2026-10&format=${format}`);
      expect(none.status).toBe(404);
      expect(((await none.json()) as { message: string }).message).toMatch(
        /tidak ada data untuk periode 2026-10 \/ no data for the period 2026-10/,
      );
    }
    await stop();
  });
});
