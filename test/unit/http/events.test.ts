/**
 * GET /api/v1/events over real HTTP on 127.0.0.1 (port 0), fed by a LiveFeed over a fake monitor on fake
 * time: the snapshot, device/site/incident events as the monitor decides, the 5 s re-read of sites,
 * pings and health on their timers, the cap on streams, a slow reader dropped, and stop() ending streams.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { Transition } from '../../../collector/core/types.ts';
import { generateToken } from '../../../collector/http/auth.ts';
import { EventHub, registerEventRoutes } from '../../../collector/http/events.ts';
import { isoWita } from '../../../collector/core/time-zone.ts';
import { LiveFeed, type LiveMonitor } from '../../../collector/http/live-feed.ts';
import { startHttp, type RunningHttp } from '../../../collector/http/server.ts';
import type { MonitorService } from '../../../collector/http/service.ts';
import type { Incident } from '../../../collector/store/incident-store.ts';
import { waitFor } from '../../support/ports.ts';
import { openSse, type SseStream } from '../../support/sse.ts';

const T0 = Date.UTC(2026, 11, 3, 2, 0); // 10:00 WITA
const viewer = generateToken();
const AUTH = { authorization: `Bearer ${viewer.token}` };

/** Sites s1 (router s1-r, ap s1-a) and s2 (router s2-r); the site's state is its worst device's. */
class FakeMonitor implements LiveMonitor {
  readonly devices = new Map<string, { siteId: string; state: string; since: number }>([
    ['s1-r', { siteId: 's1', state: 'up', since: T0 - 3600_000 }],
    ['s1-a', { siteId: 's1', state: 'up', since: T0 - 1800_000 }],
    ['s2-r', { siteId: 's2', state: 'up', since: T0 - 600_000 }],
  ]);
  readonly maintenance = new Set<string>();
  readonly #listeners = new Set<(t: Transition) => void>();
  readonly topology = { siteIds: () => ['s1', 's2'] };

  onTransition(l: (t: Transition) => void): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }
  siteState(id: string) {
    const devices = [...this.devices.values()].filter((d) => d.siteId === id);
    if (devices.length === 0) return undefined;
    const order = ['down', 'unreachable', 'suspect', 'unknown', 'up'];
    const worst = order.find((s) => devices.some((d) => d.state === s)) ?? 'unknown';
    return { state: this.maintenance.has(id) ? 'maintenance' : worst, devices };
  }
  transition(deviceId: string, to: 'up' | 'down', timeMs: number): void {
    const d = this.devices.get(deviceId);
    if (!d) throw new Error(deviceId);
    const from = d.state as 'up' | 'down';
    d.state = to;
    d.since = timeMs;
    for (const l of this.#listeners) l({ deviceId, siteId: d.siteId, from, to, timeMs });
  }
}

interface Rig {
  readonly clock: FakeClock;
  readonly monitor: FakeMonitor;
  readonly feed: LiveFeed;
  readonly hub: EventHub;
  readonly http: RunningHttp;
  readonly log: ReturnType<typeof memoryLogger>;
  readonly url: string;
  close(): Promise<void>;
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});

async function rig(opts: { maxClients?: number; maxBufferedBytes?: number } = {}): Promise<Rig> {
  const clock = new FakeClock(T0);
  const log = memoryLogger();
  const monitor = new FakeMonitor();
  const box: { feed?: LiveFeed } = {};
  const hub = new EventHub({
    clock,
    log,
    maxClients: opts.maxClients ?? 10,
    maxBufferedBytes: opts.maxBufferedBytes,
    snapshot: () => box.feed?.snapshot(),
    health: () => ({ status: 'ok', details: {}, metrics: { at: isoWita(clock.now()) } }),
  });
  const f = new LiveFeed({ monitor, publish: (t, d) => hub.publish(t, d), clock, log });
  box.feed = f;
  f.start();
  hub.start();
  const http = await startHttp({} as MonitorService, {
    listen: { host: '127.0.0.1', port: 0 },
    tokens: [{ name: 'noc-wall', role: 'viewer', tokenHash: viewer.tokenHash }],
    log,
    clock,
    moreRoutes: [(router, kit) => registerEventRoutes(router, kit, hub)],
  });
  const r: Rig = {
    clock,
    monitor,
    feed: f,
    hub,
    http,
    log,
    url: `${http.url}/api/v1/events`,
    close: async () => {
      f.stop();
      hub.stop();
      await http.close();
    },
  };
  rigs.push(r);
  return r;
}

const streams: SseStream[] = [];
afterEach(() => {
  for (const s of streams.splice(0)) s.close();
});
async function open(url: string, headers: Record<string, string> = AUTH): Promise<SseStream> {
  const s = await openSse(url, headers);
  streams.push(s);
  return s;
}

describe('GET /api/v1/events', () => {
  it('needs a viewer token or session: 401 without', async () => {
    const r = await rig();
    const res = await fetch(r.url);
    expect(res.status).toBe(401);
  });

  it('opens a text/event-stream whose first event is the snapshot of every site', async () => {
    const r = await rig();
    const s = await open(r.url);
    expect(s.status).toBe(200);
    expect(s.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(s.headers.get('cache-control')).toBe('no-store, no-transform');
    const snap = await s.next((e) => e.type === 'snapshot');
    expect(s.events[0]?.type).toBe('snapshot');
    expect(snap.data).toEqual({
      sites: [
        { id: 's1', state: 'up', since: '2026-12-03T09:30:00.000+08:00' },
        { id: 's2', state: 'up', since: '2026-12-03T09:50:00.000+08:00' },
      ],
    });
  });

  it('sends device and site events the moment the monitor decides, and nothing for an unchanged site', async () => {
    const r = await rig();
    const s = await open(r.url);
    await s.next((e) => e.type === 'snapshot');
    r.clock.advance(1000);
    r.monitor.transition('s1-r', 'down', r.clock.now());
    const device = await s.next((e) => e.type === 'device');
    expect(device.data).toEqual({
      id: 's1-r',
      siteId: 's1',
      state: 'down',
      previous: 'up',
      at: '2026-12-03T10:00:01.000+08:00',
    });
    const site = await s.next((e) => e.type === 'site');
    expect(site.data).toEqual({
      id: 's1',
      state: 'down',
      previous: 'up',
      since: '2026-12-03T10:00:01.000+08:00',
      at: '2026-12-03T10:00:01.000+08:00',
    });
    // the AP going down too changes no site state: a device event, no second site event
    r.monitor.transition('s1-a', 'down', r.clock.now());
    await s.next((e) => e.type === 'device' && (e.data as { id: string }).id === 's1-a');
    r.monitor.transition('s1-r', 'up', r.clock.now());
    r.monitor.transition('s1-a', 'up', r.clock.now());
    const back = await s.next((e) => e.type === 'site' && (e.data as { state: string }).state === 'up');
    expect(back.data).toMatchObject({ id: 's1', previous: 'down' });
    expect(s.events.filter((e) => e.type === 'site')).toHaveLength(2);
    expect(s.events.filter((e) => e.type === 'device')).toHaveLength(4);
  });

  it('sends incident events; a change without a transition reaches the stream within the 5 s re-read', async () => {
    const r = await rig();
    const s = await open(r.url);
    await s.next((e) => e.type === 'snapshot');
    const incident = {
      id: 'inc-1',
      kind: 'device_down',
      status: 'acknowledged',
      siteId: 's2',
    } as unknown as Incident;
    r.feed.incidentChanged({ incident, atMs: T0 + 5000 });
    expect((await s.next((e) => e.type === 'incident')).data).toEqual({
      id: 'inc-1',
      status: 'acknowledged',
      siteId: 's2',
      kind: 'device_down',
      at: '2026-12-03T10:00:05.000+08:00',
    });
    // a maintenance window opening on its schedule: no transition, found by the periodic re-read
    r.monitor.maintenance.add('s2');
    r.clock.advance(4999);
    expect(s.events.some((e) => e.type === 'site')).toBe(false);
    r.clock.advance(1);
    expect((await s.next((e) => e.type === 'site')).data).toMatchObject({
      id: 's2',
      state: 'maintenance',
      previous: 'up',
    });
  });

  it('pings every 15 s and sends health every 5 s (fake time)', async () => {
    const r = await rig();
    const s = await open(r.url);
    await s.next((e) => e.type === 'snapshot');
    r.clock.advance(5000);
    expect((await s.next((e) => e.type === 'health')).data).toEqual({
      status: 'ok',
      details: {},
      metrics: { at: '2026-12-03T10:00:05.000+08:00' },
    });
    r.clock.advance(10_000);
    await waitFor(() => s.comments.includes('ping'), { what: 'a ping' });
    expect(s.events.filter((e) => e.type === 'health')).toHaveLength(3);
  });

  it('caps open streams: one more is 503 with Retry-After, and is served once one closes', async () => {
    const r = await rig({ maxClients: 2 });
    const a = await open(r.url);
    await open(r.url);
    await a.next((e) => e.type === 'snapshot');
    const third = await fetch(r.url, { headers: AUTH });
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toBe('10');
    expect(((await third.json()) as { message: string }).message).toMatch(/at most 2/);
    a.close();
    await waitFor(() => r.hub.stats().clients === 1, { what: 'the closed stream to be let go' });
    const again = await open(r.url);
    expect(again.status).toBe(200);
  });

  it('drops a client that does not read instead of buffering for it without end', async () => {
    const r = await rig({ maxBufferedBytes: 64 * 1024 });
    const good = await open(r.url);
    await good.next((e) => e.type === 'snapshot');
    // A client that sends its request and never reads its socket.
    const { port } = new URL(r.http.url);
    const sock: Socket = connect(Number(port), '127.0.0.1');
    sock.pause();
    sock.write(`GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${viewer.token}\r\n\r\n`);
    await waitFor(() => r.hub.stats().clients === 2, { what: 'the slow client to connect' });
    const big = 'x'.repeat(32 * 1024);
    for (let i = 0; i < 4000 && r.hub.stats().dropped === 0; i++) {
      r.hub.publish('health', { i, big });
      // the reader that keeps up reads each event before the next is sent; the other never reads
      const from = good.events.length;
      await good.next((e) => (e.data as { i?: number }).i === i, 5000, Math.max(0, from - 1));
    }
    expect(r.hub.stats().dropped).toBe(1);
    expect(r.hub.stats().clients).toBe(1);
    expect(
      r.log.records.find((l) => l.msg === 'event stream dropped: the client reads too slowly'),
    ).toMatchObject({ who: 'noc-wall' });
    sock.destroy();
    // the reader that keeps up is still served
    r.monitor.transition('s2-r', 'down', r.clock.now());
    await good.next((e) => e.type === 'site');
  });

  it('stop() ends every stream, so the server can close', async () => {
    const r = await rig();
    const s = await open(r.url);
    await s.next((e) => e.type === 'snapshot');
    r.hub.stop();
    await s.waitEnd();
    await r.http.close();
  });
});
