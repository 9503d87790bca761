/**
 * The monitor's HTTP API (the only file that builds express objects). It authenticates, validates and
 * translates; every decision is the MonitorService's (service.ts).
 *
 *   GET /, /console/...              the operators' console (console.ts): static files, no token; its data
 *                                    comes from /api/v1 like any other client's
 *   GET /health                      no token: { status: ok | degraded } for process supervisors, nothing more
 *   /api/v1/session                  sign-in, sign-out (session-http.ts), when the console is enabled;
 *                                    then every /api/v1 route also takes the session cookie (with
 *                                    X-CSRF-Token on writes) instead of a token, same roles
 *   /api/v1/...                      a token (auth.ts); routes/state.ts, incidents.ts, suppression.ts
 *   /feeds/...                       the CAP and GeoJSON feeds router the caller hands in, behind feedAccess
 *                                    (feeds/access.ts): a token in the header, a feed key as ?key=, a viewer
 *                                    token as ?token=, or nothing with `feedsPublic`
 *   /status, /status.json            the public status page (status-page.ts), no token, when handed in
 *   POST /hooks/...                  webhooks of chat channels (Telegram button presses): no token, each
 *                                    hook checks its own secret (collector/notify/telegram-updates.ts)
 *
 * Every request gets an id (X-Request-Id); every error is JSON `{ error, message }` (plus `issues` naming
 * the fields of a refused body or query, and `requestId` of a 500, whose cause is logged, never sent).
 * Writes take JSON only (415), at most `bodyLimitBytes` (413), checked by strict schemas (400), and each
 * leaves an `audit` log line naming the token's holder, whatever its outcome.
 *
 * Hardening (hardening.ts): short request-phase timeouts and connection caps on the server, a 400 for a path
 * that does not %-decode; the logger redacts tokens from every logged path (core/log.ts).
 */
import { randomUUID } from 'node:crypto';
import type { RequestListener } from 'node:http';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { systemClock, type Clock } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import {
  createHardenedServer,
  malformedParamError,
  rejectMalformedPath,
  type ConnectionStats,
  type ServerLimits,
} from './hardening.ts';
import { feedAccess } from '../feeds/routes.ts';
import { FeedKeyRegistry, type FeedKeyConfig } from '../feeds/keys.ts';
import { roleAtLeast, TokenRegistry, type ApiTokenConfig, type Principal, type Role } from './auth.ts';
import { RequestProblem, type FieldIssue } from './bodies.ts';
import { registerConsoleRoutes, type ConsoleAssets } from './console.ts';
import { registerIncidentRoutes } from './routes/incidents.ts';
import type { AuditNote, RouteKit } from './routes/kit.ts';
import { registerReportRoutes } from './routes/reports.ts';
import { registerStateRoutes } from './routes/state.ts';
import { registerSuppressionRoutes } from './routes/suppression.ts';
import {
  registerSessionRoutes,
  sessionAuthenticator,
  SESSION_PRINCIPAL_PREFIX,
  type SessionHttpOptions,
} from './session-http.ts';
import { ApiError, type MonitorService } from './service.ts';

export interface HttpOptions {
  readonly host: string;
  readonly port: number;
}

export interface RunningHttp {
  readonly url: string;
  /** Connections open now and refused by the caps (hardening.ts). */
  connections(): ConnectionStats;
  close(): Promise<void>;
}

/** A webhook a channel receives (Telegram updates): JSON in, JSON out; it checks its own secret. */
export interface InboundHook {
  readonly path: string;
  handle(
    headers: Readonly<Record<string, string | string[] | undefined>>,
    body: unknown,
  ): Promise<{ status: number; body: unknown }>;
}

export interface ApiOptions {
  /** `api.tokens` of the config (config/api.ts), or a registry built from them. */
  readonly tokens: readonly ApiTokenConfig[] | TokenRegistry;
  readonly log: Logger;
  /** Mounted at /feeds (collector/feeds/routes.ts feedsRouter). */
  readonly feeds?: express.Router | undefined;
  /** Serve /feeds without a token (config `api.feedsPublic`). Default false: viewer. */
  readonly feedsPublic?: boolean | undefined;
  /** Feed keys (`feeds.keys`) accepted as `?key=` on /feeds. */
  readonly feedKeys?: readonly FeedKeyConfig[] | undefined;
  /** The public status page (/status, /status.json; status-page.ts statusRouter); absent: 404. */
  readonly status?: express.Router | undefined;
  /** Time for `since=24h` and silences starting now. Default: the system clock. */
  readonly clock?: Clock | undefined;
  /** Largest request body accepted. Default 64 KiB. */
  readonly bodyLimitBytes?: number | undefined;
  /** Mounted as POST routes, without a token. */
  readonly hooks?: readonly InboundHook[] | undefined;
  /** The console's files (console.ts buildConsole), served at / and /console; absent: not served. */
  readonly console?: ConsoleAssets | undefined;
  /** The console's sign-in and sessions (config `console:`); absent: tokens only. */
  readonly session?: SessionHttpOptions | undefined;
  /** More /api/v1 routes, registered after authentication and before the others (the console's). */
  readonly moreRoutes?: readonly ((router: express.Router, kit: RouteKit) => void)[] | undefined;
}

export interface StartOptions extends ApiOptions {
  readonly listen: HttpOptions;
  /** Timeouts and connection caps; DEFAULT_SERVER_LIMITS (hardening.ts) for what is not given. */
  readonly limits?: Partial<ServerLimits> | undefined;
}

export const API_BASE = '/api/v1';
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;
const REALM = 'badung-netmon';
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** How long close() lets requests in progress finish before it cuts their connections. */
const CLOSE_GRACE_MS = 3_000;

interface Locals {
  requestId: string;
  principal?: Principal;
  audit?: AuditNote;
}
const locals = (res: Response): Locals => res.locals as Locals;

export function buildApp(service: MonitorService, opts: ApiOptions): express.Express {
  const { log } = opts;
  const clock = opts.clock ?? systemClock;
  const registry = opts.tokens instanceof TokenRegistry ? opts.tokens : new TokenRegistry(opts.tokens);
  const limit = opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;

  const app = express();
  app.disable('x-powered-by');
  app.use(requestId);
  app.use(rejectMalformedPath);
  if (opts.console) registerConsoleRoutes(app, opts.console);

  app.get('/health', (_req, res) => {
    let status: 'ok' | 'degraded' | 'failing';
    try {
      status = service.health().status;
    } catch (err) {
      log.error('health check failed', { requestId: locals(res).requestId, error: errorMessage(err) });
      status = 'failing';
    }
    res.status(status === 'failing' ? 503 : 200).json({ status });
  });

  if (opts.status) app.use(opts.status);

  const authenticate = authenticator(registry, log);
  const viaSession = opts.session
    ? sessionAuthenticator(opts.session.sessions, log, (req, res, p) => auditWrites(req, res, p, log))
    : undefined;
  const kit: RouteKit = {
    service,
    now: () => clock.now(),
    need: (role) => requireRole(role, log),
    jsonBody: jsonBody(limit),
  };

  if (opts.session) {
    const sessionRoutes = express.Router();
    registerSessionRoutes(sessionRoutes, opts.session, kit.jsonBody);
    app.use(API_BASE, sessionRoutes);
  }

  const v1 = express.Router();
  if (viaSession) v1.use(viaSession);
  v1.use(authenticate);
  // First: the console's routes may add to what the routes below answer (health metrics).
  for (const register of opts.moreRoutes ?? []) register(v1, kit);
  registerStateRoutes(v1, kit);
  registerIncidentRoutes(v1, kit);
  registerSuppressionRoutes(v1, kit, API_BASE);
  registerReportRoutes(v1, kit);
  app.use(API_BASE, v1);

  if (opts.feeds) {
    const keys = new FeedKeyRegistry(opts.feedKeys ?? []);
    app.use(
      '/feeds',
      feedAccess({ tokens: registry, keys, public: opts.feedsPublic ?? false }, log),
      opts.feeds,
    );
  }

  for (const hook of opts.hooks ?? []) {
    app.post(hook.path, express.json({ limit }), (req, res, next) => {
      hook.handle(req.headers, req.body).then(
        (r) => void res.status(r.status).json(r.body),
        (err: unknown) => next(err),
      );
    });
  }

  app.use(notFound);
  app.use(errorHandler(log, limit));
  return app;
}

/** Listen on `opts.listen` (port 0: any free port) and serve the API. */
export async function startHttp(service: MonitorService, opts: StartOptions): Promise<RunningHttp> {
  return listenHttp(buildApp(service, opts), opts.listen, opts.limits, opts.log);
}

/**
 * Listen on `listen` with any handler: a cluster's alerting candidate serves its FrontDoor (front-door.ts),
 * whose answers follow the election, from one listener for the life of the process.
 */
export async function listenHttp(
  app: RequestListener,
  listen: HttpOptions,
  limits: Partial<ServerLimits> | undefined,
  log: Logger,
): Promise<RunningHttp> {
  const { server, stats } = createHardenedServer(app, limits, log);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : listen.port;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return {
    url: `http://${host}:${port}`,
    connections: stats,
    close: () =>
      new Promise<void>((resolve) => {
        // Requests in progress get a grace to finish; past it their connections are cut, so a slow or
        // stuck client cannot hold the monitor's stop.
        const grace = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        grace.unref();
        // Keep-alive connections of idle clients would hold close() open until they time out: closed now,
        // and those of requests that finish meanwhile as they fall idle.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        sweep.unref();
        server.close(() => {
          clearTimeout(grace);
          clearInterval(sweep);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

// ---- middleware ------------------------------------------------------------------------------------------

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{8,64}$/;

/** A proxy's X-Request-Id is kept when it looks like one; otherwise a new UUID. Echoed in the response. */
const requestId: RequestHandler = (req, res, next) => {
  const given = req.get('x-request-id');
  const id = given && REQUEST_ID_RE.test(given) ? given : randomUUID();
  locals(res).requestId = id;
  res.set('X-Request-Id', id);
  next();
};

/**
 * 401 unless the request carries a configured token (RFC 6750: `WWW-Authenticate: Bearer`, with
 * `error="invalid_token"` when a token was sent). Writes get their audit line once they are answered, or
 * their client has gone.
 */
function authenticator(registry: TokenRegistry, log: Logger): RequestHandler {
  return (req, res, next) => {
    if (locals(res).principal) {
      next(); // already authenticated by an earlier router (/api/v1 falls through to /api)
      return;
    }
    const r = registry.authenticate(req.get('authorization'));
    if (!r.ok) {
      log.warn('api access refused', {
        status: 401,
        reason: r.reason,
        tokenId: r.reason === 'unknown' ? r.tokenId : undefined,
        method: req.method,
        path: req.originalUrl,
        ip: req.ip,
        requestId: locals(res).requestId,
      });
      const challenge =
        r.reason === 'missing'
          ? `Bearer realm="${REALM}"`
          : `Bearer realm="${REALM}", error="invalid_token", error_description="${r.message.replace(/"/g, "'")}"`;
      res.set('WWW-Authenticate', challenge);
      send(res, 401, 'unauthorized', r.message);
      return;
    }
    const principal = r.principal;
    locals(res).principal = principal;
    auditWrites(req, res, principal, log);
    next();
  };
}

/** A write gets its audit line, naming who made it, once it is answered or its client has gone. */
function auditWrites(req: Request, res: Response, principal: Principal, log: Logger): void {
  if (!WRITE_METHODS.has(req.method)) return;
  // 'close', not 'finish': a client that hangs up before the answer never lets the response finish,
  // and the write it asked for may already have been made.
  res.once('close', () => {
    const note = locals(res).audit;
    log.info('audit', {
      principal: principal.name,
      role: principal.role,
      tokenId: principal.tokenId,
      action: note?.action,
      target: note?.target,
      method: req.method,
      path: req.originalUrl,
      status: res.statusCode,
      /** False when the connection closed before the whole answer was sent. */
      answered: res.writableFinished,
      requestId: locals(res).requestId,
    });
  });
}

/** 403 naming the role needed when the principal's is lower (viewer < operator < admin). */
function requireRole(need: Role, log: Logger): RequestHandler {
  return (req, res, next) => {
    const p = locals(res).principal;
    if (!p) throw new Error('requireRole before authentication');
    if (roleAtLeast(p.role, need)) {
      next();
      return;
    }
    log.warn('api access refused', {
      status: 403,
      reason: 'role',
      principal: p.name,
      role: p.role,
      need,
      method: req.method,
      path: req.originalUrl,
      requestId: locals(res).requestId,
    });
    res.set('WWW-Authenticate', `Bearer realm="${REALM}", error="insufficient_scope"`);
    const holder = p.tokenId.startsWith(SESSION_PRINCIPAL_PREFIX) ? 'user' : 'token';
    send(res, 403, 'forbidden', `this needs the ${need} role; ${holder} '${p.name}' has the ${p.role} role`);
  };
}

/** 415 for a body that is not JSON, then express.json (413 above `limit`, 400 for malformed JSON). */
function jsonBody(limit: number): RequestHandler[] {
  const parse = express.json({ limit, type: 'application/json', strict: true });
  const onlyJson: RequestHandler = (req, _res, next) => {
    const length = Number(req.get('content-length') ?? 0);
    const hasBody = req.get('transfer-encoding') !== undefined || length > 0;
    if (hasBody && !req.is('application/json')) {
      throw new RequestProblem(
        415,
        'unsupported_media_type',
        `send the body as JSON with Content-Type: application/json (got ${req.get('content-type') ?? 'no Content-Type'})`,
      );
    }
    next();
  };
  return [onlyJson, parse];
}

const notFound: RequestHandler = (req, res) => {
  send(res, 404, 'not_found', `no route ${req.method} ${req.path}`);
};

const ERROR_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  410: 'gone',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'too_many_requests',
  503: 'unavailable',
};

/** body-parser's errors carry `type` and a 4xx `status`. */
interface BodyParserError {
  readonly type: string;
  readonly status: number;
  readonly message: string;
}
function isBodyParserError(err: unknown): err is BodyParserError {
  const e = err as Partial<BodyParserError> | null;
  return typeof e === 'object' && e !== null && typeof e.type === 'string' && typeof e.status === 'number';
}

function errorHandler(log: Logger, limit: number) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const id = locals(res).requestId;
    if (res.headersSent) {
      log.error('http handler failed after answering', { requestId: id, error: errorMessage(err) });
      res.destroy();
      return;
    }
    if (err instanceof RequestProblem) {
      send(res, err.status, err.code, err.message, err.issues);
      return;
    }
    if (err instanceof ApiError && err.status >= 400 && err.status <= 599) {
      send(res, err.status, ERROR_CODES[err.status] ?? 'error', err.message);
      return;
    }
    if (isBodyParserError(err) && err.status >= 400 && err.status < 500) {
      switch (err.type) {
        case 'entity.parse.failed':
          send(res, 400, 'invalid_json', `request body is not valid JSON: ${err.message}`);
          return;
        case 'entity.too.large':
          send(res, 413, 'payload_too_large', `request body is larger than ${limit} bytes`);
          return;
        case 'charset.unsupported':
        case 'encoding.unsupported':
          send(
            res,
            415,
            'unsupported_media_type',
            `${err.message}; send UTF-8 JSON without Content-Encoding`,
          );
          return;
        default:
          send(res, err.status, ERROR_CODES[err.status] ?? 'bad_request', err.message);
          return;
      }
    }
    const badParam = malformedParamError(err);
    if (badParam) {
      send(res, 400, badParam.code, badParam.message, badParam.issues);
      return;
    }
    log.error('http handler failed', {
      requestId: id,
      method: req.method,
      path: req.originalUrl,
      error: errorMessage(err),
      stack: err instanceof Error ? err.stack : undefined,
    });
    res.status(500).json({
      error: 'internal',
      message: `internal error; the log has its cause under request id ${id}`,
      requestId: id,
    });
  };
}

function send(
  res: Response,
  status: number,
  error: string,
  message: string,
  issues?: readonly FieldIssue[],
): void {
  res.status(status).json(issues && issues.length > 0 ? { error, message, issues } : { error, message });
}
