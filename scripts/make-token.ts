/**
 * Makes an API token (collector/http/auth.ts): prints the token once, and the line for `api.tokens` that
 * holds only its hash. With `--role feed` it makes a feed key instead (collector/feeds/keys.ts): read-only,
 * for /feeds only, given as `?key=` by clients that cannot set headers; its line goes under `feeds.keys`.
 *
 *   npx tsx scripts/make-token.ts --name ops-1 --role operator
 *   npx tsx scripts/make-token.ts --name ops-1 --role operator --out var/api-tokens.yaml --token-file T
 *   npx tsx scripts/make-token.ts --name bpbd-map --role feed [--token-file K]
 *
 * --out appends the entry to a tokens file (`api.tokensFile`), creating it; a name already in it is
 * refused (not for feed keys: paste their line into the config). --token-file writes the token (or key)
 * to a file only its owner can read instead of printing it.
 * Exit 0 when made, 2 on a usage error or a file that cannot be written.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { errorMessage } from '../collector/core/errors.ts';
import { generateFeedKey } from '../collector/feeds/keys.ts';
import { generateToken, ROLES, type Role } from '../collector/http/auth.ts';
import { TOKEN_NAME_RE, tokenListSchema } from '../config/api.ts';
import { parseYamlSource } from '../config/yaml-source.ts';
import { parseCommandArgs, usageError } from './lib/cli.ts';

const usage =
  'usage: scripts/make-token.ts --name NAME --role viewer|operator|admin [--out TOKENS.yaml] [--token-file FILE]\n' +
  '       scripts/make-token.ts --name NAME --role feed [--token-file FILE]   (a feed key for /feeds?key=)';

function fail(message: string): never {
  return usageError('make-token', usage, message);
}

const values = parseCommandArgs('make-token', usage, {
  name: { type: 'string' },
  role: { type: 'string' },
  out: { type: 'string' },
  'token-file': { type: 'string' },
});
const { name, role, out } = values;
if (!name) fail('--name is required (who holds the token: it is named in every audit line)');
if (!TOKEN_NAME_RE.test(name))
  fail(`--name '${name}': lower-case letters, digits, dots, dashes and underscores, at most 64`);
if (role === 'feed') makeFeedKey(name, out, values['token-file']);
if (!role || !(ROLES as readonly string[]).includes(role))
  fail(
    `--role must be one of ${ROLES.join(', ')} (got ${role ?? 'none'}), or feed for a feed key (feeds.keys)`,
  );

if (out && existsSync(out)) {
  const src = parseYamlSource(readFileSync(out, 'utf8'), out);
  const listed = tokenListSchema.safeParse(src.data ?? []);
  if (!listed.success) fail(`${out} is not a list of API tokens; fix it or choose another --out`);
  if (listed.data.some((t) => t.name === name)) fail(`${out} already has a token named '${name}'`);
}

const t = generateToken();
const entry = `- { name: ${name}, role: ${role as Role}, tokenHash: '${t.tokenHash}' }`;
try {
  if (values['token-file']) writeFileSync(values['token-file'], `${t.token}\n`, { mode: 0o600 });
  if (out) appendFileSync(out, `${entry}\n`, { mode: 0o600 });
} catch (err) {
  fail(`cannot write: ${errorMessage(err)}`);
}

if (!values['token-file']) {
  console.log(`Token for ${name} (${role}); it is shown this once, keep it secret:\n\n  ${t.token}\n`);
}
console.log(
  out
    ? `Added to ${out} (api.tokensFile):\n  ${entry}`
    : `Paste under api.tokens in the monitor config:\n  ${entry}`,
);

/** `--role feed`: a feed key and its `feeds.keys` line; nothing else is written. */
function makeFeedKey(keyName: string, outFile: string | undefined, keyFile: string | undefined): never {
  if (outFile)
    fail('--out is for API tokens; paste the feed key line under feeds.keys in the monitor config');
  const k = generateFeedKey();
  const line = `- { name: ${keyName}, keyHash: '${k.keyHash}' }`;
  try {
    if (keyFile) writeFileSync(keyFile, `${k.key}\n`, { mode: 0o600 });
  } catch (err) {
    fail(`cannot write: ${errorMessage(err)}`);
  }
  if (!keyFile)
    console.log(
      `Feed key for ${keyName}; it is shown this once. It opens /feeds only (read-only): give the client\n` +
        `URLs such as https://<monitor>/feeds/outages.geojson?key=<key>\n\n  ${k.key}\n`,
    );
  console.log(`Paste under feeds.keys in the monitor config:\n  ${line}`);
  process.exit(0);
}
