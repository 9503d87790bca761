import { describe, expect, it } from 'vitest';
import { parseCli, parseShard, shardInventory } from '../../../simulator/main.ts';
import { syntheticInventory } from '../../../simulator/synthetic-inventory.ts';

describe('simulator --shard', () => {
  const inv = syntheticInventory({ sites: 50, port: 1161 });

  it('deals whole sites out to N processes: every device in exactly one share, sites kept together', () => {
    const shares = [0, 1, 2].map((index) => shardInventory(inv, { index, count: 3 }));
    const ids = shares.flatMap((s) => s.devices.map((d) => d.id)).sort();
    expect(ids).toEqual(inv.devices.map((d) => d.id).sort());
    for (const share of shares) {
      const sites = new Set(share.sites.map((s) => s.id));
      expect(share.devices.every((d) => sites.has(d.siteId))).toBe(true);
      // A parent outside the share is dropped; one inside is kept.
      const devs = new Set(share.devices.map((d) => d.id));
      expect(share.devices.every((d) => d.parent === undefined || devs.has(d.parent))).toBe(true);
    }
    expect(shares[0]?.devices.some((d) => d.parent !== undefined)).toBe(true);
    expect(shardInventory(inv, { index: 0, count: 1 })).toBe(inv);
  });

  it('parses K/N and refuses what is not a share', () => {
    expect(parseShard('1/4')).toEqual({ index: 1, count: 4 });
    for (const bad of ['4/4', '0/0', '1', 'a/b', '-1/2'])
      expect(() => parseShard(bad)).toThrow(/--shard must be K\/N/);
    expect(parseCli(['--inventory', 'x.yaml', '--shard', '0/2']).shard).toEqual({ index: 0, count: 2 });
    expect(parseCli(['--inventory', 'x.yaml']).shard).toBeUndefined();
  });
});
