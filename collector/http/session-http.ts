/**
 * Sessions over HTTP: the sign-in routes, the session cookie, and the middleware that turns a cookie
 * into the request's principal (with the CSRF check of csrf.ts). Express only as types; server.ts mounts
 * these before the token authentication, which then lets an already authenticated request through.
 *
 *   POST   /api/v1/session   { username, password }  200 { user: { name, role }, csrfToken } + Set-Cookie
 *                                                     401 wrong name or password, 429 + Retry-After
 *   GET    /api/v1/session                           200 the same body, or 401
 *   DELETE /api/v1/session   (X-CSRF-Token)          204, the cookie cleared
 *
 * The cookie `netmon_session` is HttpOnly (scripts cannot read it), SameSite=Strict (another site's page
 * cannot make the browser send it), Path=/, and Secure when the request came over TLS or
 * `console.secureCookies` says so (behind a TLS proxy). `Authorization: Bearer` wins over a cookie: a
 * request with a token is a machine's and needs no CSRF token.
 */
import type { Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import type { Clock } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { MAX_PASSWORD_LENGTH } from './accounts.ts';
import type { Principal } from './auth.ts';
import { RequestProblem } from './bodies.ts';
import { csrfProblem, needsCsrf } from './csrf.ts';
import type { ActiveSession, SessionManager } from './session.ts';
import type { LoginThrottle } from './throttle.ts';

export const SESSION_COOKIE = 'netmon_session';
/** Principals from a session carry a tokenId of this prefix and the session's handle. */
export const SESSION_PRINCIPAL_PREFIX = 'session:';

export interface SessionHttpOptions {
  readonly sessions: SessionManager;
  readonly throttle: LoginThrottle;
  /** Mark the cookie Secure even on plain HTTP (the monitor is behind a TLS proxy). */
  readonly secureCookies: boolean;
  /** Take the client's address from X-Forwarded-For when the peer is a proxy on loopback. */
  readonly trustProxy?: boolean | undefined;
  readonly clock: Clock;
  readonly log: Logger;
}

interface SessionLocals {
  requestId?: string;
  principal?: Principal;
  session?: ActiveSession;
}
const locals = (res: Response): SessionLocals => res.locals as SessionLocals;

/** `name=value` pairs of a Cookie header (RFC 6265 section 5.4); the first of a repeated name wins. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (name && !out.has(name)) out.set(name, value);
  }
  return out;
}

export function sessionSecretOf(req: Request): string | undefined {
  return parseCookies(req.get('cookie')).get(SESSION_COOKIE);
}

const LOOPBACK_PEER = /^(127\.|::1$|::ffff:127\.)/;

/**
 * The address the sign-in throttle counts: the peer's, or behind a trusted proxy on loopback the last
 * X-Forwarded-For entry (the one the proxy added; earlier entries are the client's word). Without this,
 * every client behind a proxy would share the proxy's address and three typos would lock everyone out.
 */
export function clientAddress(req: Request, trustProxy: boolean): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (!trustProxy || !LOOPBACK_PEER.test(peer)) return peer;
  const forwarded = req.get('x-forwarded-for');
  const last = forwarded?.split(',').at(-1)?.trim();
  return last && last.length <= 64 ? last : peer;
}

function cookie(req: Request, opts: SessionHttpOptions, value: string, maxAgeS: number): string {
  const secure = req.secure || opts.secureCookies ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Max-Age=${maxAgeS}; Path=/; HttpOnly; SameSite=Strict${secure}`;
}

const signInBody = z.strictObject({
  username: z
    .string({ message: 'expected a string' })
    .trim()
    .min(1, { message: 'must not be empty' })
    .max(64, { message: 'at most 64 characters' }),
  password: z
    .string({ message: 'expected a string' })
    .min(1, { message: 'must not be empty' })
    .max(MAX_PASSWORD_LENGTH, { message: `at most ${MAX_PASSWORD_LENGTH} characters` }),
});

function parseSignIn(body: unknown): { username: string; password: string } {
  const r = signInBody.safeParse(body ?? undefined, { reportInput: true });
  if (r.success) return { username: r.data.username.toLowerCase(), password: r.data.password };
  const issues = r.error.issues.slice(0, 5).map((i) => ({
    path:
      i.code === 'unrecognized_keys'
        ? (i.keys[0] ?? '(body)')
        : i.path.length > 0
          ? String(i.path[0])
          : '(body)',
    message:
      i.code === 'unrecognized_keys'
        ? 'unknown field (send username and password)'
        : i.code === 'invalid_type' && i.input === undefined
          ? 'required'
          : i.message,
  }));
  const first = issues[0];
  throw new RequestProblem(
    400,
    'invalid_body',
    `invalid request body: ${first?.path ?? '(body)'}: ${first?.message ?? 'expected { username, password }'}`,
    issues,
  );
}

function body(s: ActiveSession): { user: { name: string; role: string }; csrfToken: string } {
  return { user: { name: s.user.name, role: s.user.role }, csrfToken: s.csrfToken };
}

/**
 * POST/GET/DELETE /session on `router` (mounted at /api/v1 ahead of the token authentication).
 * `jsonBody` is server.ts's 415/413/JSON parser.
 */
export function registerSessionRoutes(
  router: Router,
  opts: SessionHttpOptions,
  jsonBody: readonly RequestHandler[],
): void {
  const { sessions, throttle, clock, log } = opts;

  router.post('/session', ...jsonBody, async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const { username, password } = parseSignIn(req.body);
    const ip = clientAddress(req, opts.trustProxy ?? false);
    const keys = [`user:${username}`, `ip:${ip}`];
    const verdict = throttle.begin(keys, clock.now());
    if (!verdict.allowed) {
      const s = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
      log.warn('sign-in throttled', {
        username,
        ip,
        by: verdict.key.split(':')[0],
        retryAfterS: s,
        requestId: locals(res).requestId,
      });
      res
        .status(429)
        .set('Retry-After', String(s))
        .json({
          error: 'too_many_requests',
          message: `Terlalu banyak percobaan masuk yang gagal; coba lagi dalam ${s} detik. / Too many failed sign-ins; try again in ${s} s.`,
          retryAfterS: s,
        });
      return;
    }
    let made: Awaited<ReturnType<SessionManager['signIn']>>;
    try {
      made = await sessions.signIn(username, password);
    } catch (err) {
      throttle.settle(keys, 'error', clock.now());
      throw err;
    }
    if (!made) {
      throttle.settle(keys, 'failure', clock.now());
      log.warn('sign-in failed', {
        username,
        ip,
        failures: throttle.failures(`user:${username}`, clock.now()),
        requestId: locals(res).requestId,
      });
      res.status(401).json({
        error: 'invalid_credentials',
        message: 'Nama pengguna atau kata sandi salah. / Wrong user name or password.',
      });
      return;
    }
    throttle.settle(keys, 'success', clock.now(), `user:${username}`);
    log.info('audit', {
      action: 'session.create',
      principal: made.session.user.name,
      role: made.session.user.role,
      session: made.session.handle,
      ip,
      requestId: locals(res).requestId,
    });
    const maxAgeS = Math.floor(sessions.policy.maxMs / 1000);
    res.set('Set-Cookie', cookie(req, opts, made.secret, maxAgeS)).json(body(made.session));
  });

  router.get('/session', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const s = await sessions.resolve(sessionSecretOf(req));
    if (!s) {
      res.status(401).json({
        error: 'unauthorized',
        message: 'Belum masuk atau sesi berakhir. / Not signed in, or the session has ended.',
      });
      return;
    }
    res.json(body(s));
  });

  router.delete('/session', async (req, res) => {
    const secret = sessionSecretOf(req);
    const s = await sessions.resolve(secret);
    if (!s) {
      res.status(401).json({ error: 'unauthorized', message: 'not signed in' });
      return;
    }
    const problem = csrfProblem(req.get('x-csrf-token'), s.csrfToken);
    if (problem) {
      res.status(403).json(problem);
      return;
    }
    sessions.signOut(secret);
    log.info('audit', {
      action: 'session.delete',
      principal: s.user.name,
      role: s.user.role,
      session: s.handle,
      requestId: locals(res).requestId,
    });
    res
      .set('Set-Cookie', cookie(req, opts, '', 0))
      .status(204)
      .end();
  });
}

/**
 * A request without `Authorization` but with a session cookie: a valid session becomes the principal
 * (name and role of its account), and a write must carry its CSRF token (403 otherwise). An ended or
 * unknown session is a 401 that tells the console to sign in again. Without a cookie, the token
 * authentication decides.
 */
export function sessionAuthenticator(
  sessions: SessionManager,
  log: Logger,
  onPrincipal: (req: Request, res: Response, p: Principal) => void,
): RequestHandler {
  return (req, res, next) => {
    if (locals(res).principal || req.get('authorization') !== undefined) {
      next();
      return;
    }
    const secret = sessionSecretOf(req);
    if (secret === undefined) {
      next();
      return;
    }
    sessions.resolve(secret).then(
      (s) => {
        if (!s) {
          res.status(401).json({
            error: 'unauthorized',
            message:
              'Sesi berakhir; silakan masuk lagi. / The session has ended or is unknown; sign in again.',
          });
          return;
        }
        if (needsCsrf(req.method)) {
          const problem = csrfProblem(req.get('x-csrf-token'), s.csrfToken);
          if (problem) {
            log.warn('api access refused', {
              status: 403,
              reason: 'csrf',
              principal: s.user.name,
              method: req.method,
              path: req.originalUrl,
              requestId: locals(res).requestId,
            });
            res.status(403).json(problem);
            return;
          }
        }
        const principal: Principal = {
          name: s.user.name,
          role: s.user.role,
          tokenId: `${SESSION_PRINCIPAL_PREFIX}${s.handle}`,
        };
        locals(res).principal = principal;
        locals(res).session = s;
        onPrincipal(req, res, principal);
        next();
      },
      (err: unknown) => {
        log.error('session lookup failed', { error: errorMessage(err), requestId: locals(res).requestId });
        next(err);
      },
    );
  };
}
