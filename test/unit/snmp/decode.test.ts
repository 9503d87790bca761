/** The pure varbind decoder, table by table. */
import { describe, expect, it } from 'vitest';
import { decodeReading, type RawPoll } from '../../../collector/sources/snmp/decode.ts';
import type { VarBind } from '../../../collector/sources/snmp/session.ts';
import { loadProfiles } from '../../../config/profiles.ts';

const profiles = loadProfiles();
const generic = profiles.get('generic')!;
const unifi = profiles.get('unifi-ap')!;
const IF = '1.3.6.1.2.1.2.2.1';
const IFX = '1.3.6.1.2.1.31.1.1.1';

const str = (oid: string, s: string | Buffer): VarBind => ({
  oid,
  type: 'OctetString',
  value: Buffer.isBuffer(s) ? s : Buffer.from(s),
});
const num = (oid: string, type: VarBind['type'], value: number): VarBind => ({ oid, type, value });
const c64 = (oid: string, value: bigint): VarBind => ({ oid, type: 'Counter64', value });

/** Group varbinds into the columns of a profile, as the walk returns them. */
function raw(profileCols: readonly string[], vbs: VarBind[], scalars: VarBind[] = []): RawPoll {
  const columns = new Map<string, VarBind[]>(profileCols.map((c) => [c, []]));
  for (const vb of vbs) {
    const col = profileCols.find((c) => vb.oid.startsWith(`${c}.`));
    if (!col) throw new Error(`no column for ${vb.oid}`);
    columns.get(col)?.push(vb);
  }
  return { scalars, columns };
}
const decode = (vbs: VarBind[], scalars: VarBind[] = [], profile = generic) =>
  decodeReading(profile, raw([...Object.values(profile.interfaces), ...wifiCols(profile)], vbs, scalars), {
    deviceId: 'd',
    timeMs: 1,
  });
const wifiCols = (p: typeof generic) =>
  p.wifi ? [p.wifi.clients, p.wifi.ssid, p.wifi.radio].filter((c): c is string => c !== undefined) : [];

describe('decodeReading: interfaces', () => {
  it('64-bit counters when both directions have them, else 32-bit for both', () => {
    const { reading, warnings } = decode([
      num(`${IF}.10.1`, 'Counter32', 10),
      num(`${IF}.10.2`, 'Counter32', 20),
      num(`${IF}.16.1`, 'Counter32', 11),
      num(`${IF}.16.2`, 'Counter32', 21),
      c64(`${IFX}.6.1`, 2n ** 40n),
      c64(`${IFX}.6.2`, 5n),
      c64(`${IFX}.10.1`, 2n ** 41n),
    ]);
    expect(reading.interfaces.map((i) => [i.ifIndex, i.counterBits, i.inOctets, i.outOctets])).toEqual([
      [1, 64, 2n ** 40n, 2n ** 41n],
      [2, 32, 20n, 21n], // only ifHCInOctets: mixing widths would break the rates
    ]);
    expect(warnings.map((w) => w.field)).toEqual(['hcOctets']);
  });

  it('Counter32 values as their bigints, small (shared) and large alike', () => {
    const values = [0, 1, 1023, 1024, 65_535, 4294967295];
    const { reading } = decode(values.map((v, i) => num(`${IF}.10.${i + 1}`, 'Counter32', v)));
    expect(reading.interfaces.map((i) => i.inOctets)).toEqual(values.map((v) => BigInt(v)));
  });

  it.each([
    ['ifSpeed below saturation', 100_000_000, 100, 100_000_000],
    ['ifSpeed saturated: ifHighSpeed', 4294967295, 10_000, 10_000_000_000],
    ['no ifSpeed: ifHighSpeed', undefined, 1000, 1_000_000_000],
    ['neither', undefined, undefined, undefined],
  ] as const)('speed: %s', (_what, speed, high, want) => {
    const vbs = [str(`${IF}.2.1`, 'eth0')];
    if (speed !== undefined) vbs.push(num(`${IF}.5.1`, 'Gauge32', speed));
    if (high !== undefined) vbs.push(num(`${IFX}.15.1`, 'Gauge32', high));
    expect(decode(vbs).reading.interfaces[0]?.speedBps).toBe(want);
  });

  it('name: ifName, else ifDescr, else ifN; trailing NULs some agents pad with are dropped', () => {
    const { reading } = decode([
      str(`${IF}.2.1`, 'GigabitEthernet0/0'),
      str(`${IF}.2.2`, Buffer.from('wan\0\0', 'latin1')),
      num(`${IF}.8.3`, 'Integer', 1),
      str(`${IFX}.1.1`, 'Gi0/0'),
    ]);
    expect(reading.interfaces.map((i) => i.name)).toEqual(['Gi0/0', 'wan', 'if3']);
  });

  it('sysUpTime: TimeTicks kept, a wrong type warned about, absent is absent', () => {
    const up = '1.3.6.1.2.1.1.3.0';
    expect(decode([], [num(up, 'TimeTicks', 777)]).reading.sysUpTimeCs).toBe(777);
    const bad = decode([], [str(up, '777')]);
    expect(bad.reading.sysUpTimeCs).toBeUndefined();
    expect(bad.warnings[0]).toMatchObject({ field: 'sysUpTime' });
    expect(decode([], [{ oid: up, type: 'noSuchObject', value: null }]).warnings).toEqual([]);
  });

  it.each([
    ['Counter64 in a Counter32 column', c64(`${IF}.10.1`, 5n), /expected Counter32, got Counter64 5/],
    ['negative Integer speed', num(`${IF}.5.1`, 'Integer', -1), /non-negative integer/],
    ['operStatus out of range', num(`${IF}.8.1`, 'Integer', 9), /expected 1\.\.7, got 9/],
    ['adminStatus 0', num(`${IF}.7.1`, 'Integer', 0), /expected 1\.\.3, got 0/],
    ['index beyond Integer32', num(`${IF}.8.2147483648`, 'Integer', 1), /not an ifIndex/],
    ['index with a leading zero', num(`${IF}.8.01`, 'Integer', 1), /not an ifIndex/],
  ])('%s: skipped with a warning naming the OID', (_what, vb, reason) => {
    const { reading, warnings } = decode([str(`${IF}.2.1`, 'eth0'), vb]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.oid).toBe(vb.oid);
    expect(warnings[0]?.reason).toMatch(reason);
    expect(reading.interfaces[0]?.name).toBe('eth0');
  });
});

describe('decodeReading: Wi-Fi', () => {
  const V = '1.3.6.1.4.1.41112.1.6.1.2.1';
  it('clients per VAP with SSID and radio; a bad count is skipped with a warning', () => {
    const { reading, warnings } = decode(
      [
        str(`${V}.6.1`, 'Badung-Free-WiFi'),
        str(`${V}.6.2`, 'Badung-Free-WiFi'),
        str(`${V}.6.3`, ''),
        num(`${V}.8.1`, 'Integer', 7),
        num(`${V}.8.2`, 'Integer', 11),
        num(`${V}.8.3`, 'Integer', -2),
        str(`${V}.9.1`, 'ng'),
        str(`${V}.9.2`, 'na'),
      ],
      [],
      unifi,
    );
    expect(reading.wifi).toEqual([
      { index: '1', clients: 7, ssid: 'Badung-Free-WiFi', radio: 'ng' },
      { index: '2', clients: 11, ssid: 'Badung-Free-WiFi', radio: 'na' },
    ]);
    expect(warnings.map((w) => w.oid)).toEqual([`${V}.8.3`]);
  });
});
