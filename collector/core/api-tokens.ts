/**
 * API tokens as data: their format, their stored hash and the roles they carry. Shared by the config
 * (config/api.ts, config/feed-keys.ts validate what is written), the HTTP layer (collector/http/auth.ts
 * checks requests) and the scripts that make tokens, so that none of them imports another's layer.
 *
 * A token is `bnm_<id>_<secret>`: `id` is 10 base32 characters (public: it names the token in logs and
 * lets the registry find the one entry to check), `secret` is 256 random bits in base64url. The config
 * keeps only `sha256$<id>$<hex SHA-256 of the whole token>` (scripts/make-token.ts prints both).
 * collector/http/auth.ts says why SHA-256 is enough for these tokens.
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
  return `sha256$${id}$${tokenDigest(token).toString('hex')}`;
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
  return timingSafeEqual(tokenDigest(token), h.digest);
}

/** SHA-256 of the whole token: what a stored hash keeps. */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
