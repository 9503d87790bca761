/**
 * A large inventory is read site by site (config/inventory.ts parseInventoryChunked): the same Inventory
 * as the whole document gives, and every file it cannot read for sure, or that has an error, goes to the
 * whole-document path, so the errors are word for word those of that path.
 */
import { describe, expect, it } from 'vitest';
import { Secret } from '../../../collector/core/secret.ts';
import type { Inventory } from '../../../collector/core/types.ts';
import { generateBadungInventory } from '../../../config/badung/generate.ts';
import {
  CHUNKED_FROM_BYTES,
  parseInventory,
  parseInventoryChunked,
  parseInventoryWhole,
} from '../../../config/inventory.ts';

const env = { NETMON_COMMUNITY: 'kominfo-ro' };
const badung = generateBadungInventory({ seed: 3 }).yaml;

/** The inventory as text, secrets revealed: what both paths must agree on. */
const plain = (inv: Inventory | undefined): string =>
  JSON.stringify(inv, (_k, v: unknown) => (v instanceof Secret ? `secret:${v.reveal()}` : v));

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error('expected an error');
}

describe('the chunked inventory parse', () => {
  it('reads the Badung inventory (sensors, MQTT, v3 credentials, variables, upstreams) as the whole document does', () => {
    expect(badung.length).toBeGreaterThan(CHUNKED_FROM_BYTES);
    const whole = parseInventoryWhole(badung, 'badung.yaml', env);
    const chunked = parseInventoryChunked(badung, 'badung.yaml', env);
    expect(chunked).toBeDefined();
    expect(chunked?.devices.length).toBe(whole.devices.length);
    expect(plain(chunked)).toBe(plain(whole));
    expect(plain(parseInventory(badung, 'badung.yaml', env))).toBe(plain(whole));
    expect(whole.devices.length).toBeGreaterThan(3000);
  });

  it('keeps what follows the sites, items at column 0, comments between items', () => {
    const text = [
      '# the fleet',
      'sites:',
      '- id: s1 # first',
      '  name: One',
      '  category: banjar',
      '  kecamatan: Mengwi',
      '  desa: Sempidi',
      '  lat: -8.6',
      '  lon: 115.2',
      '  devices:',
      '  - { id: s1-rtr, role: router, host: 127.9.0.1 }',
      '# between',
      '',
      '- id: s2',
      '  name: Two',
      '  category: sd',
      '  kecamatan: Mengwi',
      '  desa: Sempidi',
      '  lat: -8.61',
      '  lon: 115.21',
      '  upstream: s1',
      '  devices:',
      '  - { id: s2-rtr, role: router, host: 127.9.0.2 }',
      '  - { id: s2-ap1, role: ap, host: 127.9.0.3 }',
      'defaults: { port: 1161, credentials: c }',
      'credentials:',
      '  c: { version: 2c, community: "${NETMON_COMMUNITY:-public}" }',
      '',
    ].join('\n');
    const chunked = parseInventoryChunked(text, 'small.yaml', env);
    expect(chunked?.sites.map((s) => s.id)).toEqual(['s1', 's2']);
    expect(plain(chunked)).toBe(plain(parseInventoryWhole(text, 'small.yaml', env)));
    expect(chunked?.devices.find((d) => d.id === 's2-ap1')?.port).toBe(1161);
  });

  it('leaves to the whole document what it cannot split for sure', () => {
    const anchored = badung.replace('sites:\n', 'x-site: &base { category: banjar }\nsites:\n');
    expect(parseInventoryChunked(anchored, 'a.yaml', env)).toBeUndefined();
    const flow = 'sites: [{ id: a }]\n';
    expect(parseInventoryChunked(flow, 'f.yaml', env)).toBeUndefined();
    const tabs = badung.replace('sites:\n', 'sites:\t\n');
    expect(parseInventoryChunked(tabs, 't.yaml', env)).toBeUndefined();
  });

  it('gives a bad large file the errors of the whole document, line and column included', () => {
    // A late site with a latitude outside Bali.
    const lines = badung.split('\n');
    const lat = lines.findLastIndex((l) => /^ {4}lat: /.test(l));
    lines[lat] = '    lat: 8.5';
    const bad = lines.join('\n');
    expect(bad.length).toBeGreaterThan(CHUNKED_FROM_BYTES);
    expect(parseInventoryChunked(bad, 'bad.yaml', env)).toBeUndefined();
    const message = errorOf(() => parseInventory(bad, 'bad.yaml', env));
    expect(message).toBe(errorOf(() => parseInventoryWhole(bad, 'bad.yaml', env)));
    expect(message).toMatch(/bad\.yaml:\d+:\d+: sites\[\d+\]\.lat: latitude must be/);
  });

  it('gives a missing variable the error of the whole document', () => {
    const text = badung.replace('${NETMON_COMMUNITY:-public}', '${NETMON_NOT_SET_ANYWHERE}');
    const message = errorOf(() => parseInventory(text, 'v.yaml', {}));
    expect(message).toBe(errorOf(() => parseInventoryWhole(text, 'v.yaml', {})));
    expect(message).toMatch(/NETMON_NOT_SET_ANYWHERE/);
  });
});
