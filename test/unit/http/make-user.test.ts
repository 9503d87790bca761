/** scripts/make-user.ts as a user runs it: the users file it writes (0600, hashes only), refusals, --replace. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../../collector/http/accounts.ts';
import { loadUsersFile } from '../../../config/console.ts';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'scripts/make-user.ts', ...args], { encoding: 'utf8' });

let dir: string;
let file: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-make-user-'));
  file = join(dir, 'sub', 'users.yaml');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each case spawns `node --import tsx` (seconds apiece on a busy machine).
describe('scripts/make-user.ts', { timeout: 180_000 }, () => {
  it('generates a password, prints it once, and stores only its scrypt hash in a 0600 file', async () => {
    const r = cli('--name', 'wayan', '--role', 'operator', '--file', file);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const password = /shown this once, keep it secret:\n\n {2}(\S+)\n/.exec(r.stdout)?.[1] ?? '';
    expect(password).toMatch(/^[A-Za-z0-9_-]{20}$/);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(password);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const users = await loadUsersFile(file);
    expect(users.map((u) => [u.name, u.role])).toEqual([['wayan', 'operator']]);
    expect(users[0]?.passwordHash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(await verifyPassword(password, users[0]?.passwordHash ?? '')).toBe(true);
    expect(await verifyPassword(`${password}x`, users[0]?.passwordHash ?? '')).toBe(false);
  });

  it('takes the password from --password-file, and refuses a name twice unless --replace', async () => {
    const pw = join(dir, 'pw');
    writeFileSync(pw, 'sebelas karakter\n', { mode: 0o600 });
    const r = cli('--name', 'ketut', '--role', 'viewer', '--file', file, '--password-file', pw);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain('sebelas');
    const again = cli('--name', 'ketut', '--role', 'admin', '--file', file, '--password-file', pw);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already has an account named 'ketut' \(add --replace/);
    const replaced = cli(
      '--name',
      'ketut',
      '--role',
      'admin',
      '--file',
      file,
      '--password-file',
      pw,
      '--replace',
    );
    expect(replaced.status).toBe(0);
    const users = await loadUsersFile(file);
    expect(users.map((u) => [u.name, u.role])).toEqual([
      ['wayan', 'operator'],
      ['ketut', 'admin'],
    ]);
    expect(await verifyPassword('sebelas karakter', users[1]?.passwordHash ?? '')).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('refuses bad usage with exit 2 and says why', () => {
    const short = join(dir, 'short');
    writeFileSync(short, 'pendek\n');
    const cases: [string[], RegExp][] = [
      [[], /--name is required/],
      [['--name', 'wayan', '--role', 'root'], /--role must be one of viewer, operator, admin \(got root\)/],
      [['--name', 'x1', '--role', 'viewer', '--password-file', short], /shorter than 10 characters/],
    ];
    for (const [args, want] of cases) {
      const r = cli(...args, '--file', file);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(want);
    }
    expect(cli('--help').status).toBe(0);
  });

  it('refuses to add to a users file that is not one, naming its line', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, '- { name: wayan, role: operator, passwordHash: hunter2 }\n');
    const r = cli('--name', 'ketut', '--role', 'viewer', '--file', bad);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:1:\d+: \[0\]\.passwordHash/);
  });
});
