/**
 * The status page's cache (fake time, a fake monitor) and its HTTP answers (a real express server on a
 * loopback port): prebuilt bodies, ETags that change only with the content, 304, gzip, rebuilds on a timer
 * and after a change, availability refreshed in the background and kept when a read fails.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { Inventory } from '../../../collector/core/types.ts';
import { acceptsGzip, etagMatches, statusRouter } from '../../../collector/http/status-page.ts';
import type { History } from '../../../collector/reports/history.ts';
import type { StatusIncidentInput, StatusSiteInput } from '../../../collector/status/model.ts';
import { StatusPage } from '../../../collector/status/status-page.ts';
import { testDevice, testSite } from '../../support/fixtures.ts';

const T0 = Date.parse('2026-12-03T06:00:00Z');

function fakeMonitor() {
  const state = { router: 'up', incidents: [] as StatusIncidentInput[], reads: 0 };
  const source = {
    sites: (): StatusSiteInput[] => {
      state.reads++;
      return [
        {
          id: 'kuta-1',
          name: 'SD Negeri 1 Kuta',
          category: 'sd',
          kecamatan: 'Kuta',
          desa: 'Kedonganan',
          inMaintenance: false,
          devices: [{ role: 'router', state: state.router, since: T0 - 3600_000 }],
        },
      ];
    },
    incidents: () => state.incidents,
  };
  return { state, source };
}

const inventory: Inventory = {
  sites: [testSite('kuta-1', { kecamatan: 'Kuta' })],
  devices: [testDevice('kuta-1-r', 'kuta-1', 'router')],
};

describe('StatusPage cache', () => {
  it('builds at start, keeps its ETag while nothing shown changes, rebuilds after a change', () => {
    const clock = new FakeClock(T0);
    const m = fakeMonitor();
    const page = new StatusPage({ source: m.source, clock, log: memoryLogger(), rebuildMs: 5000 });
    expect(page.html()).toBeUndefined();
    page.start();
    const first = page.html();
    expect(first?.body.toString()).toContain('Tidak ada gangguan saat ini.');
    expect(first?.body.toString()).toContain('<td>Kuta</td>');
    expect(first?.etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    expect(gunzipSync(first!.gzip).equals(first!.body)).toBe(true);

    // The timer rebuilds every 5 s; within the same minute nothing shown changed: the same Buffer.
    clock.advance(5000);
    expect(m.state.reads).toBe(2);
    expect(page.html()).toBe(first);

    // A change, signalled: rebuilt within the change delay, not at the next tick.
    m.state.router = 'down';
    page.changed();
    page.changed(); // coalesced
    clock.advance(250);
    expect(m.state.reads).toBe(3);
    expect(page.html()?.etag).not.toBe(first?.etag);
    expect(page.html()?.body.toString()).toContain('SD Negeri 1 Kuta');
    expect(page.html()?.body.toString()).toContain('Belum ditangani');
    expect(page.json()?.body.toString()).toContain('"handled": false');

    // Acknowledged: shown as handled at the next rebuild.
    m.state.incidents = [{ status: 'acknowledged', siteIds: ['kuta-1'], openedAt: T0 }];
    clock.advance(5000);
    expect(page.html()?.body.toString()).toContain('Sedang ditangani');
    void page.stop();
    clock.advance(60_000);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a failing build keeps the last page and is logged', () => {
    const clock = new FakeClock(T0);
    const m = fakeMonitor();
    let fail = false;
    const log = memoryLogger();
    const page = new StatusPage({
      source: {
        sites: () => {
          if (fail) throw new Error('boom');
          return m.source.sites();
        },
        incidents: m.source.incidents,
      },
      clock,
      log,
    });
    page.start();
    const first = page.html();
    fail = true;
    clock.advance(14_999);
    expect(page.stats().buildFailures).toBe(0); // the default period is 15 s
    clock.advance(1);
    expect(page.html()).toBe(first);
    expect(page.stats().buildFailures).toBe(1);
    expect(log.records.some((r) => r.msg.includes('status page build failed'))).toBe(true);
    void page.stop();
  });

  it('spaces builds by their cost: a slow build (a large fleet) is not repeated after every change', () => {
    const clock = new FakeClock(T0);
    const m = fakeMonitor();
    // A build "takes" buildMs of measured time: what reading 30,000 sites costs.
    let cpu = 0;
    let buildMs = 5;
    const source = {
      sites: () => {
        cpu += buildMs;
        return m.source.sites();
      },
      incidents: m.source.incidents,
    };
    const page = new StatusPage({
      source,
      clock,
      log: memoryLogger(),
      rebuildMs: 5000,
      elapsedMs: () => cpu,
    });
    page.start();
    expect(page.stats()).toMatchObject({ lastBuildMs: 5, periodMs: 5000 });
    // Cheap builds (5 ms / 0.05 = 100 ms, under the 250 ms change delay): as before.
    page.changed();
    clock.advance(250);
    expect(m.state.reads).toBe(2);

    // Builds of 400 ms: at most 5 % of a core, so 8 s apart, on the timer and after changes alike.
    buildMs = 400;
    clock.advance(5000); // the periodic build, measured at 400 ms
    expect(m.state.reads).toBe(3);
    expect(page.stats().periodMs).toBe(8000);
    for (let i = 0; i < 30; i++) {
      page.changed(); // a transition every quarter second
      clock.advance(250);
    }
    // 7.5 s of changes: one build after a change, 8 s after the last build, not thirty.
    expect(m.state.reads).toBe(3);
    clock.advance(500);
    expect(m.state.reads).toBe(4);
    // The periodic build starts over from that one: nothing more for 8 s.
    clock.advance(7900);
    expect(m.state.reads).toBe(4);
    clock.advance(100);
    expect(m.state.reads).toBe(5);

    // Cheap again: back to the configured period and change delay.
    buildMs = 5;
    clock.advance(8000);
    expect(m.state.reads).toBe(6);
    expect(page.stats().periodMs).toBe(5000);
    page.changed();
    clock.advance(250);
    expect(m.state.reads).toBe(7);
    void page.stop();
    expect(clock.pendingTimers()).toBe(0);
    expect(() => new StatusPage({ source, clock, log: memoryLogger(), buildBudget: 0 })).toThrow(
      /buildBudget/,
    );
  });

  it('reads availability in the background, refreshes it, keeps it when a read fails', async () => {
    const clock = new FakeClock(T0);
    const m = fakeMonitor();
    const reads: [number, number][] = [];
    let fail = false;
    const history = (): History => ({
      heartbeatMs: 10_000,
      watching: [{ startMs: T0 - 90 * 86_400_000, endMs: T0 + 86_400_000 }],
      sites: new Map([
        [
          'kuta-1',
          {
            initial: 'up',
            changes: [
              { timeMs: T0 - 2 * 86_400_000, state: 'down' },
              { timeMs: T0 - 86_400_000, state: 'up' },
            ],
            maintenance: [],
            clockBreaches: 0,
          },
        ],
      ]),
    });
    const log = memoryLogger();
    const page = new StatusPage({
      source: m.source,
      clock,
      log,
      availability: {
        inventory,
        refreshMs: 600_000,
        read: async (from, to) => {
          reads.push([from, to]);
          if (fail) throw new Error('influx away');
          return history();
        },
      },
    });
    page.start();
    await new Promise((r) => setImmediate(r));
    expect(reads).toEqual([[T0 - 90 * 86_400_000, T0]]);
    const json = () =>
      JSON.parse(page.json()!.body.toString()) as { byKecamatan: { availability30d: number }[] };
    // 1 day down in 30: 96.67 %.
    expect(json().byKecamatan[0]?.availability30d).toBeCloseTo(96.67, 2);
    expect(page.html()?.body.toString()).toContain('96.67%');

    fail = true;
    clock.advance(600_000);
    await new Promise((r) => setImmediate(r));
    expect(reads).toHaveLength(2);
    expect(page.stats().availabilityFailures).toBe(1);
    expect(json().byKecamatan[0]?.availability30d).toBeDefined();
    expect(page.html()?.body.toString()).toContain('%');
    expect(log.records.filter((r) => r.msg.includes('availability read failed'))).toHaveLength(1);
    await page.stop();
  });
});

describe('GET /status and /status.json', () => {
  const clock = new FakeClock(T0);
  const m = fakeMonitor();
  const page = new StatusPage({ source: m.source, clock, log: memoryLogger() });
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const app = express();
    app.use(statusRouter(page));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await page.stop();
    await new Promise((r) => server.close(r));
  });

  it('answers 503 until the first build', async () => {
    const r = await fetch(`${base}/status`);
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('5');
  });

  it('serves the prebuilt page: ETag, cache headers, no script allowed, 304 on a match', async () => {
    page.start();
    const r = await fetch(`${base}/status`, { headers: { 'accept-encoding': 'identity' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(r.headers.get('cache-control')).toBe('public, max-age=5');
    expect(r.headers.get('content-security-policy')).toContain("default-src 'none'");
    const etag = r.headers.get('etag');
    expect(etag).toBe(page.html()?.etag);
    expect(await r.text()).toContain('<td>Kuta</td>');

    const again = await fetch(`${base}/status`, { headers: { 'if-none-match': `W/${etag}, "other"` } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');

    m.state.router = 'down';
    page.rebuild();
    const changed = await fetch(`${base}/status`, { headers: { 'if-none-match': etag ?? '' } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
  });

  it('gzips for clients that take it', async () => {
    const r = await fetch(`${base}/status.json`, { headers: { 'accept-encoding': 'gzip' } });
    expect(r.headers.get('content-encoding')).toBe('gzip');
    expect(Number(r.headers.get('content-length'))).toBe(page.json()?.gzip.length);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    const doc = (await r.json()) as { schema: string; outages: unknown[] };
    expect(doc.schema).toBe('badung-netmon/status/v1');
    expect(doc.outages).toHaveLength(1);
    const head = await fetch(`${base}/status.json`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('header parsing', () => {
    expect(etagMatches('*', '"a"')).toBe(true);
    expect(etagMatches('"b", W/"a"', '"a"')).toBe(true);
    expect(etagMatches('"b"', '"a"')).toBe(false);
    expect(etagMatches(undefined, '"a"')).toBe(false);
    expect(acceptsGzip('gzip, deflate, br')).toBe(true);
    expect(acceptsGzip('br;q=1.0, gzip;q=0.8')).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });
});
