/**
 * Feed keys: read-only credentials for the feeds (/feeds/*) alone, for clients that cannot send an
 * Authorization header (BPBD's map client, a GIS tool subscribing to a URL). A key goes in the query
 * string (`?key=`), where URLs end up in logs, histories and proxies; so it opens nothing but the feeds,
 * and an API token is never accepted there above the viewer role (routes.ts).
 *
 * A key is `bnf_<id>_<secret>` (an API token is `bnm_...`: the prefix tells them apart at a glance and in
 * a leaked log); the config keeps only `sha256$<id>$<hex SHA-256 of the key>` (`feeds.keys`), as for API
 * tokens, for the same reasons (collector/http/auth.ts): 256 random bits need no slow hash.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const FEED_KEY_RE = /^bnf_([a-z2-7]{10})_([A-Za-z0-9_-]{43})$/;
export const FEED_KEY_FORMAT = 'bnf_<10 base32 characters>_<43 base64url characters>';
export const FEED_KEY_HASH_RE = /^sha256\$([a-z2-7]{10})\$([0-9a-f]{64})$/;
export const FEED_KEY_HASH_FORMAT = 'sha256$<key id>$<64 lower-case hex digits>';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** A configured key: `feeds.keys[]`. */
export interface FeedKeyConfig {
  /** Who holds it (e.g. `bpbd-map`): named in the log of each refusal and in the access principal. */
  readonly name: string;
  readonly keyHash: string;
}

export interface NewFeedKey {
  /** Shown once to whoever makes it; never stored. */
  readonly key: string;
  readonly id: string;
  readonly keyHash: string;
}

export function generateFeedKey(random: (n: number) => Buffer = randomBytes): NewFeedKey {
  const id = [...random(10)].map((b) => ID_ALPHABET[b & 31]).join('');
  const key = `bnf_${id}_${random(32).toString('base64url')}`;
  return { key, id, keyHash: hashFeedKey(key) };
}

export function hashFeedKey(key: string): string {
  const id = FEED_KEY_RE.exec(key)?.[1];
  if (id === undefined) throw new Error(`not a feed key: expected ${FEED_KEY_FORMAT}`);
  return `sha256$${id}$${digest(key).toString('hex')}`;
}

export function parseFeedKeyHash(stored: string): { id: string; digest: Buffer } | undefined {
  const m = FEED_KEY_HASH_RE.exec(stored);
  if (!m?.[1] || !m[2]) return undefined;
  return { id: m[1], digest: Buffer.from(m[2], 'hex') };
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

const DUMMY_DIGEST = Buffer.alloc(32);

export type FeedKeyResult =
  | { readonly ok: true; readonly name: string; readonly keyId: string }
  | { readonly ok: false; readonly reason: 'malformed' | 'unknown'; readonly message: string };

/** The configured keys by id: one map lookup and one SHA-256 per request. */
export class FeedKeyRegistry {
  readonly #byId = new Map<string, { name: string; digest: Buffer }>();

  constructor(entries: readonly FeedKeyConfig[]) {
    for (const [i, e] of entries.entries()) {
      const h = parseFeedKeyHash(e.keyHash);
      if (!h) throw new Error(`feed key ${i} ('${e.name}'): keyHash is not ${FEED_KEY_HASH_FORMAT}`);
      if (this.#byId.has(h.id)) throw new Error(`feed key ${i} ('${e.name}'): key id ${h.id} is used twice`);
      this.#byId.set(h.id, { name: e.name, digest: h.digest });
    }
  }

  get size(): number {
    return this.#byId.size;
  }

  check(key: string): FeedKeyResult {
    const id = FEED_KEY_RE.exec(key)?.[1];
    if (id === undefined)
      return { ok: false, reason: 'malformed', message: `malformed feed key: expected ${FEED_KEY_FORMAT}` };
    const entry = this.#byId.get(id);
    const match = timingSafeEqual(digest(key), entry?.digest ?? DUMMY_DIGEST);
    if (!entry || !match) return { ok: false, reason: 'unknown', message: 'unknown or revoked feed key' };
    return { ok: true, name: entry.name, keyId: id };
  }
}
