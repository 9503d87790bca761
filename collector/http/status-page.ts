/**
 * The public status page over HTTP, no sign-in (server.ts mounts it when `status.enabled`):
 *
 *   GET /status          the page (text/html), rebuilt by collector/status/status-page.ts
 *   GET /status.json     the same facts as JSON (schema badung-netmon/status/v1), readable cross-origin
 *
 * Each answer is a prebuilt Buffer picked from the cache: gzipped when the client takes gzip, 304 when
 * its If-None-Match holds the current ETag. Nothing here reads the monitor, so heavy traffic never
 * touches polling. Written with writeHead/end, not res.send, so express does not hash each body again.
 */
import type { IncomingHttpHeaders } from 'node:http';
import express, { type Response } from 'express';
import type { Prebuilt } from '../status/status-page.ts';

export interface StatusPageSource {
  html(): Prebuilt | undefined;
  json(): Prebuilt | undefined;
}

/** Clients and proxies may reuse an answer this long: the page is rebuilt about as often. */
export const STATUS_MAX_AGE_S = 5;

const HTML_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function statusRouter(page: StatusPageSource): express.Router {
  const router = express.Router();
  router.get('/status', (req, res) => {
    serve(req.headers, res, page.html(), { 'Content-Security-Policy': HTML_CSP });
  });
  router.get('/status.json', (req, res) => {
    serve(req.headers, res, page.json(), { 'Access-Control-Allow-Origin': '*' });
  });
  return router;
}

function serve(
  headers: IncomingHttpHeaders,
  res: Response,
  doc: Prebuilt | undefined,
  extra: Record<string, string>,
): void {
  if (!doc) {
    res
      .status(503)
      .set('Retry-After', '5')
      .json({ error: 'unavailable', message: 'the status page is being built; try again in a few seconds' });
    return;
  }
  const common: Record<string, string> = {
    ETag: doc.etag,
    'Cache-Control': `public, max-age=${STATUS_MAX_AGE_S}`,
    Vary: 'Accept-Encoding',
    'X-Content-Type-Options': 'nosniff',
    'Last-Modified': new Date(doc.builtAtMs).toUTCString(),
    ...extra,
  };
  if (etagMatches(headers['if-none-match'], doc.etag)) {
    res.writeHead(304, common).end();
    return;
  }
  const gzip = acceptsGzip(headers['accept-encoding']);
  const body = gzip ? doc.gzip : doc.body;
  res
    .writeHead(200, {
      ...common,
      'Content-Type': doc.contentType,
      'Content-Length': String(body.length),
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
    })
    .end(body);
}

/** RFC 9110 13.1.2: If-None-Match compares weakly; `*` matches any current representation. */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const strip = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => t.trim() === '*' || strip(t) === etag);
}

/** gzip listed in Accept-Encoding and not refused with q=0. */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding?.trim() !== 'gzip') return false;
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    return q === undefined || Number(q) > 0;
  });
}
