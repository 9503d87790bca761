/**
 * `feeds.keys` of the monitor config: read-only keys for the feeds (collector/feeds/keys.ts), accepted as
 * `?key=` by clients that cannot set headers (BPBD's map client, GIS tools). Only hashes are kept:
 *
 *   feeds:
 *     keys:                                  # lines printed by scripts/make-token.ts --role feed
 *       - { name: bpbd-map, keyHash: 'sha256$k3v7...$9f0c...' }
 *
 * Names and key ids are unique, as for api.tokens.
 */
import { z } from 'zod';
import { FEED_KEY_HASH_FORMAT, FEED_KEY_RE, parseFeedKeyHash } from '../collector/feeds/keys.ts';
import { TOKEN_RE } from '../collector/core/api-tokens.ts';
import { TOKEN_NAME_RE } from './api.ts';

const MAKE_FEED_KEY = 'npx tsx scripts/make-token.ts --role feed --name NAME';

const feedKeySchema = z.strictObject({
  name: z.string().regex(TOKEN_NAME_RE, {
    message: 'lower-case letters, digits, dots, dashes and underscores, at most 64 (e.g. bpbd-map)',
  }),
  keyHash: z.string().superRefine((v, ctx) => {
    if (parseFeedKeyHash(v)) return;
    ctx.addIssue({
      code: 'custom',
      message: FEED_KEY_RE.test(v)
        ? `this is a feed key, not its hash: never put a key in the config; make a new one with \`${MAKE_FEED_KEY}\` and give that to the client`
        : TOKEN_RE.test(v)
          ? `this is an API token, not a feed key hash: revoke it, and make a feed key with \`${MAKE_FEED_KEY}\``
          : `expected ${FEED_KEY_HASH_FORMAT}, the keyHash printed by \`${MAKE_FEED_KEY}\``,
    });
  }),
});

export const feedKeysSchema = z.array(feedKeySchema).superRefine((keys, ctx) => {
  const byName = new Map<string, number>();
  const byId = new Map<string, number>();
  keys.forEach((k, i) => {
    const sameName = byName.get(k.name);
    if (sameName !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: [i, 'name'],
        message: `'${k.name}' is also the name of feeds.keys[${sameName}]; give each key its own name`,
      });
    else byName.set(k.name, i);
    const id = parseFeedKeyHash(k.keyHash)?.id;
    if (id === undefined) return;
    const sameId = byId.get(id);
    if (sameId !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: [i, 'keyHash'],
        message: `key id ${id} is also that of feeds.keys[${sameId}]: one key, two entries; remove one`,
      });
    else byId.set(id, i);
  });
});

export type FeedKeysConfig = z.output<typeof feedKeysSchema>;
