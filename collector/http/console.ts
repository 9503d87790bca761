/**
 * The operators' console in the browser: its files, built once when the monitor starts, then served from
 * memory by server.ts on the API's port. The only importer of esbuild.
 *
 *   GET /                                      the console's page (index.html), no sign-in needed
 *   GET /console/app-<hash>.js, .css           the bundled TypeScript of web/console/ and its styles
 *   GET /console/vendor/leaflet/...            Leaflet and markercluster from node_modules (never a CDN)
 *   GET /console/outlines.geojson              the kecamatan outlines derived from the inventory
 *
 * The data the console shows comes from /api/v1 with the session cookie; these files hold none of it
 * beyond the outlines. Every answer carries a strict Content-Security-Policy: scripts and styles only
 * from this origin and no inline ones, images from here and the configured tile server only.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Express, RequestHandler } from 'express';
import { kecamatanOutlines, type OutlineSite } from '../feeds/outlines.ts';

export interface ConsoleOptions {
  /** Where the sites are, for the kecamatan outlines. */
  readonly sites: readonly OutlineSite[];
  /** `console.tileUrl`: a Leaflet tile URL template; empty or absent: the outlines only (offline). */
  readonly tileUrl?: string | undefined;
  readonly tileAttribution?: string | undefined;
}

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly cache: string;
  readonly etag: string;
}

export interface ConsoleAssets {
  /** By path under /console (`/app-1a2b3c4d.js`), plus `/` for the page. */
  readonly files: ReadonlyMap<string, Asset>;
  readonly csp: string;
  /** How long the build took (ms), for the start-up log. */
  readonly buildMs: number;
}

const WEB_DIR = fileURLToPath(new URL('../../web/console/', import.meta.url));
const IMMUTABLE = 'public, max-age=31536000, immutable';
const VENDOR = 'public, max-age=86400';
const REVALIDATE = 'no-cache';
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.html': 'text/html; charset=utf-8',
  '.geojson': 'application/geo+json; charset=utf-8',
};

function typeOf(path: string): string {
  const ext = /\.[a-z]+$/.exec(path)?.[0] ?? '';
  return TYPES[ext] ?? 'application/octet-stream';
}

function asset(body: Buffer | string, type: string, cache: string): Asset {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const etag = `"${createHash('sha256').update(buf).digest('base64url').slice(0, 22)}"`;
  return { body: buf, type, cache, etag };
}

const shortHash = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex').slice(0, 12);

const escapeAttr = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The CSP source for a tile URL template's server (`https://{s}.tile.example.org/{z}/{x}/{y}.png` gives
 * `https://*.tile.example.org`); undefined when there is none or it is not http(s).
 */
export function tileSource(tileUrl: string | undefined): string | undefined {
  const m = /^(https?:\/\/[^/?#]+)/i.exec(tileUrl ?? '');
  if (!m?.[1]) return undefined;
  return m[1].replace(/\{[a-z]+\}/gi, '*');
}

export function contentSecurityPolicy(tileUrl: string | undefined): string {
  const tiles = tileSource(tileUrl);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self'${tiles ? ` ${tiles}` : ''}`,
    "connect-src 'self'",
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Bundle web/console (esbuild, in memory, ~100 ms) and read the vendor files. */
export async function buildConsole(opts: ConsoleOptions): Promise<ConsoleAssets> {
  const started = performance.now();
  const files = new Map<string, Asset>();
  const bundle = await build({
    entryPoints: [join(WEB_DIR, 'src/main.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    outfile: 'app.js',
  });
  const js = bundle.outputFiles[0]?.contents;
  if (!js) throw new Error('esbuild produced no console bundle');
  const jsBuf = Buffer.from(js);
  const css = await readFile(join(WEB_DIR, 'console.css'));
  const jsPath = `/app-${shortHash(jsBuf)}.js`;
  const cssPath = `/app-${shortHash(css)}.css`;
  files.set(jsPath, asset(jsBuf, TYPES['.js'] as string, IMMUTABLE));
  files.set(cssPath, asset(css, TYPES['.css'] as string, IMMUTABLE));

  const require = createRequire(import.meta.url);
  const vendor = async (pkg: string, names: readonly string[], sub = 'dist') => {
    const dir = join(dirname(require.resolve(`${pkg}/package.json`)), sub);
    for (const n of names)
      files.set(`/vendor/${pkg}/${n}`, asset(await readFile(join(dir, n)), typeOf(n), VENDOR));
  };
  await vendor('leaflet', ['leaflet.js', 'leaflet.css']);
  const images = await readdir(join(dirname(require.resolve('leaflet/package.json')), 'dist', 'images'));
  await vendor(
    'leaflet',
    images.map((i) => `images/${i}`),
  );
  await vendor('leaflet.markercluster', [
    'leaflet.markercluster.js',
    'MarkerCluster.css',
    'MarkerCluster.Default.css',
  ]);

  files.set(
    '/outlines.geojson',
    asset(JSON.stringify(kecamatanOutlines(opts.sites)), TYPES['.geojson'] as string, REVALIDATE),
  );

  const page = (await readFile(join(WEB_DIR, 'index.html'), 'utf8'))
    .replace('{{tileUrl}}', escapeAttr(tileSource(opts.tileUrl) ? (opts.tileUrl ?? '') : ''))
    .replace('{{tileAttribution}}', escapeAttr(opts.tileAttribution ?? ''))
    .replace('{{js}}', `/console${jsPath}`)
    .replace('{{css}}', `/console${cssPath}`);
  files.set('/', asset(page, TYPES['.html'] as string, REVALIDATE));

  return {
    files,
    csp: contentSecurityPolicy(opts.tileUrl),
    buildMs: Math.round(performance.now() - started),
  };
}

/** Serve the console: `/` and `/console/...`, GET and HEAD, from memory, with ETag and the CSP. */
export function registerConsoleRoutes(app: Express, assets: ConsoleAssets): void {
  const serve =
    (path: (p: string) => string): RequestHandler =>
    (req, res, next) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        next();
        return;
      }
      const a = assets.files.get(path(req.path));
      if (!a) {
        next();
        return;
      }
      res.set({
        'Content-Type': a.type,
        'Cache-Control': a.cache,
        ETag: a.etag,
        'Content-Security-Policy': assets.csp,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'X-Frame-Options': 'DENY',
        'Cross-Origin-Opener-Policy': 'same-origin',
      });
      if (req.get('if-none-match') === a.etag) {
        res.status(304).end();
        return;
      }
      res.status(200).send(a.body);
    };
  app.get(
    '/',
    serve(() => '/'),
  );
  app.use(
    '/console',
    serve((p) => p),
  );
}
