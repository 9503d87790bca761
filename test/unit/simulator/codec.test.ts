import { describe, expect, it } from 'vitest';
import {
  BerReader,
  Tag,
  encodeInteger,
  encodeOid,
  encodeUnsigned,
  encodeUnsigned32,
  decodeOid,
} from '../../../simulator/ber.ts';
import {
  PduType,
  decodeMessage,
  decodeScopedPdu,
  encodeCommunityMessage,
  encodePdu,
  encodeScopedPdu,
  encodeV3Message,
} from '../../../simulator/snmp-message.ts';
import {
  localizedKey,
  privacyKey,
  encrypt,
  decrypt,
  computeMac,
  verifyMac,
  macLength,
} from '../../../simulator/usm.ts';

describe('BER', () => {
  it.each([0, 1, 127, 128, 255, 256, -1, -128, -129, 2147483647, -2147483648, 4294967295])(
    'round-trips INTEGER %d',
    (n) => {
      expect(new BerReader(encodeInteger(n)).readInteger()).toBe(n);
    },
  );

  it('encodes INTEGERs minimally in two’s complement (X.690 8.3)', () => {
    expect(encodeInteger(127).toString('hex')).toBe('02017f');
    expect(encodeInteger(128).toString('hex')).toBe('02020080');
    expect(encodeInteger(-129).toString('hex')).toBe('0202ff7f');
  });

  it('encodes unsigned application types with a leading zero when the top bit is set', () => {
    expect(encodeUnsigned32(Tag.Counter32, 4294967295).toString('hex')).toBe('410500ffffffff');
    expect(encodeUnsigned32(Tag.Gauge32, 0).toString('hex')).toBe('420100');
    expect(encodeUnsigned(Tag.Counter64, 2n ** 64n - 1n).toString('hex')).toBe('460900ffffffffffffffff');
    expect(encodeUnsigned(Tag.Counter64, 2n ** 32n).toString('hex')).toBe('46050100000000');
  });

  it('round-trips OIDs with large arcs', () => {
    const oid = [1, 3, 6, 1, 4, 1, 41112, 1, 6, 1, 2, 1, 8, 4294967295];
    const b = encodeOid(oid);
    expect(decodeOid(b, 2, b.length)).toEqual(oid);
    expect(encodeOid([1, 3, 6, 1]).toString('hex')).toBe('06032b0601');
  });

  it('rejects truncated input', () => {
    expect(() => decodeMessage(Buffer.from('3005020101', 'hex'))).toThrow();
    expect(() => decodeMessage(Buffer.alloc(0))).toThrow();
  });
});

describe('SNMP messages', () => {
  it('decodes a v2c GetBulk and encodes a response', () => {
    const pdu = encodePdu({
      type: PduType.GetBulk,
      requestId: 42,
      errorStatus: 1,
      errorIndex: 10,
      varbinds: [{ oid: [1, 3, 6, 1, 2, 1, 1], value: { type: 'null' } }],
    });
    const msg = decodeMessage(encodeCommunityMessage(1, Buffer.from('pub'), pdu));
    expect(msg.version).toBe(1);
    if (msg.version !== 1) return;
    expect(msg.community.toString()).toBe('pub');
    expect(msg.pdu).toMatchObject({ type: PduType.GetBulk, requestId: 42, errorStatus: 1, errorIndex: 10 });
    expect(msg.pdu.varbinds[0]?.oid).toEqual([1, 3, 6, 1, 2, 1, 1]);
  });

  it('places the v3 auth parameters where encodeV3Message says', () => {
    const scoped = encodeScopedPdu(
      Buffer.from('80001f8805', 'hex'),
      Buffer.alloc(0),
      encodePdu({ type: PduType.Get, requestId: 7, errorStatus: 0, errorIndex: 0, varbinds: [] }),
    );
    for (const userLen of [0, 3, 200]) {
      const { bytes, authParamsOffset } = encodeV3Message({
        msgId: 9,
        maxSize: 65000,
        flags: 1,
        usm: {
          engineId: Buffer.alloc(17, 1),
          engineBoots: 1,
          engineTime: 5,
          userName: Buffer.alloc(userLen, 0x61),
          authParams: Buffer.alloc(12, 0xee),
          privParams: Buffer.alloc(0),
        },
        data: scoped,
        encrypted: false,
      });
      const m = decodeMessage(bytes);
      expect(m.version).toBe(3);
      if (m.version !== 3) return;
      expect(m.authParamsOffset).toBe(authParamsOffset);
      expect(bytes.subarray(authParamsOffset, authParamsOffset + 12)).toEqual(Buffer.alloc(12, 0xee));
      expect(decodeScopedPdu(m.data).pdu.requestId).toBe(7);
    }
  });
});

describe('USM crypto', () => {
  // RFC 3414 Appendix A.3: password "maplesyrup", engine ID 00...02.
  const engineId = Buffer.from('000000000000000000000002', 'hex');
  it('localises keys as RFC 3414 A.3.1 (MD5) and A.3.2 (SHA-1)', () => {
    expect(localizedKey('md5', 'maplesyrup', engineId).toString('hex')).toBe(
      '526f5eed9fcce26f8964c2930787d82b',
    );
    expect(localizedKey('sha', 'maplesyrup', engineId).toString('hex')).toBe(
      '6695febc9288e36282235fc7151f128497b38f3f',
    );
  });

  it('extends privacy keys to 32 bytes for AES-256 (Blumenthal and Reeder)', () => {
    const b = privacyKey('sha', 'aes256b', 'maplesyrup', engineId);
    const r = privacyKey('sha', 'aes256r', 'maplesyrup', engineId);
    expect(b.length).toBe(32);
    expect(r.length).toBe(32);
    expect(b.subarray(0, 20)).toEqual(localizedKey('sha', 'maplesyrup', engineId));
    expect(r.subarray(0, 20)).toEqual(b.subarray(0, 20));
    expect(r.subarray(20)).not.toEqual(b.subarray(20));
  });

  it('round-trips AES-CFB and verifies HMACs', () => {
    const key = privacyKey('sha', 'aes', 'maplesyrup', engineId);
    const salt = Buffer.from('0102030405060708', 'hex');
    const plain = Buffer.from('scoped pdu bytes of odd length');
    const c = encrypt('aes', key, 3, 1234, salt, plain);
    expect(c.length).toBe(plain.length);
    expect(decrypt('aes', key, 3, 1234, salt, c)).toEqual(plain);
    const authKey = localizedKey('sha256', 'maplesyrup', engineId);
    const msg = Buffer.concat([Buffer.from('head'), Buffer.alloc(macLength('sha256')), Buffer.from('tail')]);
    const mac = computeMac('sha256', authKey, msg);
    mac.copy(msg, 4);
    expect(verifyMac('sha256', authKey, msg, 4, msg.subarray(4, 4 + mac.length))).toBe(true);
    msg.writeUInt8((msg.at(-1) ?? 0) ^ 1, msg.length - 1);
    expect(verifyMac('sha256', authKey, msg, 4, msg.subarray(4, 4 + mac.length))).toBe(false);
  });
});
