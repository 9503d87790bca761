import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KECAMATAN, PUSKESMAS } from '../../../config/badung/areas.ts';
import { BADUNG_BOX, BADUNG_COUNTS, generateBadungInventory } from '../../../config/badung/generate.ts';
import { loadInventory, parseInventory } from '../../../config/inventory.ts';

describe('the Badung inventory generator', () => {
  const gen = generateBadungInventory({ seed: 1 });
  const inv = parseInventory(gen.yaml, 'badung.yaml', {});

  it('offers the parsed inventory too, the same as loading its YAML', () => {
    expect(gen.inventory.sites).toEqual(inv.sites);
    expect(gen.inventory.devices.map((d) => d.id)).toEqual(inv.devices.map((d) => d.id));
    expect(gen.inventory).toBe(gen.inventory);
    expect(gen.devices).toBe(inv.devices.filter((d) => d.role !== 'sensor').length);
  });

  it('has exactly the 987 sites of the reference by category, in 6 kecamatan and 62 desa/kelurahan', () => {
    expect(inv.sites).toHaveLength(987);
    const byCat: Record<string, number> = {};
    for (const s of inv.sites) byCat[s.category] = (byCat[s.category] ?? 0) + 1;
    expect(byCat).toEqual(BADUNG_COUNTS);
    expect(new Set(inv.sites.map((s) => s.kecamatan)).size).toBe(6);
    expect(new Set(inv.sites.map((s) => `${s.kecamatan}/${s.desa}`)).size).toBe(62);
  });

  it('places every site inside the regency, with a router and 1-4 APs (none at ping-only sites) on distinct loopback addresses', () => {
    for (const s of inv.sites) {
      expect(s.lat).toBeGreaterThanOrEqual(BADUNG_BOX.latMin);
      expect(s.lat).toBeLessThanOrEqual(BADUNG_BOX.latMax);
      expect(s.lon).toBeGreaterThanOrEqual(BADUNG_BOX.lonMin);
      expect(s.lon).toBeLessThanOrEqual(BADUNG_BOX.lonMax);
      const devs = inv.devices.filter((d) => d.siteId === s.id);
      const routers = devs.filter((d) => d.role === 'router');
      expect(routers).toHaveLength(1);
      const aps = devs.filter((d) => d.role === 'ap').length;
      // A ping-only site: an ISP's router that is the site's Wi-Fi too (config/badung/generate.ts).
      if (routers[0]?.ping === 'only') expect(aps, s.id).toBe(0);
      else {
        expect(aps).toBeGreaterThanOrEqual(1);
        expect(aps).toBeLessThanOrEqual(4);
      }
    }
    const polled = inv.devices.filter((d) => d.role !== 'sensor');
    expect(new Set(polled.map((d) => `${d.host}:${d.port}`)).size).toBe(polled.length);
    expect(inv.devices.filter((d) => d.role !== 'sensor').every((d) => d.host.startsWith('127.'))).toBe(true);
    // Some routers publish MQTT telemetry, some sites have an MQTT-only sensor.
    expect(inv.devices.filter((d) => d.role === 'router' && d.mqtt).length).toBeGreaterThan(100);
    expect(inv.devices.filter((d) => d.role === 'sensor').length).toBeGreaterThan(20);
    // Critical and high sites' routers use SNMPv3 authPriv, every other device v2c.
    const pkm = inv.devices.find((d) => d.id === 'pkm-petang-i-rtr');
    expect(pkm?.snmp?.version).toBe('3');
    const critOf = new Map(inv.sites.map((s) => [s.id, s.criticality]));
    for (const d of inv.devices) {
      if (d.role === 'sensor' || d.ping === 'only') expect(d.snmp).toBeUndefined();
      else if (d.role === 'router' && ['critical', 'high'].includes(critOf.get(d.siteId) ?? ''))
        expect(d.snmp).toMatchObject({
          version: '3',
          level: 'authPriv',
          authProtocol: 'sha',
          privProtocol: 'aes',
        });
      else expect(d.snmp?.version, d.id).toBe('2c');
    }
  });

  it('has ~3,500 devices, more APs at schools and puskesmas than at banjar, every AP behind its router', () => {
    expect(inv.devices.length).toBeGreaterThan(3300);
    expect(inv.devices.length).toBeLessThan(3700);
    const meanAps = (c: string) => {
      const ids = new Set(inv.sites.filter((s) => s.category === c).map((s) => s.id));
      return inv.devices.filter((d) => d.role === 'ap' && ids.has(d.siteId)).length / ids.size;
    };
    expect(meanAps('sd')).toBeGreaterThan(meanAps('banjar') + 0.5);
    expect(meanAps('puskesmas')).toBeGreaterThan(meanAps('banjar') + 0.5);
    const profiles = new Set(inv.devices.filter((d) => d.role === 'ap').map((d) => d.profile));
    expect([...profiles].sort()).toEqual(['airmax', 'cisco-wlc', 'mikrotik-routeros', 'unifi-ap']);
    for (const d of inv.devices.filter((x) => x.role !== 'router'))
      expect(d.parent, d.id).toBe(`${d.siteId}-rtr`);
    // About 15 % of sites' routers have an MQTT identity, about 5 % an MQTT-only sensor.
    const mqttRouters = inv.devices.filter((d) => d.role === 'router' && d.mqtt).length / 987;
    const sensors = inv.devices.filter((d) => d.role === 'sensor').length / 987;
    expect(mqttRouters).toBeGreaterThan(0.1);
    expect(mqttRouters).toBeLessThan(0.2);
    expect(sensors).toBeGreaterThan(0.02);
    expect(sensors).toBeLessThan(0.08);
  });

  it('has one kantor camat per kecamatan, a kantor desa/lurah per desa/kelurahan and the 13 named puskesmas', () => {
    const names = (c: string) =>
      inv.sites
        .filter((s) => s.category === c)
        .map((s) => s.name)
        .sort();
    expect(names('kantor_camat')).toEqual(KECAMATAN.map((k) => `Kantor Camat ${k.name}`).sort());
    expect(names('kantor_desa')).toEqual(
      KECAMATAN.flatMap((k) => k.desa.map((d) => `Kantor Desa ${d}`)).sort(),
    );
    expect(names('kantor_lurah')).toEqual(
      KECAMATAN.flatMap((k) => k.kelurahan.map((d) => `Kantor Lurah ${d}`)).sort(),
    );
    expect(names('puskesmas')).toEqual(PUSKESMAS.map((p) => `Puskesmas ${p.name}`).sort());
    expect(inv.sites.find((s) => s.id === 'pkm-petang-i')?.kecamatan).toBe('Petang');
    // Banjar only in desa, lingkungan only in kelurahan, named after them.
    const kelurahan = new Set(KECAMATAN.flatMap((k) => k.kelurahan));
    for (const s of inv.sites) {
      if (s.category === 'banjar') {
        expect(kelurahan.has(s.desa)).toBe(false);
        expect(s.name.startsWith(`Banjar Adat ${s.desa} `)).toBe(true);
      }
      if (s.category === 'lingkungan') expect(kelurahan.has(s.desa)).toBe(true);
    }
    expect(inv.sites.map((s) => s.name)).toContain('Banjar Adat Pelaga Kaja');
  });

  it('north is Petang, south is Kuta Selatan', () => {
    const meanLat = (k: string) => {
      const l = inv.sites.filter((s) => s.kecamatan === k).map((s) => s.lat);
      return l.reduce((a, b) => a + b, 0) / l.length;
    };
    const order = KECAMATAN.map((k) => k.name).sort((a, b) => meanLat(b) - meanLat(a));
    expect(order[0]).toBe('Petang');
    expect(order.at(-1)).toBe('Kuta Selatan');
  });

  it('some banjar and lingkungan reach the internet through their own kantor desa/lurah', () => {
    const byId = new Map(inv.sites.map((s) => [s.id, s]));
    const withUpstream = inv.sites.filter((s) => s.upstream !== undefined);
    expect(withUpstream.length).toBeGreaterThan(30);
    for (const s of withUpstream) {
      const up = byId.get(s.upstream ?? '');
      expect(up?.category).toBe(s.category === 'banjar' ? 'kantor_desa' : 'kantor_lurah');
      expect(up?.desa).toBe(s.desa);
    }
  });

  it('the CLI writes a file loadInventory reads, and running it again replaces it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netmon-gen-'));
    try {
      const out = join(dir, 'sub', 'badung.inventory.yaml');
      const run = () =>
        spawnSync(
          process.execPath,
          ['--import', 'tsx', 'scripts/generate-inventory.ts', '--out', out, '--seed', '1'],
          {
            encoding: 'utf8',
          },
        );
      const first = run();
      expect(first.status, first.stderr).toBe(0);
      expect(first.stdout).toMatch(
        /^wrote .*: 987 sites, \d+ devices \(\d+ ping-only\), 6 kecamatan, 62 desa\/kelurahan \(seed 1;/,
      );
      const text = readFileSync(out, 'utf8');
      expect(text).toBe(gen.yaml);
      expect(run().status).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe(text);
      expect(readdirSync(join(dir, 'sub'))).toEqual(['badung.inventory.yaml']);
      const loaded = await loadInventory(out, {});
      expect(loaded.devices.length).toBe(inv.devices.length);
      const bad = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'scripts/generate-inventory.ts', '--seed', 'x'],
        {
          encoding: 'utf8',
        },
      );
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(/usage: scripts\/generate-inventory\.ts --out FILE/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is deterministic for a seed', () => {
    expect(generateBadungInventory({ seed: 1 }).yaml).toBe(gen.yaml);
    expect(generateBadungInventory({ seed: 2 }).yaml).not.toBe(gen.yaml);
  });
});
