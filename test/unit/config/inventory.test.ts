import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../collector/core/errors.ts';
import { parseInventory } from '../../../config/inventory.ts';

const GOOD = `credentials:
  v2: { version: 2c, community: "\${TEST_COMMUNITY:-public}" }
  v3: { version: 3, user: netmon, level: authPriv, authProtocol: sha, authKey: "\${TEST_AUTH}", privProtocol: aes, privKey: secret-priv-key }
defaults: { port: 1161, credentials: v2 }
sites:
  - id: pkm-petang-1
    name: Puskesmas Petang I
    category: puskesmas
    kecamatan: Petang
    desa: Pelaga
    lat: -8.30
    lon: 115.22
    devices:
      - { id: pkm-petang-1-rtr, role: router, host: 127.0.0.1, profile: mikrotik-routeros, credentials: v3 }
      - { id: pkm-petang-1-ap1, role: ap, host: 127.0.0.2, profile: unifi-ap }
  - id: bjr-pelaga-1
    name: Banjar Kiadan
    category: banjar
    kecamatan: Petang
    desa: Pelaga
    lat: -8.29
    lon: 115.23
    upstream: pkm-petang-1
    devices:
      - { id: bjr-pelaga-1-rtr, role: router, host: 127.0.0.3 }
`;
const ENV = { TEST_AUTH: 'auth-key-123' };

function errorOf(text: string, env: NodeJS.ProcessEnv = ENV): string {
  try {
    parseInventory(text, 'inv.yaml', env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('inventory', () => {
  it('loads a valid file with defaults, parents and criticality by category', () => {
    const inv = parseInventory(GOOD, 'inv.yaml', ENV);
    expect(inv.sites.map((s) => [s.id, s.criticality, s.upstream])).toEqual([
      ['pkm-petang-1', 'critical', undefined],
      ['bjr-pelaga-1', 'low', 'pkm-petang-1'],
    ]);
    const ap = inv.devices.find((d) => d.id === 'pkm-petang-1-ap1');
    expect(ap).toMatchObject({ parent: 'pkm-petang-1-rtr', port: 1161, profile: 'unifi-ap' });
    expect(ap?.snmp?.version).toBe('2c');
    const rtr = inv.devices.find((d) => d.id === 'pkm-petang-1-rtr');
    expect(rtr?.snmp?.version === '3' && rtr.snmp.authKey?.reveal()).toBe('auth-key-123');
    expect(inv.devices.find((d) => d.id === 'bjr-pelaga-1-rtr')?.profile).toBe('generic');
  });

  it('never prints a secret', () => {
    const inv = parseInventory(GOOD, 'inv.yaml', ENV);
    const text =
      JSON.stringify(inv) +
      inv.devices
        .map((d) => `${JSON.stringify(d.snmp)} ${String(d.snmp?.version === '3' ? d.snmp.authKey : '')}`)
        .join();
    expect(text).not.toContain('auth-key-123');
    expect(text).not.toContain('secret-priv-key');
  });

  it.each([
    [
      'an unknown category',
      GOOD.replace('category: banjar', 'category: sekolah'),
      /inv\.yaml:\d+:\d+: sites\[1\]\.category: expected one of kantor_camat/,
    ],
    [
      'an unknown key',
      GOOD.replace('    desa: Pelaga\n    lat: -8.30', '    desa: Pelaga\n    lattitude: 1\n    lat: -8.30'),
      /inv\.yaml:11:\d+: sites\[0\]\.lattitude: unknown key 'lattitude'/,
    ],
    [
      'a swapped coordinate',
      GOOD.replace('lon: 115.22', 'lon: -8.30'),
      /sites\[0\]\.lon: longitude must be 114\.4\.\.115\.8/,
    ],
    [
      'an unknown profile',
      GOOD.replace('profile: unifi-ap', 'profile: unifi'),
      /sites\[0\]\.devices\[1\]\.profile: expected one of generic, mikrotik-routeros/,
    ],
    [
      'unknown credentials',
      GOOD.replace('credentials: v3 }', 'credentials: v4 }'),
      /sites\[0\]\.devices\[0\]\.credentials: unknown credentials 'v4' \(defined: v2, v3/,
    ],
    [
      'a duplicate device id',
      GOOD.replace('id: bjr-pelaga-1-rtr', 'id: pkm-petang-1-ap1'),
      /duplicate device id 'pkm-petang-1-ap1'/,
    ],
    [
      'an unknown upstream',
      GOOD.replace('upstream: pkm-petang-1', 'upstream: nowhere'),
      /inv\.yaml:23:15: sites\[1\]\.upstream: unknown site 'nowhere'/,
    ],
    [
      'an upstream cycle',
      GOOD.replace(
        '    desa: Pelaga\n    lat: -8.30',
        '    desa: Pelaga\n    upstream: bjr-pelaga-1\n    lat: -8.30',
      ),
      /upstream cycle: pkm-petang-1 → bjr-pelaga-1 → pkm-petang-1/,
    ],
    [
      'a parent that is an AP',
      GOOD.replace(
        '{ id: bjr-pelaga-1-rtr, role: router, host: 127.0.0.3 }',
        '{ id: bjr-pelaga-1-rtr, role: ap, host: 127.0.0.3, parent: pkm-petang-1-ap1 }',
      ),
      /'pkm-petang-1-ap1' is an ap; a parent must be a router/,
    ],
    [
      'two devices on one address',
      GOOD.replace('host: 127.0.0.3', 'host: 127.0.0.2'),
      /127\.0\.0\.2:1161 is also the address of pkm-petang-1-ap1/,
    ],
    ['bad YAML', GOOD.replace('  - id: bjr-pelaga-1', ' - id: [bjr'), /inv\.yaml:\d+:\d+: invalid YAML/],
  ])('names the place and the fix for %s', (_what, text, pattern) => {
    expect(errorOf(text)).toMatch(pattern);
  });

  it('reports every error of a file at once', () => {
    const msg = errorOf(GOOD.replace('category: banjar', 'category: x').replace('lon: 115.22', 'lon: 200'));
    expect(msg).toMatch(/sites\[1\]\.category/);
    expect(msg).toMatch(/sites\[0\]\.lon/);
    // sites[0] is invalid, yet sites[1] naming it as upstream is no second (false) error.
    expect(msg).not.toMatch(/unknown site/);
    // An error inside one site hides no error elsewhere.
    const two = errorOf(
      GOOD.replace('lon: 115.22', 'lon: 200').replace('host: 127.0.0.3', 'host: 127.0.0.3, parent: nope'),
    );
    expect(two).toMatch(/sites\[0\]\.lon: longitude must be/);
    expect(two).toMatch(
      /sites\[1\]\.devices\[0\]\.parent: unknown device 'nope'; expected the id of a router/,
    );
  });

  it('a missing environment variable without a default is an error naming the place', () => {
    expect(errorOf(GOOD, {})).toMatch(
      /inv\.yaml:3:\d+: credentials\.v3\.authKey: \$\{TEST_AUTH\} is not set and has no default/,
    );
  });
});

describe('config/README.md', () => {
  const readme = readFileSync('config/README.md', 'utf8');

  it('its example inventory loads as documented', () => {
    const example = /```yaml\n(credentials:[\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    const inv = parseInventory(example ?? '', 'README.md', {
      NETMON_V3_AUTH: 'auth-key-1',
      NETMON_V3_PRIV: 'priv-key-1',
    });
    expect(inv.sites.map((s) => [s.id, s.criticality, s.upstream])).toEqual([
      ['pkm-petang-i', 'critical', 'kds-belok-sidan'],
      ['kds-belok-sidan', 'medium', undefined],
    ]);
    const env = inv.devices.find((d) => d.id === 'pkm-petang-i-env');
    expect(env).toMatchObject({ role: 'sensor', host: '', port: 0, parent: 'pkm-petang-i-rtr' });
    expect(env?.mqtt?.keepaliveS).toBe(30);
    expect(env?.snmp).toBeUndefined();
    expect(inv.devices.find((d) => d.id === 'kds-belok-sidan-rtr')).toMatchObject({
      port: 1161,
      profile: 'generic',
    });
  });

  it('its example errors are the ones the loader prints', () => {
    const lines = /```\n(var\/inv\.yaml: invalid inventory:\n[\s\S]*?)```/
      .exec(readme)?.[1]
      ?.trim()
      .split('\n');
    expect(lines).toBeDefined();
    for (const line of lines?.slice(1) ?? []) {
      const text = line.trim().replace(/^var\/inv\.yaml:\d+:\d+: /, '');
      expect(
        errorOf(
          GOOD.replace('upstream: pkm-petang-1', 'upstream: nowhere').replace(
            'profile: unifi-ap',
            'profile: unifi',
          ),
        ),
      ).toContain(text);
    }
  });
});
