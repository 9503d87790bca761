/**
 * What keeps the HTTP server answering when a client misbehaves (issue #10, found by probing it as an
 * attacker would). Kept apart from the routes so that server.ts only wires it in.
 *
 *   createHardenedServer   the node:http server with short request-phase timeouts and connection caps:
 *                          17,000 sockets that each send half a header used to hold 13,910 files open
 *                          until /health failed; now each is closed after `headersTimeoutMs`, one
 *                          address holds at most `maxConnectionsPerIp`, all of them `maxConnections`;
 *                          at that cap a new connection takes the place of the oldest idle one.
 *   rejectMalformedPath    400 (not a URIError's 500) for a path with a broken %-escape.
 *
 * The timeouts apply to the request phase and to idle sockets only, never to a response being streamed:
 *   headersTimeout   from the connection (or the end of the previous request) to the end of the headers
 *   requestTimeout   from there to the end of the request body
 *   keepAliveTimeout an idle keep-alive socket between two requests
 * An open Server-Sent Events response has finished its request phase and is not idle, so none of them
 * ends it; the socket inactivity timeout (`server.timeout`) stays off for the same reason.
 */
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import type { RequestHandler } from 'express';
import type { Logger } from '../core/log.ts';
import { RequestProblem } from './bodies.ts';

export interface ServerLimits {
  /** Time to send the whole header block (Node's default is 60 s). */
  readonly headersTimeoutMs: number;
  /** Time to send the whole request, body included (Node's default is 300 s). */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  readonly keepAliveTimeoutMs: number;
  /** How often the timeouts above are checked (Node's default is 30 s, which lets sockets pile up). */
  readonly checkIntervalMs: number;
  /**
   * Connections open at once. At the cap a new connection closes the oldest idle one (no request yet, a
   * header not finished, or a keep-alive between requests) and takes its place; only when every one is
   * busy (a request in progress, an open event stream) is the new one refused.
   */
  readonly maxConnections: number;
  /**
   * Connections open at once from one address. Behind a reverse proxy every client shares the proxy's
   * address: raise it there (each open event stream holds one connection).
   */
  readonly maxConnectionsPerIp: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
  maxConnections: 2_048,
  maxConnectionsPerIp: 256,
};

/** What the caps have done since the server started. */
export interface ConnectionStats {
  open: number;
  /** New connections refused at `maxConnections` because none open was idle. */
  refusedTotal: number;
  refusedPerIp: number;
  /** Idle connections closed at `maxConnections` to make room for a new one. */
  evictedIdle: number;
}

/** How often a refusal is logged at most (with the count since the last line). */
const REFUSAL_LOG_EVERY_MS = 10_000;

/** An http.Server for `handler` with `limits`, and its connection counters. */
export function createHardenedServer(
  handler: RequestListener,
  limits: Partial<ServerLimits> | undefined,
  log: Logger,
): { server: Server; stats: () => ConnectionStats } {
  const l = { ...DEFAULT_SERVER_LIMITS, ...limits };
  // connectionsCheckingInterval can only be given here, not set later.
  const server = createServer(
    {
      headersTimeout: l.headersTimeoutMs,
      requestTimeout: l.requestTimeoutMs,
      keepAliveTimeout: l.keepAliveTimeoutMs,
      connectionsCheckingInterval: l.checkIntervalMs,
    },
    handler,
  );
  const stats = hardenServer(server, l, log);
  return { server, stats };
}

/**
 * Apply `limits` to a server: timeouts (its checking interval stays what the server was made with), the
 * per-address cap, and the total cap with eviction of the oldest idle connection: many addresses sending
 * half a header each then cost an attacker its own oldest sockets, not the API its /health. Refusals and
 * evictions are counted and logged, at most once per 10 s per kind.
 */
export function hardenServer(server: Server, limits: ServerLimits, log: Logger): () => ConnectionStats {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.timeout = 0; // no inactivity timeout: an event stream may be quiet for a while
  const stats: ConnectionStats = { open: 0, refusedTotal: 0, refusedPerIp: 0, evictedIdle: 0 };
  const perIp = new Map<string, number>();
  // Connections with no request in progress, oldest first (a Set keeps insertion order).
  const idle = new Set<Socket>();
  const throttle = refusalLogger(log);

  const release = (socket: Socket, ip: string): void => {
    idle.delete(socket);
    stats.open--;
    const left = (perIp.get(ip) ?? 1) - 1;
    if (left <= 0) perIp.delete(ip);
    else perIp.set(ip, left);
  };
  const released = new WeakSet<Socket>();

  server.on('connection', (socket: Socket) => {
    const ip = socket.remoteAddress ?? 'unknown';
    if ((perIp.get(ip) ?? 0) >= limits.maxConnectionsPerIp) {
      stats.refusedPerIp++;
      throttle('max_connections_per_ip', { limit: limits.maxConnectionsPerIp, ip });
      socket.destroy();
      return;
    }
    if (stats.open >= limits.maxConnections) {
      const oldest = idle.values().next().value;
      if (!oldest) {
        stats.refusedTotal++;
        throttle('max_connections', { limit: limits.maxConnections, ip });
        socket.destroy();
        return;
      }
      stats.evictedIdle++;
      throttle('max_connections_evicted_idle', { limit: limits.maxConnections, ip: oldest.remoteAddress });
      // Counted out now, so the new connection fits at once; its 'close' comes later.
      released.add(oldest);
      release(oldest, oldest.remoteAddress ?? 'unknown');
      oldest.destroy();
    }
    perIp.set(ip, (perIp.get(ip) ?? 0) + 1);
    stats.open++;
    idle.add(socket);
    socket.once('close', () => {
      if (!released.has(socket)) release(socket, ip);
    });
  });
  // Busy from the end of its headers until its response is finished; idle again after (keep-alive).
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    idle.delete(socket);
    res.once('finish', () => {
      if (!socket.destroyed && !released.has(socket)) idle.add(socket);
    });
  });
  return () => ({ ...stats });
}

function refusalLogger(log: Logger) {
  const last = new Map<string, { atMs: number; since: number }>();
  return (reason: string, fields: Record<string, unknown>): void => {
    const now = Date.now();
    const entry = last.get(reason);
    if (entry && now - entry.atMs < REFUSAL_LOG_EVERY_MS) {
      entry.since++;
      return;
    }
    log.warn('http connection refused', { reason, ...fields, refusedSinceLastLine: (entry?.since ?? 0) + 1 });
    last.set(reason, { atMs: now, since: 0 });
  };
}

/**
 * 400 for a path whose %-escapes do not decode (`/api/v1/incidents/%E0%A4%A`, `/silences/%ZZ`), naming
 * the segment, before any route tries to decode it: express would throw a URIError there, a 500 with a
 * stack in the log.
 */
export const rejectMalformedPath: RequestHandler = (req, _res, next) => {
  const path = req.path;
  if (!path.includes('%')) {
    next();
    return;
  }
  const segments = path.split('/');
  for (const [i, segment] of segments.entries()) {
    if (!segment.includes('%')) continue;
    try {
      decodeURIComponent(segment);
    } catch {
      throw malformed(segment, segments.slice(0, i).join('/'));
    }
  }
  next();
};

/** The RequestProblem for a path parameter `raw` that is not valid percent-encoding. */
export function malformed(raw: string, before?: string): RequestProblem {
  const where = before ? ` after '${before}/'` : '';
  const message = `path parameter '${raw}'${where} is not valid percent-encoding (RFC 3986 §2.1): each % must start %XX of a UTF-8 sequence; write a literal % as %25`;
  return new RequestProblem(400, 'bad_request', message, [{ path: `path parameter '${raw}'`, message }]);
}

/** The router's own error for a parameter it could not decode (a URIError it marks 400). */
export function malformedParamError(err: unknown): RequestProblem | undefined {
  if (!(err instanceof URIError) || (err as URIError & { status?: unknown }).status !== 400) return undefined;
  const raw = /Failed to decode param '(.*)'$/.exec(err.message)?.[1] ?? '?';
  return malformed(raw);
}
