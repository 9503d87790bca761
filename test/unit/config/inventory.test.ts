import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../collector/core/errors.ts';
import { parseInventory } from '../../../config/inventory.ts';
import { hashMqttPassword } from '../../../config/mqtt-password.ts';

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
    // No profile and no default: `auto`, detected from sysObjectID/sysDescr at the first poll (issue #13).
    expect(inv.devices.find((d) => d.id === 'bjr-pelaga-1-rtr')?.profile).toBe('auto');
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
    // Nor does an error about a secret quote it.
    const msg = errorOf(GOOD.replace('privKey: secret-priv-key', 'privKey: k3y!'), {
      TEST_AUTH: 'c0mmunity-x',
    });
    expect(msg).toMatch(/credentials\.v3\.privKey: SNMPv3 keys must be at least 8 characters/);
    expect(msg).not.toContain('k3y!');
    const wrongType = errorOf(GOOD.replace('community: "${TEST_COMMUNITY:-public}"', 'community: [p4ss]'));
    expect(wrongType).toMatch(/credentials\.v2/);
    expect(wrongType).not.toContain('p4ss');
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
      /sites\[0\]\.devices\[1\]\.profile: expected one of auto, generic, mikrotik-routeros/,
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
    [
      'a duplicate site id',
      GOOD.replace('  - id: bjr-pelaga-1', '  - id: pkm-petang-1'),
      /inv\.yaml:16:9: sites\[1\]\.id: duplicate site id 'pkm-petang-1' \(also sites\[0\]\); every site needs its own id/,
    ],
    [
      'a port out of range',
      GOOD.replace('host: 127.0.0.3 }', 'host: 127.0.0.3, port: 70000 }'),
      /inv\.yaml:25:70: sites\[1\]\.devices\[0\]\.port: expected a port number 1\.\.65535/,
    ],
    [
      'unknown default credentials',
      GOOD.replace('credentials: v2 }', 'credentials: v9 }'),
      /inv\.yaml:4:\d+: defaults\.credentials: unknown credentials 'v9' \(defined: v2, v3; add it under credentials:\)/,
    ],
    [
      'an incomplete SNMPv3 set',
      GOOD.replace(', privProtocol: aes, privKey: secret-priv-key', ''),
      /inv\.yaml:3:\d+: credentials\.v3: level authPriv needs privProtocol and privKey/,
    ],
    [
      'a latitude outside Bali',
      GOOD.replace('lat: -8.30', 'lat: 8.30'),
      /sites\[0\]\.lat: latitude must be -9\.\.-8 \(Bali; south is negative\)/,
    ],
    [
      'a sensor without an MQTT identity',
      GOOD.replace(
        '{ id: bjr-pelaga-1-rtr, role: router, host: 127.0.0.3 }',
        '{ id: bjr-pelaga-1-rtr, role: router, host: 127.0.0.3 }\n      - { id: bjr-pelaga-1-env, role: sensor, credentials: v2 }',
      ),
      /inv\.yaml:26:9: sites\[1\]\.devices\[1\]: a sensor speaks only MQTT: give it mqtt: \{ username, passwordHash \}/,
    ],
    [
      'a plain-text MQTT password',
      GOOD.replace('host: 127.0.0.3 }', 'host: 127.0.0.3, mqtt: { username: b1, passwordHash: hunter2 } }'),
      /sites\[1\]\.devices\[0\]\.mqtt\.passwordHash: expected scrypt\$N\$r\$p\$saltBase64\$hashBase64 .*make one with hashMqttPassword\(\)/,
    ],
    [
      'an AP in a site without a router',
      GOOD.replace('{ id: bjr-pelaga-1-rtr, role: router', '{ id: bjr-pelaga-1-ap, role: ap'),
      /sites\[1\]\.devices\[0\]: an ap needs a router: add the site router to devices: or set parent: <router id>/,
    ],
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

  it('reports an upstream cycle once, at its first site, and not at the sites leading into it', () => {
    const site = (id: string, upstream: string) =>
      `  - { id: ${id}, name: N, category: banjar, kecamatan: Petang, desa: Pelaga, lat: -8.3, lon: 115.2, upstream: ${upstream} }\n`;
    const msg = errorOf(
      'sites:\n' + site('x', 'a') + site('a', 'b') + site('b', 'c') + site('c', 'a') + site('s', 's'),
    );
    const lines = msg.split('\n').slice(1);
    expect(lines).toEqual([
      expect.stringMatching(
        /^ {2}inv\.yaml:6:\d+: sites\[4\]\.upstream: a site cannot be its own upstream; remove upstream:$/,
      ),
      expect.stringMatching(
        /^ {2}inv\.yaml:3:\d+: sites\[1\]\.upstream: upstream cycle: a → b → c → a; one of these sites must have its own uplink/,
      ),
    ]);
  });

  it('MQTT identities: a sensor has no SNMP address, keepalive in seconds, usernames unique', () => {
    const hash = hashMqttPassword('sensor-password', { N: 16 });
    const withSensor = (extra: string) =>
      GOOD.replace(
        '{ id: bjr-pelaga-1-rtr, role: router, host: 127.0.0.3 }',
        `{ id: bjr-pelaga-1-rtr, role: router, host: 127.0.0.3, mqtt: { username: bjr-1, passwordHash: "${hash}" } }\n` +
          `      - { id: bjr-pelaga-1-env, role: sensor, mqtt: { username: ${extra}, passwordHash: "${hash}", keepalive: 1m } }`,
      );
    const inv = parseInventory(withSensor('env-1'), 'inv.yaml', ENV);
    expect(inv.devices.find((d) => d.id === 'bjr-pelaga-1-env')).toMatchObject({
      role: 'sensor',
      host: '',
      port: 0,
      parent: 'bjr-pelaga-1-rtr',
      snmp: undefined,
      mqtt: { username: 'env-1', passwordHash: hash, keepaliveS: 60 },
    });
    expect(inv.devices.find((d) => d.id === 'bjr-pelaga-1-rtr')?.mqtt?.username).toBe('bjr-1');
    expect(errorOf(withSensor('bjr-1'))).toMatch(
      /inv\.yaml:26:65: sites\[1\]\.devices\[1\]\.mqtt\.username: MQTT username 'bjr-1' is also used by bjr-pelaga-1-rtr/,
    );
    expect(errorOf(withSensor('env-1').replace('keepalive: 1m', 'keepalive: soon'))).toMatch(
      /sites\[1\]\.devices\[1\]\.mqtt\.keepalive: expected a duration of 1s or more, e\.g\. '30s'/,
    );
  });

  it('a bad device hides no error of its neighbours, and a long list is cut at 20 with a count', () => {
    const msg = errorOf(
      GOOD.replace(
        'profile: mikrotik-routeros, credentials: v3 }',
        'profile: mikrotik-routeros, credentials: v3, colour: red }',
      ).replace('host: 127.0.0.2, profile: unifi-ap }', 'host: 127.0.0.2, profile: unifi-ap, parent: nope }'),
    );
    expect(msg).toMatch(/sites\[0\]\.devices\[0\]\.colour: unknown key 'colour'/);
    expect(msg).toMatch(/sites\[0\]\.devices\[1\]\.parent: unknown device 'nope'/);
    // The AP's router failed validation: no false 'an ap needs a router' on top.
    expect(msg).not.toMatch(/needs a router/);
    const many =
      'sites:\n' +
      Array.from(
        { length: 30 },
        (_, i) =>
          `  - { id: s${i}, name: S, category: sd, kecamatan: K, desa: D, lat: -8.7, lon: 115.17, upstream: nope }\n`,
      ).join('');
    const lines = errorOf(many).split('\n');
    expect(lines).toHaveLength(22);
    expect(lines[1]).toMatch(/^ {2}inv\.yaml:2:\d+: sites\[0\]\.upstream: unknown site 'nope'/);
    expect(lines[21]).toBe('  ... and 10 more');
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
