/**
 * Console sign-in over real HTTP on 127.0.0.1 (port 0): the session cookie and its flags, cookie or
 * bearer on /api/v1 with the same roles, CSRF on every cookie write, sign-out, throttled wrong passwords,
 * expiry on fake time, and sessions that survive a restart of the store (a real SQLite file).
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { hashPassword, UserDirectory, type UserAccount } from '../../../collector/http/accounts.ts';
import { generateToken } from '../../../collector/http/auth.ts';
import { startHttp, type RunningHttp } from '../../../collector/http/server.ts';
import { ApiError, type MonitorService } from '../../../collector/http/service.ts';
import { SessionManager } from '../../../collector/http/session.ts';
import { SessionStore } from '../../../collector/http/session-store.ts';
import { sessionSecretOf } from '../../../collector/http/session-http.ts';
import { EventHub, registerEventRoutes } from '../../../collector/http/events.ts';
import { waitFor } from '../../support/ports.ts';
import { openSse } from '../../support/sse.ts';
import { LoginThrottle } from '../../../collector/http/throttle.ts';
import { loadUsersFile } from '../../../config/console.ts';

const T0 = Date.UTC(2026, 11, 3, 2, 0);
const H = 3600_000;
const PASSWORDS = { wayan: 'correct horse battery', ketut: 'viewer password 1', made: 'admin password 12' };

/** Only what these tests call; the rest of the port is not this file's subject (api.test.ts is). */
function fakeService(acks: string[]): MonitorService {
  const partial: Partial<MonitorService> = {
    health: () => ({ status: 'ok', details: {} }),
    sites: () => [],
    acknowledge: (id: string, by: string) => {
      acks.push(`${id} by ${by}`);
      if (id !== 'inc-1') throw new ApiError(404, `no incident '${id}'`);
      return {
        id,
        kind: 'device_down',
        key: 'device:x',
        severity: 'high',
        status: 'acknowledged',
        openedAt: T0,
        escalationLevel: 0,
        data: {},
      } as unknown as ReturnType<MonitorService['acknowledge']>;
    },
  };
  return new Proxy(partial, {
    get: (t, k) =>
      k in t ? t[k as keyof MonitorService] : () => Promise.reject(new Error(`not faked: ${String(k)}`)),
  }) as MonitorService;
}

let dir: string;
let usersFile: string;
const operatorToken = generateToken();

async function writeUsers(accounts: readonly Omit<UserAccount, 'passwordHash'>[]): Promise<void> {
  const lines = await Promise.all(
    accounts.map(
      async (a) =>
        `- { name: ${a.name}, role: ${a.role}, passwordHash: '${await hashPassword(PASSWORDS[a.name as keyof typeof PASSWORDS], { N: 1024 })}' }`,
    ),
  );
  writeFileSync(usersFile, `${lines.join('\n')}\n`, { mode: 0o600 });
}

interface Served {
  readonly http: RunningHttp;
  readonly store: SessionStore;
  readonly clock: FakeClock;
  readonly acks: string[];
  readonly log: ReturnType<typeof memoryLogger>;
  close(): Promise<void>;
}

async function serve(
  opts: {
    file?: string;
    clock?: FakeClock;
    secureCookies?: boolean;
    throttle?: LoginThrottle;
    trustProxy?: boolean;
    events?: boolean;
  } = {},
): Promise<Served> {
  const clock = opts.clock ?? new FakeClock(T0);
  const log = memoryLogger();
  const users = await UserDirectory.open({ file: usersFile, load: loadUsersFile, clock });
  const store = new SessionStore(opts.file ?? join(dir, `sessions-${Math.random()}.db`));
  const sessions = new SessionManager(store, users, { idleMs: 12 * H, maxMs: 7 * 24 * H }, clock);
  const acks: string[] = [];
  const hub = new EventHub({
    clock,
    log,
    maxClients: 5,
    snapshot: () => ({ sites: [] }),
    health: () => ({}),
  });
  hub.start();
  const http = await startHttp(fakeService(acks), {
    moreRoutes: [
      (router, kit) =>
        registerEventRoutes(router, kit, hub, (req, res) => {
          if ((res.locals as { session?: unknown }).session === undefined) return undefined;
          const secret = sessionSecretOf(req);
          return async () => (await sessions.resolve(secret, false)) !== undefined;
        }),
    ],
    listen: { host: '127.0.0.1', port: 0 },
    tokens: [{ name: 'ops-1', role: 'operator', tokenHash: operatorToken.tokenHash }],
    log,
    clock,
    session: {
      sessions,
      throttle: opts.throttle ?? new LoginThrottle(),
      secureCookies: opts.secureCookies ?? false,
      trustProxy: opts.trustProxy,
      clock,
      log,
    },
  });
  return {
    http,
    store,
    clock,
    acks,
    log,
    close: async () => {
      hub.stop();
      await http.close();
      store.close();
    },
  };
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly json: Record<string, unknown>;
}

async function call(
  base: string,
  path: string,
  c: { method?: string; body?: unknown; cookie?: string; csrf?: string; token?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (c.cookie) headers.cookie = c.cookie;
  if (c.csrf !== undefined) headers['x-csrf-token'] = c.csrf;
  if (c.token) headers.authorization = `Bearer ${c.token}`;
  if (c.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, {
    method: c.method ?? 'GET',
    headers,
    body: c.body === undefined ? undefined : JSON.stringify(c.body),
  });
  const text = await res.text();
  const json: unknown = text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : {};
  return { status: res.status, headers: res.headers, json: json as Record<string, unknown> };
}

interface SignedIn {
  readonly cookie: string;
  readonly csrf: string;
  readonly setCookie: string;
  readonly answer: Answer;
}

async function signIn(
  base: string,
  username: string,
  password?: string,
  forwardedFor?: string,
): Promise<SignedIn> {
  const res = await fetch(`${base}/api/v1/session`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
    },
    body: JSON.stringify({ username, password: password ?? PASSWORDS[username as keyof typeof PASSWORDS] }),
  });
  const text = await res.text();
  const json: unknown = text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : {};
  const answer: Answer = { status: res.status, headers: res.headers, json: json as Record<string, unknown> };
  const setCookie = answer.headers.get('set-cookie') ?? '';
  return {
    answer,
    setCookie,
    cookie: setCookie.split(';')[0] ?? '',
    csrf: typeof answer.json.csrfToken === 'string' ? answer.json.csrfToken : '',
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-session-'));
  usersFile = join(dir, 'users.yaml');
  await writeUsers([
    { name: 'wayan', role: 'operator' },
    { name: 'ketut', role: 'viewer' },
    { name: 'made', role: 'admin' },
  ]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sign-in and the session cookie', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve();
  });
  afterAll(() => s.close());

  it('answers the user and a CSRF token, and sets an HttpOnly SameSite=Strict cookie for /', async () => {
    const w = await signIn(s.http.url, 'wayan');
    expect(w.answer.status).toBe(200);
    expect(w.answer.json).toEqual({ user: { name: 'wayan', role: 'operator' }, csrfToken: w.csrf });
    expect(w.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(w.cookie).toMatch(/^netmon_session=[A-Za-z0-9_-]{43}$/);
    const flags = w.setCookie.split(';').map((f) => f.trim());
    expect(flags).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/']));
    expect(flags).toContain(`Max-Age=${7 * 24 * 3600}`);
    expect(flags).not.toContain('Secure'); // plain HTTP on loopback, secureCookies off
    expect(w.answer.headers.get('cache-control')).toBe('no-store');
    // the cookie's secret is not what the store keeps
    expect(JSON.stringify(s.store.get(w.cookie.split('=')[1] ?? ''))).toBe(undefined);
  });

  it('GET /session gives the same body with the cookie, 401 without', async () => {
    const w = await signIn(s.http.url, 'wayan');
    const me = await call(s.http.url, '/api/v1/session', { cookie: w.cookie });
    expect(me.status).toBe(200);
    expect(me.json).toEqual({ user: { name: 'wayan', role: 'operator' }, csrfToken: w.csrf });
    expect((await call(s.http.url, '/api/v1/session')).status).toBe(401);
    const forged = await call(s.http.url, '/api/v1/session', { cookie: `netmon_session=${'A'.repeat(43)}` });
    expect(forged.status).toBe(401);
  });

  it('a wrong password or unknown user is a 401 that does not say which', async () => {
    const wrong = await signIn(s.http.url, 'made', 'not the password');
    const unknown = await signIn(s.http.url, 'nobody', 'not the password');
    expect(wrong.answer.status).toBe(401);
    expect(unknown.answer.status).toBe(401);
    expect(wrong.answer.json).toEqual(unknown.answer.json);
    expect(wrong.setCookie).toBe('');
    expect(String(wrong.answer.json.message)).toMatch(/kata sandi salah.*Wrong user name or password/);
  });

  it('refuses a malformed sign-in body with 400 naming the field', async () => {
    const r = await call(s.http.url, '/api/v1/session', { method: 'POST', body: { username: 'wayan' } });
    expect(r.status).toBe(400);
    expect(r.json.issues).toEqual([{ path: 'password', message: 'required' }]);
    const extra = await call(s.http.url, '/api/v1/session', {
      method: 'POST',
      body: { username: 'wayan', password: 'x', remember: true },
    });
    expect(extra.status).toBe(400);
    expect(JSON.stringify(extra.json.issues)).toContain('remember');
  });

  it('the cookie opens /api/v1 reads, with the same roles as tokens', async () => {
    const k = await signIn(s.http.url, 'ketut');
    expect((await call(s.http.url, '/api/v1/sites', { cookie: k.cookie })).status).toBe(200);
    expect((await call(s.http.url, '/api/v1/sites')).status).toBe(401);
  });

  it('a cookie write without the CSRF token, or with a wrong one, is 403 csrf; with it, it is made', async () => {
    const w = await signIn(s.http.url, 'wayan');
    const ack = (csrf?: string) =>
      call(s.http.url, '/api/v1/incidents/inc-1/ack', { method: 'POST', body: {}, cookie: w.cookie, csrf });
    const missing = await ack();
    expect(missing.status).toBe(403);
    expect(missing.json.error).toBe('csrf');
    expect(String(missing.json.message)).toMatch(/X-CSRF-Token/);
    const wrong = await ack('x'.repeat(43));
    expect(wrong.status).toBe(403);
    expect(wrong.json.error).toBe('csrf');
    expect(s.acks).toEqual([]);
    const ok = await ack(w.csrf);
    expect(ok.status).toBe(200);
    expect(s.acks).toEqual(['inc-1 by wayan']);
    // another session's CSRF token is not this one's
    const other = await signIn(s.http.url, 'made');
    expect((await ack(other.csrf)).status).toBe(403);
    // the audit line names the user and the session, as for a token
    expect(
      s.log.records.find((r) => r.msg === 'audit' && r.principal === 'wayan' && r.status === 200),
    ).toMatchObject({ role: 'operator', tokenId: expect.stringMatching(/^session:[0-9a-f]{8}$/) as unknown });
  });

  it('a viewer session forging an operator POST (with its CSRF token) gets 403 naming the role', async () => {
    const k = await signIn(s.http.url, 'ketut');
    const r = await call(s.http.url, '/api/v1/incidents/inc-1/ack', {
      method: 'POST',
      body: { note: 'forged' },
      cookie: k.cookie,
      csrf: k.csrf,
    });
    expect(r.status).toBe(403);
    expect(r.json.error).toBe('forbidden');
    expect(String(r.json.message)).toBe("this needs the operator role; user 'ketut' has the viewer role");
  });

  it('a bearer token needs no CSRF token, and wins over a cookie', async () => {
    const r = await call(s.http.url, '/api/v1/incidents/inc-1/ack', {
      method: 'POST',
      body: {},
      token: operatorToken.token,
    });
    expect(r.status).toBe(200);
    const k = await signIn(s.http.url, 'ketut');
    const both = await call(s.http.url, '/api/v1/incidents/inc-1/ack', {
      method: 'POST',
      body: {},
      token: operatorToken.token,
      cookie: k.cookie,
    });
    expect(both.status).toBe(200);
    expect(s.acks.at(-1)).toBe('inc-1 by ops-1');
  });

  it('sign-out needs the CSRF token, clears the cookie and ends the session', async () => {
    const w = await signIn(s.http.url, 'wayan');
    expect((await call(s.http.url, '/api/v1/session', { method: 'DELETE', cookie: w.cookie })).status).toBe(
      403,
    );
    const out = await call(s.http.url, '/api/v1/session', {
      method: 'DELETE',
      cookie: w.cookie,
      csrf: w.csrf,
    });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(
      /^netmon_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Strict/,
    );
    expect((await call(s.http.url, '/api/v1/session', { cookie: w.cookie })).status).toBe(401);
    const after = await call(s.http.url, '/api/v1/sites', { cookie: w.cookie });
    expect(after.status).toBe(401);
    expect(String(after.json.message)).toMatch(/sign in again/);
  });
});

describe('live events of a session', () => {
  it('the event stream opens with the cookie, and ends within a ping period after sign-out', async () => {
    const s = await serve();
    try {
      const w = await signIn(s.http.url, 'ketut');
      const stream = await openSse(`${s.http.url}/api/v1/events`, { cookie: w.cookie });
      expect(stream.status).toBe(200);
      await stream.next((e) => e.type === 'snapshot');
      s.clock.advance(15_000); // a ping: the session is still valid, the stream stays
      await waitFor(() => stream.comments.includes('ping'), { what: 'the ping' });
      expect(stream.ended).toBe(false);
      const out = await call(s.http.url, '/api/v1/session', {
        method: 'DELETE',
        cookie: w.cookie,
        csrf: w.csrf,
      });
      expect(out.status).toBe(204);
      s.clock.advance(15_000);
      await stream.waitEnd(5000);
      expect((await fetch(`${s.http.url}/api/v1/events`, { headers: { cookie: w.cookie } })).status).toBe(
        401,
      );
    } finally {
      await s.close();
    }
  });
});

describe('cookie flags behind TLS', () => {
  it('marks the cookie Secure when console.secureCookies is set', async () => {
    const s = await serve({ secureCookies: true });
    try {
      const w = await signIn(s.http.url, 'wayan');
      expect(w.setCookie.split(';').map((f) => f.trim())).toContain('Secure');
    } finally {
      await s.close();
    }
  });
});

describe('expiry (fake time)', () => {
  let s: Served;
  afterEach(() => s.close());

  it('ends a session idle for 12 h', async () => {
    s = await serve();
    const w = await signIn(s.http.url, 'wayan');
    s.clock.advance(12 * H - 60_000);
    expect((await call(s.http.url, '/api/v1/session', { cookie: w.cookie })).status).toBe(200);
    s.clock.advance(12 * H - 60_000); // the request above renewed it
    expect((await call(s.http.url, '/api/v1/session', { cookie: w.cookie })).status).toBe(200);
    s.clock.advance(12 * H);
    expect((await call(s.http.url, '/api/v1/session', { cookie: w.cookie })).status).toBe(401);
  });

  it('ends a session 7 days after sign-in however busy it is', async () => {
    s = await serve();
    const w = await signIn(s.http.url, 'wayan');
    for (let h = 0; h < 7 * 24 - 6; h += 6) {
      s.clock.advance(6 * H);
      expect((await call(s.http.url, '/api/v1/session', { cookie: w.cookie })).status).toBe(200);
    }
    s.clock.advance(6 * H);
    expect((await call(s.http.url, '/api/v1/session', { cookie: w.cookie })).status).toBe(401);
  });

  it('ends the sessions of an account removed from the users file, and a demotion counts at once', async () => {
    s = await serve();
    const w = await signIn(s.http.url, 'wayan');
    const k = await signIn(s.http.url, 'ketut');
    await writeUsers([
      { name: 'wayan', role: 'viewer' },
      { name: 'made', role: 'admin' },
    ]);
    s.clock.advance(3000); // the directory re-reads a changed file at most every 2 s
    expect((await call(s.http.url, '/api/v1/session', { cookie: k.cookie })).status).toBe(401);
    const me = await call(s.http.url, '/api/v1/session', { cookie: w.cookie });
    expect(me.json.user).toEqual({ name: 'wayan', role: 'viewer' });
    const ack = await call(s.http.url, '/api/v1/incidents/inc-1/ack', {
      method: 'POST',
      body: {},
      cookie: w.cookie,
      csrf: w.csrf,
    });
    expect(ack.status).toBe(403);
    await writeUsers([
      { name: 'wayan', role: 'operator' },
      { name: 'ketut', role: 'viewer' },
      { name: 'made', role: 'admin' },
    ]);
    s.clock.advance(3000);
  });
});

describe('persistence', () => {
  it('a session survives a restart of the store and the server', async () => {
    const file = join(dir, 'persist.db');
    const clock = new FakeClock(T0);
    const first = await serve({ file, clock });
    const w = await signIn(first.http.url, 'wayan');
    expect(w.answer.status).toBe(200);
    await first.close();
    expect(statSync(file).mode & 0o777).toBe(0o600);

    clock.advance(H);
    const second = await serve({ file, clock });
    try {
      const me = await call(second.http.url, '/api/v1/session', { cookie: w.cookie });
      expect(me.status).toBe(200);
      expect(me.json).toEqual({ user: { name: 'wayan', role: 'operator' }, csrfToken: w.csrf });
      const ack = await call(second.http.url, '/api/v1/incidents/inc-1/ack', {
        method: 'POST',
        body: {},
        cookie: w.cookie,
        csrf: w.csrf,
      });
      expect(ack.status).toBe(200);
    } finally {
      await second.close();
    }
  });
});

describe('wrong passwords slow down', () => {
  it('after 3 failures for a name, the next attempt is 429 with Retry-After, doubling; a success resets', async () => {
    const s = await serve();
    try {
      for (let i = 0; i < 3; i++) expect((await signIn(s.http.url, 'made', 'guess')).answer.status).toBe(401);
      const refused = await signIn(s.http.url, 'made', PASSWORDS.made);
      expect(refused.answer.status).toBe(429);
      expect(refused.answer.headers.get('retry-after')).toBe('1');
      expect(refused.answer.json.error).toBe('too_many_requests');
      expect(String(refused.answer.json.message)).toMatch(/coba lagi dalam 1 detik.*try again in 1 s/);
      s.clock.advance(1000);
      expect((await signIn(s.http.url, 'made', 'guess')).answer.status).toBe(401); // 4th failure
      const r2 = await signIn(s.http.url, 'made', PASSWORDS.made);
      expect(r2.answer.status).toBe(429);
      expect(r2.answer.headers.get('retry-after')).toBe('2');
      s.clock.advance(2000);
      expect((await signIn(s.http.url, 'made', PASSWORDS.made)).answer.status).toBe(200);
      expect(s.log.records.filter((r) => r.msg === 'sign-in throttled')).toHaveLength(2);
    } finally {
      await s.close();
    }
  });

  it('behind a trusted proxy on loopback, each client is counted by its X-Forwarded-For address', async () => {
    const s = await serve({ trustProxy: true });
    try {
      for (const name of ['a1', 'a2', 'a3'])
        expect((await signIn(s.http.url, name, 'guess', '10.1.1.1')).answer.status).toBe(401);
      expect((await signIn(s.http.url, 'a4', 'guess', '10.1.1.1')).answer.status).toBe(429);
      // another client of the same proxy is not locked out by the first one's typos
      expect((await signIn(s.http.url, 'wayan', PASSWORDS.wayan, '10.1.1.2')).answer.status).toBe(200);
      // the address the proxy appended counts, not what the client claimed before it
      expect((await signIn(s.http.url, 'a5', 'guess', '10.1.1.2, 10.1.1.1')).answer.status).toBe(429);
    } finally {
      await s.close();
    }
    // without trustProxy the header is the client's word and is ignored
    const plain = await serve();
    try {
      for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3'])
        expect((await signIn(plain.http.url, `b-${ip}`, 'guess', ip)).answer.status).toBe(401);
      expect((await signIn(plain.http.url, 'wayan', PASSWORDS.wayan, '10.0.0.4')).answer.status).toBe(429);
    } finally {
      await plain.close();
    }
  });

  it('per client address: guessing across many names is refused too', async () => {
    const s = await serve();
    try {
      for (const name of ['a1', 'a2', 'a3'])
        expect((await signIn(s.http.url, name, 'guess')).answer.status).toBe(401);
      const r = await signIn(s.http.url, 'wayan', PASSWORDS.wayan);
      expect(r.answer.status).toBe(429);
      expect(Number(r.answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    } finally {
      await s.close();
    }
  });
});

describe('the users file', () => {
  it('a bad users file is refused naming the file and line', async () => {
    const bad = join(dir, 'bad-users.yaml');
    writeFileSync(
      bad,
      "- { name: wayan, role: operator, passwordHash: 'scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' }\n- { name: ketut, role: boss, passwordHash: 'hunter2' }\n",
    );
    await expect(
      UserDirectory.open({ file: bad, load: loadUsersFile, clock: new FakeClock(T0) }),
    ).rejects.toThrow(/bad-users\.yaml:2:\d+: \[1\]\.role: expected one of viewer, operator, admin/);
    await expect(loadUsersFile(bad)).rejects.toThrow(
      /bad-users\.yaml:2:\d+: \[1\]\.passwordHash: expected scrypt/,
    );
  });

  it('a missing users file means no accounts', async () => {
    const d = await UserDirectory.open({
      file: join(dir, 'none.yaml'),
      load: loadUsersFile,
      clock: new FakeClock(),
    });
    expect(d.size).toBe(0);
  });
});
