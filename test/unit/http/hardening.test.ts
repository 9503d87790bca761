/**
 * Issue #10 against the HTTP server, probed as an attacker would, over real loopback sockets:
 *   - a token in the query string never reaches the log whole;
 *   - a broken %-escape in a path parameter is a 400 naming it, not a 500 with a URIError stack;
 *   - 2,000 sockets that send half a header do not starve /health, and the header timeout closes them;
 *     one address cannot hold more than its share; an open event stream outlives every timeout.
 * The flooding sockets come from 127.0.0.2 and 127.0.0.3, the well-behaved client from 127.0.0.1.
 */
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, memoryLogger, type LogRecord } from '../../../collector/core/log.ts';
import { generateToken } from '../../../collector/http/auth.ts';
import {
  createHardenedServer,
  DEFAULT_SERVER_LIMITS,
  malformedParamError,
} from '../../../collector/http/hardening.ts';
import { startHttp, type RunningHttp, type StartOptions } from '../../../collector/http/server.ts';
import { ApiError, type MonitorService } from '../../../collector/http/service.ts';
import { waitFor } from '../../support/ports.ts';

const viewer = generateToken();
const operator = generateToken();
const TOKENS = [
  { name: 'noc-wall', role: 'viewer' as const, tokenHash: viewer.tokenHash },
  { name: 'ops-1', role: 'operator' as const, tokenHash: operator.tokenHash },
];

/** Only what these tests reach; everything else says so. */
function service(calls: string[]): MonitorService {
  const no = (what: string) => (): never => {
    calls.push(what);
    throw new ApiError(404, `no ${what} here`);
  };
  return {
    health: () => ({ status: 'ok', details: {} }),
    sites: () => [],
    site: no('site'),
    incidents: () => [],
    incident: no('incident'),
    acknowledge: no('acknowledge'),
    resolve: no('resolve'),
    maintenance: () => [],
    addMaintenance: no('addMaintenance'),
    deleteMaintenance: no('deleteMaintenance'),
    availabilityReport: () => Promise.reject(new ApiError(501, 'no reports here')),
    silences: () => [],
    addSilence: no('addSilence'),
    deleteSilence: no('deleteSilence'),
  };
}

const open: { close(): Promise<void> }[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const o of open.splice(0).reverse()) await o.close(); // clients before their servers
});

async function serve(over: Partial<StartOptions> = {}) {
  const lines: string[] = [];
  const records: LogRecord[] = [];
  const log = createLogger({
    level: 'debug',
    write: (line, record) => {
      lines.push(line);
      records.push(record);
    },
  });
  const calls: string[] = [];
  const http = await startHttp(service(calls), {
    listen: { host: '127.0.0.1', port: 0 },
    tokens: TOKENS,
    log,
    ...over,
  });
  open.push(http);
  return { http, lines, records, calls };
}

async function call(
  http: RunningHttp,
  path: string,
  init: { method?: string; token?: string } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(http.url + path, {
    method: init.method ?? 'GET',
    headers: init.token ? { authorization: `Bearer ${init.token}` } : {},
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const lifetimes = new WeakMap<Socket, { openedAt: number; closedAt?: number }>();
const lifetimeMs = (s: Socket): number => {
  const l = lifetimes.get(s);
  return l?.closedAt === undefined ? Infinity : l.closedAt - l.openedAt;
};

/** `n` sockets from `localAddress` that each send the start of a request and never finish its headers. */
async function halfHeaders(url: string, n: number, localAddress: string): Promise<Socket[]> {
  const { hostname, port } = new URL(url);
  const made: Socket[] = [];
  // In batches: the listen backlog would drop SYNs of thousands at once.
  for (let i = 0; i < n; i += 200) {
    const batch = Array.from(
      { length: Math.min(200, n - i) },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const s = connect({ host: hostname, port: Number(port), localAddress });
          s.once('connect', () => {
            s.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
            lifetimes.set(s, { openedAt: Date.now() });
            s.once('close', () => {
              const l = lifetimes.get(s);
              if (l) l.closedAt = Date.now();
            });
            resolve(s);
          });
          s.once('error', reject);
        }),
    );
    const got = await Promise.all(batch);
    for (const s of got) {
      s.on('error', () => undefined); // a reset by the server is what some of them should get
      s.resume(); // read the 408, so that the server's FIN is seen and the socket closes
      made.push(s);
      sockets.push(s);
    }
  }
  return made;
}

/** GET /health on a connection of its own (as curl from a supervisor would); the status code. */
function healthOnNewConnection(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/health`, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

const closed = (ss: readonly Socket[]): number =>
  ss.filter((s) => s.destroyed || s.readyState === 'closed').length;

describe('secrets in logged paths', () => {
  it('logs a token sent as ?token=, ?key= or ?access_token= with its value redacted', async () => {
    const { http, lines } = await serve();
    const stranger = generateToken();
    const paths = [
      `/api/v1/incidents?token=${stranger.token}`,
      `/api/v1/incidents?status=open&key=${encodeURIComponent(stranger.token)}&limit=5`,
      `/api/v1/incidents?ACCESS_TOKEN=${stranger.token}`,
      `/api/v1/no-route/${stranger.token}`,
    ];
    for (const p of paths) expect((await call(http, p)).status, p).toBe(401);
    // A write is audited with its path: the same redaction applies.
    const w = await call(http, `/api/v1/silences/sil-9?sig=abc123def&password=hunter2`, {
      method: 'DELETE',
      token: operator.token,
    });
    expect(w.status).toBe(404);
    const logged = lines.join('\n');
    const secret = stranger.token.split('_').slice(2).join('_');
    expect(logged).not.toContain(secret);
    expect(logged).not.toContain('abc123def');
    expect(logged).not.toContain('hunter2');
    const paths401 = lines
      .map((l) => JSON.parse(l) as LogRecord)
      .filter((r) => r.msg === 'api access refused')
      .map((r) => r.path);
    expect(paths401).toEqual([
      '/api/v1/incidents?token=[redacted]',
      '/api/v1/incidents?status=open&key=[redacted]&limit=5',
      '/api/v1/incidents?ACCESS_TOKEN=[redacted]',
      `/api/v1/no-route/bnm_${stranger.id}_[redacted]`,
    ]);
    const auditLine = lines.map((l) => JSON.parse(l) as LogRecord).find((r) => r.msg === 'audit');
    expect(auditLine?.path).toBe('/api/v1/silences/sil-9?sig=[redacted]&password=[redacted]');
  });
});

describe('malformed %-escapes in the path', () => {
  it('answers 400 naming the parameter, not a 500 with a URIError stack', async () => {
    const { http, records, calls } = await serve();
    const a = await call(http, '/api/v1/incidents/%E0%A4%A', { token: viewer.token });
    expect(a.status).toBe(400);
    expect(a.json.error).toBe('bad_request');
    expect(a.json.message).toContain("path parameter '%E0%A4%A' after '/api/v1/incidents/'");
    expect(a.json.message).toMatch(/not valid percent-encoding/);
    const d = await call(http, '/api/v1/silences/%ZZ', { method: 'DELETE', token: operator.token });
    expect(d.status).toBe(400);
    expect(d.json.message).toContain("path parameter '%ZZ' after '/api/v1/silences/'");
    expect(d.json.issues).toEqual([{ path: "path parameter '%ZZ'", message: d.json.message }]);
    // Well-formed escapes still reach the route decoded.
    const ok = await call(http, '/api/v1/incidents/inc%2D1', { token: viewer.token });
    expect(ok).toMatchObject({ status: 404, json: { message: 'no incident here' } });
    expect(calls).toEqual(['incident']);
    expect(records.filter((r) => r.level === 'error')).toEqual([]);
    expect(JSON.stringify(records)).not.toContain('URIError');
  });

  it("turns the router's own URIError (a route that decodes itself) into the same 400", () => {
    const err = Object.assign(new URIError("Failed to decode param '%ZZ'"), { status: 400 });
    expect(malformedParamError(err)?.status).toBe(400);
    expect(malformedParamError(err)?.message).toMatch(/^path parameter '%ZZ' is not valid percent-encoding/);
    expect(malformedParamError(new URIError('x'))).toBeUndefined(); // not the router's: a real 500
    expect(malformedParamError(new Error('x'))).toBeUndefined();
  });
});

describe('connection floods', () => {
  it('keeps /health answering through 2,000 half-header sockets, and closes them at the header timeout', async () => {
    // The default timeouts; only the per-address cap is raised (all 2,000 come from two addresses).
    const { http, records } = await serve({ limits: { maxConnectionsPerIp: 1_500 } });
    const { headersTimeoutMs, checkIntervalMs } = DEFAULT_SERVER_LIMITS;
    const t0 = Date.now();
    const flood = [
      ...(await halfHeaders(http.url, 1_000, '127.0.0.2')),
      ...(await halfHeaders(http.url, 1_000, '127.0.0.3')),
    ];
    const openedMs = Date.now() - t0;
    await waitFor(() => http.connections().open >= 2_000, {
      what: () =>
        `the server to hold the 2,000 sockets (${http.connections().open} open, ${closed(flood)} closed, opened in ${openedMs} ms)`,
    });
    // All 2,000 are held open right now, and the API still answers.
    const h0 = Date.now();
    const h = await call(http, '/health');
    const healthMs = Date.now() - h0;
    expect(h).toEqual({ status: 200, json: { status: 'ok' } });
    expect(closed(flood)).toBe(0);
    // Then the header timeout closes every one of them (a 408 and FIN): none before it, all soon after.
    await waitFor(() => closed(flood) === flood.length, {
      timeoutMs: headersTimeoutMs + 20_000,
      what: () => `the flood to be closed (${closed(flood)} of ${flood.length})`,
    });
    const lives = flood.map(lifetimeMs).sort((a, b) => a - b);
    const shortest = lives[0] ?? 0;
    const longest = lives.at(-1) ?? Infinity;
    expect(shortest).toBeGreaterThanOrEqual(headersTimeoutMs);
    // The check runs every checkIntervalMs; allow the shared CPU some seconds to get round to 2,000 (still far under the old 60 s).
    expect(longest).toBeLessThan(headersTimeoutMs + checkIntervalMs + 10_000);
    await waitFor(() => http.connections().open === 0, { what: 'the server to count no connection' });
    expect((await call(http, '/health')).status).toBe(200);
    expect(http.connections().refusedPerIp).toBe(0);
    expect(records.filter((r) => r.level === 'error')).toEqual([]);
    console.log(
      `2,000 half-header sockets opened in ${openedMs} ms; /health answered in ${healthMs} ms with all open; ` +
        `each closed after ${shortest}-${longest} ms (header timeout ${headersTimeoutMs} ms)`,
    );
  });

  it('holds one address to its share: the rest are closed at once and logged (once), others still served', async () => {
    const { http, records } = await serve({ limits: { maxConnectionsPerIp: 50 } });
    const flood = await halfHeaders(http.url, 200, '127.0.0.2');
    await waitFor(() => closed(flood) === 150, {
      what: () => `150 sockets over the per-address cap closed (${closed(flood)})`,
    });
    expect(http.connections()).toMatchObject({ open: 50, refusedPerIp: 150 });
    expect((await call(http, '/health')).status).toBe(200); // from 127.0.0.1
    const refused = records.filter((r) => r.msg === 'http connection refused');
    expect(refused).toHaveLength(1); // throttled: one line for the burst
    expect(refused[0]).toMatchObject({ reason: 'max_connections_per_ip', ip: '127.0.0.2', limit: 50 });
  });

  it('at the total cap, a new connection takes the place of the oldest idle one: /health still gets in', async () => {
    const { http, records } = await serve({ limits: { maxConnections: 100, maxConnectionsPerIp: 1_000 } });
    // 150 half-header sockets where 100 fit: the 50 oldest make room for the newer ones.
    const flood = await halfHeaders(http.url, 150, '127.0.0.2');
    await waitFor(() => closed(flood) === 50, { what: () => `50 evicted (${closed(flood)})` });
    expect(http.connections()).toMatchObject({ open: 100, evictedIdle: 50, refusedTotal: 0 });
    // A new connection for /health (no keep-alive) is served, at the cost of one more idle socket.
    const h = await healthOnNewConnection(http.url);
    expect(h).toBe(200);
    expect(http.connections().evictedIdle).toBe(51);
    expect(records.find((r) => r.msg === 'http connection refused')).toMatchObject({
      reason: 'max_connections_evicted_idle',
      limit: 100,
      ip: '127.0.0.2',
    });
  });
});

describe('long-lived responses', () => {
  it('an open event stream outlives the header, request and keep-alive timeouts', async () => {
    const log = memoryLogger();
    let push: ((data: string) => void) | undefined;
    const { server, stats } = createHardenedServer(
      (req: IncomingMessage, res: ServerResponse) => {
        if (req.url !== '/events') {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
        res.write('data: first\n\n');
        push = (data) => res.write(`data: ${data}\n\n`);
      },
      { headersTimeoutMs: 400, requestTimeoutMs: 500, keepAliveTimeoutMs: 300, checkIntervalMs: 100 },
      log,
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    open.push({ close: () => new Promise<void>((r) => server.close(() => r())) });
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    const received: string[] = [];
    let ended = false;
    const req = request({ host: '127.0.0.1', port, path: '/events' }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => received.push(chunk));
      res.on('close', () => (ended = true));
    });
    req.end();
    open.push({ close: async () => void req.destroy() });
    await waitFor(() => received.join('').includes('first'));
    // A quiet stream, while two rounds of half-header sockets are timed out around it: by the end of the
    // second (at least 2 x 400 ms) every timeout has had its turn at the stream.
    for (let round = 0; round < 2; round++) {
      const flood = await halfHeaders(`http://127.0.0.1:${port}`, 20, '127.0.0.2');
      await waitFor(() => closed(flood) === flood.length, { what: 'the half-header sockets to time out' });
    }
    expect(ended).toBe(false);
    push?.('second');
    await waitFor(() => received.join('').includes('data: second'));
    expect(ended).toBe(false);
    expect(stats().open).toBe(1);
  });

  it('at the total cap with every connection busy, refuses the new one and keeps the streams', async () => {
    const log = memoryLogger();
    const { server, stats } = createHardenedServer(
      (_req: IncomingMessage, res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: hello\n\n');
      },
      { maxConnections: 3 },
      log,
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    open.push({ close: () => new Promise<void>((r) => server.close(() => r())) });
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    const streams = await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<IncomingMessage>((resolve, reject) => {
            const req = request({ host: '127.0.0.1', port, path: '/events', agent: false }, resolve);
            req.on('error', reject);
            req.end();
            open.push({ close: async () => void req.destroy() });
          }),
      ),
    );
    let ended = 0;
    for (const s of streams) s.on('close', () => ended++).resume();
    await waitFor(() => stats().open === 3);
    const [late] = await halfHeaders(`http://127.0.0.1:${port}`, 1, '127.0.0.2');
    await waitFor(() => late?.destroyed === true, { what: 'the fourth connection to be refused' });
    expect(stats()).toMatchObject({ open: 3, refusedTotal: 1, evictedIdle: 0 });
    expect(ended).toBe(0);
    expect(log.records.find((r) => r.msg === 'http connection refused')).toMatchObject({
      reason: 'max_connections',
    });
  });

  it('close() lets a request in progress finish, then cuts one that is still open after its grace', async () => {
    const stuck = express.Router();
    let answer: (() => void) | undefined;
    stuck.get('/status/slow', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part');
      answer = () => res.end(' and the rest');
    });
    stuck.get('/status/stuck', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part'); // and never more: a client (or a bug) that holds the response open
    });
    const { http } = await serve({ status: stuck });
    const get = (url: string) =>
      new Promise<{ body: () => string; ended: Promise<boolean> }>((resolve, reject) => {
        const req = request(url, { agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          const ended = new Promise<boolean>((r) => {
            res.on('end', () => r(true));
            res.on('aborted', () => r(false));
            res.on('error', () => r(false));
          });
          resolve({ body: () => body, ended });
        });
        req.on('error', reject);
        req.end();
      });
    const slow = await get(`${http.url}/status/slow`);
    const closing = http.close();
    answer?.();
    expect(await slow.ended).toBe(true);
    expect(slow.body()).toBe('part and the rest');
    const t1 = Date.now();
    await closing;
    expect(Date.now() - t1).toBeLessThan(2_000); // its connection closed as it fell idle, not at the grace
    // The server is closed now; a second server for the stuck response.
    const again = await serve({ status: stuck });
    const held = await get(`${again.http.url}/status/stuck`);
    const t0 = Date.now();
    await again.http.close();
    const tookMs = Date.now() - t0;
    expect(await held.ended).toBe(false); // cut, not finished
    expect(tookMs).toBeGreaterThanOrEqual(2_500);
    expect(tookMs).toBeLessThan(10_000);
  }, 20_000);
});
