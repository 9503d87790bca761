/**
 * The config checked against its inventory (config/cross-check.ts): every name of a site, device,
 * kecamatan, desa or category that the inventory lacks is refused with its file:line, path, the nearest
 * name and the fix, instead of silently matching nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossCheck, didYouMean } from '../../../config/cross-check.ts';
import { loadConfig, parseConfig } from '../../../config/monitor.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-xref-'));
  writeFileSync(
    join(dir, 'inv.yaml'),
    `credentials: { c: { version: 2c, community: public } }
defaults: { credentials: c }
sites:
  - { id: sd-kuta-1, name: SD 1 Kuta, category: sd, kecamatan: Kuta, desa: Kedonganan, lat: -8.72, lon: 115.17, devices: [{ id: sd-kuta-1-rtr, role: router, host: 127.0.0.1 }] }
  - { id: pkm-petang-1, name: Puskesmas Petang I, category: puskesmas, kecamatan: Petang, desa: Pelaga, lat: -8.33, lon: 115.23, devices: [{ id: pkm-petang-1-rtr, role: router, host: 127.0.0.2 }] }
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = (extra: string) =>
  `inventory: inv.yaml
influx: { api: v1, url: "http://127.0.0.1:8086", database: netmon }
alerts:
  webhooks: [{ name: noc, url: "https://a.example/x" }]
  contacts: [{ name: tier1, channels: [noc] }]
${extra}`;

async function errorOf(extra: string): Promise<string> {
  const file = join(dir, 'netmon.yaml');
  writeFileSync(file, config(extra));
  try {
    await loadConfig(file, {});
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the config was accepted');
}

const weekly = 'schedule: { kind: weekly, at: "23:00", duration: 1h }';

describe('the config names only what the inventory has', () => {
  it('accepts a config whose every name is in the inventory', async () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(
      file,
      config(`  routes:
    - { match: { kecamatan: [Petang, Kuta], categories: [puskesmas] }, escalation: [tier1] }
maintenance:
  - { name: a, scope: { sites: [sd-kuta-1], devices: [pkm-petang-1-rtr] }, ${weekly} }
  - { name: b, scope: { kecamatan: [Kuta], desa: [Pelaga], categories: [sd] }, ${weekly} }
`),
    );
    const c = await loadConfig(file, {});
    expect(c.maintenance).toHaveLength(2);
    expect(c.alerts.oncall?.routes[0]?.match.kecamatan).toEqual(['Petang', 'Kuta']);
  });

  it.each([
    [
      'a maintenance window for a misspelt site',
      `maintenance:\n  - { name: a, scope: { sites: [sd-kuta-l] }, ${weekly} }\n`,
      /netmon\.yaml:7:\d+: maintenance\[0\]\.scope\.sites\[0\]: no site with id 'sd-kuta-l': the window would match nothing; did you mean 'sd-kuta-1'\? Otherwise use a site id of the inventory/,
    ],
    [
      'a maintenance window for a device that is not there',
      `maintenance:\n  - { name: a, scope: { devices: [pkm-petang-1-rtr, pkm-petang-9-ap] }, ${weekly} }\n`,
      /netmon\.yaml:7:\d+: maintenance\[0\]\.scope\.devices\[1\]: no device with id 'pkm-petang-9-ap': the window would match nothing; use a device id/,
    ],
    [
      'a maintenance window for a kecamatan in the wrong case',
      `maintenance:\n  - { name: a, scope: { kecamatan: [petang] }, ${weekly} }\n`,
      /maintenance\[0\]\.scope\.kecamatan\[0\]: no site of the inventory is in kecamatan 'petang': the window would match nothing; did you mean 'Petang'\? Otherwise write the name as the inventory does \(capitals count\), or remove it \(the inventory has: Kuta, Petang\)/,
    ],
    [
      'a maintenance window for a desa that is not there',
      `maintenance:\n  - { name: a, scope: { desa: [Kedonganan, Pelagaa] }, ${weekly} }\n`,
      /maintenance\[0\]\.scope\.desa\[1\]: no site of the inventory is in desa 'Pelagaa': .*did you mean 'Pelaga'\?/,
    ],
    [
      'a maintenance window for a category no site has',
      `maintenance:\n  - { name: a, scope: { categories: [pustu] }, ${weekly} }\n`,
      /maintenance\[0\]\.scope\.categories\[0\]: no site of the inventory is of category 'pustu': the window would match nothing; remove it, or add such sites to the inventory first \(the inventory has: puskesmas, sd\)/,
    ],
    [
      'a route for a misspelt kecamatan',
      `  routes:\n    - { match: { kecamatan: [Kuta] }, escalation: [tier1] }\n    - { match: { kecamatan: [Kutaa] }, escalation: [tier1] }\n`,
      /netmon\.yaml:8:\d+: alerts\.routes\[1\]\.match\.kecamatan\[0\]: no site of the inventory is in kecamatan 'Kutaa': the route would match nothing; did you mean 'Kuta'\?/,
    ],
    [
      'a route for a category no site has',
      `  routes:\n    - { match: { categories: [puskesmas, banjar] }, escalation: [tier1] }\n`,
      /alerts\.routes\[0\]\.match\.categories\[1\]: no site of the inventory is of category 'banjar': the route would match nothing/,
    ],
  ])('refuses %s, naming the place, the nearest name and the fix', async (_what, extra, pattern) => {
    const msg = await errorOf(extra);
    expect(msg).toMatch(pattern);
    expect(msg).toMatch(/it names what the inventory \(.*inv\.yaml\) does not have/);
  });

  it('lists every unknown name at once', async () => {
    const msg = await errorOf(
      `  routes:\n    - { match: { kecamatan: [Mengwi] }, escalation: [tier1] }\nmaintenance:\n  - { name: a, scope: { sites: [x], kecamatan: [Abiansemal] }, ${weekly} }\n`,
    );
    expect(msg.match(/would match nothing/g)).toHaveLength(3);
  });

  it('is pure: names no file and reads none', () => {
    const inventory = {
      sites: [{ id: 's1', category: 'sd', kecamatan: 'Kuta', desa: 'Kuta' }],
      devices: [{ id: 's1-r' }],
    } as unknown as Parameters<typeof crossCheck>[1];
    expect(crossCheck({ alerts: {} }, inventory)).toEqual([]);
    const issues = crossCheck(
      {
        maintenance: [{ scope: { devices: ['s1-r', 's1-x'] } }],
        alerts: {
          oncall: { routes: [{ match: { kecamatan: ['Kuta'] } }, { match: { kecamatan: ['kuta'] } }] },
        },
      },
      inventory,
    );
    expect(issues.map((i) => i.path)).toEqual([
      ['maintenance', 0, 'scope', 'devices', 1],
      ['alerts', 'routes', 1, 'match', 'kecamatan', 0],
    ]);
  });
});

describe('names within the config carry the nearest name too', () => {
  it.each([
    [
      'a contact naming a misspelt channel',
      'alerts:\n  webhooks: [{ name: noc-hook, url: "https://a.example/x" }]\n  contacts: [{ name: tier1, channels: [noc-hok] }]\n',
      /alerts\.contacts\[0\]\.channels\[0\]: no channel named 'noc-hok' \(configured: noc-hook\); did you mean 'noc-hook'\?/,
    ],
    [
      'a route escalating to a misspelt contact',
      'alerts:\n  webhooks: [{ name: noc, url: "https://a.example/x" }]\n  contacts: [{ name: tier1, channels: [noc] }]\n  routes: [{ escalation: [teir1] }]\n',
      /alerts\.routes\[0\]\.escalation\[0\]: no contact named 'teir1' \(contacts: tier1\); did you mean 'tier1'\?/,
    ],
  ])('%s', (_what, yaml, pattern) => {
    const text = `inventory: inv.yaml\ninflux: { api: v1, url: "http://127.0.0.1:8086", database: netmon }\n${yaml}`;
    expect(() => parseConfig(text, '/etc/netmon/netmon.yaml', {})).toThrow(pattern);
  });

  it('didYouMean offers a name only when it is close', () => {
    expect(didYouMean('Kutaa', ['Kuta', 'Petang'])).toBe("; did you mean 'Kuta'?");
    expect(didYouMean('Denpasar', ['Kuta', 'Petang'])).toBe('');
  });
});
