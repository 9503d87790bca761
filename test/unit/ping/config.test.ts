/** The ping: and traps: config sections, ping-only devices in the inventory and the Badung generator. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../config/monitor.ts';
import { parseInventory } from '../../../config/inventory.ts';
import { generateBadungInventory } from '../../../config/badung/generate.ts';
import type { Inventory } from '../../../collector/core/types.ts';

const BASE = 'inventory: inv.yaml\ninflux: { api: v1, url: "http://127.0.0.1:8086", database: netmon }\n';

describe('ping and traps config', () => {
  it('absent: no ping, no traps', () => {
    const c = parseConfig(BASE, 'netmon.yaml', {});
    expect(c.ping).toBeUndefined();
    expect(c.traps).toBeUndefined();
  });

  it('defaults, in ms', () => {
    const c = parseConfig(`${BASE}ping: {}\ntraps: {}\n`, 'netmon.yaml', {});
    expect(c.ping).toMatchObject({ intervalMs: 60_000, fastIntervalMs: 10_000, recheckMs: 2000, count: 2 });
    expect(c.traps).toEqual({ host: '0.0.0.0', port: 10162 });
  });

  it('the example config (npm start) pings and takes traps: 30 s, 10 s for critical routers, UDP 10162', () => {
    const text = readFileSync('config/netmon.example.yaml', 'utf8');
    const c = parseConfig(text, 'config/netmon.example.yaml', {});
    expect(c.ping).toMatchObject({
      intervalMs: 30_000,
      fastIntervalMs: 10_000,
      fastCriticalities: ['critical'],
      recheckMs: 2000,
      fping: 'fping',
    });
    expect(c.traps).toEqual({ host: '127.0.0.1', port: 10162 });
    // Moved like the other ports (a string from the environment).
    const moved = parseConfig(text, 'config/netmon.example.yaml', { NETMON_TRAP_PORT: '21162' });
    expect(moved.traps?.port).toBe(21162);
    expect(() => parseConfig(text, 'config/netmon.example.yaml', { NETMON_TRAP_PORT: 'ten' })).toThrow(
      /traps.port: expected a UDP port/,
    );
  });

  it('bad values name the key and the place', () => {
    expect(() => parseConfig(`${BASE}ping: { fastInterval: 10 sec }\n`, 'netmon.yaml', {})).toThrow(
      /netmon.yaml:3:\d+: ping.fastInterval: expected a duration/,
    );
    expect(() => parseConfig(`${BASE}traps: { port: 70000 }\n`, 'netmon.yaml', {})).toThrow(/traps.port/);
  });
});

const INV = (device: string) => `
credentials: { c: { version: 2c, community: x } }
sites:
  - { id: bjr-a, name: A, category: banjar, kecamatan: Kuta, desa: Kuta, lat: -8.7, lon: 115.17, devices: [${device}] }
`;

describe('ping-only devices in the inventory', () => {
  it('ping: only needs no credentials and is marked', () => {
    const inv = parseInventory(INV('{ id: isp, role: router, host: 10.0.0.1, ping: only }'), 'inv.yaml', {});
    expect(inv.devices[0]).toMatchObject({ id: 'isp', ping: 'only', snmp: undefined });
  });

  it('ping: only with credentials is an error; ping: false is off', () => {
    expect(() =>
      parseInventory(
        INV('{ id: isp, role: router, host: 10.0.0.1, ping: only, credentials: c }'),
        'inv.yaml',
        {},
      ),
    ).toThrow(/a ping-only device has no SNMP agent/);
    const inv = parseInventory(
      INV('{ id: r, role: router, host: 10.0.0.1, credentials: c, ping: false }'),
      'inv.yaml',
      {},
    );
    expect(inv.devices[0]?.ping).toBe('off');
  });

  it('the Badung generator can make every Nth banjar/lingkungan AP ping-only, and does not by default', () => {
    const pingOnlyAps = (inv: Inventory) => inv.devices.filter((d) => d.ping === 'only' && d.role === 'ap');
    expect(pingOnlyAps(generateBadungInventory().inventory)).toEqual([]);
    const only = pingOnlyAps(generateBadungInventory({ pingOnlyEvery: 10 }).inventory);
    expect(only.length).toBeGreaterThan(30);
    expect(only.every((d) => d.snmp === undefined)).toBe(true);
  });

  it('the default Badung inventory has ping-only sites: an ISP router, no SNMP, at banjar and tourist sites', () => {
    const inv = generateBadungInventory().inventory;
    const isp = inv.devices.filter((d) => d.ping === 'only');
    const sites = new Map(inv.sites.map((s) => [s.id, s]));
    // Every 10th of the ~360 banjar and tourist sites with an uplink of their own.
    expect(isp.length).toBeGreaterThanOrEqual(30);
    expect(isp.length).toBeLessThanOrEqual(45);
    for (const d of isp) {
      const site = sites.get(d.siteId);
      expect(d, d.id).toMatchObject({ role: 'router', snmp: undefined, mqtt: undefined });
      expect(['banjar', 'obyek_wisata']).toContain(site?.category);
      expect(site?.upstream).toBeUndefined();
      // The ISP's router is the whole site: nothing of ours polled over SNMP there.
      expect(inv.devices.filter((x) => x.siteId === d.siteId && x.snmp !== undefined)).toEqual([]);
    }
    expect(new Set(isp.map((d) => sites.get(d.siteId)?.category))).toEqual(
      new Set(['banjar', 'obyek_wisata']),
    );
    // Off: none, and every other site comes out the same (the generator's draws do not move).
    const off = generateBadungInventory({ ispRouterEvery: 0 }).inventory;
    expect(off.devices.filter((d) => d.ping === 'only')).toEqual([]);
    const mqttOf = (i: Inventory) =>
      i.devices.filter((d) => d.mqtt && !isp.some((x) => x.siteId === d.siteId)).map((d) => d.id);
    expect(mqttOf(inv)).toEqual(mqttOf(off));
  });
});
