/**
 * API tokens: their format, their stored hash, roles, and the registry that turns an `Authorization`
 * header into a principal. Pure node:crypto, no express: server.ts turns the results into 401/403.
 *
 * The token format, hashes and roles are data shared with the config: collector/core/api-tokens.ts
 * (re-exported here for the HTTP layer's callers).
 *
 * Why SHA-256 and not scrypt (config/mqtt-password.ts): a slow hash protects low-entropy secrets a person
 * chose against offline guessing. These tokens are machine-made with 256 bits of entropy, so guessing one
 * from its hash is a 2^256 search whatever the hash costs; a fast hash lets every request be checked
 * (one SHA-256 and one constant-time compare, about a microsecond) with no cache of verified tokens to
 * get wrong. GitHub and PyPI store their API tokens the same way.
 *
 * Roles are ordered viewer < operator < admin: a role may do everything a lower one may.
 */
import { timingSafeEqual } from 'node:crypto';
import {
  ROLES,
  TOKEN_FORMAT,
  TOKEN_HASH_FORMAT,
  parseTokenHash,
  tokenDigest,
  tokenId,
  type ApiTokenConfig,
  type Principal,
} from '../core/api-tokens.ts';

export {
  ROLES,
  TOKEN_FORMAT,
  TOKEN_HASH_FORMAT,
  TOKEN_HASH_RE,
  TOKEN_RE,
  generateToken,
  hashToken,
  parseTokenHash,
  roleAtLeast,
  tokenId,
  verifyToken,
  type ApiTokenConfig,
  type NewToken,
  type Principal,
  type Role,
} from '../core/api-tokens.ts';

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
    const match = timingSafeEqual(tokenDigest(token), entry?.digest ?? DUMMY_DIGEST);
    if (!entry || !match) {
      return { ok: false, reason: 'unknown', message: 'unknown or revoked token', tokenId: id };
    }
    return { ok: true, principal: entry.principal };
  }
}
