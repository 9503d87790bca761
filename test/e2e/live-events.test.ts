/**
 * The console's back end on real parts: the fleet simulator answering SNMP on loopback, Debian's influxd,
 * and the runtime `npm start` runs with the console enabled (users file, sessions database). As a browser
 * would: sign in, open /api/v1/events with the session cookie, then
 *   t0  every site is up; the snapshot lists every site
 *   t1  a site is cut in the simulator: its `site` event arrives; the delay from the monitor's transition
 *       to the event's arrival is printed (and must stay under 2 s)
 *   t2  the site's history (real InfluxDB) shows the down state and the traffic before it
 *   t3  the health endpoint and event carry the working figures; the scope preview counts the inventory
 *   t4  the runtime is restarted on the same files: the session is still signed in
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../collector/core/log.ts';
import type { Device, Inventory } from '../../collector/core/types.ts';
import { hashPassword } from '../../collector/http/accounts.ts';
import { startRuntime, type Runtime } from '../../collector/runtime.ts';
import type { MonitorConfig } from '../../config/monitor.ts';
import { startInfluxd } from '../../scripts/lib/servers/influxd.ts';
import type { RunningServer } from '../../scripts/lib/servers/process.ts';
import { FleetSimulator } from '../../simulator/fleet.ts';
import { syntheticInventory } from '../../simulator/synthetic-inventory.ts';
import { testMonitorConfig } from '../support/monitor-config.ts';
import { influxQuery } from '../support/influx.ts';
import { freeUdpPort, waitFor } from '../support/ports.ts';
import { openSse, type SseEvent, type SseStream } from '../support/sse.ts';

const DB = 'netmon_live';
const PASSWORD = 'kata sandi operator';

let dir: string;
let influx: RunningServer;
let sim: FleetSimulator;
let runtime: Runtime;
let config: MonitorConfig;
let inventory: Inventory;
let devices: readonly Device[] = [];
let cookie = '';
let csrf = '';
let stream: SseStream | undefined;
/** Wall time at which the monitor decided each transition (`<site>@<transition time ms>`). */
const decidedAt = new Map<string, number>();

function watchTransitions(rt: Runtime): void {
  rt.monitor.onTransition((t) => {
    decidedAt.set(`${t.siteId}@${t.timeMs}`, Date.now());
  });
}

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('cookie', cookie);
  return fetch(`${runtime.http.url}${path}`, { ...init, headers });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-live-'));
  influx = await startInfluxd({ dataDir: join(dir, 'influxdb') });
  const port = await freeUdpPort();
  inventory = syntheticInventory({ sites: 6, port, seed: 5, hostOctet: 131 + Math.floor(Math.random() * 8) });
  devices = inventory.devices;
  sim = new FleetSimulator({ inventory, seed: 5 });
  await sim.start();
  const usersFile = join(dir, 'users.yaml');
  writeFileSync(
    usersFile,
    `- { name: wayan, role: operator, passwordHash: '${await hashPassword(PASSWORD, { N: 1024 })}' }\n`,
    { mode: 0o600 },
  );
  config = {
    ...(await testMonitorConfig({ inventory, influxUrl: influx.url, database: DB, dir })),
    console: {
      enabled: true,
      usersFile,
      sessionsFile: join(dir, 'sessions.db'),
      sessionIdleMs: 12 * 3600_000,
      sessionMaxMs: 7 * 24 * 3600_000,
      secureCookies: false,
      maxEventClients: 20,
      trustProxy: false,
    },
  };
  runtime = await startRuntime(config, { log: createLogger({ level: 'warn', write: () => undefined }) });
  watchTransitions(runtime);
});

afterAll(async () => {
  stream?.close();
  await runtime?.stop();
  await sim?.stop();
  await influx?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('console back end on the real simulator and InfluxDB', () => {
  it('t0: signs in, and the event stream opens on a snapshot of every site', async () => {
    const res = await fetch(`${runtime.http.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'wayan', password: PASSWORD }),
    });
    expect(res.status).toBe(200);
    cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    csrf = ((await res.json()) as { csrfToken: string }).csrfToken;
    expect(cookie).toMatch(/^netmon_session=/);

    await waitFor(() => devices.every((d) => runtime.monitor.health.get(d.id)?.state === 'up'), {
      timeoutMs: 30_000,
      what: 'every device up',
    });
    // Traffic rates need two polls: wait until every site's router has some in InfluxDB.
    await waitFor(
      async () =>
        (
          await influxQuery(
            influx.url,
            DB,
            `SELECT count("in_bps") FROM "interface" WHERE "role" = 'router' GROUP BY "site"`,
          )
        ).length === inventory.sites.length,
      { timeoutMs: 30_000, intervalMs: 500, what: 'traffic rates of every site in InfluxDB' },
    );
    stream = await openSse(`${runtime.http.url}/api/v1/events`, { cookie });
    expect(stream.status).toBe(200);
    const snap = await stream.next((e) => e.type === 'snapshot');
    const sites = (snap.data as { sites: { id: string; state: string; since: string }[] }).sites;
    expect(sites.map((s) => s.id).sort()).toEqual(inventory.sites.map((s) => s.id).sort());
    expect(sites.every((s) => s.state === 'up' && /\+08:00$/.test(s.since))).toBe(true);
  });

  it('t1: cutting a site reaches the stream as a site event, within 2 s of the monitor deciding', async () => {
    const s = stream;
    if (!s) throw new Error('no stream');
    const site = inventory.sites[1];
    if (!site) throw new Error('no site');
    const from = s.events.length;
    const cutAt = Date.now();
    sim.cutSite(site.id);
    const ev: SseEvent = await s.next(
      (e) =>
        e.type === 'site' &&
        (e.data as { id: string }).id === site.id &&
        (e.data as { state: string }).state === 'down',
      40_000,
      from,
    );
    // The event's `at` is the time of the transition that changed the site's state.
    const decided = decidedAt.get(`${site.id}@${Date.parse((ev.data as { at: string }).at)}`);
    expect(decided).toBeDefined();
    const delay = ev.receivedAt - (decided ?? 0);
    console.log(
      `[live-events] site ${site.id}: cut -> monitor decided down ${(decided ?? 0) - cutAt} ms; ` +
        `monitor decision -> SSE site event ${delay} ms`,
    );
    expect(delay).toBeLessThan(2000);
    expect(ev.data).toMatchObject({ id: site.id, state: 'down', previous: expect.any(String) as unknown });
    // device events for the site's devices came too, and an incident opened
    expect(
      s.events
        .slice(from)
        .some((e) => e.type === 'device' && (e.data as { siteId: string }).siteId === site.id),
    ).toBe(true);
    await s.next(
      (e) => e.type === 'incident' && (e.data as { siteId?: string }).siteId === site.id,
      10_000,
      from,
    );
  });

  it('t2: the site history from InfluxDB shows the down state, the devices and the traffic', async () => {
    const site = inventory.sites[1];
    if (!site) throw new Error('no site');
    const history = await waitFor(
      async () => {
        const res = await api(`/api/v1/sites/${site.id}/history?hours=1`);
        if (res.status !== 200) throw new Error(`history: ${res.status} ${await res.text()}`);
        const h = (await res.json()) as {
          siteId: string;
          from: string;
          to: string;
          state: { time: string; state: string }[];
          devices: { id: string; role: string; state: { time: string; state: string }[] }[];
          traffic: { time: string; inBps: number | null; outBps: number | null }[];
          clients: { time: string; count: number | null }[];
        };
        return h.state.some((p) => p.state === 'down') ? h : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500, what: 'a down site_state point' },
    );
    expect(history.siteId).toBe(site.id);
    expect(Date.parse(history.to) - Date.parse(history.from)).toBe(3600_000);
    expect(history.from).toMatch(/\+08:00$/);
    expect(history.state.at(-1)?.state).toBe('down');
    const own = devices.filter((d) => d.siteId === site.id);
    expect(history.devices.map((d) => d.id).sort()).toEqual(own.map((d) => d.id).sort());
    expect(history.devices.every((d) => d.state.some((p) => p.state === 'up'))).toBe(true);
    expect(history.devices.some((d) => d.state.at(-1)?.state === 'down')).toBe(true);
    expect(history.traffic.some((p) => (p.inBps ?? 0) > 0)).toBe(true);
    expect(history.clients.length).toBeGreaterThan(0);

    const bad = await api(`/api/v1/sites/${site.id}/history?hours=9999`);
    expect(bad.status).toBe(400);
    expect((await api('/api/v1/sites/no-such-site/history')).status).toBe(404);
  });

  it('t3: health carries the working figures; the scope preview counts what a scope covers', async () => {
    const res = await api('/api/v1/health');
    expect(res.status).toBe(200);
    const h = (await res.json()) as { metrics: Record<string, unknown> };
    expect(h.metrics).toMatchObject({
      polls: { perSecond: expect.any(Number) as unknown },
      failing: { total: expect.any(Number) as unknown, byReason: { timeout: expect.any(Number) as unknown } },
      buffer: { queued: expect.any(Number) as unknown, onDisk: 0 },
      scheduler: { overruns: expect.any(Number) as unknown },
      events: { clients: 1 },
    });
    console.log(`[live-events] health metrics: ${JSON.stringify(h.metrics)}`);
    const health = await stream?.next((e) => e.type === 'health', 10_000);
    expect((health?.data as { metrics?: unknown }).metrics).toBeDefined();

    const kec = inventory.sites[0]?.kecamatan ?? '';
    const preview = await api('/api/v1/scope/preview', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify({ kecamatan: [kec, 'Atlantis'] }),
    });
    expect(preview.status).toBe(200);
    const inKec = inventory.sites.filter((s) => s.kecamatan === kec);
    expect(await preview.json()).toEqual({
      sites: inKec.length,
      devices: devices.filter((d) => inKec.some((s) => s.id === d.siteId)).length,
      sample: inKec.slice(0, 10).map((s) => s.name),
      unknown: [{ field: 'kecamatan', value: 'Atlantis' }],
    });
    const noCsrf = await api('/api/v1/scope/preview', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kecamatan: [kec] }),
    });
    expect(noCsrf.status).toBe(403);
  });

  it('t3b: a silence made from the console reaches the stream as the site going to maintenance', async () => {
    const s = stream;
    const site = inventory.sites[2];
    if (!s || !site) throw new Error('no stream or site');
    const from = s.events.length;
    const made = await api('/api/v1/silences', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify({
        scope: { sites: [site.id] },
        duration: '1h',
        comment: 'uji konsol / console test',
      }),
    });
    expect(made.status).toBe(201);
    const ev = await s.next(
      (e) => e.type === 'site' && (e.data as { id: string }).id === site.id,
      3000, // the re-read follows the write at once, not the 5 s timer
      from,
    );
    expect(ev.data).toMatchObject({ state: 'maintenance', previous: 'up' });
  });

  it('t4: a restart of the monitor keeps the session signed in', async () => {
    stream?.close();
    stream = undefined;
    await runtime.stop();
    runtime = await startRuntime(config, { log: createLogger({ level: 'warn', write: () => undefined }) });
    const me = await api('/api/v1/session');
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ user: { name: 'wayan', role: 'operator' }, csrfToken: csrf });
    const s = await openSse(`${runtime.http.url}/api/v1/events`, { cookie });
    stream = s;
    await s.next((e) => e.type === 'snapshot');
  });
});
