/**
 * The public status page against the real monitor: the runtime (as npm start runs it) polling the fleet
 * simulator over SNMP, writing to a real InfluxDB. A router is cut; an operator acknowledges the incident
 * with a distinctive note. Then /status and /status.json, read with no token, show the outage (site, desa,
 * since when, being handled) and the 30/90-day availability from InfluxDB, and nothing internal: no IP
 * address (the simulator's devices are all on 127.x addresses), no device id, no token, no note.
 * Real Chromium renders the page at 1280 and 360 px (var/screenshots/status.png, status-360.png).
 * The feeds take a feed key in the URL and refuse an operator token there. Turned off: 404.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../collector/core/log.ts';
import type { Device, Inventory, Site } from '../../collector/core/types.ts';
import { generateFeedKey } from '../../collector/feeds/keys.ts';
import { generateToken } from '../../collector/http/auth.ts';
import { startRuntime, type Runtime } from '../../collector/runtime.ts';
import type { MonitorConfig } from '../../config/monitor.ts';
import { FleetSimulator } from '../../simulator/fleet.ts';
import { syntheticInventory } from '../../simulator/synthetic-inventory.ts';
import { startTestInfluxd, type TestServer } from '../support/influx.ts';
import { TEST_VIEWER, testMonitorConfig } from '../support/monitor-config.ts';
import { freeUdpPort, waitFor } from '../support/ports.ts';
import { screenshot } from '../support/screenshot.ts';

const NOTE = 'CATATAN-INTERNAL-zq81 kunci di pos satpam / key at the guard post';
const IPV4 = /\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b/;
const SCREENSHOTS = join(process.cwd(), 'var', 'screenshots');

const operator = generateToken();
const feedKey = generateFeedKey();

let dir: string;
let influx: TestServer;
let sim: FleetSimulator;
let runtime: Runtime | undefined;
let config: MonitorConfig;
let inventory: Inventory;
let cutSite: Site;

const routerOf = (s: Site): Device =>
  inventory.devices.find((d) => d.siteId === s.id && d.role === 'router')!;
const stateOf = (id: string) => runtime?.monitor.health.get(id)?.state;

interface StatusDoc {
  schema: string;
  totals: { sites: number; working: number; down: number };
  byKecamatan: {
    kecamatan: string;
    sites: number;
    down: number;
    availability30d: number | null;
    availability90d: number | null;
  }[];
  outages: { site: string; desa: string; kecamatan: string; since: string; handled: boolean }[];
  availability: { overall30d: number | null } | null;
}
const statusJson = async (): Promise<StatusDoc> => {
  const r = await fetch(`${runtime!.http.url}/status.json`);
  if (r.status !== 200) throw new Error(`/status.json: ${r.status}`);
  return (await r.json()) as StatusDoc;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-status-'));
  influx = await startTestInfluxd();
  const synthetic = syntheticInventory({
    sites: 6,
    port: await freeUdpPort(),
    seed: 11,
    hostOctet: 191 + Math.floor(Math.random() * 8),
  });
  // Real places, two kecamatan; a name with characters HTML must escape.
  const places = [
    { name: 'SD Negeri 3 Kuta "Pantai" & <Pura>', kecamatan: 'Kuta', desa: 'Kedonganan' },
    { name: 'Banjar Tegal', kecamatan: 'Kuta', desa: 'Kedonganan' },
    { name: 'Kantor Desa Tuban', kecamatan: 'Kuta', desa: 'Tuban' },
    { name: 'Puskesmas Petang I', kecamatan: 'Petang', desa: 'Belok Sidan' },
    { name: 'Banjar Kiadan', kecamatan: 'Petang', desa: 'Pelaga' },
    { name: 'SD Negeri 1 Pelaga', kecamatan: 'Petang', desa: 'Pelaga' },
  ];
  inventory = {
    ...synthetic,
    sites: synthetic.sites.map((s, i) => ({ ...s, ...places[i]! })),
  };
  cutSite = inventory.sites[0]!;
  sim = new FleetSimulator({ inventory, seed: 11 });
  await sim.start();
  const base = await testMonitorConfig({ inventory, influxUrl: influx.url, database: 'status_e2e', dir });
  config = {
    ...base,
    api: {
      feedsPublic: false,
      tokens: [
        ...(base.api?.tokens ?? []),
        { name: 'ops-1', role: 'operator', tokenHash: operator.tokenHash },
      ],
    },
    feeds: {
      sender: 'netmon@kominfo.badungkab.go.id',
      senderName: 'Diskominfo Kabupaten Badung',
      recentMs: 3600_000,
      push: [],
      keys: [{ name: 'bpbd-map', keyHash: feedKey.keyHash }],
    },
    status: { enabled: true, rebuildMs: 1000, availabilityRefreshMs: 2000 },
  };
  runtime = await startRuntime(config, { log: memoryLogger('warn') });
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  await sim?.stop();
  await influx?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the public status page during an outage', () => {
  let html = '';
  let json = '';

  it('shows the cut router as an outage being handled, after an operator acknowledged it', async () => {
    await waitFor(() => inventory.devices.every((d) => stateOf(d.id) === 'up'), {
      timeoutMs: 20_000,
      what: 'every device up',
    });
    // The page follows within its rebuild period (1 s here, plus the change delay).
    const calm = await waitFor(
      async () => {
        const doc = await statusJson();
        return doc.totals.working === 6 ? doc : undefined;
      },
      { timeoutMs: 10_000, what: 'all six sites working on /status.json' },
    );
    expect(calm.totals).toMatchObject({ sites: 6, working: 6, down: 0 });
    expect(calm.outages).toEqual([]);

    sim.cutDevice(routerOf(cutSite).id);
    await waitFor(() => stateOf(routerOf(cutSite).id) === 'down', { timeoutMs: 15_000, what: 'router down' });
    const incident = await waitFor(() => runtime?.store.unresolved().find((i) => i.siteId === cutSite.id), {
      timeoutMs: 10_000,
      what: 'an open incident',
    });
    // Not handled yet.
    const open = await waitFor(
      async () => (await statusJson()).outages.find((o) => o.site === cutSite.name),
      {
        timeoutMs: 10_000,
        what: 'the outage on /status.json',
      },
    );
    expect(open.handled).toBe(false);

    const ack = await fetch(`${runtime!.http.url}/api/v1/incidents/${encodeURIComponent(incident.id)}/ack`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operator.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ note: NOTE }),
    });
    expect(ack.status).toBe(200);
    const handled = await waitFor(
      async () => (await statusJson()).outages.find((o) => o.site === cutSite.name && o.handled),
      { timeoutMs: 10_000, what: 'the outage shown as handled' },
    );
    expect(handled).toMatchObject({ desa: 'Kedonganan', kecamatan: 'Kuta' });
    expect(handled.since).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00\+08:00$/);
    expect(Math.abs(Date.parse(handled.since) - incident.openedAt)).toBeLessThan(120_000);

    // Availability from InfluxDB: the outage is in Kuta's figures, Petang's are whole.
    const withAvailability = await waitFor(
      async () => {
        const doc = await statusJson();
        const kuta = doc.byKecamatan.find((k) => k.kecamatan === 'Kuta');
        return kuta?.availability30d !== null && (kuta?.availability30d ?? 100) < 100 ? doc : undefined;
      },
      { timeoutMs: 20_000, what: "Kuta's availability below 100 %" },
    );
    const kuta = withAvailability.byKecamatan.find((k) => k.kecamatan === 'Kuta')!;
    expect(kuta.availability30d).toBeGreaterThan(0);
    expect(kuta.availability90d).toBe(kuta.availability30d);
    expect(withAvailability.byKecamatan.find((k) => k.kecamatan === 'Petang')?.availability30d).toBe(100);
    expect(kuta).toMatchObject({ sites: 3, down: 1 });

    const page = await fetch(`${runtime!.http.url}/status`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    html = await page.text();
    json = JSON.stringify(await statusJson());
  }, 90_000);

  it('the page names the site, its desa, since when (WITA) and that it is being handled, in both languages', () => {
    expect(html).toContain('SD Negeri 3 Kuta &quot;Pantai&quot; &amp; &lt;Pura&gt;');
    expect(html).toContain('Kedonganan');
    expect(html).toMatch(/Sejak <span class="en" lang="en">\/ Since<\/span>: .* WITA/);
    expect(html).toContain('Sedang ditangani');
    expect(html).toContain('Being handled');
    expect(html).toContain('Per kecamatan');
    expect(html).not.toMatch(/<script/i);
  });

  it('shows no IP address, device id, token or note, on the page or in the JSON', () => {
    for (const [what, doc] of [
      ['html', html],
      ['json', json],
    ] as const) {
      expect(doc.match(IPV4)?.[0], `${what}: an IPv4 address`).toBeUndefined();
      for (const d of inventory.devices) expect(doc, `${what}: device id ${d.id}`).not.toContain(d.id);
      for (const t of [TEST_VIEWER.token, operator.token, feedKey.key, 'bnm_', 'bnf_'])
        expect(doc, `${what}: a token`).not.toContain(t);
      expect(doc, `${what}: the note`).not.toContain('CATATAN-INTERNAL');
      expect(doc, `${what}: who acknowledged`).not.toContain('ops-1');
    }
    // The checks can fail: the same page with an address in it is caught.
    expect(`${html}<p>127.191.0.1</p>`).toMatch(IPV4);
  });

  it('renders in Chromium at 1280 and 360 px: readable, the outage on it, no sideways scrolling at 360', async () => {
    const url = `${runtime!.http.url}/status`;
    for (const [width, file] of [
      [1280, 'status.png'],
      [360, 'status-360.png'],
    ] as const) {
      const shot = await screenshot(url, width, join(SCREENSHOTS, file));
      const png = PNG.sync.read(shot.png);
      expect(png.width).toBe(width);
      expect(png.height).toBeGreaterThan(600);
      // Pixel variance: a blank or single-colour page has none.
      let sum = 0;
      let sumSq = 0;
      let dark = 0;
      const n = png.width * png.height;
      for (let i = 0; i < n; i++) {
        const l = 0.299 * png.data[i * 4]! + 0.587 * png.data[i * 4 + 1]! + 0.114 * png.data[i * 4 + 2]!;
        sum += l;
        sumSq += l * l;
        if (l < 80) dark++;
      }
      const sd = Math.sqrt(sumSq / n - (sum / n) ** 2);
      expect(sd, `${file}: luminance standard deviation`).toBeGreaterThan(20);
      expect(dark / n, `${file}: share of dark (text) pixels`).toBeGreaterThan(0.005);
      expect(shot.text).toContain('SD Negeri 3 Kuta "Pantai" & <Pura>');
      expect(shot.text).toContain('Sedang ditangani');
      expect(shot.text).toContain('Status Wi-Fi Publik Kabupaten Badung');
      expect(shot.text).toMatch(/\d+\.\d\d%/);
      expect(shot.scrollWidth, `${file}: page width`).toBeLessThanOrEqual(width);
      expect(shot.scrollingInside, `${file}: boxes that scroll sideways`).toEqual([]);
      expect(shot.text).toContain('90 hari');
      expect(shot.extraRequests).toEqual([]);
    }
  }, 120_000);

  it('the feeds take a feed key in the URL and refuse an operator token there', async () => {
    const base = `${runtime!.http.url}/feeds/outages.geojson`;
    const byKey = await fetch(`${base}?key=${feedKey.key}`);
    expect(byKey.status).toBe(200);
    const geo = (await byKey.json()) as { features: unknown[] };
    expect(geo.features.length).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${base}?token=${TEST_VIEWER.token}`)).status).toBe(200);
    const refused = await fetch(`${base}?token=${operator.token}`);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toMatch(/feed key/);
    expect((await fetch(base)).status).toBe(401);
  });

  it('turned off in the config: /status and /status.json are 404, the rest runs', async () => {
    await runtime?.stop();
    runtime = await startRuntime(
      { ...config, status: { ...config.status!, enabled: false } },
      {
        log: memoryLogger('warn'),
      },
    );
    expect(runtime.statusPage).toBeUndefined();
    expect((await fetch(`${runtime.http.url}/status`)).status).toBe(404);
    expect((await fetch(`${runtime.http.url}/status.json`)).status).toBe(404);
    expect((await fetch(`${runtime.http.url}/health`)).status).toBe(200);
  }, 30_000);
});
