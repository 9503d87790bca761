/**
 * API tokens: their format, their stored hash, roles, and the registry that turns an `Authorization`
 * header into a principal. Pure node:crypto, no express: server.ts turns the results into 401/403.
 *
 * A token is `bnm_<id>_<secret>`: `id` is 10 base32 characters (public: it names the token in logs and
 * lets the registry find the one entry to check), `secret` is 256 random bits in base64url. The config
 * keeps only `sha256$<id>$<hex SHA-256 of the whole token>` (scripts/make-token.ts prints both).
 *
 * Why SHA-256 and not scrypt (config/mqtt-password.ts): a slow hash protects low-entropy secrets a person
 * chose against offline guessing. These tokens are machine-made with 256 bits of entropy, so guessing one
 * from its hash is a 2^256 search whatever the hash costs; a fast hash lets every request be checked
 * (one SHA-256 and one constant-time compare, about a microsecond) with no cache of verified tokens to
 * get wrong. GitHub and PyPI store their API tokens the same way.
 *
 * Roles are ordered viewer < operator < admin: a role may do everything a lower one may.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** True when `have` may do what `need` may. */
export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** A configured token: `api.tokens[]` in the monitor config (config/api.ts). */
export interface ApiTokenConfig {
  /** Who holds it: named in every audit line (e.g. `ops-1`, `bpbd-feeds`). */
  readonly name: string;
  readonly role: Role;
  /** `sha256$<id>$<64 hex digits>`, never the token itself. */
  readonly tokenHash: string;
}

/** Who made a request, as far as its token says. */
export interface Principal {
  readonly name: string;
  readonly role: Role;
  readonly tokenId: string;
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'; // RFC 4648 base32, lower case
const ID_LENGTH = 10;
const SECRET_BYTES = 32;
export const TOKEN_RE = /^bnm_([a-z2-7]{10})_([A-Za-z0-9_-]{43})$/;
export const TOKEN_FORMAT = 'bnm_<10 base32 characters>_<43 base64url characters>';
export const TOKEN_HASH_RE = /^sha256\$([a-z2-7]{10})\$([0-9a-f]{64})$/;
export const TOKEN_HASH_FORMAT = 'sha256$<token id>$<64 lower-case hex digits>';

export interface NewToken {
  /** Shown once to whoever makes it; never stored. */
  readonly token: string;
  readonly id: string;
  readonly tokenHash: string;
}

/** A new random token and its stored hash. `random` is for tests. */
export function generateToken(random: (n: number) => Buffer = randomBytes): NewToken {
  // 32 divides 256, so `byte & 31` keeps the id uniform.
  const id = [...random(ID_LENGTH)].map((b) => ID_ALPHABET[b & 31]).join('');
  const secret = random(SECRET_BYTES).toString('base64url');
  const token = `bnm_${id}_${secret}`;
  return { token, id, tokenHash: hashToken(token) };
}

/** The id of a well-formed token, undefined otherwise. */
export function tokenId(token: string): string | undefined {
  return TOKEN_RE.exec(token)?.[1];
}

/** `sha256$<id>$<hex>` for a well-formed token; throws for anything else (it would never verify). */
export function hashToken(token: string): string {
  const id = tokenId(token);
  if (id === undefined) throw new Error(`not an API token: expected ${TOKEN_FORMAT}`);
  return `sha256$${id}$${digest(token).toString('hex')}`;
}

/** The id and digest of a stored hash; undefined when it is not of the expected shape. */
export function parseTokenHash(stored: string): { id: string; digest: Buffer } | undefined {
  const m = TOKEN_HASH_RE.exec(stored);
  if (!m?.[1] || !m[2]) return undefined;
  return { id: m[1], digest: Buffer.from(m[2], 'hex') };
}

/** True when `token` is the one `stored` was made from. Constant-time in the digest. */
export function verifyToken(token: string, stored: string): boolean {
  const h = parseTokenHash(stored);
  if (!h || tokenId(token) !== h.id) return false;
  return timingSafeEqual(digest(token), h.digest);
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export type AuthFailure =
  /** No Authorization header at all. */
  | { readonly ok: false; readonly reason: 'missing'; readonly message: string }
  /** A header, but not `Bearer <token>`, or a token not of our format. */
  | { readonly ok: false; readonly reason: 'malformed'; readonly message: string }
  /** Well-formed, but no configured token has its id, or the secret is wrong. */
  | { readonly ok: false; readonly reason: 'unknown'; readonly message: string; readonly tokenId: string };
export type AuthResult = { readonly ok: true; readonly principal: Principal } | AuthFailure;

/** RFC 6750 section 2.1: `Bearer` (case-insensitive), one or more spaces, the b64token. */
const BEARER_RE = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;
/** Compared against when the id is unknown, so a miss costs what a wrong secret costs. */
const DUMMY_DIGEST = Buffer.alloc(32);

/**
 * The configured tokens, indexed by id: a request costs one map lookup and one SHA-256, however many
 * tokens there are. Construction checks the entries (config/api.ts has already refused bad ones with
 * their place; this is the guard for callers that build entries by hand).
 */
export class TokenRegistry {
  readonly #byId = new Map<string, { principal: Principal; digest: Buffer }>();

  constructor(entries: readonly ApiTokenConfig[]) {
    for (const [i, e] of entries.entries()) {
      const h = parseTokenHash(e.tokenHash);
      if (!h) throw new Error(`api token ${i} ('${e.name}'): tokenHash is not ${TOKEN_HASH_FORMAT}`);
      if (!ROLES.includes(e.role)) throw new Error(`api token ${i} ('${e.name}'): unknown role '${e.role}'`);
      if (this.#byId.has(h.id))
        throw new Error(`api token ${i} ('${e.name}'): token id ${h.id} is used twice`);
      this.#byId.set(h.id, { principal: { name: e.name, role: e.role, tokenId: h.id }, digest: h.digest });
    }
  }

  get size(): number {
    return this.#byId.size;
  }

  /** Check an `Authorization` header value. */
  authenticate(header: string | undefined): AuthResult {
    if (header === undefined || header.trim() === '') {
      return {
        ok: false,
        reason: 'missing',
        message:
          "no token: send 'Authorization: Bearer <token>' (tokens are made with scripts/make-token.ts)",
      };
    }
    const m = BEARER_RE.exec(header);
    if (!m?.[1]) {
      return {
        ok: false,
        reason: 'malformed',
        message: "malformed Authorization header: expected 'Bearer <token>'",
      };
    }
    const token = m[1];
    const id = tokenId(token);
    if (id === undefined) {
      return { ok: false, reason: 'malformed', message: `malformed token: expected ${TOKEN_FORMAT}` };
    }
    const entry = this.#byId.get(id);
    const match = timingSafeEqual(digest(token), entry?.digest ?? DUMMY_DIGEST);
    if (!entry || !match) {
      return { ok: false, reason: 'unknown', message: 'unknown or revoked token', tokenId: id };
    }
    return { ok: true, principal: entry.principal };
  }
}
