/**
 * "SNMP not answering" where people look, on the running monitor (collector/runtime.ts) with real parts:
 * Debian's fping pinging the simulator's loopback addresses, the simulator's SNMP agents and its control
 * API (the same HTTP calls the README's curl lines make), InfluxDB, and the console in Chromium.
 *
 *   an operator has a site's page open; the site's router stops answering SNMP (POST
 *     /devices/:id/snmp-stop) while it still answers ping;
 *   the page shows "SNMP tidak menjawab" beside the router, which stays "Normal" (up), with no reload;
 *     the map popup shows it too, and in English "SNMP not answering";
 *   the API says the same: /api/v1/sites/:id (the device's `warning`, the site still `up`) and
 *     /api/v1/health (details.warnings); no incident is opened, nobody is paged;
 *   SNMP answers again (snmp-start): the warning goes, in the page and the API.
 *
 * Addresses 127.217.x.y are this file's alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../collector/core/log.ts';
import { Secret } from '../../collector/core/secret.ts';
import type { Device, Inventory, Site } from '../../collector/core/types.ts';
import { startRuntime, type Runtime } from '../../collector/runtime.ts';
import { ControlServer } from '../../simulator/control-http.ts';
import { FleetSimulator } from '../../simulator/fleet.ts';
import {
  launchBrowser,
  openConsole,
  screenshot,
  signIn,
  type ConsoleContext,
} from '../support/console-browser.ts';
import { addConsoleUser } from '../support/console-users.ts';
import { startTestInfluxd, type TestServer } from '../support/influx.ts';
import {
  testConsoleConfig,
  testMonitorConfig,
  testPingConfig,
  TEST_VIEWER_HEADERS,
} from '../support/monitor-config.ts';
import { freeUdpPort, waitFor } from '../support/ports.ts';
import { startWebhookPeer, type WebhookPeer } from '../support/webhook-peer.ts';

const DB = 'snmp_warning_e2e';
const OPERATOR = { name: 'ops-komang', password: 'lawar-Mengwi-Sempidi-31' };
const COMMUNITY = 'warning-e2e';

const site = (id: string, name: string, category: Site['category']): Site => ({
  id,
  name,
  category,
  kecamatan: 'Mengwi',
  desa: 'Sempidi',
  lat: -8.58,
  lon: 115.18,
  criticality: category === 'puskesmas' ? 'critical' : 'high',
});
const device = (id: string, siteId: string, role: Device['role'], host: string, port: number): Device => ({
  id,
  siteId,
  role,
  host,
  port,
  profile: role === 'router' ? 'mikrotik-routeros' : 'unifi-ap',
  snmp: { version: '2c', community: new Secret(COMMUNITY) },
  ...(role === 'ap' ? { parent: `${siteId}-rtr` } : {}),
});

const SITE = 'pkm-mengwi-i';
const ROUTER = `${SITE}-rtr`;
const AP = `${SITE}-ap1`;

let dir: string;
let influx: TestServer;
let sim: FleetSimulator;
let control: ControlServer;
let runtime: Runtime;
let hook: WebhookPeer;
let browser: Browser;
let ops: ConsoleContext;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-warning-'));
  influx = await startTestInfluxd();
  const port = await freeUdpPort();
  const inventory: Inventory = {
    sites: [
      site(SITE, 'Puskesmas Mengwi I', 'puskesmas'),
      site('kd-sempidi', 'Kantor Desa Sempidi', 'kantor_desa'),
    ],
    devices: [
      device(ROUTER, SITE, 'router', '127.217.1.1', port),
      device(AP, SITE, 'ap', '127.217.1.2', port),
      device('kd-sempidi-rtr', 'kd-sempidi', 'router', '127.217.2.1', port),
    ],
  };
  sim = new FleetSimulator({ inventory, seed: 17 });
  await sim.start();
  control = new ControlServer(sim, { host: '127.0.0.1', port: 0 });
  await control.start();
  hook = await startWebhookPeer();
  const usersFile = join(dir, 'users.yaml');
  await addConsoleUser(usersFile, OPERATOR.name, 'operator', OPERATOR.password);
  const config = await testMonitorConfig({
    inventory,
    influxUrl: influx.url,
    database: DB,
    dir,
    webhooks: [{ name: 'oncall', url: hook.url, headers: {} }],
  });
  runtime = await startRuntime(
    {
      ...config,
      health: { downAfterFailures: 2, recheckMs: 500 },
      ping: testPingConfig(),
      console: testConsoleConfig(dir, usersFile),
    },
    { log: createLogger({ level: 'error' }) },
  );
  base = runtime.http.url;
  await waitFor(() => inventory.devices.every((d) => runtime.monitor.health.get(d.id)?.state === 'up'), {
    timeoutMs: 30_000,
  });
  browser = await launchBrowser();
  ops = await openConsole(browser, base);
  await signIn(ops.page, base, OPERATOR.name, OPERATOR.password);
});

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
  await control?.stop();
  await sim?.stop();
  await hook?.stop();
  await influx?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function simulator(path: string): Promise<unknown> {
  const res = await fetch(`${control.url}${path}`, { method: 'POST' });
  expect(res.status, path).toBe(200);
  return res.json();
}

interface SiteJson {
  state: string;
  warnings: number;
  devices: {
    id: string;
    state: string;
    warning: { kind: string; since: string; text: { id: string; en: string } } | null;
  }[];
}

async function siteJson(): Promise<SiteJson> {
  const res = await fetch(`${base}/api/v1/sites/${SITE}`, { headers: TEST_VIEWER_HEADERS });
  expect(res.status).toBe(200);
  return (await res.json()) as SiteJson;
}

const routerRow = () => ops.page.locator(`[data-testid=devices] tr[data-device="${ROUTER}"]`);

describe('"SNMP not answering" in the API and the console', () => {
  it('shows in the open site page, live, beside a router that stays up; and in the map popup', async () => {
    const { page } = ops;
    await page.goto(`${base}/#/sites/${SITE}`);
    await routerRow().locator('[data-state=up]').waitFor();
    expect(await routerRow().locator('.pill.warning').count()).toBe(0);
    expect((await siteJson()).devices.every((d) => d.warning === null)).toBe(true);

    const stoppedAt = Date.now();
    expect(await simulator(`/devices/${ROUTER}/snmp-stop`)).toMatchObject({ ok: true, action: 'snmp-stop' });
    const badge = routerRow().locator('.pill.warning[data-warning=snmp_not_answering]');
    await badge.waitFor({ timeout: 45_000 });
    console.log(
      `SNMP stopped -> warning in the open page: ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s`,
    );
    await expect(badge.textContent()).resolves.toContain('SNMP tidak menjawab');
    // Not an outage: the router is still "Normal", the site too, and the AP behind it has no warning.
    expect(await routerRow().locator('[data-state=up]').count()).toBe(1);
    expect(await page.locator(`tr[data-device="${AP}"] .pill.warning`).count()).toBe(0);
    await page
      .locator('[data-testid=site-warnings]', { hasText: '1 perangkat: SNMP tidak menjawab' })
      .waitFor();
    const shot = await screenshot(page, 'site-snmp-warning');
    expect(shot.stddev).toBeGreaterThan(10);

    await page.goto(`${base}/#/map?focus=${SITE}`);
    const popup = page.locator(`[data-testid=site-panel][data-site="${SITE}"] li[data-device="${ROUTER}"]`);
    await popup.locator('.pill.warning', { hasText: 'SNMP tidak menjawab' }).waitFor();
    expect(await popup.locator('[data-state=up]').count()).toBe(1);
    await page.locator('[data-testid=lang-switch]').click();
    await popup.locator('.pill.warning', { hasText: 'SNMP not answering' }).waitFor();
    await page.locator('[data-testid=lang-switch]').click();
    await popup.locator('.pill.warning', { hasText: 'SNMP tidak menjawab' }).waitFor();
    // The monitor's health page lists it, with a link to its site.
    await page.goto(`${base}/#/health`);
    const tile = page.locator('[data-testid=snmp-warnings]');
    await tile.locator('b', { hasText: '1' }).waitFor();
    expect(await tile.locator(`a[href="#/sites/${SITE}"]`).textContent()).toBe(ROUTER);
    expect(ops.problems).toEqual([]);
    expect(ops.foreign).toEqual([]);
  });

  it('says the same in the API, opens no incident and pages nobody', async () => {
    const s = await siteJson();
    expect(s.state).toBe('up');
    expect(s.warnings).toBe(1);
    const router = s.devices.find((d) => d.id === ROUTER);
    expect(router?.state).toBe('up');
    expect(router?.warning).toMatchObject({
      kind: 'snmp_not_answering',
      text: {
        id: expect.stringContaining('SNMP tidak menjawab') as unknown,
        en: expect.stringContaining('SNMP not answering') as unknown,
      },
    });
    expect(router?.warning?.since).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00$/);
    expect(s.devices.find((d) => d.id === AP)?.warning).toBeNull();

    const health = (await (
      await fetch(`${base}/api/v1/health`, { headers: TEST_VIEWER_HEADERS })
    ).json()) as {
      status: string;
      details: { warnings: { count: number; devices: { deviceId: string; siteId: string; kind: string }[] } };
    };
    expect(health.details.warnings.count).toBe(1);
    expect(health.details.warnings.devices).toEqual([
      expect.objectContaining({ deviceId: ROUTER, siteId: SITE, kind: 'snmp_not_answering' }),
    ]);
    expect(health.status).toBe('ok'); // a device's warning is not the monitor's own trouble

    const incidents = (await (
      await fetch(`${base}/api/v1/incidents?status=open,acknowledged,resolved`, {
        headers: TEST_VIEWER_HEADERS,
      })
    ).json()) as { incidents: unknown[] };
    expect(incidents.incidents).toEqual([]);
    expect(hook.received).toEqual([]);
  });

  it('goes when SNMP answers again, in the open page and the API', async () => {
    const { page } = ops;
    await page.goto(`${base}/#/sites/${SITE}`);
    await routerRow().locator('.pill.warning').waitFor();
    await simulator(`/devices/${ROUTER}/snmp-start`);
    await routerRow().locator('.pill.warning').waitFor({ state: 'detached', timeout: 30_000 });
    expect(await page.locator('[data-testid=site-warnings]').count()).toBe(0);
    const s = await siteJson();
    expect(s.warnings).toBe(0);
    expect(s.devices.find((d) => d.id === ROUTER)?.warning).toBeNull();
    expect(hook.received).toEqual([]);
    expect(ops.problems).toEqual([]);
  });
});
