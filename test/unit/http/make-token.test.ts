import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_RE, TokenRegistry, verifyToken } from '../../../collector/http/auth.ts';
import { apiSchema, tokenListSchema } from '../../../config/api.ts';
import { feedKeysSchema } from '../../../config/feed-keys.ts';
import { FeedKeyRegistry } from '../../../collector/feeds/keys.ts';
import { parseYamlSource } from '../../../config/yaml-source.ts';

const parseYaml = (text: string): unknown => parseYamlSource(text, '(test)').data;

const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'scripts/make-token.ts', ...args], { encoding: 'utf8' });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-make-token-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('scripts/make-token.ts', () => {
  it('prints the token once and the api.tokens line holding its hash', () => {
    const r = cli('--name', 'ops-1', '--role', 'operator');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/shown this once/);
    const tokens = r.stdout.match(/bnm_[a-z2-7]{10}_[A-Za-z0-9_-]{43}/g) ?? [];
    expect(tokens).toHaveLength(1);
    const token = tokens[0] ?? '';
    expect(token).toMatch(TOKEN_RE);

    const line = r.stdout.split('\n').find((l) => l.trim().startsWith('- {')) ?? '';
    expect(line).not.toContain(token);
    // the line is YAML that the config accepts under api.tokens, and it verifies the token printed
    const api = apiSchema.parse({ tokens: parseYaml(line) });
    expect(api.tokens.map((t) => [t.name, t.role])).toEqual([['ops-1', 'operator']]);
    expect(verifyToken(token, api.tokens[0]?.tokenHash ?? '')).toBe(true);
    expect(new TokenRegistry(api.tokens).authenticate(`Bearer ${token}`)).toMatchObject({
      ok: true,
      principal: { name: 'ops-1', role: 'operator' },
    });
  });

  it('--role feed makes a feed key and its feeds.keys line, which the gate accepts', () => {
    const r = cli('--name', 'bpbd-map', '--role', 'feed');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const keys = r.stdout.match(/bnf_[a-z2-7]{10}_[A-Za-z0-9_-]{43}/g) ?? [];
    expect(keys).toHaveLength(1);
    expect(r.stdout).not.toMatch(/bnm_/);
    const line = r.stdout.split('\n').find((l) => l.trim().startsWith('- {')) ?? '';
    expect(line).not.toContain(keys[0]);
    const parsed = feedKeysSchema.parse(parseYaml(line));
    expect(new FeedKeyRegistry(parsed).check(keys[0] ?? '')).toMatchObject({ ok: true, name: 'bpbd-map' });
    expect(cli('--name', 'bpbd-map', '--role', 'feed', '--out', join(dir, 'k.yaml')).status).toBe(2);
  });

  it('refuses bad usage with exit 2 and says why', () => {
    const cases: [string[], RegExp][] = [
      [[], /--name is required/],
      [['--name', 'ops-1'], /--role must be one of viewer, operator, admin \(got none\)/],
      [['--name', 'ops-1', '--role', 'root'], /--role must be one of viewer, operator, admin \(got root\)/],
      [['--name', 'Ops 1', '--role', 'viewer'], /--name 'Ops 1': lower-case letters/],
      [['--name', 'ops-1', '--role', 'viewer', '--colour'], /Unknown option '--colour'/],
      [['--name', 'ops-1', '--role', 'viewer', 'extra'], /Unexpected argument 'extra'/],
    ];
    for (const [args, why] of cases) {
      const r = cli(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(why);
      expect(r.stderr, args.join(' ')).toMatch(/usage: scripts\/make-token\.ts --name NAME --role/);
      expect(r.stdout, args.join(' ')).not.toMatch(/bnm_/);
    }
  });

  it('prints its usage for --help', () => {
    const r = cli('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: scripts\/make-token\.ts --name NAME --role viewer\|operator\|admin/);
  });

  it('appends to a tokens file and refuses a name already in it; writes the token to a private file', () => {
    const out = join(dir, 'api-tokens.yaml');
    const tokenFile = join(dir, 'ops-2.token');
    const r = cli('--name', 'ops-2', '--role', 'admin', '--out', out, '--token-file', tokenFile);
    expect(r.status).toBe(0);
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(token).toMatch(TOKEN_RE);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(r.stdout).not.toContain(token);
    const listed = tokenListSchema.parse(parseYaml(readFileSync(out, 'utf8')));
    expect(listed.map((t) => [t.name, t.role])).toEqual([['ops-2', 'admin']]);
    expect(verifyToken(token, listed[0]?.tokenHash ?? '')).toBe(true);

    expect(cli('--name', 'ops-3', '--role', 'viewer', '--out', out).status).toBe(0);
    expect(tokenListSchema.parse(parseYaml(readFileSync(out, 'utf8'))).map((t) => t.name)).toEqual([
      'ops-2',
      'ops-3',
    ]);

    const again = cli('--name', 'ops-2', '--role', 'viewer', '--out', out);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already has a token named 'ops-2'/);

    const notTokens = join(dir, 'other.yaml');
    writeFileSync(notTokens, 'influx: { api: v1 }\n');
    const wrong = cli('--name', 'ops-4', '--role', 'viewer', '--out', notTokens);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/is not a list of API tokens/);
    expect(readFileSync(notTokens, 'utf8')).toBe('influx: { api: v1 }\n');
  });
});
