/**
 * The console's map at the real fleet's size: the 987-site Badung inventory (config/badung/generate.ts,
 * what `npm start` runs), the fleet simulator answering for its ~3,500 devices, real InfluxDB, the
 * running monitor, and Chromium. The map must show one marker per site (single markers plus the counts
 * of the clusters), over the six kecamatan outlines, and every site counted in the legend by its state.
 * The screenshot is the README's (web/screenshots/map.png is a copy of var/screenshots/map-badung.png).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../collector/core/log.ts';
import type { Inventory } from '../../collector/core/types.ts';
import { startRuntime, type Runtime } from '../../collector/runtime.ts';
import { generateBadungInventory } from '../../config/badung/generate.ts';
import { FleetSimulator } from '../../simulator/fleet.ts';
import { launchBrowser, markersOnMap, openConsole, screenshot, signIn } from '../support/console-browser.ts';
import { addConsoleUser } from '../support/console-users.ts';
import { startTestInfluxd, type TestServer } from '../support/influx.ts';
import { testMonitorConfig } from '../support/monitor-config.ts';
import { freeUdpPort, waitFor } from '../support/ports.ts';

const OPERATOR = { name: 'ops-ketut', password: 'lawar-Petang-2026-ok' };
/** Sites cut in the simulator, so the map shows outages among the green. */
const CUT = ['pkm-petang-i', 'kds-sangeh', 'kds-pelaga', 'kcm-kuta-utara'];

let dir: string;
let influx: TestServer;
let sim: FleetSimulator;
let runtime: Runtime;
let browser: Browser;
let inventory: Inventory;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-console-fleet-'));
  influx = await startTestInfluxd();
  const port = await freeUdpPort();
  inventory = generateBadungInventory({
    seed: 1,
    port,
    hostOctet: 161 + Math.floor(Math.random() * 8),
    ispRouterEvery: 0, // no ping-only sites: this config has no ping: section to see them
  }).inventory;
  sim = new FleetSimulator({ inventory, seed: 1 });
  await sim.start();
  for (const id of CUT) sim.cutSite(id);
  const usersFile = join(dir, 'users.yaml');
  await addConsoleUser(usersFile, OPERATOR.name, 'operator', OPERATOR.password);
  const config = await testMonitorConfig({
    inventory,
    influxUrl: influx.url,
    database: 'console_fleet',
    dir,
  });
  runtime = await startRuntime(
    {
      ...config,
      // The whole fleet every 15 s on a shared 2-core machine: still far more polls than a person needs
      // to see the map fill in.
      snmp: {
        ...config.snmp,
        intervalMs: 10_000,
        jitterMs: 2000,
        concurrency: 64,
        timeoutMs: 2000,
        retries: 1,
      },
      console: {
        enabled: true,
        usersFile,
        sessionsFile: join(dir, 'sessions.db'),
        sessionIdleMs: 3600_000,
        sessionMaxMs: 86_400_000,
        secureCookies: false,
        trustProxy: false,
        maxEventClients: 10,
        tileUrl: '',
        tileAttribution: '',
      },
    },
    { log: createLogger({ level: 'error', write: () => undefined }) },
  );
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
  await sim?.stop();
  await influx?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the console map on the 987-site Badung inventory', () => {
  it('shows one marker per site over the six kecamatan outlines, each counted by its state', async () => {
    const t0 = performance.now();
    expect(inventory.sites.length).toBe(987);
    const c = await openConsole(browser, runtime.http.url, { width: 1280, height: 900 });
    const { page } = c;
    await signIn(page, runtime.http.url, OPERATOR.name, OPERATOR.password);
    await page.locator('[data-testid=shown][data-count="987"]').waitFor({ timeout: 30_000 });
    // markercluster adds the markers in chunks: wait until every site is on the map.
    await waitFor(
      async () => {
        const m = await markersOnMap(page);
        return m.singles.length + m.clustered === 987;
      },
      { timeoutMs: 30_000, what: () => 'one marker per site' },
    );
    console.log(
      `console fleet: 987 markers on the map ${Math.round(performance.now() - t0)} ms into the test`,
    );
    const m = await markersOnMap(page);
    expect(new Set(m.singles).size).toBe(m.singles.length);
    expect(m.clustered).toBeGreaterThan(0); // 987 markers cluster at this zoom
    expect(await page.locator('path.kec-outline').count()).toBe(6);
    expect(await page.locator('.kec-label').allTextContents()).toEqual(
      expect.arrayContaining(['Petang', 'Abiansemal', 'Mengwi', 'Kuta Utara', 'Kuta', 'Kuta Selatan']),
    );
    const count = async (st: string) =>
      Number(await page.locator(`.legend-item[data-state=${st}]`).getAttribute('data-count'));
    // Every site has a state in the legend, whatever it is by now.
    const total = await page.evaluate<number>(
      "[...document.querySelectorAll('.legend-item')].reduce((n, e) => n + Number(e.dataset.count), 0)",
    );
    expect(total).toBe(987);
    // For the picture: give the fleet a while to settle (every site up, or down and unreachable behind
    // the cut ones); on a busy machine some stay suspect, which the map shows as such.
    const settled = async () => (await count('up')) + (await count('down')) + (await count('unreachable'));
    await waitFor(async () => (await settled()) === 987 && (await count('down')) >= CUT.length, {
      timeoutMs: 60_000,
    }).catch(() => undefined);
    console.log(
      `console fleet: on the map ${await count('up')} up, ${await count('down')} down, ` +
        `${await count('unreachable')} unreachable, ${await count('suspect')} suspect, ${await count('unknown')} unknown`,
    );
    const shot = await screenshot(page, 'map-badung');
    expect(shot.stddev).toBeGreaterThan(10);
    expect(shot.colours).toBeGreaterThan(30);
    expect(c.foreign).toEqual([]);
    expect(c.problems).toEqual([]);
    await c.context.close();
  }, 360_000);
});
