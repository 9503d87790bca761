/**
 * Console sessions: what a sign-in gives a person, and what their cookie is worth on each request.
 * No express here (session-http.ts turns this into cookies and answers).
 *
 * The cookie carries a 256-bit random secret; the store keeps its SHA-256. A session ends after
 * `idleMs` without a request or `maxMs` after sign-in, whichever comes first, at sign-out, or when its
 * account is removed from the users file. Its role is read from the users file on every request, so a
 * demotion counts at once. Each session has its own CSRF token, sent back in the X-CSRF-Token header
 * with every write (csrf.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { ConsoleUser, UserDirectory } from './accounts.ts';
import type { SessionRecord, SessionStoreLike } from '../store/store.ts';

export interface SessionPolicy {
  readonly idleMs: number;
  readonly maxMs: number;
}

export interface ActiveSession {
  readonly user: ConsoleUser;
  readonly csrfToken: string;
  /** A short public handle for logs: the first 8 hex digits of the stored hash. */
  readonly handle: string;
  /** When the session ends if nothing else ends it first (ms). */
  readonly expiresAt: number;
}

/** Last-seen times are written at most this often per session (sliding expiry, few writes). */
const TOUCH_EVERY_MS = 60_000;
const COOKIE_SECRET_RE = /^[A-Za-z0-9_-]{43}$/;

export class SessionManager {
  readonly #store: SessionStoreLike;
  readonly #users: UserDirectory;
  readonly #policy: SessionPolicy;
  readonly #clock: Clock;

  constructor(store: SessionStoreLike, users: UserDirectory, policy: SessionPolicy, clock: Clock) {
    this.#store = store;
    this.#users = users;
    this.#policy = policy;
    this.#clock = clock;
  }

  get policy(): SessionPolicy {
    return this.#policy;
  }

  /** Check a name and password; a new session (and the cookie's secret) when they match. */
  async signIn(
    username: string,
    password: string,
  ): Promise<{ secret: string; session: ActiveSession } | undefined> {
    const user = await this.#users.authenticate(username, password);
    if (!user) return undefined;
    const now = this.#clock.now();
    this.#store.deleteExpired(now - this.#policy.idleMs, now - this.#policy.maxMs);
    const secret = randomBytes(32).toString('base64url');
    const rec: SessionRecord = {
      idHash: hashSecret(secret),
      username: user.name,
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt: now,
      lastSeenAt: now,
    };
    this.#store.insert(rec);
    return { secret, session: this.#active(rec, user) };
  }

  /**
   * The session a cookie's secret stands for, if it is still valid; refreshes its idle time unless
   * `touch` is false (an open event stream re-checks its session without counting as activity).
   */
  async resolve(secret: string | undefined, touch = true): Promise<ActiveSession | undefined> {
    if (!secret || !COOKIE_SECRET_RE.test(secret)) return undefined;
    const idHash = hashSecret(secret);
    const rec = this.#store.get(idHash);
    if (!rec) return undefined;
    const now = this.#clock.now();
    if (now - rec.lastSeenAt >= this.#policy.idleMs || now - rec.createdAt >= this.#policy.maxMs) {
      this.#store.delete(idHash);
      return undefined;
    }
    const account = await this.#users.get(rec.username);
    if (!account) {
      this.#store.deleteUser(rec.username);
      return undefined;
    }
    let seen = rec;
    if (touch && now - rec.lastSeenAt >= TOUCH_EVERY_MS) {
      this.#store.touch(idHash, now);
      seen = { ...rec, lastSeenAt: now };
    }
    return this.#active(seen, { name: account.name, role: account.role });
  }

  /** End the session of this secret; false when there was none. */
  signOut(secret: string | undefined): boolean {
    if (!secret || !COOKIE_SECRET_RE.test(secret)) return false;
    return this.#store.delete(hashSecret(secret));
  }

  #active(rec: SessionRecord, user: ConsoleUser): ActiveSession {
    return {
      user,
      csrfToken: rec.csrfToken,
      handle: rec.idHash.slice(0, 8),
      expiresAt: Math.min(rec.lastSeenAt + this.#policy.idleMs, rec.createdAt + this.#policy.maxMs),
    };
  }
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}
