/**
 * The fleet of the fleet benchmark (scripts/bench-fleet.ts) and of scripts/bench/memory-per-device.ts:
 * SIZE copies of the Badung inventory (config/badung/generate.ts), as inventory YAML, whole or by share.
 */
import { Document, parseDocument } from 'yaml';
import { generateBadungInventory, type GeneratedInventory } from '../../config/badung/generate.ts';

export type RawSite = GeneratedInventory['sites'][number];

export interface Fleet {
  readonly credentials: unknown;
  readonly port: number;
  readonly sites: readonly RawSite[];
  readonly devices: number;
}

/**
 * SIZE copies of the Badung inventory: copy k (k >= 1) has seed k + 1, addresses 127.(octet + k).x.y and
 * "xk-" before every site and device id (and the references to them). MQTT accounts and MQTT-only sensors
 * are left out: the benchmark measures SNMP collection.
 */
export function makeFleet(size: number, firstOctet: number, port: number): Fleet {
  const sites: RawSite[] = [];
  let devices = 0;
  let credentials: unknown;
  for (let k = 0; k < size; k++) {
    // No ping-only sites: the benchmark measures SNMP polling (its config has no ping: section).
    const gen = generateBadungInventory({ seed: k + 1, hostOctet: firstOctet + k, port, ispRouterEvery: 0 });
    const pre = k === 0 ? '' : `x${k}-`;
    credentials ??= parseDocument(gen.yaml).get('credentials');
    for (const s of gen.sites) {
      const devs = s.devices
        .filter((d) => d.role !== 'sensor' && d.host !== undefined)
        .map((d) => {
          const { mqtt: _mqtt, ...rest } = d;
          return { ...rest, id: `${pre}${d.id}` };
        });
      devices += devs.length;
      sites.push({
        ...s,
        id: `${pre}${s.id}`,
        name: k === 0 ? s.name : `${s.name} (${k})`,
        ...(s.upstream ? { upstream: `${pre}${s.upstream}` } : {}),
        devices: devs,
      });
    }
  }
  return { credentials, port, sites, devices };
}

export function inventoryYaml(fleet: Fleet, sites: readonly RawSite[]): string {
  const doc = new Document({
    credentials: fleet.credentials,
    defaults: { port: fleet.port, credentials: 'public-v2' },
    sites,
  });
  return doc.toString({ lineWidth: 0 });
}

/**
 * Share `index` of `count` of the fleet's sites (those at positions index mod count), as the simulator's
 * --shard K/N takes them (simulator/main.ts shardInventory): an upstream in another share is dropped.
 * Written to a file of its own, so each simulator process parses only its share of a 100k-device fleet.
 */
export function shardSites(fleet: Fleet, index: number, count: number): RawSite[] {
  const mine = fleet.sites.filter((_, i) => i % count === index);
  const ids = new Set(mine.map((s) => s.id));
  return mine.map((s) => {
    if (s.upstream === undefined || ids.has(s.upstream)) return s;
    const { upstream: _gone, ...rest } = s;
    return rest;
  });
}
