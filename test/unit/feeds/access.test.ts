/**
 * Who may read /feeds: the decision (table) and the gate as the API serves it (a real express server on a
 * loopback port): feed keys as ?key=, viewer tokens as ?token=, operator and admin tokens refused in URLs.
 */
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../collector/core/log.ts';
import { decideFeedAccess, type FeedCredentials } from '../../../collector/feeds/access.ts';
import { FeedKeyRegistry, generateFeedKey, hashFeedKey } from '../../../collector/feeds/keys.ts';
import { generateToken, TokenRegistry } from '../../../collector/http/auth.ts';
import { startHttp, type RunningHttp } from '../../../collector/http/server.ts';
import type { MonitorService } from '../../../collector/http/service.ts';

const viewer = generateToken();
const operator = generateToken();
const admin = generateToken();
const key = generateFeedKey();
const revoked = generateFeedKey();
const TOKENS = [
  { name: 'noc-wall', role: 'viewer' as const, tokenHash: viewer.tokenHash },
  { name: 'ops-1', role: 'operator' as const, tokenHash: operator.tokenHash },
  { name: 'kominfo-admin', role: 'admin' as const, tokenHash: admin.tokenHash },
];
const KEYS = [{ name: 'bpbd-map', keyHash: key.keyHash }];
const policy = (pub = false) => ({
  tokens: new TokenRegistry(TOKENS),
  keys: new FeedKeyRegistry(KEYS),
  public: pub,
});
const creds = (c: Partial<FeedCredentials>): FeedCredentials => ({
  queryToken: [],
  queryKey: [],
  authorization: undefined,
  ...c,
});

describe('feed keys', () => {
  it('are bnf_ keys whose hash verifies, and a registry finds them', () => {
    expect(key.key).toMatch(/^bnf_[a-z2-7]{10}_[A-Za-z0-9_-]{43}$/);
    expect(hashFeedKey(key.key)).toBe(key.keyHash);
    expect(() => hashFeedKey(viewer.token)).toThrow(/not a feed key/);
    const reg = new FeedKeyRegistry(KEYS);
    expect(reg.check(key.key)).toEqual({ ok: true, name: 'bpbd-map', keyId: key.id });
    expect(reg.check(revoked.key)).toMatchObject({ ok: false, reason: 'unknown' });
    // Same id, other secret: unknown.
    expect(reg.check(`${key.key.slice(0, -3)}AAA`)).toMatchObject({ ok: false, reason: 'unknown' });
    expect(reg.check('hello')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(() => new FeedKeyRegistry([...KEYS, { name: 'again', keyHash: key.keyHash }])).toThrow(
      /used twice/,
    );
  });
});

describe('decideFeedAccess', () => {
  const cases: [string, Partial<FeedCredentials>, boolean, unknown][] = [
    ['a feed key', { queryKey: [key.key] }, false, { ok: true, reader: { kind: 'key', name: 'bpbd-map' } }],
    ['a revoked key', { queryKey: [revoked.key] }, false, { ok: false, status: 401, reason: 'key_unknown' }],
    [
      'a viewer token in the URL',
      { queryToken: [viewer.token] },
      false,
      { ok: true, reader: { kind: 'token', role: 'viewer', via: 'query' } },
    ],
    [
      'an operator token in the URL',
      { queryToken: [operator.token] },
      false,
      { ok: false, status: 403, reason: 'token_role_in_url', principal: 'ops-1' },
    ],
    [
      'an admin token in the URL, even with public feeds',
      { queryToken: [admin.token] },
      true,
      { ok: false, status: 403 },
    ],
    [
      'an API token as ?key=',
      { queryKey: [operator.token] },
      false,
      { ok: false, status: 403, reason: 'token_as_key' },
    ],
    [
      'a feed key as ?token=',
      { queryToken: [key.key] },
      false,
      { ok: false, status: 400, reason: 'key_as_token' },
    ],
    [
      'an unknown token in the URL',
      { queryToken: [generateToken().token] },
      false,
      { ok: false, status: 401 },
    ],
    [
      'both',
      { queryToken: [viewer.token], queryKey: [key.key] },
      false,
      { ok: false, status: 400, reason: 'both' },
    ],
    ['a repeated key', { queryKey: [key.key, key.key] }, false, { ok: false, status: 400 }],
    [
      'an operator token in the header',
      { authorization: `Bearer ${operator.token}` },
      false,
      { ok: true, reader: { kind: 'token', role: 'operator', via: 'header' } },
    ],
    ['a bad header', { authorization: 'Basic abc' }, false, { ok: false, status: 401 }],
    ['nothing', {}, false, { ok: false, status: 401, reason: 'missing' }],
    ['nothing, public feeds', {}, true, { ok: true, reader: { kind: 'public' } }],
  ];
  it.each(cases)('%s', (_what, c, pub, want) => {
    expect(decideFeedAccess(creds(c), policy(pub))).toMatchObject(want as object);
  });

  it('the refusal of an operator token in a URL says to use a feed key', () => {
    const r = decideFeedAccess(creds({ queryToken: [operator.token] }), policy());
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toMatch(/not accepted in a URL/);
      expect(r.message).toMatch(/feed key as \?key=/);
      expect(r.message).toContain('scripts/make-token.ts --role feed');
      expect(r.message).not.toContain(operator.token);
    }
  });
});

describe('/feeds behind the gate', () => {
  let http: RunningHttp;
  const log = memoryLogger();
  beforeAll(async () => {
    const feeds = express.Router();
    feeds.get('/outages.geojson', (_req, res) => {
      res.type('application/geo+json').send('{"type":"FeatureCollection","features":[]}');
    });
    http = await startHttp({} as MonitorService, {
      listen: { host: '127.0.0.1', port: 0 },
      tokens: TOKENS,
      feedKeys: KEYS,
      log,
      feeds,
    });
  });
  afterAll(() => http.close());
  const get = (q: string, headers: Record<string, string> = {}) =>
    fetch(`${http.url}/feeds/outages.geojson${q}`, { headers });

  it('a feed key or a viewer token in the query string reads the feed, cross-origin', async () => {
    for (const q of [`?key=${key.key}`, `?token=${viewer.token}`]) {
      const r = await get(q);
      expect(r.status, q).toBe(200);
      expect(r.headers.get('access-control-allow-origin')).toBe('*');
      expect(await r.text()).toContain('FeatureCollection');
    }
    expect((await get('', { authorization: `Bearer ${operator.token}` })).status).toBe(200);
  });

  it('refuses an operator token in the URL with 403, and logs no credential', async () => {
    const r = await get(`?token=${operator.token}`);
    expect(r.status).toBe(403);
    const body = (await r.json()) as { error: string; message: string };
    expect(body.error).toBe('forbidden');
    expect(body.message).toMatch(/use|feed key/);
    const line = log.records.find((x) => x.msg === 'feed access refused' && x.status === 403);
    expect(line).toBeDefined();
    expect(JSON.stringify(log.records)).not.toContain(operator.token);
    expect(line?.path).toBe('/feeds/outages.geojson');
  });

  it('401 for no credentials, a revoked key; the key is never echoed', async () => {
    const none = await get('');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="badung-netmon"');
    expect(((await none.json()) as { message: string }).message).toMatch(/\?key=<feed key>/);
    const bad = await get(`?key=${revoked.key}`);
    expect(bad.status).toBe(401);
    expect(await bad.text()).not.toContain(revoked.key);
  });

  it('a feed key opens nothing but the feeds', async () => {
    expect((await fetch(`${http.url}/api/v1/sites?key=${key.key}`)).status).toBe(401);
    expect((await fetch(`${http.url}/api/v1/sites?token=${viewer.token}`)).status).toBe(401);
    const r = await fetch(`${http.url}/api/v1/sites`, { headers: { authorization: `Bearer ${key.key}` } });
    expect(r.status).toBe(401);
  });

  it('answers a CORS preflight for clients that send the header', async () => {
    const r = await fetch(`${http.url}/feeds/outages.geojson`, {
      method: 'OPTIONS',
      headers: { origin: 'http://127.0.0.2:9000', 'access-control-request-headers': 'authorization' },
    });
    expect(r.status).toBe(204);
    expect(r.headers.get('access-control-allow-headers')).toBe('Authorization');
  });
});
