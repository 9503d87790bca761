import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  generateToken,
  hashToken,
  parseTokenHash,
  roleAtLeast,
  tokenId,
  TokenRegistry,
  TOKEN_HASH_RE,
  TOKEN_RE,
  verifyToken,
  type Role,
} from '../../../collector/http/auth.ts';

/** A `random` for generateToken that returns `n` copies of `byte`. */
const fixed =
  (byte: number) =>
  (n: number): Buffer =>
    Buffer.alloc(n, byte);

/** The same token id with another (well-formed) secret. */
function otherSecret(token: string): string {
  const m = TOKEN_RE.exec(token);
  if (!m) throw new Error(`not a token: ${token}`);
  const secret = m[2] ?? '';
  const flipped = (secret[0] === 'A' ? 'B' : 'A') + secret.slice(1);
  return `bnm_${m[1]}_${flipped}`;
}

describe('generateToken', () => {
  it('makes bnm_<id>_<secret> and sha256$<id>$<hex of the whole token>', () => {
    const t = generateToken();
    expect(t.token).toMatch(TOKEN_RE);
    expect(t.tokenHash).toMatch(TOKEN_HASH_RE);
    expect(tokenId(t.token)).toBe(t.id);
    expect(t.tokenHash).toBe(`sha256$${t.id}$${createHash('sha256').update(t.token).digest('hex')}`);
    expect(t.tokenHash).not.toContain(t.token.slice(15)); // the secret is not in the hash
  });

  it('takes the id and secret from the random source: base32 id, 256-bit base64url secret', () => {
    // 0x00 → 'a' (0 & 31), 0xff → '7' (31 & 31), 0x41 → 'b' (65 & 31 = 1)
    expect(generateToken(fixed(0)).token).toBe(`bnm_aaaaaaaaaa_${Buffer.alloc(32, 0).toString('base64url')}`);
    expect(generateToken(fixed(0xff)).id).toBe('7777777777');
    expect(generateToken(fixed(0x41)).id).toBe('bbbbbbbbbb');
    // 0xff… is all '_' in base64url: the id's fixed length, not the underscores, splits the token
    const underscores = generateToken(fixed(0xff));
    expect(underscores.token).toBe(`bnm_7777777777_${'_'.repeat(42)}8`);
    expect(verifyToken(underscores.token, underscores.tokenHash)).toBe(true);
  });

  it('makes a different token each time', () => {
    const tokens = new Set(Array.from({ length: 50 }, () => generateToken().token));
    const ids = new Set([...tokens].map((t) => tokenId(t)));
    expect(tokens.size).toBe(50);
    expect(ids.size).toBe(50);
  });
});

describe('hashToken and verifyToken', () => {
  const t = generateToken();

  it('hashes only well-formed tokens', () => {
    expect(hashToken(t.token)).toBe(t.tokenHash);
    for (const bad of ['', 'bnm_short_x', t.token + 'x', t.token.toUpperCase(), ` ${t.token}`, t.tokenHash])
      expect(() => hashToken(bad), bad).toThrow(/not an API token: expected bnm_/);
  });

  it('parses stored hashes of the right shape only', () => {
    expect(parseTokenHash(t.tokenHash)?.id).toBe(t.id);
    expect(parseTokenHash(t.tokenHash)?.digest).toHaveLength(32);
    expect(parseTokenHash(t.token)).toBeUndefined();
    expect(parseTokenHash(t.tokenHash.toUpperCase())).toBeUndefined();
    expect(parseTokenHash(t.tokenHash.replace('sha256', 'md5'))).toBeUndefined();
    expect(parseTokenHash(t.tokenHash.slice(0, -1))).toBeUndefined();
  });

  it('verifies the token a hash was made from, and nothing else', () => {
    expect(verifyToken(t.token, t.tokenHash)).toBe(true);
    expect(verifyToken(otherSecret(t.token), t.tokenHash)).toBe(false);
    expect(verifyToken(generateToken().token, t.tokenHash)).toBe(false);
    expect(verifyToken(t.tokenHash, t.tokenHash)).toBe(false);
    expect(verifyToken(t.token, 'garbage')).toBe(false);
    expect(verifyToken('garbage', t.tokenHash)).toBe(false);
    // the right digest filed under another id
    const other = generateToken();
    const digestOfT = t.tokenHash.split('$')[2] ?? '';
    expect(verifyToken(t.token, `sha256$${other.id}$${digestOfT}`)).toBe(false);
  });
});

describe('roleAtLeast', () => {
  it('orders viewer < operator < admin', () => {
    const table: [Role, Role, boolean][] = [
      ['viewer', 'viewer', true],
      ['viewer', 'operator', false],
      ['viewer', 'admin', false],
      ['operator', 'viewer', true],
      ['operator', 'operator', true],
      ['operator', 'admin', false],
      ['admin', 'viewer', true],
      ['admin', 'operator', true],
      ['admin', 'admin', true],
    ];
    for (const [have, need, want] of table) expect(roleAtLeast(have, need), `${have} ≥ ${need}`).toBe(want);
  });
});

describe('TokenRegistry', () => {
  const ops = generateToken();
  const wall = generateToken();
  const registry = new TokenRegistry([
    { name: 'ops-1', role: 'operator', tokenHash: ops.tokenHash },
    { name: 'noc-wall', role: 'viewer', tokenHash: wall.tokenHash },
  ]);

  it('gives the principal of a configured token', () => {
    expect(registry.size).toBe(2);
    expect(registry.authenticate(`Bearer ${ops.token}`)).toEqual({
      ok: true,
      principal: { name: 'ops-1', role: 'operator', tokenId: ops.id },
    });
    expect(registry.authenticate(`Bearer ${wall.token}`)).toEqual({
      ok: true,
      principal: { name: 'noc-wall', role: 'viewer', tokenId: wall.id },
    });
    // RFC 6750: the scheme is case-insensitive, and spaces around the token are tolerated
    expect(registry.authenticate(`bearer ${ops.token}`).ok).toBe(true);
    expect(registry.authenticate(`Bearer   ${ops.token} `).ok).toBe(true);
  });

  it('says a missing header is missing and points at make-token', () => {
    for (const h of [undefined, '', '   ']) {
      const r = registry.authenticate(h);
      expect(r).toMatchObject({ ok: false, reason: 'missing' });
      expect(!r.ok && r.message).toMatch(/Authorization: Bearer <token>.*scripts\/make-token\.ts/);
    }
  });

  it('says a header that is not Bearer <token> is malformed', () => {
    for (const h of [
      `Basic ${Buffer.from('ops:pw').toString('base64')}`,
      'Bearer',
      `Bearer${ops.token}`,
      `Bearer ${ops.token} ${ops.token}`,
      ops.token,
    ]) {
      const r = registry.authenticate(h);
      expect(r, h).toMatchObject({ ok: false, reason: 'malformed' });
      expect(!r.ok && r.message, h).toMatch(/malformed Authorization header: expected 'Bearer <token>'/);
    }
  });

  it('says a token not of our format is malformed', () => {
    for (const t of ['abc', ops.tokenHash.replace(/\$/g, '_'), `bnm_${ops.id}_short`, ops.token + 'A']) {
      const r = registry.authenticate(`Bearer ${t}`);
      expect(r, t).toMatchObject({ ok: false, reason: 'malformed' });
      expect(!r.ok && r.message, t).toMatch(/malformed token: expected bnm_/);
    }
  });

  it('refuses a well-formed token with an unknown id, naming the id but never the secret', () => {
    const stranger = generateToken();
    const r = registry.authenticate(`Bearer ${stranger.token}`);
    expect(r).toEqual({
      ok: false,
      reason: 'unknown',
      message: 'unknown or revoked token',
      tokenId: stranger.id,
    });
    expect(JSON.stringify(r)).not.toContain(stranger.token);
  });

  it('refuses the right id with the wrong secret the same way', () => {
    const forged = otherSecret(ops.token);
    expect(tokenId(forged)).toBe(ops.id);
    expect(registry.authenticate(`Bearer ${forged}`)).toEqual({
      ok: false,
      reason: 'unknown',
      message: 'unknown or revoked token',
      tokenId: ops.id,
    });
  });

  it('refuses the stored hash sent as the token', () => {
    expect(registry.authenticate(`Bearer ${ops.tokenHash}`)).toMatchObject({ ok: false });
  });

  it('refuses entries it could never match, naming the entry', () => {
    const a = generateToken();
    expect(() => new TokenRegistry([{ name: 'x', role: 'viewer', tokenHash: a.token }])).toThrow(
      /api token 0 \('x'\): tokenHash is not sha256\$<token id>\$<64 lower-case hex digits>/,
    );
    expect(
      () =>
        new TokenRegistry([
          { name: 'x', role: 'viewer', tokenHash: a.tokenHash },
          { name: 'y', role: 'admin', tokenHash: a.tokenHash },
        ]),
    ).toThrow(/api token 1 \('y'\): token id \w{10} is used twice/);
    expect(() => new TokenRegistry([{ name: 'x', role: 'root' as Role, tokenHash: a.tokenHash }])).toThrow(
      /api token 0 \('x'\): unknown role 'root'/,
    );
    expect(new TokenRegistry([]).authenticate(`Bearer ${a.token}`)).toMatchObject({
      ok: false,
      reason: 'unknown',
    });
  });
});
