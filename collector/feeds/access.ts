/**
 * Who may read the feeds (pure): the decision behind routes.ts's feedAccess middleware.
 *
 *   Authorization: Bearer <token>   an API token of any role (viewer and up), as for the API
 *   ?key=<feed key>                 a feed key (`feeds.keys`): for clients that cannot set headers
 *   ?token=<viewer token>           a viewer token in the URL, for the same clients
 *   nothing                         only with `api.feedsPublic`
 *
 * An operator or admin token in the URL is refused (403) even when it is valid, and even when the feeds
 * are public: a URL ends up in access logs, browser histories and proxies, and those tokens can change
 * things. The refusal says to use a feed key.
 */
import type { Role, TokenRegistry } from '../http/auth.ts';
import { FEED_KEY_RE, type FeedKeyRegistry } from './keys.ts';

export const MAKE_FEED_KEY = 'npx tsx scripts/make-token.ts --role feed --name NAME';
const API_TOKEN_PREFIX = 'bnm_';

export interface FeedCredentials {
  /** `?token=` values (a repeated parameter gives several). */
  readonly queryToken: readonly string[];
  readonly queryKey: readonly string[];
  readonly authorization: string | undefined;
}

export type FeedReader =
  | { readonly kind: 'public' }
  | { readonly kind: 'key'; readonly name: string; readonly keyId: string }
  | { readonly kind: 'token'; readonly name: string; readonly role: Role; readonly via: 'header' | 'query' };

export type FeedAccess =
  | { readonly ok: true; readonly reader: FeedReader }
  | {
      readonly ok: false;
      readonly status: 400 | 401 | 403;
      readonly reason: string;
      readonly message: string;
      /** The token's name, when a known token was refused for its role. */
      readonly principal?: string | undefined;
    };

export interface FeedAccessPolicy {
  readonly tokens: TokenRegistry;
  readonly keys: FeedKeyRegistry;
  /** `api.feedsPublic`: no credentials needed. */
  readonly public: boolean;
}

const refuse = (
  status: 400 | 401 | 403,
  reason: string,
  message: string,
  principal?: string,
): FeedAccess => ({ ok: false, status, reason, message, principal });

export function decideFeedAccess(c: FeedCredentials, policy: FeedAccessPolicy): FeedAccess {
  if (c.queryToken.length > 1 || c.queryKey.length > 1)
    return refuse(400, 'repeated', 'give ?token= or ?key= once');
  const token = c.queryToken[0];
  const key = c.queryKey[0];
  if (token !== undefined && key !== undefined)
    return refuse(400, 'both', 'give either ?key= (a feed key) or ?token= (a viewer token), not both');

  if (token !== undefined) {
    if (FEED_KEY_RE.test(token))
      return refuse(400, 'key_as_token', 'this is a feed key: pass it as ?key=, not ?token=');
    const r = policy.tokens.authenticate(`Bearer ${token}`);
    if (!r.ok) return refuse(401, `token_${r.reason}`, `?token=: ${r.message}`);
    if (r.principal.role !== 'viewer')
      return refuse(
        403,
        'token_role_in_url',
        `an ${r.principal.role} token is not accepted in a URL (URLs end up in logs, browser histories and proxies): ` +
          `give the client a feed key as ?key= (make one: ${MAKE_FEED_KEY}), or send this token in the ` +
          `Authorization header; consider token '${r.principal.name}' exposed and replace it`,
        r.principal.name,
      );
    return { ok: true, reader: { kind: 'token', name: r.principal.name, role: 'viewer', via: 'query' } };
  }

  if (key !== undefined) {
    if (key.startsWith(API_TOKEN_PREFIX))
      return refuse(
        403,
        'token_as_key',
        `?key= takes a feed key (bnf_...), not an API token: make a feed key with ${MAKE_FEED_KEY}; ` +
          'an API token in a URL may be exposed: replace it unless it is a viewer token',
      );
    const r = policy.keys.check(key);
    if (!r.ok) return refuse(401, `key_${r.reason}`, `?key=: ${r.message}`);
    return { ok: true, reader: { kind: 'key', name: r.name, keyId: r.keyId } };
  }

  if (c.authorization !== undefined && c.authorization.trim() !== '') {
    const r = policy.tokens.authenticate(c.authorization);
    if (!r.ok) return refuse(401, `token_${r.reason}`, r.message);
    return {
      ok: true,
      reader: { kind: 'token', name: r.principal.name, role: r.principal.role, via: 'header' },
    };
  }

  if (policy.public) return { ok: true, reader: { kind: 'public' } };
  return refuse(
    401,
    'missing',
    "no credentials: send 'Authorization: Bearer <token>', or add ?key=<feed key> to the URL " +
      `(make one: ${MAKE_FEED_KEY}) or ?token=<viewer token>`,
  );
}
