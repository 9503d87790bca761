/**
 * The operators' console in real Chromium against the running monitor (the runtime `npm start` runs),
 * the fleet simulator and real InfluxDB. Written as what people do:
 *   an operator signs in; the map shows one marker per site, over the kecamatan outlines, nothing fetched
 *     from anywhere but the monitor;
 *   a site's router is cut in the simulator: its marker turns to down in the open page, with no reload
 *     (the delay from the monitor's decision to the page's change is printed; the goal is under 2 s);
 *   on a 360 px phone the operator opens the incident and acknowledges it with a note: the note is in the
 *     timeline;
 *   a maintenance window is made from the form (its scope previewed) and deleted;
 *   a report downloads as PDF and CSV;
 *   a viewer sees no acknowledge button, and a POST forged in their session gets 403;
 *   a write without the CSRF token is refused; wrong passwords are slowed down.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, type LogRecord } from '../../collector/core/log.ts';
import type { Device, Site } from '../../collector/core/types.ts';
import { startRuntime, type Runtime } from '../../collector/runtime.ts';
import { FleetSimulator } from '../../simulator/fleet.ts';
import { syntheticInventory } from '../../simulator/synthetic-inventory.ts';
import {
  launchBrowser,
  markersOnMap,
  openConsole,
  screenshot,
  signIn,
  type ConsoleContext,
} from '../support/console-browser.ts';
import { addConsoleUser } from '../support/console-users.ts';
import { startTestInfluxd, type TestServer } from '../support/influx.ts';
import { testMonitorConfig } from '../support/monitor-config.ts';
import { freeUdpPort, waitFor } from '../support/ports.ts';

const DB = 'console_e2e';
const OPERATOR = { name: 'ops-ayu', password: 'kopi-tubruk-Jimbaran-42' };
const VIEWER = { name: 'planner-made', password: 'nasi-campur-Sangeh-17' };

let dir: string;
let influx: TestServer;
let sim: FleetSimulator;
let runtime: Runtime;
let browser: Browser;
let base: string;
let sites: readonly Site[];
let devices: readonly Device[];
let ops: ConsoleContext;
const logs: LogRecord[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-console-'));
  influx = await startTestInfluxd();
  const port = await freeUdpPort();
  const inventory = syntheticInventory({
    sites: 12,
    port,
    seed: 11,
    hostOctet: 141 + Math.floor(Math.random() * 8),
  });
  sites = inventory.sites;
  devices = inventory.devices;
  sim = new FleetSimulator({ inventory, seed: 11 });
  await sim.start();
  const usersFile = join(dir, 'users.yaml');
  await addConsoleUser(usersFile, OPERATOR.name, 'operator', OPERATOR.password);
  await addConsoleUser(usersFile, VIEWER.name, 'viewer', VIEWER.password);
  const config = await testMonitorConfig({ inventory, influxUrl: influx.url, database: DB, dir });
  const log = createLogger({ level: 'info', write: (_line, rec) => logs.push(rec) });
  runtime = await startRuntime(
    {
      ...config,
      console: {
        enabled: true,
        usersFile,
        sessionsFile: join(dir, 'sessions.db'),
        sessionIdleMs: 12 * 3600_000,
        sessionMaxMs: 7 * 86_400_000,
        secureCookies: false,
        trustProxy: false,
        maxEventClients: 50,
        tileUrl: '',
        tileAttribution: '',
      },
    },
    { log },
  );
  base = runtime.http.url;
  browser = await launchBrowser();
  ops = await openConsole(browser, base);
  await waitFor(() => devices.every((d) => runtime.monitor.health.get(d.id)?.state === 'up'), {
    timeoutMs: 30_000,
  });
});

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
  await sim?.stop();
  await influx?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The router of a site, and the site. */
function routerOf(i: number): { site: Site; router: Device } {
  const site = sites[i];
  const router = devices.find((d) => d.siteId === site?.id && d.role === 'router');
  if (!site || !router) throw new Error(`site ${i} has no router`);
  return { site, router };
}

describe('the console in Chromium on the running monitor', () => {
  it('signs in and shows one marker per site over the outlines, fetching nothing from elsewhere', async () => {
    const { page } = ops;
    await signIn(page, base, OPERATOR.name, OPERATOR.password);
    await page.locator('[data-testid=shown][data-count]').waitFor();
    await waitFor(async () => {
      const m = await markersOnMap(page);
      return m.singles.length + m.clustered === sites.length;
    });
    const m = await markersOnMap(page);
    expect(new Set(m.singles).size).toBe(m.singles.length);
    expect(await page.locator('[data-testid=shown]').getAttribute('data-count')).toBe(String(sites.length));
    expect(await page.locator('path.kec-outline').count()).toBeGreaterThan(0);
    expect(await page.locator('.legend-item[data-state=up]').getAttribute('data-count')).toBe(
      String(sites.length),
    );
    await expect(page.locator('header.top').textContent()).resolves.toContain(OPERATOR.name);
    const shot = await screenshot(page, 'map');
    expect(shot.stddev).toBeGreaterThan(10);
    expect(shot.colours).toBeGreaterThan(20);
    expect(ops.foreign).toEqual([]);
    expect(ops.problems).toEqual([]);
  });

  it("turns a cut site's marker to down in the open page, without a reload", async () => {
    const { page } = ops;
    const { site, router } = routerOf(2);
    await page.goto(`${base}/#/map?focus=${encodeURIComponent(site.id)}`);
    const marker = page.locator(`.site-pin[data-site="${site.id}"]`);
    await marker.waitFor();
    expect(await marker.getAttribute('data-state')).toBe('up');
    await page.evaluate(() => {
      (globalThis as { notReloaded?: boolean }).notReloaded = true;
    });
    sim.cutDevice(router.id);
    await page.locator(`.site-pin[data-site="${site.id}"][data-state=down]`).waitFor({ timeout: 30_000 });
    const changed = page.locator(`.site-pin[data-site="${site.id}"]`);
    const changedAt = Number(await changed.getAttribute('data-changed-at'));
    const eventAt = Number(await changed.getAttribute('data-event-at'));
    const delayMs = changedAt - eventAt;
    console.log(`console: site ${site.id} down in the page ${delayMs} ms after the monitor decided it`);
    expect(eventAt).toBeGreaterThan(0);
    expect(delayMs).toBeGreaterThanOrEqual(0);
    expect(delayMs).toBeLessThan(2000);
    expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(true);
    // The focused site's panel is open and follows the change; the state filter finds it.
    const panel = page.locator(`[data-testid=site-panel][data-site="${site.id}"]`);
    await panel.locator('[data-state=down]').first().waitFor();
    await expect(panel.textContent()).resolves.toContain(site.name);
    await page.locator('select[name=state]').selectOption('down');
    await page.locator('[data-testid=shown][data-count="1"]').waitFor();
    await page.locator('select[name=state]').selectOption('');
    await page.locator(`[data-testid=shown][data-count="${sites.length}"]`).waitFor();
  });

  it('acknowledges the incident with a note on a 360 px phone, and the note is in the timeline', async () => {
    const { site } = routerOf(2);
    const phone = await openConsole(browser, base, { width: 360, height: 740 });
    try {
      const { page } = phone;
      await signIn(page, base, OPERATOR.name, OPERATOR.password);
      await page.goto(`${base}/#/incidents`);
      const card = page.locator('a.incident-card[data-status=open]').first();
      await card.waitFor({ timeout: 30_000 });
      await expect(card.textContent()).resolves.toContain(sites.find((s) => s.id === site.id)?.name);
      await card.click();
      const ack = page.locator('[data-testid=ack]');
      await ack.waitFor();
      const box = await ack.boundingBox();
      expect(box && box.x >= 0 && box.x + box.width <= 360).toBe(true); // on screen, no sideways scroll
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
      const shot = await screenshot(page, 'incident-phone');
      expect(shot.width).toBe(360);
      expect(shot.stddev).toBeGreaterThan(10);
      expect(shot.colours).toBeGreaterThan(20);
      await page.locator('textarea[name=note]').fill('Teknisi menuju lokasi / technician on the way');
      await ack.click();
      await page.locator('[data-testid=status]', { hasText: /Ditangani|Acknowledged/ }).waitFor();
      const timeline = page.locator('[data-testid=timeline]');
      await timeline.locator('blockquote', { hasText: 'technician on the way' }).waitFor();
      await expect(timeline.textContent()).resolves.toContain(OPERATOR.name);
      expect(phone.problems).toEqual([]);
    } finally {
      await phone.context.close();
    }
  });

  it("shows a site's page: its devices (the cut router down), its last 24 h from InfluxDB, its incidents", async () => {
    const { page } = ops;
    const { site, router } = routerOf(2);
    await page.goto(`${base}/#/sites/${encodeURIComponent(site.id)}`);
    await page.locator(`[data-testid=devices] tr[data-device="${router.id}"] [data-state=down]`).waitFor();
    const history = page.locator('[data-testid=history]');
    // The state strip has the down period, from what the monitor wrote to InfluxDB.
    await waitFor(
      async () => {
        await page.goto(`${base}/#/sites/${encodeURIComponent(site.id)}?t=${Date.now()}`);
        await history.locator('figure').first().waitFor();
        return (await history.locator('rect[data-state=down]').count()) > 0;
      },
      { timeoutMs: 30_000 },
    );
    expect(await history.locator('polyline[data-series=in], circle[data-series=in]').count()).toBeGreaterThan(
      0,
    );
    await page.locator('[data-testid=site-incidents] a.incident-card').first().waitFor();
    expect(ops.problems).toEqual([]);
  });

  it('shows the monitor health: polls per second, failures by reason, the write buffer', async () => {
    const { page } = ops;
    await page.goto(`${base}/#/health`);
    const pps = page.locator('[data-testid=pps] b');
    await waitFor(async () => Number(await pps.textContent()) > 0, { timeoutMs: 15_000 });
    await expect(page.locator('[data-testid=failures]').textContent()).resolves.toContain('timeout');
    await expect(page.locator('[data-testid=buffer]').textContent()).resolves.toContain('written');
  });

  it('switches to English and remembers it for the user after a reload', async () => {
    const { page } = ops;
    await page.goto(`${base}/#/incidents`);
    await page.locator('nav a[data-nav=incidents]', { hasText: 'Insiden' }).waitFor();
    await page.locator('[data-testid=lang-switch]').click();
    await page.locator('nav a[data-nav=incidents]', { hasText: 'Incidents' }).waitFor();
    await page.reload();
    await page.locator('nav a[data-nav=maintenance]', { hasText: 'Maintenance' }).waitFor();
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await page.locator('[data-testid=lang-switch]').click(); // back to Bahasa Indonesia for the rest
    await page.locator('nav a[data-nav=maintenance]', { hasText: 'Pemeliharaan' }).waitFor();
  });

  it('creates a maintenance window and a silence from their forms, with a preview of the scope, and deletes them', async () => {
    const { page } = ops;
    await page.goto(`${base}/#/maintenance`);
    const form = page.locator('form[data-testid=maintenance-form]');
    await form.waitFor();
    const kec = sites[0]?.kecamatan ?? '';
    const inKec = sites.filter((s) => s.kecamatan === kec).length;
    await form.locator('input[name=name]').fill('Ganti router / router swap');
    await form.locator('select[name=scopeKecamatan]').selectOption([kec]);
    await form.locator(`[data-testid=preview][data-sites="${inKec}"]`).waitFor();
    await form.locator('input[name=reason]').fill('PLN pemadaman terjadwal / scheduled power cut');
    await form.locator('button[type=submit]').click();
    const item = page.locator('[data-testid=windows] li', { hasText: 'Ganti router / router swap' });
    await item.waitFor();
    page.once('dialog', (d) => void d.accept());
    await item.locator('[data-testid=delete]').click();
    await item.waitFor({ state: 'detached' });
    // A silence by category, from its own form, then deleted.
    const silence = page.locator('form[data-testid=silence-form]');
    const cat = sites[0]?.category ?? 'banjar';
    await silence.locator('select[name=scopeKind]').selectOption('categories');
    await silence.locator('select[name=scopeCategories]').selectOption([cat]);
    await silence
      .locator(`[data-testid=preview][data-sites="${sites.filter((s) => s.category === cat).length}"]`)
      .waitFor();
    await silence.locator('select[name=duration]').selectOption('1h');
    await silence.locator('input[name=comment]').fill('PLN padam / power cut');
    await silence.locator('button[type=submit]').click();
    const quiet = page.locator('[data-testid=silences] li', { hasText: 'PLN padam / power cut' });
    await quiet.waitFor();
    page.once('dialog', (d) => void d.accept());
    await quiet.locator('[data-testid=delete]').click();
    await quiet.waitFor({ state: 'detached' });
    expect(ops.problems).toEqual([]);
  });

  it('downloads the month report as PDF and CSV', async () => {
    const { page } = ops;
    await page.goto(`${base}/#/reports`);
    for (const [id, magic] of [
      ['download-pdf', '%PDF-'],
      ['download-csv', ''],
    ] as const) {
      const link = page.locator(`[data-testid=${id}]`);
      await link.waitFor();
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: 90_000 }),
        link.click(),
      ]);
      const path = await download.path();
      const body = readFileSync(path);
      expect(body.length).toBeGreaterThan(100);
      if (magic) expect(body.subarray(0, 5).toString('latin1')).toBe(magic);
      else expect(body.toString('utf8')).toContain(sites[0]?.id);
      expect(download.suggestedFilename()).toMatch(/^badung-netmon-.*\.(pdf|csv)$/);
    }
  });

  it('shows a viewer no acknowledge button, and refuses a POST forged in their session (403)', async () => {
    const viewer = await openConsole(browser, base);
    try {
      const { page } = viewer;
      await signIn(page, base, VIEWER.name, VIEWER.password);
      await page.goto(`${base}/#/incidents?status=open,acknowledged`);
      await page.locator('a.incident-card').first().click();
      await page.locator('[data-testid=timeline]').waitFor();
      expect(await page.locator('[data-testid=ack], [data-testid=resolve]').count()).toBe(0);
      await page.goto(`${base}/#/maintenance`);
      await page.locator('[data-testid=windows]').waitFor();
      expect(await page.locator('form[data-testid=maintenance-form]').count()).toBe(0);
      const incidentId = (runtime.store.list({ status: ['open', 'acknowledged'], limit: 1 })[0] ?? { id: '' })
        .id;
      const forged = await page.evaluate(async (id) => {
        const s = (await (await fetch('/api/v1/session')).json()) as { csrfToken: string };
        const r = await fetch(`/api/v1/incidents/${id}/resolve`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken },
          body: JSON.stringify({ note: 'forged' }),
        });
        return { status: r.status, body: await r.text() };
      }, incidentId);
      expect(forged.status).toBe(403);
      expect(forged.body).toContain('operator');
    } finally {
      await viewer.context.close();
    }
  });

  it('refuses a write without the CSRF token, even with the session cookie', async () => {
    const r = await ops.page.evaluate(async () => {
      const res = await fetch('/api/v1/silences', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ scope: { sites: ['x'] }, duration: '1h', comment: 'no token' }),
      });
      return { status: res.status, body: await res.text() };
    });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body)).toMatchObject({ error: 'csrf' });
  });

  it('slows down wrong passwords: after 3 failures the form says when to try again', async () => {
    const other = await openConsole(browser, base);
    try {
      const { page } = other;
      await page.goto(`${base}/`);
      const statuses: number[] = [];
      page.on('response', (res) => {
        if (res.url().endsWith('/api/v1/session') && res.request().method() === 'POST')
          statuses.push(res.status());
      });
      for (let i = 0; i < 4; i++) {
        await page.locator('input[name=username]').fill(OPERATOR.name);
        await page.locator('input[name=password]').fill(`wrong-${i}`);
        await page.locator('button[type=submit]').click();
        await waitFor(() => statuses.length === i + 1);
      }
      expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
      expect(statuses[3]).toBe(429);
      await expect(page.locator('[data-testid=signin-error]').textContent()).resolves.toMatch(
        /Coba lagi dalam \d+ detik|Try again in \d+ seconds/,
      );
    } finally {
      await other.context.close();
    }
  });
});
