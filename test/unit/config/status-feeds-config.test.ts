import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateFeedKey } from '../../../collector/feeds/keys.ts';
import { generateToken } from '../../../collector/http/auth.ts';
import { ConfigError } from '../../../collector/core/errors.ts';
import { parseConfig } from '../../../config/monitor.ts';

const FILE = join('/tmp', 'netmon.yaml');
const base = (extra = '') =>
  `inventory: inv.yaml\ninflux: { api: v1, url: "http://127.0.0.1:8086", database: netmon }\n${extra}`;
const errorOf = (text: string): string => {
  try {
    parseConfig(text, FILE, {});
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('accepted');
};

describe('status: and feeds.keys in the monitor config', () => {
  it('the status page is on by default, every 5 s, availability every 10 min', () => {
    const c = parseConfig(base(), FILE, {});
    expect(c.status).toEqual({ enabled: true, rebuildMs: 15_000, availabilityRefreshMs: 600_000 });
    expect(c.feeds?.keys).toEqual([]);
  });

  it('can be turned off and tuned', () => {
    const c = parseConfig(
      base('status: { enabled: false, rebuild: 2s, availabilityRefresh: 15m }\n'),
      FILE,
      {},
    );
    expect(c.status).toEqual({ enabled: false, rebuildMs: 2000, availabilityRefreshMs: 900_000 });
  });

  it('refuses a rebuild too fast and unknown keys, naming the place', () => {
    const msg = errorOf(base('status: { rebuild: 10ms, colour: blue }\n'));
    expect(msg).toMatch(/status\.rebuild: at least 500ms/);
    expect(msg).toMatch(/colour/);
  });

  it('takes feed key hashes; refuses a raw key or an API token with the fix', () => {
    const k = generateFeedKey();
    const c = parseConfig(
      base(`feeds: { keys: [ { name: bpbd-map, keyHash: '${k.keyHash}' } ] }\n`),
      FILE,
      {},
    );
    expect(c.feeds?.keys).toEqual([{ name: 'bpbd-map', keyHash: k.keyHash }]);

    const raw = errorOf(base(`feeds: { keys: [ { name: bpbd-map, keyHash: '${k.key}' } ] }\n`));
    expect(raw).toMatch(/feeds\.keys\[0\]\.keyHash: this is a feed key, not its hash/);
    expect(raw).not.toContain(k.key.slice(15));
    const tok = generateToken();
    expect(errorOf(base(`feeds: { keys: [ { name: x, keyHash: '${tok.token}' } ] }\n`))).toMatch(
      /this is an API token, not a feed key hash: revoke it/,
    );
    const twice = errorOf(
      base(
        `feeds: { keys: [ { name: a, keyHash: '${k.keyHash}' }, { name: a, keyHash: '${k.keyHash}' } ] }\n`,
      ),
    );
    expect(twice).toMatch(/'a' is also the name of feeds\.keys\[0\]/);
    expect(twice).toMatch(/key id .* is also that of feeds\.keys\[0\]/);
  });
});
