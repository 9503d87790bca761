/**
 * The SNMPv2c codec (collector/sources/snmp/v2c-codec.ts) against an independent implementation: the fleet
 * simulator's BER (simulator/snmp-message.ts), which decodes what we send and encodes what we read, and
 * hand-written bytes for the edges (X.690 and RFC 2578 value ranges, malformed replies).
 */
import { describe, expect, it } from 'vitest';
import {
  DecodeError,
  PduTag,
  decodeHeader,
  decodeVarbinds,
  encodeOid,
  encodeRequest,
  oidText,
} from '../../../collector/sources/snmp/v2c-codec.ts';
import { groupBulk } from '../../../collector/sources/snmp/v2c-session.ts';
import type { VarBind } from '../../../collector/sources/snmp/session.ts';
import {
  decodeMessage,
  encodeCommunityMessage,
  encodePdu,
  type CommunityMessage,
  type Varbind as SimVarbind,
} from '../../../simulator/snmp-message.ts';

const arcs = (oid: string): number[] => oid.split('.').map(Number);
const community = Buffer.from('public');

function reply(
  varbinds: SimVarbind[],
  over: { requestId?: number; errorStatus?: number; errorIndex?: number } = {},
) {
  const pdu = encodePdu({
    type: PduTag.GetResponse,
    requestId: over.requestId ?? 4242,
    errorStatus: over.errorStatus ?? 0,
    errorIndex: over.errorIndex ?? 0,
    varbinds,
  });
  return encodeCommunityMessage(1, community, pdu);
}

function decodeAll(buf: Buffer): { header: ReturnType<typeof decodeHeader>; varbinds: VarBind[] } {
  const header = decodeHeader(buf);
  return { header, varbinds: decodeVarbinds(buf, header.varbindsStart, header.varbindsEnd) };
}

describe('requests', () => {
  it('a GETBULK the simulator reads back: version, community, id, non-repeaters, repetitions, OIDs', () => {
    const oids = [
      '1.3.6.1.2.1.1.3',
      '1.3.6.1.2.1.2.2.1.10',
      '.1.3.6.1.2.1.31.1.1.1.6',
      '1.3.6.1.4.1.41112.1.6.1.2.1.8',
    ];
    const buf = encodeRequest({
      pdu: PduTag.GetBulkRequest,
      requestId: 0x7fffffff,
      community,
      oids,
      nonRepeaters: 1,
      maxRepetitions: 13,
    });
    const m = decodeMessage(buf) as CommunityMessage;
    expect(m.version).toBe(1);
    expect(m.community.toString()).toBe('public');
    expect(m.pdu).toMatchObject({
      type: PduTag.GetBulkRequest,
      requestId: 0x7fffffff,
      errorStatus: 1,
      errorIndex: 13,
    });
    expect(m.pdu.varbinds.map((v) => v.oid.join('.'))).toEqual(oids.map((o) => o.replace(/^\./, '')));
    expect(m.pdu.varbinds.every((v) => v.value.type === 'null')).toBe(true);
  });

  it('a GET with many OIDs (long lengths) and every request id size', () => {
    const oids = Array.from({ length: 60 }, (_, i) => `1.3.6.1.2.1.2.2.1.${i + 1}.${2 ** 31 + i}`);
    for (const requestId of [0, 1, 127, 128, 32767, 32768, 8388607, 8388608, 2 ** 31 - 1]) {
      const m = decodeMessage(
        encodeRequest({ pdu: PduTag.GetRequest, requestId, community, oids }),
      ) as CommunityMessage;
      expect(m.pdu).toMatchObject({ type: PduTag.GetRequest, requestId, errorStatus: 0, errorIndex: 0 });
      expect(m.pdu.varbinds.map((v) => v.oid.join('.'))).toEqual(oids);
    }
  });

  it('OIDs are encoded as X.690 says: the first two arcs in one, base 128 after', () => {
    expect([...encodeOid('1.3.6.1.4.1.2680')]).toEqual([
      0x06, 0x07, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x94, 0x78,
    ]);
    expect([...encodeOid('2.999.3')]).toEqual([0x06, 0x03, 0x88, 0x37, 0x03]);
    expect([...encodeOid('1.3.4294967295')]).toEqual([0x06, 0x06, 0x2b, 0x8f, 0xff, 0xff, 0xff, 0x7f]);
  });

  it.each(['', '1', '3.1', '1.40', '1.3.x', '1.3.4294967296', '1..3'])('refuses the OID "%s"', (oid) => {
    expect(() => encodeRequest({ pdu: PduTag.GetRequest, requestId: 1, community, oids: [oid] })).toThrow(
      RangeError,
    );
  });
});

describe('replies', () => {
  it('every SMI type as session.ts gives it: Buffers for text, bigint Counter64, unsigned 32-bit numbers', () => {
    const { header, varbinds } = decodeAll(
      reply([
        { oid: arcs('1.3.6.1.2.1.1.1.0'), value: { type: 'octets', value: 'RouterOS RB750Gr3' } },
        { oid: arcs('1.3.6.1.2.1.1.2.0'), value: { type: 'oid', value: arcs('1.3.6.1.4.1.14988.1') } },
        { oid: arcs('1.3.6.1.2.1.1.3.0'), value: { type: 'timeticks', value: 4294967295 } },
        { oid: arcs('1.3.6.1.2.1.2.2.1.5.1'), value: { type: 'gauge32', value: 2147483648 } },
        { oid: arcs('1.3.6.1.2.1.2.2.1.10.1'), value: { type: 'counter32', value: 0 } },
        { oid: arcs('1.3.6.1.2.1.2.2.1.8.1'), value: { type: 'integer', value: -2147483648 } },
        { oid: arcs('1.3.6.1.2.1.2.2.1.7.1'), value: { type: 'integer', value: 2147483647 } },
        { oid: arcs('1.3.6.1.2.1.31.1.1.1.6.1'), value: { type: 'counter64', value: 2n ** 64n - 1n } },
        { oid: arcs('1.3.6.1.2.1.31.1.1.1.6.2'), value: { type: 'counter64', value: 0n } },
        { oid: arcs('1.3.6.1.2.1.31.1.1.1.6.3'), value: { type: 'counter64', value: 9_000_000_000n } },
        { oid: arcs('1.3.6.1.2.1.31.1.1.1.6.4'), value: { type: 'counter64', value: 2n ** 40n + 5n } },
        { oid: arcs('1.3.6.1.2.1.31.1.1.1.18.1'), value: { type: 'octets', value: '' } },
        { oid: arcs('1.3.6.1.2.1.1.4.0'), value: { type: 'null' } },
        { oid: arcs('1.3.6.1.2.1.1.5.0'), value: { type: 'noSuchObject' } },
        { oid: arcs('1.3.6.1.2.1.1.6.0'), value: { type: 'noSuchInstance' } },
        { oid: arcs('1.3.6.1.2.1.1.7.0'), value: { type: 'endOfMibView' } },
        { oid: arcs('1.3.6.1.4.1.4294967295.2'), value: { type: 'integer', value: 0 } },
      ]),
    );
    expect(header).toMatchObject({
      version: 1,
      pdu: PduTag.GetResponse,
      requestId: 4242,
      errorStatus: 0,
      errorIndex: 0,
    });
    expect(header.community.toString()).toBe('public');
    expect(varbinds).toEqual([
      { oid: '1.3.6.1.2.1.1.1.0', type: 'OctetString', value: Buffer.from('RouterOS RB750Gr3') },
      { oid: '1.3.6.1.2.1.1.2.0', type: 'OID', value: '1.3.6.1.4.1.14988.1' },
      { oid: '1.3.6.1.2.1.1.3.0', type: 'TimeTicks', value: 4294967295 },
      { oid: '1.3.6.1.2.1.2.2.1.5.1', type: 'Gauge32', value: 2147483648 },
      { oid: '1.3.6.1.2.1.2.2.1.10.1', type: 'Counter32', value: 0 },
      { oid: '1.3.6.1.2.1.2.2.1.8.1', type: 'Integer', value: -2147483648 },
      { oid: '1.3.6.1.2.1.2.2.1.7.1', type: 'Integer', value: 2147483647 },
      { oid: '1.3.6.1.2.1.31.1.1.1.6.1', type: 'Counter64', value: 2n ** 64n - 1n },
      { oid: '1.3.6.1.2.1.31.1.1.1.6.2', type: 'Counter64', value: 0n },
      { oid: '1.3.6.1.2.1.31.1.1.1.6.3', type: 'Counter64', value: 9_000_000_000n },
      { oid: '1.3.6.1.2.1.31.1.1.1.6.4', type: 'Counter64', value: 2n ** 40n + 5n },
      { oid: '1.3.6.1.2.1.31.1.1.1.18.1', type: 'OctetString', value: Buffer.alloc(0) },
      { oid: '1.3.6.1.2.1.1.4.0', type: 'Null', value: null },
      { oid: '1.3.6.1.2.1.1.5.0', type: 'noSuchObject', value: null },
      { oid: '1.3.6.1.2.1.1.6.0', type: 'noSuchInstance', value: null },
      { oid: '1.3.6.1.2.1.1.7.0', type: 'endOfMibView', value: null },
      { oid: '1.3.6.1.4.1.4294967295.2', type: 'Integer', value: 0 },
    ]);
  });

  it('IpAddress, Opaque, a non-minimal Counter32 and a Counter32 past 2^32 read as net-snmp read them', () => {
    // Hand-made varbind list: 1.3.6.1.2.1.4.20.1.1.10.0.0.1 = IpAddress 10.0.0.1; .2 = Opaque 0xbeef;
    // .3 = Counter32 encoded in 4 bytes as ff ff ff ff (net-snmp: -1 >>> 0); .4 = Counter32 2^32 (net-snmp: 0).
    const oid = (last: number): number[] => [0x06, 0x09, 0x2b, 6, 1, 2, 1, 4, 20, 1, last];
    const vb = (last: number, value: number[]): number[] => {
      const body = [...oid(last), ...value];
      return [0x30, body.length, ...body];
    };
    const list = [
      ...vb(1, [0x40, 4, 10, 0, 0, 1]),
      ...vb(2, [0x44, 2, 0xbe, 0xef]),
      ...vb(3, [0x41, 4, 0xff, 0xff, 0xff, 0xff]),
      ...vb(4, [0x41, 5, 0x01, 0, 0, 0, 0]),
    ];
    const buf = Buffer.from(list);
    expect(decodeVarbinds(buf, 0, buf.length)).toEqual([
      { oid: '1.3.6.1.2.1.4.20.1.1', type: 'IpAddress', value: '10.0.0.1' },
      { oid: '1.3.6.1.2.1.4.20.1.2', type: 'Opaque', value: Buffer.from([0xbe, 0xef]) },
      { oid: '1.3.6.1.2.1.4.20.1.3', type: 'Counter32', value: 4294967295 },
      { oid: '1.3.6.1.2.1.4.20.1.4', type: 'Counter32', value: 0 },
    ]);
  });

  it('an error-status reply keeps its status and index', () => {
    const { header } = decodeAll(
      reply([{ oid: arcs('1.3.6.1.2.1.1.3.0'), value: { type: 'null' } }], { errorStatus: 1, errorIndex: 1 }),
    );
    expect(header).toMatchObject({ errorStatus: 1, errorIndex: 1 });
  });

  it('OID text: large arcs, the first two arcs, and every digit count', () => {
    const cases = ['0.0', '1.39', '2.40', '2.999.1', '1.3.6.1.4.1.9.9.9999999', '1.3.4294967295.10.100.1000'];
    for (const text of cases) {
      const tlv = encodeOid(text);
      expect(oidText(tlv, 2, tlv.length)).toBe(text);
    }
  });

  it.each([
    ['an empty datagram', []],
    ['not a SEQUENCE', [0x04, 0x00]],
    ['a length past the end', [0x30, 0x10, 0x02, 0x01, 0x01]],
    ['an SNMPv3 message', [0x30, 0x03, 0x02, 0x01, 0x03]],
    ['a truncated PDU', [0x30, 0x0a, 0x02, 0x01, 0x01, 0x04, 0x03, 0x61, 0x62, 0x63, 0xa2, 0x00]],
  ])('a message that is %s is a DecodeError', (_what, bytes) => {
    expect(() => decodeHeader(Buffer.from(bytes))).toThrow(DecodeError);
  });

  it.each([
    ['an unknown type', [0x30, 0x06, 0x06, 0x01, 0x2b, 0x47, 0x01, 0x00]],
    ['a truncated OID arc', [0x30, 0x05, 0x06, 0x01, 0x81, 0x05, 0x00]],
    ['an IpAddress of 3 bytes', [0x30, 0x08, 0x06, 0x01, 0x2b, 0x40, 0x03, 1, 2, 3]],
    ['a zero-length INTEGER', [0x30, 0x05, 0x06, 0x01, 0x2b, 0x02, 0x00]],
    ['a value past its varbind', [0x30, 0x05, 0x06, 0x01, 0x2b, 0x04, 0x05]],
  ])('a varbind with %s is a DecodeError', (_what, bytes) => {
    const buf = Buffer.from(bytes);
    expect(() => decodeVarbinds(buf, 0, buf.length)).toThrow(DecodeError);
  });
});

describe('GETBULK grouping', () => {
  const vb = (oid: string): VarBind => ({ oid, type: 'Integer', value: 1 });
  it('non-repeaters one each, then the repeaters row by row (RFC 3416 4.2.3)', () => {
    const got = groupBulk(3, 1, ['s.0', 'a.1', 'b.1', 'a.2', 'b.2', 'a.3'].map(vb));
    expect(got.map((c) => c.map((v) => v.oid))).toEqual([['s.0'], ['a.1', 'a.2', 'a.3'], ['b.1', 'b.2']]);
  });
  it('fewer varbinds than asked, and only non-repeaters', () => {
    expect(groupBulk(3, 0, [vb('a.1')]).map((c) => c.length)).toEqual([1]);
    expect(groupBulk(2, 2, ['x', 'y', 'z'].map(vb)).map((c) => c.map((v) => v.oid))).toEqual([['x'], ['y']]);
  });
});
