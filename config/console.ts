/**
 * The `console:` section of the monitor config (the operators' web console: sign-in, sessions, live
 * events), and the users file it names.
 *
 *   console:
 *     enabled: true                      # false: no sign-in, /api/v1 takes tokens only
 *     usersFile: ../var/users.yaml       # accounts made with scripts/make-user.ts (0600)
 *     sessionsFile: ../var/sessions.db   # signed-in sessions (SQLite): a restart signs nobody out
 *     sessionIdle: 12h                   # signed out after this long without a request
 *     sessionMax: 7d                     # and after this long whatever happens
 *     trustProxy: false                  # true behind a reverse proxy on this machine (X-Forwarded-For)
 *     secureCookies: false               # true: the cookie only travels over HTTPS (behind a TLS proxy)
 *     maxEventClients: 200               # open /api/v1/events streams at most
 *     tileUrl: ''                        # map tiles, e.g. https://tiles.example.org/{z}/{x}/{y}.png;
 *                                        # empty: the kecamatan outlines only (works offline)
 *     tileAttribution: ''                # the tile server's required credit, shown on the map
 *
 * The users file is a YAML list, one entry per account, only the scrypt hash of each password:
 *
 *   - { name: wayan, role: operator, passwordHash: 'scrypt$16384$8$1$...$...' }
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from '../collector/core/errors.ts';
import {
  isPasswordHash,
  PASSWORD_HASH_FORMAT,
  USER_NAME_RE,
  USER_NAME_RULE,
  type UserAccount,
} from './users.ts';
import { ROLES } from '../collector/core/api-tokens.ts';
import { pathIn, withMs, type Omittable } from './transforms.ts';
import { parseDuration, parseYamlSource, validate } from './yaml-source.ts';

const MAKE_USER = 'npx tsx scripts/make-user.ts --name NAME --role ROLE';

const duration = (def: string, minMs: number, what: string) =>
  z
    .union([z.string(), z.number()])
    .default(def)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `'${v}' is not a duration; write e.g. 30m, 12h, 7d` });
        return z.NEVER;
      }
      if (ms < minMs) {
        ctx.addIssue({ code: 'custom', message: `${what} must be at least ${minMs / 60_000} min` });
        return z.NEVER;
      }
      return ms;
    });

/** The `console:` section; paths are resolved against the config file's directory `base`. */
export const consoleSchema = (base: string) =>
  z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Absolute path of the users file. */
      usersFile: pathIn(base).prefault('var/users.yaml'),
      /** Absolute path of the sessions database. */
      sessionsFile: pathIn(base).prefault('var/sessions.db'),
      sessionIdle: duration('12h', 60_000, 'sessionIdle'),
      sessionMax: duration('7d', 60_000, 'sessionMax'),
      /**
       * A reverse proxy on this machine forwards the requests: the sign-in throttle takes the client's
       * address from the X-Forwarded-For it adds (only from a loopback peer), not the proxy's own.
       */
      trustProxy: z.boolean().default(false),
      secureCookies: z.boolean().default(false),
      maxEventClients: z.number().int().min(1).max(10_000).default(200),
      /** Leaflet tile URL template for the console's map; '' for the offline outlines only. */
      tileUrl: z
        .string()
        .default('')
        .refine(
          (u) =>
            u === '' ||
            (/^https?:\/\/[^/?#\s]+\/\S*$/i.test(u) && ['{z}', '{x}', '{y}'].every((p) => u.includes(p))),
          {
            message:
              "expected '' (outlines only) or an http(s) tile URL template with {z}, {x} and {y}, e.g. https://tiles.example.org/{z}/{x}/{y}.png",
          },
        ),
      tileAttribution: z.string().max(300).default(''),
    })
    .superRefine((c, ctx) => {
      if (
        typeof c.sessionIdle === 'number' &&
        typeof c.sessionMax === 'number' &&
        c.sessionIdle > c.sessionMax
      )
        ctx.addIssue({
          code: 'custom',
          path: ['sessionIdle'],
          message: 'must not be longer than sessionMax (a session ends at sessionMax whatever happens)',
        });
    })
    .transform((c) => withMs(c, 'sessionIdle', 'sessionMax'));

/** The tile settings may be left out of a config built in code: '' (outlines only) is the default. */
export type ConsoleConfig = Omittable<
  z.output<ReturnType<typeof consoleSchema>>,
  'tileUrl' | 'tileAttribution'
>;

const userSchema = z.strictObject({
  name: z.string({ message: 'expected a name' }).regex(USER_NAME_RE, { message: USER_NAME_RULE }),
  role: z.enum(ROLES, { message: `expected one of ${ROLES.join(', ')}` }),
  passwordHash: z.string({ message: `expected ${PASSWORD_HASH_FORMAT}` }).refine(isPasswordHash, {
    message: `expected ${PASSWORD_HASH_FORMAT}; never put a password itself here: make the account again with \`${MAKE_USER}\``,
  }),
});

export const userListSchema = z.array(userSchema, {
  message: 'expected a YAML list of accounts: - { name, role, passwordHash }',
});

/** Validate the text of a users file; ConfigError naming `file:line:col` of every fault. */
export function parseUsersFile(text: string, file: string): UserAccount[] {
  // No ${VAR} expansion: a hash may contain `$` followed by text that is not a variable.
  const src = parseYamlSource(text, file, {});
  // An empty file, or comments only, is no accounts.
  if (src.data === null || src.data === undefined) return [];
  const users = validate(src, userListSchema, 'users file');
  const errors: string[] = [];
  const first = new Map<string, number>();
  users.forEach((u, i) => {
    const j = first.get(u.name);
    if (j !== undefined)
      errors.push(`${src.locate([i, 'name'])}: [${i}].name: '${u.name}' is also the name of [${j}]`);
    else first.set(u.name, i);
  });
  if (errors.length > 0) throw new ConfigError(file, `invalid users file:\n  ${errors.join('\n  ')}`);
  return users;
}

/** Read and validate a users file (missing: no accounts). */
export async function loadUsersFile(file: string): Promise<UserAccount[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ConfigError(
      file,
      `cannot read the users file (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        cause: err,
      },
    );
  }
  return parseUsersFile(text, file);
}
