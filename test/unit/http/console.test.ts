/**
 * Serving the console (collector/http/console.ts through server.ts): the page and every file it names
 * answer with the right type, cache rules and a strict CSP; the page has no inline script or style; the
 * outlines are the inventory's; a tile server, when configured, is the only other origin allowed.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../collector/core/log.ts';
import {
  buildConsole,
  contentSecurityPolicy,
  tileSource,
  type ConsoleAssets,
} from '../../../collector/http/console.ts';
import { buildApp } from '../../../collector/http/server.ts';
import type { MonitorService } from '../../../collector/http/service.ts';
import { generateBadungInventory } from '../../../config/badung/generate.ts';
import { parseConfig } from '../../../config/monitor.ts';

const sites = generateBadungInventory({ seed: 1 }).sites;
let server: Server;
let base: string;
let assets: ConsoleAssets;

async function start(a: ConsoleAssets): Promise<{ server: Server; base: string }> {
  // The console's routes never reach the service; an empty one proves it.
  const app = buildApp({} as MonitorService, {
    tokens: [],
    log: createLogger({ level: 'error', write: () => undefined }),
    console: a,
  });
  const s = await new Promise<Server>((resolve) => {
    const x = app.listen(0, '127.0.0.1', () => resolve(x));
  });
  return { server: s, base: `http://127.0.0.1:${(s.address() as AddressInfo).port}` };
}

beforeAll(async () => {
  assets = await buildConsole({ sites });
  ({ server, base } = await start(assets));
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

describe('the console page', () => {
  it('is served at / with a strict CSP, no inline script or style, and revalidated', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script has a src
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(html).not.toMatch(/https?:\/\//); // nothing from another origin
  });

  it('names files that are all served, bundles immutable, vendor files from node_modules', async () => {
    const html = await (await fetch(`${base}/`)).text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(refs.length).toBe(6);
    for (const ref of refs) {
      const res = await fetch(`${base}${ref}`);
      expect(res.status, ref).toBe(200);
      expect(res.headers.get('content-type'), ref).toMatch(
        ref.endsWith('.js') ? /^text\/javascript/ : /^text\/css/,
      );
      const body = await res.text();
      expect(body.length, ref).toBeGreaterThan(500);
      if (/\/app-[0-9a-f]{12}\./.test(ref)) expect(res.headers.get('cache-control')).toContain('immutable');
    }
    const leaflet = await (await fetch(`${base}/console/vendor/leaflet/leaflet.js`)).text();
    expect(leaflet).toContain('Leaflet');
    const marker = await fetch(`${base}/console/vendor/leaflet/images/layers.png`);
    expect(marker.headers.get('content-type')).toBe('image/png');
  });

  it('answers a repeated request with 304 when the ETag matches', async () => {
    const first = await fetch(`${base}/`);
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await fetch(`${base}/`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('serves the kecamatan outlines of the inventory as GeoJSON', async () => {
    const res = await fetch(`${base}/console/outlines.geojson`);
    expect(res.headers.get('content-type')).toBe('application/geo+json; charset=utf-8');
    const fc = (await res.json()) as { features: { properties: { kecamatan: string; sites: number } }[] };
    expect(fc.features.map((f) => f.properties.kecamatan).sort()).toEqual([
      'Abiansemal',
      'Kuta',
      'Kuta Selatan',
      'Kuta Utara',
      'Mengwi',
      'Petang',
    ]);
    expect(fc.features.reduce((n, f) => n + f.properties.sites, 0)).toBe(987);
  });

  it('leaves other paths and methods to the API: JSON 404s', async () => {
    for (const [method, path] of [
      ['GET', '/console/nope.js'],
      ['POST', '/'],
      ['GET', '/console/../package.json'],
    ] as const) {
      const res = await fetch(`${base}${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(((await res.json()) as { error: string }).error).toBe('not_found');
    }
  });

  it('builds in well under a second', () => {
    expect(assets.buildMs).toBeLessThan(5000); // ~100-200 ms alone; the shared CI machine is slower
  });
});

describe('a configured tile server', () => {
  it.each([
    ['https://{s}.tile.example.org/{z}/{x}/{y}.png', 'https://*.tile.example.org'],
    ['http://tiles.badungkab.go.id:8080/{z}/{x}/{y}.png', 'http://tiles.badungkab.go.id:8080'],
    ['', undefined],
    ['javascript:alert(1)', undefined],
    ['/tiles/{z}/{x}/{y}.png', undefined],
  ])('%s is allowed as %s', (url, source) => {
    expect(tileSource(url)).toBe(source);
    const csp = contentSecurityPolicy(url);
    expect(csp).toContain(source ? `img-src 'self' ${source};` : "img-src 'self';");
  });

  it('is named in the page for the map, and only when it is http(s)', async () => {
    const a = await buildConsole({
      sites,
      tileUrl: 'https://{s}.tile.example.org/{z}/{x}/{y}.png',
      tileAttribution: '© "Example" <contributors>',
    });
    const html = a.files.get('/')?.body.toString('utf8') ?? '';
    expect(html).toContain('content="https://{s}.tile.example.org/{z}/{x}/{y}.png"');
    expect(html).toContain('content="© &#34;Example&#34; &#60;contributors&#62;"');
    const bad = await buildConsole({ sites, tileUrl: 'javascript:alert(1)' });
    expect(bad.files.get('/')?.body.toString('utf8')).toContain('name="netmon-tile-url" content=""');
  });
});

describe('console.tileUrl in the config', () => {
  const base = 'inventory: inv.yaml\ninflux: { api: v1, url: "http://127.0.0.1:8086", database: netmon }\n';
  it('takes an http(s) template with {z}, {x} and {y}, and its attribution', () => {
    const c = parseConfig(
      `${base}console:\n  tileUrl: https://tiles.example.org/{z}/{x}/{y}.png\n  tileAttribution: © Pemkab Badung\n`,
      'netmon.yaml',
      {},
    );
    expect(c.console?.tileUrl).toBe('https://tiles.example.org/{z}/{x}/{y}.png');
    expect(c.console?.tileAttribution).toBe('© Pemkab Badung');
  });

  it.each(['javascript:alert(1)', 'tiles.example.org/{z}/{x}/{y}.png', 'https://tiles.example.org/map.png'])(
    'refuses %s, naming the line and the fix',
    (url) => {
      expect(() => parseConfig(`${base}console:\n  tileUrl: "${url}"\n`, 'netmon.yaml', {})).toThrow(
        /netmon\.yaml:4:\d+: console\.tileUrl: expected '' \(outlines only\) or an http\(s\) tile URL template/,
      );
    },
  );
});
