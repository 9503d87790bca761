/**
 * Alerting over the whole running monitor: the fleet simulator on loopback, Debian's influxd, a webhook
 * receiver standing for on-call staff, and the HTTP API with real tokens. Six sites:
 *   hub       a kantor desa whose link carries two other sites (`upstream: hub`)
 *   behind-1, behind-2   reach the internet through the hub
 *   flappy    a router that goes up and down
 *   works     a school under maintenance
 *   quiet     never touched
 * Timeline:
 *   t0   every device up; the API refuses calls without a token, a viewer's operator action and bad bodies
 *   t1   the hub's router is cut: one page that lists the two sites behind it; their devices unreachable
 *        and silent; the feeds (GeoJSON and CAP over HTTP) show the outage and validate
 *   t2   the hub is restored: one recovery; the CAP feed's all-clear references the original alert
 *   t3   the flappy router goes down and up three times: one page, one flapping notice, one recovery
 *   t4   a maintenance window for `works` is declared over the API and its router cut: no page; the site
 *        shows as maintenance in the API and in InfluxDB; restored: no recovery page either
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../collector/core/log.ts';
import type { Device, Inventory, Site } from '../../collector/core/types.ts';
import { generateToken } from '../../collector/http/auth.ts';
import type { Notification } from '../../collector/notify/notification.ts';
import { startRuntime, type Runtime } from '../../collector/runtime.ts';
import { FleetSimulator } from '../../simulator/fleet.ts';
import { syntheticInventory } from '../../simulator/synthetic-inventory.ts';
import { validateCap } from '../support/cap-validate.ts';
import { validateGeoJson } from '../support/geojson-validate.ts';
import { influxRows, startTestInfluxd, type TestServer } from '../support/influx.ts';
import { testMonitorConfig } from '../support/monitor-config.ts';
import { freeUdpPort, waitFor } from '../support/ports.ts';
import { startWebhookPeer, type WebhookPeer } from '../support/webhook-peer.ts';

const DB = 'alerting_e2e';
const SETTLE_MS = 6000;

let dir: string;
let influx: TestServer;
let sim: FleetSimulator;
let runtime: Runtime;
let hook: WebhookPeer;
let pages: Notification[] = [];
const log = memoryLogger('info');
let inventory: Inventory;
const viewer = generateToken();
const operator = generateToken();
let hub: Site, behind1: Site, behind2: Site, flappy: Site, works: Site;

const routerOf = (s: Site): Device =>
  inventory.devices.find((d) => d.siteId === s.id && d.role === 'router')!;
const devicesOf = (s: Site): Device[] => inventory.devices.filter((d) => d.siteId === s.id);
const stateOf = (d: Device) => runtime.monitor.health.get(d.id)?.state;
const pagesFor = (s: Site) => pages.filter((p) => p.site?.id === s.id);

async function api(
  path: string,
  opts: { token?: string; method?: string; body?: string; type?: string } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers; text: string }> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = opts.type ?? 'application/json';
  const res = await fetch(`${runtime.http.url}${path}`, {
    method: opts.method ?? 'GET',
    headers,
    body: opts.body,
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // XML and Atom bodies stay in `text`.
  }
  return { status: res.status, body, headers: res.headers, text };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-alerting-'));
  influx = await startTestInfluxd();
  const base = syntheticInventory({
    sites: 6,
    port: await freeUdpPort(),
    seed: 6,
    hostOctet: 161 + Math.floor(Math.random() * 8),
  });
  const named = (i: number, name: string, category: Site['category'], extra: Partial<Site> = {}): Site => ({
    ...base.sites[i]!,
    name,
    category,
    criticality: category === 'sd' ? 'medium' : 'high',
    kecamatan: 'Petang',
    desa: 'Pangsan',
    ...extra,
  });
  const sites = [
    named(0, 'Kantor Desa Pangsan', 'kantor_desa'),
    named(1, 'Banjar Dukuh', 'banjar', { upstream: base.sites[0]!.id }),
    named(2, 'Banjar Tengah', 'banjar', { upstream: base.sites[0]!.id }),
    named(3, 'Pustu Pangsan', 'pustu'),
    named(4, 'SD Negeri 1 Pangsan', 'sd'),
    named(5, 'Banjar Sandakan', 'banjar'),
  ];
  inventory = { ...base, sites };
  [hub, behind1, behind2, flappy, works] = sites as [Site, Site, Site, Site, Site];
  sim = new FleetSimulator({ inventory, seed: 6 });
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
  runtime = await startRuntime(
    {
      ...config,
      alerts: { ...config.alerts, flapping: { settleMs: SETTLE_MS, flapThreshold: 2 } },
      api: {
        tokens: [
          { name: 'noc-wall', role: 'viewer', tokenHash: viewer.tokenHash },
          { name: 'ops-1', role: 'operator', tokenHash: operator.tokenHash },
        ],
        feedsPublic: false,
      },
    },
    { log },
  );
});

afterAll(async () => {
  await runtime?.stop();
  await sim?.stop();
  await hook?.stop();
  await influx?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('alerting: upstream links, flapping, maintenance, the API and the feeds', () => {
  it('t0: everything up; the API refuses what it must, with the right status and a clear message', async () => {
    await waitFor(() => inventory.devices.every((d) => stateOf(d) === 'up'), { timeoutMs: 20_000 });
    expect((await api('/health')).body).toEqual({ status: 'ok' });

    const anon = await api('/api/v1/incidents');
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
    expect(anon.body.message).toMatch(/no token/);

    const forged = await api('/api/v1/incidents', { token: generateToken().token });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toMatch(/invalid_token/);

    const asViewer = await api('/api/v1/silences', {
      token: viewer.token,
      method: 'POST',
      body: JSON.stringify({ scope: { sites: [hub.id] }, duration: '1h', comment: 'test' }),
    });
    expect(asViewer.status).toBe(403);
    expect(asViewer.body.message).toMatch(/operator role.*noc-wall.*viewer/);

    const badJson = await api('/api/v1/maintenance', {
      token: operator.token,
      method: 'POST',
      body: '{"name": ',
    });
    expect(badJson.status).toBe(400);
    expect(badJson.body.error).toBe('invalid_json');

    const badBody = await api('/api/v1/maintenance', {
      token: operator.token,
      method: 'POST',
      body: JSON.stringify({
        name: 'x',
        scope: { sites: [hub.id] },
        schedule: { kind: 'once', start: 'soon' },
      }),
    });
    expect(badBody.status).toBe(400);
    const paths = (badBody.body.issues as { path: string }[]).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['schedule.start', 'schedule.end']));

    const notJson = await api('/api/v1/silences', {
      token: operator.token,
      method: 'POST',
      body: 'a=b',
      type: 'text/plain',
    });
    expect(notJson.status).toBe(415);

    // A viewer reads.
    const sites = await api('/api/v1/sites', { token: viewer.token });
    expect(sites.status).toBe(200);
    expect((sites.body.sites as { state: string }[]).map((s) => s.state)).toEqual(Array(6).fill('up'));
    expect(pages).toEqual([]);
  });

  it('t1: the hub is cut: one page listing the sites behind it, which stay silent; the feeds show it', async () => {
    const router = routerOf(hub);
    sim.cutDevice(router.id);
    const behind = [...devicesOf(behind1), ...devicesOf(behind2)];
    await waitFor(() => stateOf(router) === 'down' && behind.every((d) => stateOf(d) === 'unreachable'), {
      timeoutMs: 15_000,
      what: 'hub down, the sites behind it unreachable',
    });
    await waitFor(() => pagesFor(hub).length === 1, { timeoutMs: 10_000, what: 'the hub page' });
    const page = pagesFor(hub)[0]!;
    expect(page).toMatchObject({ status: 'firing', kind: 'device_down', device: { id: router.id } });
    expect(page.affected.sites.map((s) => s.id).sort()).toEqual([behind1.id, behind2.id].sort());
    for (const name of [behind1.name, behind2.name]) {
      expect(page.text.id).toContain(name);
      expect(page.text.en).toContain(name);
    }
    // Two more poll rounds: nothing of their own from the sites behind.
    await new Promise((r) => setTimeout(r, 4500));
    expect(pages).toHaveLength(1);

    // The incident over the API.
    const list = await api('/api/v1/incidents?status=open', { token: viewer.token });
    const incidents = list.body.incidents as { id: string; siteId: string }[];
    expect(incidents.map((i) => i.siteId)).toEqual([hub.id]);

    // GeoJSON: the outage as a feature, RFC 7946-valid.
    const geo = await api('/feeds/outages.geojson', { token: viewer.token });
    expect(geo.status).toBe(200);
    expect(geo.headers.get('content-type')).toMatch(/application\/geo\+json/);
    expect(validateGeoJson(geo.body as never).errors).toEqual([]);
    const features = geo.body.features as { properties: { site?: { id: string } } }[];
    expect(features.some((f) => JSON.stringify(f.properties).includes(hub.id))).toBe(true);

    // CAP: the Atom index names one Alert, which validates against the CAP 1.2 element rules.
    expect((await api('/feeds/cap.atom')).status).toBe(401);
    const atom = await api('/feeds/cap.atom', { token: viewer.token });
    const hrefs = [
      ...atom.text.matchAll(/<link rel="alternate" type="application\/cap\+xml" href="([^"]+)"/g),
    ];
    expect(hrefs).toHaveLength(1);
    const capPath = new URL(hrefs[0]![1]!.replace(/&amp;/g, '&')).pathname;
    const cap = await api(capPath, { token: viewer.token });
    expect(cap.status).toBe(200);
    expect(validateCap(cap.text).errors).toEqual([]);
    expect(cap.text).toContain('<msgType>Alert</msgType>');
    expect(cap.text).toContain('<category>Infra</category>');
    expect(cap.text).toContain('<language>id-ID</language>');
    expect(cap.text).toContain('<language>en-US</language>');
    expect(cap.text).toContain('<circle>');
  });

  it('t2: the hub is restored: one recovery; the CAP all-clear references the alert', async () => {
    sim.restoreDevice(routerOf(hub).id);
    await waitFor(() => inventory.devices.every((d) => stateOf(d) === 'up'), { timeoutMs: 15_000 });
    // While the recovery settles, the API and the feeds say recovering, and until when (unless the
    // shared CPU made the test slower than the settle time, when it is over already).
    const site = await api(`/api/v1/sites/${hub.id}`, { token: viewer.token });
    if (pagesFor(hub).every((p) => p.status !== 'resolved')) {
      expect(site.body.state).toBe('recovering');
      const confirmAt = Date.parse(String(site.body.recoveryConfirmAt));
      expect(String(site.body.recoveryConfirmAt)).toMatch(/\+08:00$/);
      expect(confirmAt - Date.now()).toBeLessThanOrEqual(SETTLE_MS);
      const geo = await api('/feeds/outages.geojson', { token: viewer.token });
      const states = (geo.body.features as { properties: { state: string } }[]).map(
        (f) => f.properties.state,
      );
      if (pagesFor(hub).every((p) => p.status !== 'resolved')) expect(states).toEqual(['recovering']);
    }
    // Recoveries settle for SETTLE_MS before they are sent.
    await waitFor(() => pagesFor(hub).some((p) => p.status === 'resolved'), {
      timeoutMs: SETTLE_MS + 10_000,
      what: 'the hub recovery',
    });
    expect(pagesFor(hub).map((p) => p.status)).toEqual(['firing', 'resolved']);
    expect(pages).toHaveLength(2);

    const atom = await api('/feeds/cap.atom', { token: viewer.token });
    const href = /<link rel="alternate" type="application\/cap\+xml" href="([^"]+)"/.exec(atom.text)?.[1];
    expect(href).toBeDefined();
    const cap = await api(new URL(href!).pathname, { token: viewer.token });
    expect(validateCap(cap.text).errors).toEqual([]);
    expect(cap.text).toMatch(/<msgType>(Update|Cancel)<\/msgType>/);
    expect(cap.text).toMatch(/<references>[^<]+<\/references>/);
    const geo = await api('/feeds/outages.geojson', { token: viewer.token });
    expect(geo.body.features).toEqual([]);
  });

  it('t3: a flapping router: one page, one flapping notice, one recovery once it is stable', async () => {
    const router = routerOf(flappy);
    for (let i = 0; i < 3; i++) {
      sim.cutDevice(router.id);
      await waitFor(() => stateOf(router) === 'down', { timeoutMs: 10_000, what: `flap ${i}: down` });
      sim.restoreDevice(router.id);
      await waitFor(() => stateOf(router) === 'up', { timeoutMs: 10_000, what: `flap ${i}: up` });
    }
    // Flapping shows in the API while the recovery settles.
    const site = await api(`/api/v1/sites/${flappy.id}`, { token: viewer.token });
    expect(site.body.state).toBe('flapping');
    await waitFor(() => pagesFor(flappy).some((p) => p.status === 'resolved'), {
      timeoutMs: SETTLE_MS + 10_000,
      what: () =>
        `the flappy recovery; sent: ${JSON.stringify(pagesFor(flappy).map((p) => [p.kind, p.status]))}`,
    });
    expect(pagesFor(flappy).map((p) => `${p.kind}/${p.status}`)).toEqual([
      'device_down/firing',
      'flapping/firing',
      'device_down/resolved',
    ]);
    expect(pagesFor(flappy)[1]!.text.id + pagesFor(flappy)[1]!.text.en).toMatch(/flap/i);
    const incidents = (await api(`/api/v1/incidents?site=${flappy.id}`, { token: viewer.token })).body
      .incidents as { id: string; status: string }[];
    expect(incidents).toHaveLength(1);
    const detail = await api(`/api/v1/incidents/${incidents[0]!.id}`, { token: viewer.token });
    expect((detail.body.timeline as { type: string }[]).filter((e) => e.type === 'flap')).toHaveLength(2);
  });

  it('t4: a cut inside a maintenance window pages nobody; the time shows as maintenance', async () => {
    const now = Date.now();
    const created = await api('/api/v1/maintenance', {
      token: operator.token,
      method: 'POST',
      body: JSON.stringify({
        name: 'Ganti router SD / router replacement',
        scope: { sites: [works.id] },
        schedule: {
          kind: 'once',
          start: new Date(now - 60_000).toISOString(),
          end: new Date(now + 30 * 60_000).toISOString(),
        },
        reason: 'router replacement',
      }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/api/v1/maintenance/${String(created.body.id)}`);
    expect((await api(`/api/v1/sites/${works.id}`, { token: viewer.token })).body.state).toBe('maintenance');

    const before = pages.length;
    const router = routerOf(works);
    sim.cutDevice(router.id);
    await waitFor(() => stateOf(router) === 'down', { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 3000));
    sim.restoreDevice(router.id);
    await waitFor(() => stateOf(router) === 'up', { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, SETTLE_MS + 1500));
    expect(pages.slice(before)).toEqual([]);

    // Recorded, not paged: the incident's timeline says why.
    const incidents = (await api(`/api/v1/incidents?site=${works.id}`, { token: viewer.token })).body
      .incidents as { id: string }[];
    expect(incidents).toHaveLength(1);
    const detail = await api(`/api/v1/incidents/${incidents[0]!.id}`, { token: viewer.token });
    expect((detail.body.timeline as { type: string }[]).map((e) => e.type)).toContain('suppressed');
    expect(detail.body.notifications).toEqual([]);

    // InfluxDB marks the time as maintenance; deleting the window ends it there too.
    const rows = async () =>
      influxRows(influx.url, DB, `SELECT active, reason FROM maintenance WHERE site = '${works.id}'`);
    await waitFor(async () => (await rows()).length === 1, { timeoutMs: 10_000 });
    expect((await rows())[0]).toMatchObject({ active: 1, reason: 'Ganti router SD / router replacement' });
    const del = await api(`/api/v1/maintenance/${String(created.body.id)}`, {
      token: operator.token,
      method: 'DELETE',
    });
    expect(del.status).toBe(204);
    await waitFor(async () => (await rows()).length === 2, { timeoutMs: 10_000 });
    expect((await rows())[1]).toMatchObject({ active: 0 });
    expect((await api(`/api/v1/sites/${works.id}`, { token: viewer.token })).body.state).toBe('up');
  });
});
