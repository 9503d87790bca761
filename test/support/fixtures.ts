/** Small hand-built inventories for unit tests. */
import { Secret } from '../../collector/core/secret.ts';
import type { Device, Inventory, Site } from '../../collector/core/types.ts';

export function testSite(id: string, over: Partial<Site> = {}): Site {
  return {
    id,
    name: `Site ${id}`,
    category: 'banjar',
    kecamatan: 'Petang',
    desa: 'Pelaga',
    lat: -8.3,
    lon: 115.22,
    criticality: 'low',
    ...over,
  };
}

export function testDevice(
  id: string,
  siteId: string,
  role: 'router' | 'ap',
  over: Partial<Device> = {},
): Device {
  return {
    id,
    siteId,
    role,
    host: '127.0.0.1',
    port: 161,
    profile: 'generic',
    snmp: { version: '2c', community: new Secret('public') },
    ...over,
  };
}

/** Puskesmas Petang I (router + 2 APs) and a banjar that reaches the internet through it. */
export function smallInventory(): Inventory {
  return {
    sites: [
      testSite('pkm-petang-1', {
        name: 'Puskesmas Petang I',
        category: 'puskesmas',
        criticality: 'critical',
      }),
      testSite('bjr-pelaga-1', { name: 'Banjar Kiadan', upstream: 'pkm-petang-1' }),
    ],
    devices: [
      testDevice('pkm-petang-1-r1', 'pkm-petang-1', 'router'),
      testDevice('pkm-petang-1-ap1', 'pkm-petang-1', 'ap', { parent: 'pkm-petang-1-r1' }),
      testDevice('pkm-petang-1-ap2', 'pkm-petang-1', 'ap', { parent: 'pkm-petang-1-r1' }),
      testDevice('bjr-pelaga-1-r1', 'bjr-pelaga-1', 'router'),
    ],
  };
}
