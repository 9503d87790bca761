/**
 * The profile language (config/profiles.ts, compiled; decode.ts, evaluated), one feature per table: the SUM
 * of columns, labels from the ROW INDEX, the COUNT of a table's rows grouped by a column, groups by index
 * prefix, filters, and OVERRIDES of a standard IF-MIB value. Plus the errors a wrong profile gets.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../collector/core/errors.ts';
import { decodeReading, type RawPoll } from '../../../collector/sources/snmp/decode.ts';
import type { VarBind } from '../../../collector/sources/snmp/session.ts';
import { parseProfiles, type Profile } from '../../../config/profiles.ts';

const GENERIC = {
  file: 'generic.yaml',
  text: 'interfaces:\n  descr: 1.3.6.1.2.1.2.2.1.2\n  operStatus: 1.3.6.1.2.1.2.2.1.8\n  name: 1.3.6.1.2.1.31.1.1.1.1\n',
};
function profile(text: string): Profile {
  const p = parseProfiles([GENERIC, { file: 'p.yaml', text: `extends: generic\n${text}` }]).get('p');
  if (!p) throw new Error('no profile');
  return p;
}
const gauge = (oid: string, value: number): VarBind => ({ oid, type: 'Gauge32', value });
const int = (oid: string, value: number): VarBind => ({ oid, type: 'Integer', value });
const str = (oid: string, s: string): VarBind => ({ oid, type: 'OctetString', value: Buffer.from(s) });
/** The varbinds grouped by the profile's walked columns, as the walk returns them. */
function raw(p: Profile, vbs: VarBind[]): RawPoll {
  const columns = new Map<string, VarBind[]>(p.columns.map((c) => [c, []]));
  for (const vb of vbs) {
    const col = p.columns.find((c) => vb.oid.startsWith(`${c}.`));
    if (!col) throw new Error(`no column for ${vb.oid}`);
    columns.get(col)?.push(vb);
  }
  return { scalars: [], columns };
}
const decode = (p: Profile, vbs: VarBind[]) =>
  decodeReading(p, raw(p, vbs), { deviceId: 'd', timeMs: 1 }, { trace: true });
/** "guest" as a length-prefixed OCTET STRING index (RFC 2578 section 7.7). */
const ix = (s: string): string => [s.length, ...Buffer.from(s)].join('.');

describe('the profile language', () => {
  it('SUM: the 2.4 and 5 GHz columns of one row added into the SSID total; the SSID from the row index', () => {
    const p = profile('wifi:\n  clients: [1.9.2, 1.9.3]\n  ssid: { index: string }\n');
    expect(p.columns.slice(-2)).toEqual(['1.9.2', '1.9.3']);
    const { reading, warnings, wifiSources } = decode(p, [
      gauge(`1.9.2.${ix('guest')}`, 4),
      gauge(`1.9.2.${ix('staff')}`, 1),
      gauge(`1.9.3.${ix('guest')}`, 6),
    ]);
    expect(warnings).toEqual([]);
    expect(reading.wifi).toEqual([
      { index: ix('guest'), clients: 10, ssid: 'guest', radio: undefined },
      { index: ix('staff'), clients: 1, ssid: 'staff', radio: undefined },
    ]);
    expect(wifiSources?.[0]).toEqual([`1.9.2.${ix('guest')}`, `1.9.3.${ix('guest')}`]);
  });

  it.each([
    ['a length-prefixed string after one part', { index: 'string', skip: 1 }, `2.${ix('lobby')}`, 'lobby'],
    ['an IMPLIED string (no length)', { index: 'string', implied: true }, '104.105', 'hi'],
    ['one part of the index', { index: 'number', part: 1 }, '7.2', '2'],
    ['the index as it is', 'index', '7.2', '7.2'],
  ])('labels from the row index: %s', (_what, label, index, want) => {
    const p = profile(`wifi:\n  clients: 1.9.2\n  radio: ${JSON.stringify(label)}\n`);
    const { reading, warnings } = decode(p, [gauge(`1.9.2.${index}`, 3)]);
    expect(warnings).toEqual([]);
    expect(reading.wifi[0]?.radio).toBe(want);
  });

  it('a row index that is not the string it should be is a warning naming the OID, the count kept', () => {
    const p = profile('wifi:\n  clients: 1.9.2\n  ssid: { index: string }\n');
    const { reading, warnings } = decode(p, [gauge('1.9.2.9.97', 3)]);
    expect(reading.wifi).toEqual([{ index: '9.97', clients: 3, ssid: undefined, radio: undefined }]);
    expect(warnings).toEqual([
      { oid: '1.9.2.9.97', field: 'ssid', reason: 'index "9.97" is not a length-prefixed string' },
    ]);
  });

  it('COUNT: a client table counted per SSID (the column value), mesh links excluded, and in total', () => {
    const p = profile(
      "wifi:\n  - count: 1.9.4\n    ssid: value\n    groupBy: ssid\n    exclude: { ssid: '^MESH-' }\n" +
        '  - name: total\n    count: 1.9.4\n',
    );
    const { reading } = decode(p, [
      str('1.9.4.0.1.2.3.4.5', 'guest'),
      str('1.9.4.0.1.2.3.4.6', 'staff'),
      str('1.9.4.0.1.2.3.4.7', 'guest'),
      str('1.9.4.0.1.2.3.4.8', 'MESH-1'),
    ]);
    expect(reading.wifi.map((w) => [w.index, w.ssid, w.clients])).toEqual([
      ['guest', 'guest', 2],
      ['staff', 'staff', 1],
      ['total/all', undefined, 4],
    ]);
  });

  it('groups by an index prefix (AP MAC + radio over its WLANs), and by a label', () => {
    const p = profile(
      'wifi:\n  - clients: 1.9.9\n    radio: { index: number, part: 1 }\n    groupBy: { index: 2 }\n' +
        '  - name: band\n    clients: 1.9.9\n    radio: { index: number, part: 1 }\n    groupBy: radio\n',
    );
    const { reading } = decode(p, [
      gauge('1.9.9.7.0.1', 2),
      gauge('1.9.9.7.0.2', 3),
      gauge('1.9.9.7.1.1', 4),
      gauge('1.9.9.8.1.1', 1),
    ]);
    expect(reading.wifi.map((w) => [w.index, w.radio, w.clients])).toEqual([
      ['7.0', '0', 5],
      ['7.1', '1', 4],
      ['8.1', '1', 1],
      ['band/0', '0', 5],
      ['band/1', '1', 5],
    ]);
  });

  it('match keeps only the rows it names; the rows it drops may hold anything (no warning)', () => {
    const p = profile("wifi:\n  clients: 1.9.5\n  ssid: { index: string }\n  match: { ssid: '^clients-' }\n");
    const { reading, warnings } = decode(p, [
      str(`1.9.5.${ix('clients-wlan0')}`, '2'),
      str(`1.9.5.${ix('distro')}`, 'OpenWrt 21.02'),
    ]);
    expect(reading.wifi.map((w) => [w.ssid, w.clients])).toEqual([['clients-wlan0', 2]]);
    expect(warnings).toEqual([]);
  });

  it('OVERRIDE: the vendor value replaces IF-MIB for the named interface, through the map', () => {
    const p = profile(
      "overrides:\n  - field: operStatus\n    column: 1.9.6.5\n    interface: eth0\n    map: { '1': 1, '0': 2 }\n",
    );
    const vbs = [
      str('1.3.6.1.2.1.31.1.1.1.1.1', 'lo'),
      str('1.3.6.1.2.1.31.1.1.1.1.2', 'eth0'),
      int('1.3.6.1.2.1.2.2.1.8.1', 1),
      int('1.3.6.1.2.1.2.2.1.8.2', 1),
    ];
    const down = decode(p, [...vbs, int('1.9.6.5.0', 0)]);
    expect(down.reading.interfaces.map((i) => [i.name, i.operStatus])).toEqual([
      ['lo', 1],
      ['eth0', 2],
    ]);
    expect(decode(p, [...vbs, int('1.9.6.5.0', 1)]).reading.interfaces[1]?.operStatus).toBe(1);
    // A value outside the map is a warning, and IF-MIB's value stays.
    const odd = decode(p, [...vbs, int('1.9.6.5.0', 7)]);
    expect(odd.reading.interfaces[1]?.operStatus).toBe(1);
    expect(odd.warnings).toEqual([
      { oid: '1.9.6.5.0', field: 'operStatus', reason: "value 7 is not in the override's map" },
    ]);
  });

  it('OVERRIDE by ifIndex: a vendor column indexed like IF-MIB replaces the field row by row', () => {
    const p = profile('overrides:\n  - field: operStatus\n    column: 1.9.7\n');
    const { reading } = decode(p, [int('1.3.6.1.2.1.2.2.1.8.3', 1), int('1.9.7.3', 2)]);
    expect(reading.interfaces.map((i) => [i.ifIndex, i.operStatus])).toEqual([[3, 2]]);
  });

  it('the original one-table form still compiles to one plain metric', () => {
    const p = profile('wifi:\n  clients: 1.9.8\n  ssid: 1.9.1\n');
    expect(p.wifi).toEqual({ clients: '1.9.8', ssid: '1.9.1', radio: undefined });
    const { reading } = decode(p, [gauge('1.9.8.1', 5), str('1.9.1.1', 'guest')]);
    expect(reading.wifi).toEqual([{ index: '1', clients: 5, ssid: 'guest', radio: undefined }]);
  });

  it.each([
    [
      'both clients and count',
      'wifi:\n  clients: 1.9.2\n  count: 1.9.4\n',
      /p\.yaml:3: wifi: give exactly one of clients/,
    ],
    ['neither', 'wifi:\n  ssid: 1.9.1\n', /wifi: give exactly one of clients .* or count/],
    [
      'a group by a label it does not have',
      'wifi:\n  clients: 1.9.2\n  groupBy: ssid\n',
      /wifi\.groupBy: grouping by ssid needs a ssid label/,
    ],
    [
      'value on a column metric',
      'wifi:\n  clients: 1.9.2\n  ssid: value\n',
      /wifi\.ssid: "value" labels a counted column/,
    ],
    [
      'a bad regular expression',
      "wifi:\n  clients: 1.9.2\n  ssid: index\n  match: { ssid: '(' }\n",
      /wifi\.match\.ssid: must be a valid regular expression/,
    ],
    [
      'a MIB name in a list to sum',
      'wifi:\n  - clients: [1.9.2, hwWlanSsid5gStaCnt]\n',
      /p\.yaml:3: wifi\.0\.clients\.1: must be a numeric OID/,
    ],
    [
      'an override of an unknown field',
      'overrides:\n  - { field: inOctets, column: 1.9.6 }\n',
      /overrides\.0\.field: /,
    ],
  ])('%s is an error naming the file, line and path', (_what, text, re) => {
    let err: unknown;
    try {
      profile(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(re);
  });
});
