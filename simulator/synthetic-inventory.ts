/**
 * A synthetic inventory with the shape of the real fleet (987 sites in the categories of
 * ../shared/reference/badung.md, one router per site plus 1-4 APs, ~3,500 devices), every device at its
 * own loopback address. For tests and benchmarks of the simulator itself; the project's inventory
 * generator (config/) is what demos use.
 */
import { CATEGORY_INFO } from '../collector/core/categories.ts';
import { Secret } from '../collector/core/secret.ts';
import type { Category, Device, Inventory, Site, SnmpCredentials } from '../collector/core/types.ts';
import { between, unit } from '../collector/core/hash.ts';
import { BADUNG_COUNTS } from '../config/badung/generate.ts';

/** Sites per category in the Kominfo Badung rollout. */
export const FLEET_CATEGORY_COUNTS: Readonly<Record<Category, number>> = BADUNG_COUNTS;

export interface SyntheticOptions {
  /** Number of sites (default 987); categories keep the fleet's proportions. */
  readonly sites?: number | undefined;
  readonly seed?: number | undefined;
  /** Second octet of the 127.B.x.y addresses (default 20). */
  readonly hostOctet?: number | undefined;
  readonly port: number;
  /** Credentials for every device (default: SNMPv2c "public"). */
  readonly credentials?: SnmpCredentials | undefined;
}

const AP_PROFILES = ['unifi-ap', 'unifi-ap', 'unifi-ap', 'mikrotik-routeros', 'cisco-wlc', 'airmax'] as const;

export function loopbackHost(octet: number, index: number): string {
  // 250 hosts per /24, skipping .0 and .255.
  return `127.${octet}.${Math.floor(index / 250)}.${(index % 250) + 1}`;
}

export function syntheticInventory(opts: SyntheticOptions): Inventory {
  const total = opts.sites ?? 987;
  const seed = opts.seed ?? 1;
  const octet = opts.hostOctet ?? 20;
  const creds = opts.credentials ?? { version: '2c', community: new Secret('public') };
  const categories: Category[] = [];
  for (const [c, n] of Object.entries(FLEET_CATEGORY_COUNTS) as [Category, number][]) {
    for (let i = 0; i < n; i++) categories.push(c);
  }
  const sites: Site[] = [];
  const devices: Device[] = [];
  for (let s = 0; s < total; s++) {
    const category = categories[Math.floor((s * categories.length) / total)] ?? 'banjar';
    const id = `site-${String(s + 1).padStart(4, '0')}`;
    sites.push({
      id,
      name: `${CATEGORY_INFO[category].id} ${s + 1}`,
      category,
      kecamatan: 'Mengwi',
      desa: 'Sempidi',
      lat: between(-8.85, -8.23, seed, id, 'lat'),
      lon: between(115.05, 115.3, seed, id, 'lon'),
      criticality: CATEGORY_INFO[category].criticality,
    });
    const routerId = `${id}-gw`;
    devices.push({
      id: routerId,
      siteId: id,
      role: 'router',
      host: loopbackHost(octet, devices.length),
      port: opts.port,
      profile: unit(seed, id, 'router') < 0.8 ? 'mikrotik-routeros' : 'generic',
      snmp: creds,
    });
    // 1-4 APs, about 2.5 on average: ~3,500 devices for 987 sites.
    const aps = 1 + Math.floor(unit(seed, id, 'aps') * 4);
    for (let a = 1; a <= aps; a++) {
      devices.push({
        id: `${id}-ap${a}`,
        siteId: id,
        role: 'ap',
        host: loopbackHost(octet, devices.length),
        port: opts.port,
        profile: AP_PROFILES[Math.floor(unit(seed, id, a, 'ap') * AP_PROFILES.length)] ?? 'unifi-ap',
        snmp: creds,
        parent: routerId,
      });
    }
  }
  return { sites, devices };
}
