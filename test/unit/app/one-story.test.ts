/**
 * Issue #10: every surface tells one story. The Monitor on fake time with a real (in-memory) SQLite store,
 * behind the real v1 API and feeds router on 127.0.0.1 port 0:
 * - while a recovery settles, the site and its incident are `recovering` with the time it is confirmed, in
 *   the API, the GeoJSON and CAP feeds and the `site_state` points; then `up` / resolved, and RECOVERED;
 * - a silenced outage records who silenced it and until when, the feeds mark it, and deleting the
 *   silence is logged as a silence, not as maintenance;
 * - v1 times are ISO 8601 with +08:00; incidents carry their site's name, category, desa and kecamatan;
 * - windows already over and scopes naming what the inventory lacks are refused with 400.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Monitor } from '../../../collector/monitor.ts';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { Sample } from '../../../collector/core/types.ts';
import { feedsRouter } from '../../../collector/feeds/routes.ts';
import { generateToken } from '../../../collector/http/auth.ts';
import { startHttp, type RunningHttp } from '../../../collector/http/server.ts';
import { MonitorApi } from '../../../collector/monitor-service.ts';
import { IncidentStore } from '../../../collector/store/incident-store.ts';
import { smallInventory } from '../../support/fixtures.ts';
import { advance, RecordingChannel, ScriptedPoller } from '../../support/monitor-fakes.ts';

const MIN = 60_000;
const SETTLE_MS = 2 * MIN;
/** 2026-12-03 22:00 WITA. */
const START = Date.parse('2026-12-03T22:00:00+08:00');
const ROUTER = 'pkm-petang-1-r1';
const SITE = 'pkm-petang-1';
const ISO_WITA = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+08:00$/;

const viewer = generateToken();
const operator = generateToken();
const TOKENS = [
  { name: 'noc-wall', role: 'viewer' as const, tokenHash: viewer.tokenHash },
  { name: 'ops-1', role: 'operator' as const, tokenHash: operator.tokenHash },
];

type Json = Record<string, unknown>;

async function build() {
  const clock = new FakeClock(START);
  const poller = new ScriptedPoller(clock);
  const store = new IncidentStore(':memory:');
  const noc = new RecordingChannel('tg-noc');
  // A machine-read feed (as CapPushNotifier): it also hears that an outage is recovering.
  const bpbd = Object.assign(new RecordingChannel('cap:bpbd'), { statusUpdates: true });
  const points: Sample[] = [];
  const log = memoryLogger('info');
  const monitor = new Monitor(
    {
      clock,
      log,
      inventory: smallInventory(),
      poller,
      writer: {
        push: (s) => void points.push(...s),
        start: () => Promise.resolve(),
        stop: () => Promise.resolve(),
        stats: () => ({ written: 0, buffered: 0, dropped: 0, invalid: 0, failures: 0 }),
      },
      notifiers: [noc, bpbd],
      store,
    },
    {
      intervalMs: MIN,
      jitterMs: 0,
      concurrency: 8,
      downAfterFailures: 2,
      recheckMs: 10_000,
      selfMetricsMs: 10 * MIN,
      siteStateMs: 30_000,
      flapping: { settleMs: SETTLE_MS, flapThreshold: 2 },
    },
  );
  const http = await startHttp(new MonitorApi(monitor, store, clock), {
    listen: { host: '127.0.0.1', port: 0 },
    tokens: TOKENS,
    log: memoryLogger('warn'),
    clock,
    feeds: feedsRouter(monitor, {
      clock,
      cap: { sender: 'netmon@kominfo.badungkab.go.id' },
      baseUrl: 'http://127.0.0.1/feeds',
    }),
  });
  const siteChanges: string[] = [];
  monitor.onSiteChange((siteId) => siteChanges.push(siteId));
  const api = async (
    path: string,
    opts: { method?: string; body?: unknown; token?: string } = {},
  ): Promise<{ status: number; json: Json; text: string }> => {
    const res = await fetch(`${http.url}${path}`, {
      method: opts.method ?? 'GET',
      headers: {
        authorization: `Bearer ${opts.token ?? viewer.token}`,
        ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const text = await res.text();
    let json: Json = {};
    try {
      json = JSON.parse(text) as Json;
    } catch {
      // not JSON (CAP, Atom)
    }
    return { status: res.status, json, text };
  };
  return { clock, poller, store, noc, bpbd, points, log, monitor, http, api, siteChanges };
}

let running: { monitor: Monitor; http: RunningHttp; store: IncidentStore } | undefined;
afterEach(async () => {
  if (!running) return;
  await running.http.close();
  await running.monitor.stop();
  running.store.close();
  running = undefined;
});

describe('one story while a recovery settles', () => {
  it('API, feeds and site_state say recovering with the confirm time; then up, resolved and RECOVERED', async () => {
    const h = await build();
    running = h;
    await h.monitor.start();
    await advance(h.clock, 2 * MIN, 10_000);
    expect((await h.api(`/api/v1/sites/${SITE}`)).json.state).toBe('up');

    h.poller.cut.add(ROUTER);
    await advance(h.clock, 3 * MIN, 10_000);
    expect(h.noc.sent.map((n) => n.status)).toEqual(['firing']);
    const downAt = h.store.unresolved()[0]!.openedAt;

    h.poller.cut.delete(ROUTER);
    // The next poll finds it up (one interval at most).
    let upAt = 0;
    for (let i = 0; i < 12 && !upAt; i++) {
      await advance(h.clock, 5000, 5000);
      if (h.monitor.health.get(ROUTER)?.state === 'up') upAt = h.monitor.health.get(ROUTER)!.since;
    }
    expect(upAt).toBeGreaterThan(0);
    const confirmAt = upAt + SETTLE_MS;
    const confirmIso = new Date(confirmAt + 8 * 3600_000).toISOString().replace('Z', '+08:00');

    // The site: recovering, with when it is confirmed.
    const site = (await h.api(`/api/v1/sites/${SITE}`)).json;
    expect(site).toMatchObject({ state: 'recovering', recoveryConfirmAt: confirmIso });
    // The CAP push channel was told it is recovering (once); people were not.
    expect(h.bpbd.sent.map((n) => [n.status, n.recovery?.confirmAt])).toEqual([
      ['firing', undefined],
      ['firing', new Date(confirmAt).toISOString()],
    ]);
    expect(h.noc.sent.map((n) => n.status)).toEqual(['firing']);
    expect((site.devices as { since: string }[]).every((d) => ISO_WITA.test(d.since))).toBe(true);
    const listed = (await h.api('/api/v1/sites?state=recovering')).json.sites as { id: string }[];
    expect(listed.map((s) => s.id)).toEqual([SITE]);

    // The incident: still open, but recovering, with the same time, its site and texts.
    const incidents = (await h.api('/api/v1/incidents?status=open')).json.incidents as Json[];
    expect(incidents).toHaveLength(1);
    const inc = incidents[0]!;
    expect(inc).toMatchObject({
      status: 'open',
      state: 'recovering',
      recoveryConfirmAt: confirmIso,
      silenced: null,
      deviceId: ROUTER,
      siteId: SITE,
      siteName: 'Puskesmas Petang I',
      category: 'puskesmas',
      kecamatan: 'Petang',
      desa: 'Pelaga',
      acknowledgedAt: null,
      resolvedAt: null,
    });
    expect(inc.openedAt).toMatch(ISO_WITA);
    expect(Date.parse(String(inc.openedAt))).toBe(downAt);
    expect((inc.title as Json).id).toMatch(/^MEMULIH: Puskesmas Petang I/);
    expect((inc.summary as Json).en).toMatch(
      /^RECOVERING: .* after \d+ (s|min) down; confirmed recovered at/,
    );

    // GeoJSON: recovering, with the confirm time; CAP: an Update that says recovering.
    const geo = (await h.api('/feeds/outages.geojson')).json as { features: { properties: Json }[] };
    expect(geo.features.map((f) => [f.properties.state, f.properties.confirmAt])).toEqual([
      ['recovering', new Date(confirmAt).toISOString()],
    ]);
    const atom = (await h.api('/feeds/cap.atom')).text;
    const capId = /<id>[^<]*\/cap\/([^<]*recovering[^<]*)<\/id>/.exec(atom)?.[1];
    expect(capId, atom).toBeDefined();
    const cap = (await h.api(`/feeds/cap/${capId!}`)).text;
    expect(cap).toContain('<msgType>Update</msgType>');
    expect(cap).toMatch(/<headline>RECOVERING: .*confirmed at/);

    // site_state points while it settles: recovering, code 6.
    await advance(h.clock, 40_000, 10_000);
    const lastState = () =>
      h.points.filter((p) => p.measurement === 'site_state' && p.tags.site === SITE).at(-1);
    expect(lastState()?.fields).toMatchObject({ state: 'recovering', state_code: 6, up: 1 });
    expect(h.noc.sent.map((n) => n.status)).toEqual(['firing']);

    // Confirmed: up, resolved, one RECOVERED, and the site listeners told (MQTT republishes the site).
    h.siteChanges.length = 0;
    await advance(h.clock, confirmAt - h.clock.now() + 1000, 5000);
    expect(h.siteChanges).toContain(SITE);
    expect(h.noc.sent.map((n) => n.status)).toEqual(['firing', 'resolved']);
    expect(h.bpbd.sent.map((n) => n.status)).toEqual(['firing', 'firing', 'resolved']);
    expect((await h.api(`/api/v1/sites/${SITE}`)).json).toMatchObject({
      state: 'up',
      recoveryConfirmAt: null,
    });
    const done = (await h.api('/api/v1/incidents?status=resolved')).json.incidents as Json[];
    expect(done[0]).toMatchObject({ state: 'resolved', recoveryConfirmAt: null });
    expect(done[0]?.resolvedAt).toMatch(ISO_WITA);
    expect((done[0]?.title as Json).en).toMatch(/^RESTORED: /);
    expect(((await h.api('/feeds/outages.geojson')).json.features as unknown[]).length).toBe(0);
    await advance(h.clock, 40_000, 10_000);
    expect(lastState()?.fields).toMatchObject({ state: 'up', state_code: 1 });

    // The incident's detail: timeline and notifications with ISO times.
    const detail = (await h.api(`/api/v1/incidents/${encodeURIComponent(String(inc.id))}`)).json;
    const timeline = detail.timeline as { time: string; type: string }[];
    expect(timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['opened', 'resolved']));
    expect(timeline.every((e) => ISO_WITA.test(e.time))).toBe(true);
    const sent = detail.notifications as { sentAt: string }[];
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((n) => ISO_WITA.test(n.sentAt))).toBe(true);
  });
});

describe('a silenced outage', () => {
  it('is recorded as silenced (by whom, until when), marked in the feeds, and its deletion logged as a silence', async () => {
    const h = await build();
    running = h;
    await h.monitor.start();
    await advance(h.clock, 2 * MIN, 10_000);
    const created = await h.api('/api/v1/silences', {
      method: 'POST',
      token: operator.token,
      body: { scope: { sites: [SITE] }, duration: '1h', comment: 'PLN padam / power cut' },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ createdBy: 'ops-1', comment: 'PLN padam / power cut' });
    expect(created.json.startsAt).toMatch(ISO_WITA);
    expect(Date.parse(String(created.json.endsAt)) - Date.parse(String(created.json.startsAt))).toBe(
      3600_000,
    );
    const until = String(created.json.endsAt);

    h.poller.cut.add(ROUTER);
    await advance(h.clock, 3 * MIN, 10_000);
    expect(h.noc.sent).toEqual([]);
    const inc = ((await h.api('/api/v1/incidents?status=open')).json.incidents as Json[])[0]!;
    expect(inc).toMatchObject({
      status: 'open',
      state: 'open',
      silenced: { kind: 'silence', id: created.json.id, by: 'ops-1', until, reason: 'PLN padam / power cut' },
    });
    const detail = (await h.api(`/api/v1/incidents/${encodeURIComponent(String(inc.id))}`)).json;
    const suppressed = (detail.timeline as Json[]).find((e) => e.type === 'suppressed');
    expect(suppressed).toMatchObject({
      actor: 'ops-1',
      note: `silence ${String(created.json.id)} until ${until}: PLN padam / power cut`,
    });

    const geo = (await h.api('/feeds/outages.geojson')).json as { features: { properties: Json }[] };
    expect(geo.features[0]?.properties.silenced).toMatchObject({ kind: 'silence', by: 'ops-1' });
    expect(geo.features[0]?.properties.title_en).toMatch(/\[silenced\]$/);
    const atom = (await h.api('/feeds/cap.atom')).text;
    const capId = /<id>[^<]*\/cap\/([^<]*%3Aalert%3A[^<]*)<\/id>/.exec(atom)?.[1];
    const cap = (await h.api(`/feeds/cap/${capId!}`)).text;
    expect(cap).toMatch(/Silenced by ops-1 until .*: nobody was paged\./);
    expect(cap).toMatch(/Dibungkam oleh ops-1 sampai /);

    // Deleting the silence with the router still down: it pages now, and says "silence", not maintenance.
    const del = await h.api(`/api/v1/silences/${String(created.json.id)}`, {
      method: 'DELETE',
      token: operator.token,
    });
    expect(del.status).toBe(204);
    await advance(h.clock, 1000, 1000);
    expect(h.noc.sent.map((n) => n.status)).toEqual(['firing']);
    expect(h.log.records.map((r) => r.msg)).toContain('silence over, device still down');
    expect(h.log.records.map((r) => r.msg)).not.toContain('maintenance over, device still down');
    const after = (await h.api(`/api/v1/incidents/${encodeURIComponent(String(inc.id))}`)).json;
    expect((after.timeline as Json[]).map((e) => e.type)).toContain('silence_ended');
    expect((after.timeline as Json[]).map((e) => e.type)).not.toContain('maintenance_ended');
    expect((after.incident as Json).silenced).toBeNull();
    const geoAfter = (await h.api('/feeds/outages.geojson')).json as { features: { properties: Json }[] };
    expect(geoAfter.features[0]?.properties.silenced).toBeNull();
  });
});

describe('windows and silences the API refuses', () => {
  it('refuses a window already over and scopes naming what the inventory lacks, with 400 naming it', async () => {
    const h = await build();
    running = h;
    await h.monitor.start();
    const post = (path: string, body: unknown) =>
      h.api(path, { method: 'POST', token: operator.token, body });
    const once = (start: number, end: number) => ({
      kind: 'once',
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
    });
    const future = once(START + 3600_000, START + 7200_000);
    const cases: [string, Json, string, RegExp][] = [
      [
        '/api/v1/maintenance',
        { name: 'x', scope: { sites: [SITE] }, schedule: once(START - 7200_000, START - 3600_000) },
        'schedule.end',
        /is in the past .*would already be over/,
      ],
      [
        '/api/v1/maintenance',
        { name: 'x', scope: { sites: ['pkm-petang-9'] }, schedule: future },
        'scope.sites',
        /unknown site 'pkm-petang-9'/,
      ],
      [
        '/api/v1/maintenance',
        { name: 'x', scope: { kecamatan: ['Atlantis'] }, schedule: future },
        'scope.kecamatan',
        /unknown kecamatan 'Atlantis'/,
      ],
      [
        '/api/v1/maintenance',
        { name: 'x', scope: { desa: ['Nowhere'] }, schedule: future },
        'scope.desa',
        /unknown desa 'Nowhere'/,
      ],
      [
        '/api/v1/maintenance',
        { name: 'x', scope: { categories: ['sd'] }, schedule: future },
        'scope.categories',
        /unknown category/,
      ],
      [
        '/api/v1/maintenance',
        { name: 'x', scope: { sites: [SITE], kecamatan: ['Kuta'] }, schedule: future },
        'scope.kecamatan',
        /unknown kecamatan 'Kuta'/,
      ],
      [
        '/api/v1/silences',
        { scope: { devices: ['pkm-petang-1-ap9'] }, duration: '1h', comment: 'x' },
        'scope.devices',
        /unknown device 'pkm-petang-1-ap9'/,
      ],
      [
        '/api/v1/silences',
        { scope: { sites: ['bjr-pelaga-1'], categories: ['puskesmas'] }, duration: '1h', comment: 'x' },
        'scope',
        /covers no site/,
      ],
    ];
    for (const [path, body, field, message] of cases) {
      const r = await post(path, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      const issues = r.json.issues as { path: string; message: string }[];
      expect(issues[0]?.path, JSON.stringify(body)).toBe(field);
      expect(issues[0]?.message, JSON.stringify(body)).toMatch(message);
    }
    expect(h.monitor.maintenanceWindows()).toEqual([]);
    expect(h.monitor.silences()).toEqual([]);

    const ok = await post('/api/v1/maintenance', {
      name: 'Ganti router',
      scope: { sites: [SITE] },
      schedule: future,
    });
    expect(ok.status).toBe(201);
    expect(ok.json.schedule).toEqual({
      kind: 'once',
      start: '2026-12-03T23:00:00.000+08:00',
      end: '2026-12-04T00:00:00.000+08:00',
    });
    const listed = (await h.api('/api/v1/maintenance')).json.maintenance as Json[];
    expect(listed.map((w) => w.createdBy)).toEqual(['ops-1']);
  });
});
