import { describe, expect, it } from 'vitest';
import { BADUNG_BOX, BADUNG_COUNTS, generateBadungInventory } from '../../../config/badung/generate.ts';
import { parseInventory } from '../../../config/inventory.ts';

describe('the Badung inventory generator', () => {
  const gen = generateBadungInventory({ seed: 1 });
  const inv = parseInventory(gen.yaml, 'badung.yaml', {});

  it('has exactly the 987 sites of the reference by category, in 6 kecamatan and 62 desa/kelurahan', () => {
    expect(inv.sites).toHaveLength(987);
    const byCat: Record<string, number> = {};
    for (const s of inv.sites) byCat[s.category] = (byCat[s.category] ?? 0) + 1;
    expect(byCat).toEqual(BADUNG_COUNTS);
    expect(new Set(inv.sites.map((s) => s.kecamatan)).size).toBe(6);
    expect(new Set(inv.sites.map((s) => `${s.kecamatan}/${s.desa}`)).size).toBe(62);
  });

  it('places every site inside the regency, with a router and 1-4 APs on distinct loopback addresses', () => {
    for (const s of inv.sites) {
      expect(s.lat).toBeGreaterThanOrEqual(BADUNG_BOX.latMin);
      expect(s.lat).toBeLessThanOrEqual(BADUNG_BOX.latMax);
      expect(s.lon).toBeGreaterThanOrEqual(BADUNG_BOX.lonMin);
      expect(s.lon).toBeLessThanOrEqual(BADUNG_BOX.lonMax);
      const devs = inv.devices.filter((d) => d.siteId === s.id);
      expect(devs.filter((d) => d.role === 'router')).toHaveLength(1);
      const aps = devs.filter((d) => d.role === 'ap').length;
      expect(aps).toBeGreaterThanOrEqual(1);
      expect(aps).toBeLessThanOrEqual(4);
    }
    const polled = inv.devices.filter((d) => d.role !== 'sensor');
    expect(new Set(polled.map((d) => `${d.host}:${d.port}`)).size).toBe(polled.length);
    expect(inv.devices.filter((d) => d.role !== 'sensor').every((d) => d.host.startsWith('127.'))).toBe(true);
    // Some routers publish MQTT telemetry, some sites have an MQTT-only sensor.
    expect(inv.devices.filter((d) => d.role === 'router' && d.mqtt).length).toBeGreaterThan(100);
    expect(inv.devices.filter((d) => d.role === 'sensor').length).toBeGreaterThan(20);
    // Critical and high sites' routers use SNMPv3.
    const pkm = inv.devices.find((d) => d.id === 'pkm-petang-i-rtr');
    expect(pkm?.snmp?.version).toBe('3');
  });

  it('is deterministic for a seed', () => {
    expect(generateBadungInventory({ seed: 1 }).yaml).toBe(gen.yaml);
    expect(generateBadungInventory({ seed: 2 }).yaml).not.toBe(gen.yaml);
  });
});
