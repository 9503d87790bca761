/**
 * The `api:` section of the monitor config: who may call the HTTP API, and where it is reached from outside.
 *
 *   api:
 *     publicBaseUrl: https://netmon.badungkab.go.id   # links in the feeds; default: the listen address
 *     feedsPublic: false                              # true: /feeds without a token (BPBD's readers)
 *     tokens:                                         # lines printed by scripts/make-token.ts
 *       - { name: noc-wall, role: viewer, tokenHash: 'sha256$q7vbd3mxk2$4b1f...' }
 *       - { name: ops-1, role: operator, tokenHash: 'sha256$h2c6pn5ryt$90ad...' }
 *
 * Only hashes are kept (collector/http/auth.ts says why SHA-256 is enough for these tokens; their format
 * is collector/core/api-tokens.ts). Names are unique because the audit log names the token that made each
 * change; ids are unique because a request is checked against the one entry with its id.
 *
 * config/monitor.ts takes it as its `api:` section.
 */
import { z } from 'zod';
import { ROLES, TOKEN_HASH_FORMAT, TOKEN_RE, parseTokenHash } from '../collector/core/api-tokens.ts';

export const TOKEN_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const MAKE_TOKEN = 'npx tsx scripts/make-token.ts --name NAME --role ROLE';

const tokenSchema = z.strictObject({
  name: z.string().regex(TOKEN_NAME_RE, {
    message: 'lower-case letters, digits, dots, dashes and underscores, at most 64 (e.g. ops-1, bpbd-feeds)',
  }),
  role: z.enum(ROLES, { message: `expected one of ${ROLES.join(', ')}` }),
  tokenHash: z.string().superRefine((v, ctx) => {
    if (parseTokenHash(v)) return;
    ctx.addIssue({
      code: 'custom',
      message: TOKEN_RE.test(v)
        ? `this is a token, not its hash: never put a token in the config; revoke it and make a new one with \`${MAKE_TOKEN}\``
        : `expected ${TOKEN_HASH_FORMAT}, the tokenHash printed by \`${MAKE_TOKEN}\``,
    });
  }),
});

export const apiSchema = z
  .strictObject({
    tokens: z.array(tokenSchema).default([]),
    /**
     * A second list of tokens in its own YAML file (a list of the same entries), read at load: lets the
     * tokens be managed apart from the config (scripts/make-token.ts --out appends to it). Missing file:
     * no tokens from it.
     */
    tokensFile: z.string().min(1).optional(),
    /** The monitor's address as seen from outside (a reverse proxy), without a trailing slash. */
    publicBaseUrl: z
      .url({ protocol: /^https?$/, message: 'expected an http:// or https:// URL' })
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
    /** Serve /feeds without a token. Default false: BPBD's systems send a viewer token. */
    feedsPublic: z.boolean().default(false),
  })
  .superRefine(
    (api, ctx) => {
      // Runs even when an entry is refused (see `when`), so its fields may be of any type here.
      const tokens: readonly unknown[] = Array.isArray(api.tokens) ? api.tokens : [];
      const byName = new Map<string, number>();
      const byId = new Map<string, number>();
      tokens.forEach((entry, i) => {
        if (typeof entry !== 'object' || entry === null) return;
        const t = entry as { name?: unknown; tokenHash?: unknown };
        if (typeof t.name === 'string') checkName(t.name, i);
        if (typeof t.tokenHash === 'string') checkId(t.tokenHash, i);
      });
      function checkName(name: string, i: number): void {
        const sameName = byName.get(name);
        if (sameName !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['tokens', i, 'name'],
            message: `'${name}' is also the name of api.tokens[${sameName}]; give each token its own name (the audit log names it)`,
          });
        } else byName.set(name, i);
      }
      function checkId(tokenHash: string, i: number): void {
        const id = parseTokenHash(tokenHash)?.id;
        if (id === undefined) return;
        const sameId = byId.get(id);
        if (sameId !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['tokens', i, 'tokenHash'],
            message: `token id ${id} is also that of api.tokens[${sameId}]: one token, two entries; remove one, or make a new token with \`${MAKE_TOKEN}\``,
          });
        } else byId.set(id, i);
      }
    },
    // By default zod skips a refinement once a field has failed; these clashes are worth reporting in
    // the same run as a bad role or a raw token, so that one edit fixes the config.
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  );

export type ApiConfig = z.output<typeof apiSchema>;

/** The entries of an `api.tokensFile`: a YAML list of `{ name, role, tokenHash }`. */
export const tokenListSchema = z.array(tokenSchema);
