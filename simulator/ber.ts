/**
 * The small subset of ASN.1 BER (X.690) that SNMP uses: definite lengths, INTEGER, OCTET STRING, NULL,
 * OBJECT IDENTIFIER, SEQUENCE and the SNMP application types of RFC 2578 / RFC 3416. Pure functions over
 * Buffers; a malformed input throws BerError, which the agent turns into a silently dropped datagram.
 */
import { BerError } from './errors.ts';

export const Tag = {
  Integer: 0x02,
  OctetString: 0x04,
  Null: 0x05,
  Oid: 0x06,
  Sequence: 0x30,
  // RFC 2578 application types
  IpAddress: 0x40,
  Counter32: 0x41,
  Gauge32: 0x42,
  TimeTicks: 0x43,
  Opaque: 0x44,
  Counter64: 0x46,
  // RFC 3416 exceptions (context-specific, primitive)
  NoSuchObject: 0x80,
  NoSuchInstance: 0x81,
  EndOfMibView: 0x82,
} as const;

export interface Tlv {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  /** Offset of the first value byte in the buffer. */
  readonly valueStart: number;
  /** Offset just past the value. */
  readonly end: number;
}

/** A cursor over a run of TLVs (the content of a constructed value). */
export class BerReader {
  readonly buf: Buffer;
  #pos: number;
  readonly #end: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf;
    this.#pos = start;
    this.#end = end;
  }

  atEnd(): boolean {
    return this.#pos >= this.#end;
  }

  peekTag(): number {
    if (this.#pos >= this.#end) throw new BerError('unexpected end of data');
    return this.buf[this.#pos] ?? 0;
  }

  readTlv(expectTag?: number): Tlv {
    const buf = this.buf;
    const start = this.#pos;
    let p = start;
    if (p + 2 > this.#end) throw new BerError('truncated TLV');
    const tag = buf[p++] ?? 0;
    if ((tag & 0x1f) === 0x1f) throw new BerError('multi-byte tags are not used by SNMP');
    if (expectTag !== undefined && tag !== expectTag) {
      throw new BerError(`expected tag 0x${expectTag.toString(16)}, got 0x${tag.toString(16)}`);
    }
    let len = buf[p++] ?? 0;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4) throw new BerError('unsupported length encoding');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + (buf[p++] ?? 0);
    }
    const end = p + len;
    if (end > this.#end) throw new BerError('length exceeds enclosing value');
    this.#pos = end;
    return { tag, start, valueStart: p, end };
  }

  /** A reader over the content of the next constructed value. */
  readConstructed(expectTag: number): BerReader {
    const t = this.readTlv(expectTag);
    return new BerReader(this.buf, t.valueStart, t.end);
  }

  readInteger(): number {
    const t = this.readTlv(Tag.Integer);
    return decodeSigned(this.buf, t.valueStart, t.end);
  }

  readOctets(): Buffer {
    const t = this.readTlv(Tag.OctetString);
    return this.buf.subarray(t.valueStart, t.end);
  }

  readOid(): number[] {
    const t = this.readTlv(Tag.Oid);
    return decodeOid(this.buf, t.valueStart, t.end);
  }
}

export function decodeSigned(buf: Buffer, start: number, end: number): number {
  const len = end - start;
  if (len < 1 || len > 6) throw new BerError(`INTEGER of ${len} bytes`);
  let v = (buf[start] ?? 0) & 0x80 ? -1 : 0;
  for (let i = start; i < end; i++) v = v * 256 + (buf[i] ?? 0);
  return v;
}

export function decodeOid(buf: Buffer, start: number, end: number): number[] {
  if (end <= start) throw new BerError('empty OBJECT IDENTIFIER');
  const out: number[] = [];
  let acc = 0;
  for (let i = start; i < end; i++) {
    const b = buf[i] ?? 0;
    acc = acc * 128 + (b & 0x7f);
    if (acc > 0xffffffff) throw new BerError('OID arc exceeds 32 bits');
    if ((b & 0x80) === 0) {
      if (out.length === 0) {
        const first = acc < 40 ? 0 : acc < 80 ? 1 : 2;
        out.push(first, acc - first * 40);
      } else {
        out.push(acc);
      }
      acc = 0;
    } else if (i === end - 1) {
      throw new BerError('truncated OID arc');
    }
  }
  return out;
}

// ---- encoding ----

function lengthBytes(len: number): Buffer {
  if (len < 0x80) return Buffer.from([len]);
  if (len < 0x100) return Buffer.from([0x81, len]);
  if (len < 0x10000) return Buffer.from([0x82, len >> 8, len & 0xff]);
  return Buffer.from([0x83, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff]);
}

export function encodeTlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), lengthBytes(content.length), content]);
}

export function encodeSequence(parts: readonly Buffer[], tag: number = Tag.Sequence): Buffer {
  const content = Buffer.concat(parts);
  return encodeTlv(tag, content);
}

/** Length of the tag + length header that encodeTlv puts in front of `contentLength` bytes. */
export function headerLength(contentLength: number): number {
  return 1 + lengthBytes(contentLength).length;
}

/** Two's complement, minimal length (X.690 8.3). */
export function encodeInteger(value: number, tag: number = Tag.Integer): Buffer {
  if (!Number.isSafeInteger(value)) throw new BerError(`not an integer: ${value}`);
  const bytes: number[] = [];
  let v = value;
  for (;;) {
    const b = ((v % 256) + 256) % 256;
    bytes.unshift(b);
    v = Math.floor(v / 256);
    if ((v === 0 && (b & 0x80) === 0) || (v === -1 && (b & 0x80) !== 0)) break;
  }
  return encodeTlv(tag, Buffer.from(bytes));
}

/** An unsigned value (Counter32, Gauge32, TimeTicks, Counter64): a leading 0 when the top bit is set. */
export function encodeUnsigned(tag: number, value: bigint | number): Buffer {
  let v = BigInt(value);
  if (v < 0n) throw new BerError(`negative unsigned value: ${v}`);
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  } while (v > 0n);
  if ((bytes[0] ?? 0) & 0x80) bytes.unshift(0);
  return encodeTlv(tag, Buffer.from(bytes));
}

/** Fast path for unsigned values that fit a double exactly (all 32-bit types). */
export function encodeUnsigned32(tag: number, value: number): Buffer {
  const v = value >>> 0;
  if (v < 0x80) return Buffer.from([tag, 1, v]);
  if (v < 0x8000) return Buffer.from([tag, 2, v >> 8, v & 0xff]);
  if (v < 0x800000) return Buffer.from([tag, 3, v >> 16, (v >> 8) & 0xff, v & 0xff]);
  if (v < 0x80000000) return Buffer.from([tag, 4, v >>> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff]);
  return Buffer.from([tag, 5, 0, v >>> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff]);
}

export function encodeOctets(value: Buffer | string): Buffer {
  return encodeTlv(Tag.OctetString, typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
}

export function encodeNull(tag: number = Tag.Null): Buffer {
  return Buffer.from([tag, 0]);
}

export function encodeOid(oid: readonly number[]): Buffer {
  if (oid.length < 2) throw new BerError('an OID needs at least two arcs');
  const first = (oid[0] ?? 0) * 40 + (oid[1] ?? 0);
  const bytes: number[] = [];
  const pushArc = (arc: number): void => {
    const tmp: number[] = [arc & 0x7f];
    let a = Math.floor(arc / 128);
    while (a > 0) {
      tmp.unshift((a & 0x7f) | 0x80);
      a = Math.floor(a / 128);
    }
    bytes.push(...tmp);
  };
  pushArc(first);
  for (let i = 2; i < oid.length; i++) pushArc(oid[i] ?? 0);
  return encodeTlv(Tag.Oid, Buffer.from(bytes));
}
