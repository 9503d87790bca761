/**
 * Vendor detection: the table's order and validation (config/detection.ts), matching (pure), the `has`
 * probe, and AutoProfilePoller over fakes: detected once, again after a reboot or when the profile reads
 * nothing, never for a device with a profile of its own.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../collector/core/errors.ts';
import { Secret } from '../../../collector/core/secret.ts';
import type { Device, DeviceReading } from '../../../collector/core/types.ts';
import {
  AutoProfilePoller,
  detectWith,
  matchRules,
  oidUnder,
  SYS_DESCR,
  SYS_OBJECT_ID,
  SYS_UPTIME,
} from '../../../collector/sources/snmp/detect.ts';
import type { SnmpClient, VarBind } from '../../../collector/sources/snmp/session.ts';
import { loadDetectionTable, parseDetectionTable } from '../../../config/detection.ts';

const TABLE = parseDetectionTable(
  't.yaml',
  `rules:
  - { vendor: Linux, profile: generic, sysObjectID: 1.3.6.1.4.1.8072.3.2.10 }
  - { vendor: UniFi by name, profile: unifi-ap, sysObjectID: 1.3.6.1.4.1.8072.3.2.10, sysDescr: '^UAP-' }
  - { vendor: UniFi by MIB, profile: unifi-ap, sysObjectID: 1.3.6.1.4.1.10002.1, has: 1.3.6.1.4.1.41112.1.6 }
  - { vendor: airMAX, profile: airmax, sysObjectID: 1.3.6.1.4.1.10002.1, has: 1.3.6.1.4.1.41112.1.4 }
  - { vendor: Cisco, profile: generic, sysObjectID: 1.3.6.1.4.1.9 }
  - { vendor: RouterOS by name, profile: mikrotik-routeros, sysDescr: '^routeros' }
`,
);

describe('detection table', () => {
  it('tries enterprise prefixes first (longest, then the more specific rule), then sysDescr alone', () => {
    expect(TABLE.map((r) => r.vendor)).toEqual([
      'UniFi by name',
      'Linux',
      'UniFi by MIB',
      'airMAX',
      'Cisco',
      'RouterOS by name',
    ]);
    expect(TABLE[0]?.line).toBe(3);
  });

  it('matches prefixes on whole sub-identifiers, and descriptions case-insensitively', () => {
    expect(oidUnder('1.3.6.1.4.1.9', '1.3.6.1.4.1.9.1.2093')).toBe(true);
    expect(oidUnder('1.3.6.1.4.1.9', '1.3.6.1.4.1.99.1')).toBe(false);
    expect(matchRules(TABLE, { sysObjectID: '1.3.6.1.4.1.99.1' }).map((r) => r.vendor)).toEqual([]);
    expect(
      matchRules(TABLE, { sysObjectID: '1.3.6.1.4.1.8072.3.2.10', sysDescr: 'UAP-nanoHD 5.43' }).map(
        (r) => r.vendor,
      ),
    ).toEqual(['UniFi by name', 'Linux']);
    expect(matchRules(TABLE, { sysDescr: 'RouterOS RB750' }).map((r) => r.vendor)).toEqual([
      'RouterOS by name',
    ]);
  });

  it('asks the agent only for the `has` OIDs of the rules it reaches, each once; no match is the generic fallback', async () => {
    const asked: string[] = [];
    const d = await detectWith(TABLE, { sysObjectID: '1.3.6.1.4.1.10002.1' }, (oid) => {
      asked.push(oid);
      return Promise.resolve(oid === '1.3.6.1.4.1.41112.1.4');
    });
    expect([d.vendor, d.profile, d.fallback]).toEqual(['airMAX', 'airmax', false]);
    expect(asked).toEqual(['1.3.6.1.4.1.41112.1.6', '1.3.6.1.4.1.41112.1.4']);
    const none = await detectWith(TABLE, { sysObjectID: '1.3.6.1.4.1.10002.1' }, () =>
      Promise.resolve(false),
    );
    expect(none).toMatchObject({
      vendor: 'unknown',
      profile: 'generic',
      fallback: true,
      sysObjectID: '1.3.6.1.4.1.10002.1',
    });
  });

  it.each([
    [
      'an unknown profile',
      'rules:\n  - { vendor: X, profile: unifi, sysObjectID: 1.3.6.1.4.1.1 }\n',
      /t\.yaml:2: rules\.0\.profile: expected one of generic/,
    ],
    [
      'a rule with only has',
      'rules:\n  - { vendor: X, profile: generic, has: 1.3.6.1.4.1.1 }\n',
      /needs sysObjectID or sysDescr/,
    ],
    [
      'a bad pattern',
      "rules:\n  - { vendor: X, profile: generic, sysDescr: '(' }\n",
      /rules\.0\.sysDescr: must be a valid regular expression/,
    ],
    [
      'a misspelt key',
      'rules:\n  - { vendor: X, profile: generic, sysObjectId: 1.3.6.1.4.1.1 }\n',
      /rules\.0\.sysObjectId: .*allowed: vendor, profile, sysObjectID/,
    ],
  ])('%s is an error naming the file and line', (_what, text, re) => {
    expect(() => parseDetectionTable('t.yaml', text)).toThrow(ConfigError);
    expect(() => parseDetectionTable('t.yaml', text)).toThrow(re);
  });

  it('the shipped table loads', () => {
    expect(loadDetectionTable().length).toBeGreaterThan(20);
  });
});

describe('AutoProfilePoller', () => {
  const reading = (up: number, interfaces = 1): DeviceReading => ({
    deviceId: 'ap1',
    timeMs: 0,
    sysUpTimeCs: up,
    interfaces: Array.from({ length: interfaces }, (_, i) => ({
      ifIndex: i + 1,
      name: `eth${i}`,
      counterBits: 32 as const,
    })),
    wifi: [],
  });
  function setup(answers: { id: string; descr: string }[]) {
    const polled: string[] = [];
    let uptime = [1000, 2000, 500, 600, 700];
    let next = reading(0);
    const inner = {
      poll: (d: Device) => {
        polled.push(d.profile);
        const up = uptime.shift() ?? 0;
        return Promise.resolve({ ...next, sysUpTimeCs: up });
      },
      close: () => undefined,
    };
    let detections = 0;
    const client = (): SnmpClient => ({
      get: (oids) => {
        const a = answers[Math.min(detections, answers.length - 1)] ?? { id: '', descr: '' };
        detections++;
        return Promise.resolve(
          oids.map((oid): VarBind =>
            oid === SYS_OBJECT_ID
              ? { oid, type: 'OID', value: a.id }
              : oid === SYS_DESCR
                ? { oid, type: 'OctetString', value: Buffer.from(a.descr) }
                : { oid: SYS_UPTIME, type: 'TimeTicks', value: 900 },
          ),
        );
      },
      getBulk: () => Promise.resolve([[]]),
      bulkWalk: () => Promise.resolve([]),
      close: () => undefined,
    });
    const auto = new AutoProfilePoller(inner, {
      table: TABLE,
      client: { timeoutMs: 100, retries: 0 },
      openClient: client,
    });
    return {
      auto,
      polled,
      detections: () => detections,
      setUptimes: (u: number[]) => (uptime = u),
      setNext: (r: DeviceReading) => (next = r),
    };
  }
  const device: Device = {
    id: 'ap1',
    siteId: 's',
    role: 'ap',
    host: '127.0.0.1',
    port: 161,
    profile: 'auto',
    snmp: { version: '2c', community: new Secret('x') },
  };

  it('detects once, then again after a reboot (sysUpTime went back), possibly as something else', async () => {
    const t = setup([
      { id: '1.3.6.1.4.1.8072.3.2.10', descr: 'UAP-AC-Lite' },
      { id: '1.3.6.1.4.1.9.1.1', descr: 'Cisco' },
    ]);
    t.setNext(reading(0));
    await t.auto.poll(device); // uptime 1000
    await t.auto.poll(device); // 2000
    expect(t.detections()).toBe(1);
    await t.auto.poll(device); // 500: rebooted
    expect(t.detections()).toBe(1);
    await t.auto.poll(device); // detected again first
    expect(t.detections()).toBe(2);
    expect(t.polled).toEqual(['unifi-ap', 'unifi-ap', 'unifi-ap', 'generic']);
    expect(t.auto.detected('ap1')?.vendor).toBe('Cisco');
  });

  it('detects again when the profile reads nothing from the device', async () => {
    const t = setup([{ id: '1.3.6.1.4.1.8072.3.2.10', descr: 'Linux' }]);
    t.setUptimes([1000, 1100, 1200]);
    t.setNext(reading(0, 0));
    await t.auto.poll(device);
    await t.auto.poll(device);
    expect(t.detections()).toBe(2);
  });

  it('a device with a profile of its own is never detected', async () => {
    const t = setup([{ id: '1.3.6.1.4.1.9.1', descr: '' }]);
    await t.auto.poll({ ...device, profile: 'mikrotik-routeros' });
    expect([t.detections(), t.polled]).toEqual([0, ['mikrotik-routeros']]);
  });
});
