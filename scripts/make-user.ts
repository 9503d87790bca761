/**
 * Makes a console account (collector/http/accounts.ts) in the users file (`console.usersFile`): only the
 * scrypt hash of the password is written, the file is kept 0600.
 *
 *   npx tsx scripts/make-user.ts --name wayan --role operator              # prints a new password once
 *   npx tsx scripts/make-user.ts --name wayan --role operator --password-file F   # the password in F
 *   npx tsx scripts/make-user.ts --name wayan --role admin --replace       # new role / password
 *
 * --file names the users file (default var/users.yaml). A name already in it is refused unless
 * --replace. A running monitor sees the change within seconds (it re-reads the file). Exit 0 when made,
 * 2 on a usage error, a bad users file or a file that cannot be written.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { errorMessage } from '../collector/core/errors.ts';
import {
  generatePassword,
  hashPassword,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  USER_NAME_RE,
  USER_NAME_RULE,
  type UserAccount,
} from '../collector/http/accounts.ts';
import { ROLES, type Role } from '../collector/http/auth.ts';
import { parseUsersFile } from '../config/console.ts';
import { parseCommandArgs, usageError } from './lib/cli.ts';

const usage =
  'usage: scripts/make-user.ts --name NAME --role viewer|operator|admin [--password-file FILE] [--file USERS.yaml] [--replace]';

function fail(message: string): never {
  return usageError('make-user', usage, message);
}

const values = parseCommandArgs('make-user', usage, {
  name: { type: 'string' },
  role: { type: 'string' },
  'password-file': { type: 'string' },
  file: { type: 'string', default: 'var/users.yaml' },
  replace: { type: 'boolean', default: false },
});
const { name, role, file } = values;
if (!name) fail('--name is required (the name the person signs in with)');
if (!USER_NAME_RE.test(name)) fail(`--name '${name}': ${USER_NAME_RULE}`);
if (!role || !(ROLES as readonly string[]).includes(role))
  fail(`--role must be one of ${ROLES.join(', ')} (got ${role ?? 'none'})`);

let password: string;
const passwordFile = values['password-file'];
if (passwordFile) {
  try {
    password = readFileSync(passwordFile, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    fail(`cannot read --password-file: ${errorMessage(err)}`);
  }
  if (password.length < MIN_PASSWORD_LENGTH)
    fail(`the password in ${passwordFile} is shorter than ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > MAX_PASSWORD_LENGTH)
    fail(`the password in ${passwordFile} is longer than ${MAX_PASSWORD_LENGTH} characters`);
} else {
  password = generatePassword();
}

let existing: UserAccount[] = [];
const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
try {
  existing = parseUsersFile(text, file);
} catch (err) {
  fail(`${errorMessage(err)}\nfix the users file or choose another --file`);
}
const already = existing.some((u) => u.name === name);
if (already && !values.replace)
  fail(`${file} already has an account named '${name}' (add --replace to change it)`);

const entry: UserAccount = { name, role: role as Role, passwordHash: await hashPassword(password) };
const line = (u: UserAccount) =>
  `- { name: ${u.name}, role: ${u.role}, passwordHash: '${u.passwordHash}' }\n`;
try {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  if (already) {
    // Rewrite (to a temporary file first, so a crash leaves the old file whole).
    const body = existing.map((u) => line(u.name === name ? entry : u)).join('');
    writeFileSync(`${file}.tmp`, `# console accounts: scripts/make-user.ts\n${body}`, { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  } else {
    const head = text === '' ? '# console accounts: scripts/make-user.ts\n' : text.endsWith('\n') ? '' : '\n';
    writeFileSync(file, `${text}${head}${line(entry)}`, { mode: 0o600 });
  }
  chmodSync(file, 0o600);
} catch (err) {
  fail(`cannot write ${file}: ${errorMessage(err)}`);
}

if (!passwordFile)
  console.log(`Password for ${name} (${role}); it is shown this once, keep it secret:\n\n  ${password}\n`);
console.log(`${already ? 'Changed' : 'Added'} ${name} (${role}) in ${file}`);
