import { describe, expect, it } from 'vitest';
import { generateToken } from '../../../collector/http/auth.ts';
import { apiSchema, TOKEN_NAME_RE, tokenListSchema } from '../../../config/api.ts';
import { parseConfig } from '../../../config/monitor.ts';
import { dotted } from '../../../config/yaml-source.ts';

const a = generateToken();
const b = generateToken();
const c = generateToken();

/** The issues of a refused `api:` section as `path: message`, paths dotted as config errors show them. */
function refusals(api: unknown): string[] {
  const r = apiSchema.safeParse(api);
  if (r.success) throw new Error(`accepted: ${JSON.stringify(api)}`);
  return r.error.issues.map((i) => `${dotted(i.path)}: ${i.message}`);
}

describe('api config', () => {
  it('accepts tokens by their hashes, with defaults for the rest', () => {
    const api = apiSchema.parse({
      tokens: [
        { name: 'noc-wall', role: 'viewer', tokenHash: a.tokenHash },
        { name: 'ops-1', role: 'operator', tokenHash: b.tokenHash },
        { name: 'kominfo.admin_2', role: 'admin', tokenHash: c.tokenHash },
      ],
      publicBaseUrl: 'https://netmon.badungkab.go.id/',
    });
    expect(api.tokens.map((t) => [t.name, t.role])).toEqual([
      ['noc-wall', 'viewer'],
      ['ops-1', 'operator'],
      ['kominfo.admin_2', 'admin'],
    ]);
    expect(api.tokens[1]?.tokenHash).toBe(b.tokenHash);
    expect(api.publicBaseUrl).toBe('https://netmon.badungkab.go.id');
    expect(api.feedsPublic).toBe(false);
    expect(apiSchema.parse({})).toEqual({ tokens: [], feedsPublic: false });
  });

  it('refuses a token pasted where its hash belongs, without repeating it', () => {
    const issues = refusals({ tokens: [{ name: 'ops-1', role: 'operator', tokenHash: a.token }] });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(
      /^tokens\[0\]\.tokenHash: this is a token, not its hash: never put a token in the config; revoke it and make a new one with `npx tsx scripts\/make-token\.ts/,
    );
    expect(issues.join('\n')).not.toContain(a.token);
  });

  it('refuses a tokenHash of another shape, saying what it should be', () => {
    for (const tokenHash of [
      '',
      'secret',
      a.tokenHash.toUpperCase(),
      a.tokenHash.slice(0, -2),
      `md5$${a.id}$00`,
    ]) {
      expect(refusals({ tokens: [{ name: 'x', role: 'viewer', tokenHash }] }), tokenHash).toEqual([
        expect.stringMatching(
          /^tokens\[0\]\.tokenHash: expected sha256\$<token id>\$<64 lower-case hex digits>/,
        ),
      ]);
    }
  });

  it('refuses two tokens of one name, naming the second and the first', () => {
    expect(
      refusals({
        tokens: [
          { name: 'ops-1', role: 'operator', tokenHash: a.tokenHash },
          { name: 'ops-1', role: 'viewer', tokenHash: b.tokenHash },
        ],
      }),
    ).toEqual([
      "tokens[1].name: 'ops-1' is also the name of api.tokens[0]; give each token its own name (the audit log names it)",
    ]);
  });

  it('refuses one token listed twice under two names', () => {
    const issues = refusals({
      tokens: [
        { name: 'ops-1', role: 'operator', tokenHash: a.tokenHash },
        { name: 'ops-2', role: 'operator', tokenHash: b.tokenHash },
        { name: 'ops-3', role: 'admin', tokenHash: a.tokenHash },
      ],
    });
    expect(issues).toEqual([
      expect.stringMatching(
        new RegExp(
          `^tokens\\[2\\]\\.tokenHash: token id ${a.id} is also that of api\\.tokens\\[0\\]: one token, two entries`,
        ),
      ),
    ]);
  });

  it('refuses an unknown role, a bad name and an unknown key, naming each', () => {
    expect(
      refusals({
        tokens: [
          { name: 'ops-1', role: 'root', tokenHash: a.tokenHash },
          { name: 'Ops 2', role: 'viewer', tokenHash: b.tokenHash },
          { name: 'ops-3', role: 'viewer', tokenHash: c.tokenHash, token: 'oops' },
        ],
      }),
    ).toEqual([
      'tokens[0].role: expected one of viewer, operator, admin',
      expect.stringMatching(/^tokens\[1\]\.name: lower-case letters, digits, dots, dashes and underscores/),
      expect.stringMatching(/^tokens\[2\]: Unrecognized key: "token"/),
    ]);
    expect(refusals({ tokens: [{ name: 'x', tokenHash: a.tokenHash }] })).toEqual([
      'tokens[0].role: expected one of viewer, operator, admin',
    ]);
  });

  it('reports clashes in the same run as other faults, so one edit fixes the config', () => {
    const issues = refusals({
      tokens: [
        { name: 'ops-1', role: 'operator', tokenHash: a.token },
        { name: 'ops-1', role: 'boss', tokenHash: b.tokenHash },
        { name: 'wall', role: 'viewer', tokenHash: b.tokenHash },
        'not an entry',
      ],
    });
    expect(issues).toEqual([
      expect.stringMatching(/^tokens\[0\]\.tokenHash: this is a token, not its hash/),
      'tokens[1].role: expected one of viewer, operator, admin',
      expect.stringMatching(/^tokens\[3\]: /),
      expect.stringMatching(/^tokens\[1\]\.name: 'ops-1' is also the name of api\.tokens\[0\]/),
      expect.stringMatching(/^tokens\[2\]\.tokenHash: token id \w+ is also that of api\.tokens\[1\]/),
    ]);
  });

  it('refuses a publicBaseUrl that is not http(s), and a non-boolean feedsPublic', () => {
    expect(refusals({ publicBaseUrl: 'ftp://netmon' })).toEqual([
      'publicBaseUrl: expected an http:// or https:// URL',
    ]);
    expect(refusals({ feedsPublic: 'yes' })[0]).toMatch(/^feedsPublic: /);
    expect(refusals({ tokens: {} })[0]).toMatch(/^tokens: /);
  });

  it('keeps token names to what an audit line can show plainly', () => {
    for (const ok of ['a', 'ops-1', 'bpbd.feeds', 'x_y', '0', 'a'.repeat(64)])
      expect(TOKEN_NAME_RE.test(ok), ok).toBe(true);
    for (const bad of ['', 'A', '-ops', '.ops', 'ops 1', 'ops/1', 'a'.repeat(65), 'ops\n1'])
      expect(TOKEN_NAME_RE.test(bad), JSON.stringify(bad)).toBe(false);
  });

  it('reads a tokens file as a list of the same entries', () => {
    expect(tokenListSchema.parse([{ name: 'ops-1', role: 'operator', tokenHash: a.tokenHash }])).toHaveLength(
      1,
    );
    expect(tokenListSchema.safeParse([{ name: 'ops-1', role: 'operator', tokenHash: a.token }]).success).toBe(
      false,
    );
  });
});

describe('api config in the monitor config', () => {
  const base = `inventory: inv.yaml\ninflux: { api: v1, url: "http://127.0.0.1:8086", database: netmon }\n`;

  it('names the file, the line and the path of a fault, and never prints the token', () => {
    const text =
      base +
      `api:\n  tokens:\n` +
      `    - { name: ops-1, role: operator, tokenHash: '${b.tokenHash}' }\n` +
      `    - { name: ops-1, role: viewer, tokenHash: '${a.token}' }\n`;
    let message = '';
    try {
      parseConfig(text, '/etc/netmon/netmon.yaml', {});
    } catch (err) {
      message = String(err);
    }
    expect(message).toMatch(
      /\/etc\/netmon\/netmon\.yaml:6:\d+: api\.tokens\[1\]\.tokenHash: this is a token, not its hash/,
    );
    expect(message).toMatch(
      /\/etc\/netmon\/netmon\.yaml:6:\d+: api\.tokens\[1\]\.name: 'ops-1' is also the name of api\.tokens\[0\]/,
    );
    expect(message).not.toContain(a.token);
  });
});
