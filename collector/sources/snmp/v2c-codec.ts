/**
 * SNMPv2c messages (RFC 1901 community message around an RFC 3416 PDU) in BER (X.690), for the poller's
 * hot path. Pure functions over Buffers, no state but two bounded memos of pure results.
 *
 * Why not net-snmp's codec for v2c: per poll it built a PDU object, a Message object and a ber.Writer
 * growing its buffer, re-encoded the same OIDs on every request, and on the way back decoded every OID
 * through an array (shift, unshift, join), wrapped each varbind twice and copied them into our VarBind
 * type (session.ts). Here a request is written straight into one Buffer of the right size (each OID's
 * encoding worked out once), and a reply is read straight into VarBinds: one object per varbind, its OID
 * string made in one step from the bytes. SNMPv3 (USM, encryption) stays net-snmp's.
 *
 * Decoding is strict where net-snmp was lenient by accident (a truncated value, a length past the end):
 * such a reply is a DecodeError, which the client reports as `decode`.
 */
import type { VarBind, VarBindType } from './session.ts';

export const PduTag = {
  GetRequest: 0xa0,
  GetNextRequest: 0xa1,
  GetResponse: 0xa2,
  GetBulkRequest: 0xa5,
  Report: 0xa8,
} as const;

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const OCTET_STRING = 0x04;
const NULL = 0x05;
const OID_TAG = 0x06;

/** RFC 1901: the version field of a community-based SNMPv2 message. */
export const VERSION_2C = 1;

/** A message that does not parse (a reply to no request, or a broken one). */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

/** RFC 3416 section 3 error-status names (the names net-snmp used, kept for messages and `status`). */
export const ERROR_STATUS: readonly string[] = [
  'NoError',
  'TooBig',
  'NoSuchName',
  'BadValue',
  'ReadOnly',
  'GeneralError',
  'NoAccess',
  'WrongType',
  'WrongLength',
  'WrongEncoding',
  'WrongValue',
  'NoCreation',
  'InconsistentValue',
  'ResourceUnavailable',
  'CommitFailed',
  'UndoFailed',
  'AuthorizationError',
  'NotWritable',
  'InconsistentName',
];

// ---- encoding ----------------------------------------------------------------------------------------

/** Bytes a definite length takes (X.690 8.1.3). */
function lengthSize(len: number): number {
  return len < 0x80 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 4;
}

function writeLength(buf: Buffer, p: number, len: number): number {
  if (len < 0x80) {
    buf[p++] = len;
  } else if (len < 0x100) {
    buf[p++] = 0x81;
    buf[p++] = len;
  } else if (len < 0x10000) {
    buf[p++] = 0x82;
    buf[p++] = len >> 8;
    buf[p++] = len & 0xff;
  } else {
    buf[p++] = 0x83;
    buf[p++] = (len >> 16) & 0xff;
    buf[p++] = (len >> 8) & 0xff;
    buf[p++] = len & 0xff;
  }
  return p;
}

/** Content bytes of a non-negative INTEGER below 2^31 in its minimal two's complement form (X.690 8.3.2). */
function intSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x8000 ? 2 : v < 0x800000 ? 3 : 4;
}

function writeInt(buf: Buffer, p: number, v: number): number {
  const n = intSize(v);
  buf[p++] = INTEGER;
  buf[p++] = n;
  for (let i = n - 1; i >= 0; i--) buf[p++] = (v >>> (8 * i)) & 0xff;
  return p;
}

const OID_MEMO_LIMIT = 20_000;
const oidMemo = new Map<string, Buffer>();

/**
 * An OID's full TLV (tag, length, sub-identifiers; X.690 8.19). The poller asks for the same few dozen
 * OIDs poll after poll, so each is encoded once; the memo starts over past OID_MEMO_LIMIT entries (the
 * cursors of long walks are one-off), so it stays bounded.
 */
export function encodeOid(oid: string): Buffer {
  let tlv = oidMemo.get(oid);
  if (tlv === undefined) {
    tlv = encodeOidNow(oid);
    if (oidMemo.size >= OID_MEMO_LIMIT) oidMemo.clear();
    oidMemo.set(oid, tlv);
  }
  return tlv;
}

function encodeOidNow(oid: string): Buffer {
  const text = oid.startsWith('.') ? oid.slice(1) : oid;
  const arcs = text.split('.');
  const nums: number[] = [];
  for (const a of arcs) {
    if (!/^\d{1,10}$/.test(a) || Number(a) > 0xffffffff) throw new RangeError(`invalid OID "${oid}"`);
    nums.push(Number(a));
  }
  const [first, second] = nums;
  if (first === undefined || second === undefined || first > 2 || (first < 2 && second >= 40))
    throw new RangeError(`invalid OID "${oid}"`);
  const subIds = [first * 40 + second, ...nums.slice(2)];
  const bytes: number[] = [];
  for (const id of subIds) {
    // Base 128, most significant group first, bit 8 set on all but the last.
    const groups: number[] = [id % 128];
    for (let v = Math.floor(id / 128); v > 0; v = Math.floor(v / 128)) groups.unshift((v % 128) | 0x80);
    bytes.push(...groups);
  }
  const out = Buffer.alloc(1 + lengthSize(bytes.length) + bytes.length);
  out[0] = OID_TAG;
  const p = writeLength(out, 1, bytes.length);
  for (let i = 0; i < bytes.length; i++) out[p + i] = bytes[i] ?? 0;
  return out;
}

export interface RequestSpec {
  /** PduTag.GetRequest, GetNextRequest or GetBulkRequest. */
  readonly pdu: number;
  /** 1 .. 2^31 - 1. */
  readonly requestId: number;
  readonly community: Buffer;
  readonly oids: readonly string[];
  /** GETBULK only (RFC 3416 4.2.3); 0 for the others. */
  readonly nonRepeaters?: number | undefined;
  readonly maxRepetitions?: number | undefined;
}

/** One request message, written into a Buffer of exactly its size. Throws RangeError on a bad OID. */
export function encodeRequest(spec: RequestSpec): Buffer {
  const bulk = spec.pdu === PduTag.GetBulkRequest;
  const a = bulk ? Math.max(0, Math.floor(spec.nonRepeaters ?? 0)) : 0;
  const b = bulk ? Math.max(0, Math.floor(spec.maxRepetitions ?? 0)) : 0;
  if (!(spec.requestId >= 0 && spec.requestId <= 0x7fffffff) || a > 0x7fffffff || b > 0x7fffffff)
    throw new RangeError('request id, non-repeaters and max-repetitions must be 0 .. 2^31 - 1');
  const oids = new Array<Buffer>(spec.oids.length);
  let vbList = 0;
  for (let i = 0; i < spec.oids.length; i++) {
    const o = encodeOid(spec.oids[i] ?? '');
    oids[i] = o;
    const vb = o.length + 2; // the OID, then NULL (05 00): a request carries no values
    vbList += 1 + lengthSize(vb) + vb;
  }
  const pduBody =
    2 + intSize(spec.requestId) + 2 + intSize(a) + 2 + intSize(b) + 1 + lengthSize(vbList) + vbList;
  const community = spec.community;
  const msgBody = 3 + 1 + lengthSize(community.length) + community.length + 1 + lengthSize(pduBody) + pduBody;
  const buf = Buffer.allocUnsafe(1 + lengthSize(msgBody) + msgBody);
  let p = 0;
  buf[p++] = SEQUENCE;
  p = writeLength(buf, p, msgBody);
  p = writeInt(buf, p, VERSION_2C);
  buf[p++] = OCTET_STRING;
  p = writeLength(buf, p, community.length);
  p += community.copy(buf, p);
  buf[p++] = spec.pdu;
  p = writeLength(buf, p, pduBody);
  p = writeInt(buf, p, spec.requestId);
  p = writeInt(buf, p, a);
  p = writeInt(buf, p, b);
  buf[p++] = SEQUENCE;
  p = writeLength(buf, p, vbList);
  for (const o of oids) {
    buf[p++] = SEQUENCE;
    p = writeLength(buf, p, o.length + 2);
    p += o.copy(buf, p);
    buf[p++] = NULL;
    buf[p++] = 0;
  }
  if (p !== buf.length) throw new Error(`encodeRequest wrote ${p} of ${buf.length} bytes`); // a bug here
  return buf;
}

// ---- decoding ----------------------------------------------------------------------------------------

/** What precedes the varbinds of a message: enough to find the request it answers. */
export interface MessageHeader {
  readonly version: number;
  readonly community: Buffer;
  readonly pdu: number;
  readonly requestId: number;
  readonly errorStatus: number;
  readonly errorIndex: number;
  /** The varbind list's content, [start, end) in the buffer. */
  readonly varbindsStart: number;
  readonly varbindsEnd: number;
}

/**
 * The end of the TLV the last readHeader/readLengthAt call read: their second result, kept here rather
 * than in an object per TLV. Only read right after the call, synchronously, so no caller sees another's.
 */
let tlvEnd = 0;

/** Reads one TLV header at `p` (inside [p, end)): sets `tlvEnd` and returns the offset of its content. */
function readHeader(buf: Buffer, p: number, end: number, tag: number, what: string): number {
  if (p + 2 > end) throw new DecodeError(`truncated ${what}`);
  const t = buf[p] ?? 0;
  if (t !== tag)
    throw new DecodeError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${t.toString(16)}`);
  return readLengthAt(buf, p + 1, end, what);
}

/**
 * What an error names: `what`, with the varbind's OID after it when there is one. Built only when an error
 * is thrown (a string per varbind on the normal path was garbage for nothing).
 */
const named = (what: string, oid: string | undefined): string =>
  oid === undefined ? what : `${what} ${oid}`;

function readLengthAt(buf: Buffer, p: number, end: number, what: string, oid?: string): number {
  let len = buf[p++] ?? 0;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DecodeError(`${named(what, oid)}: indefinite length`);
    if (n > 4 || p + n > end) throw new DecodeError(`${named(what, oid)}: bad length`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[p++] ?? 0);
  }
  if (p + len > end)
    throw new DecodeError(`${named(what, oid)}: length ${len} past the end of its container`);
  tlvEnd = p + len;
  return p;
}

/** INTEGER content [p, end) as net-snmp read it: two's complement, any length that stays a safe integer. */
function intAt(buf: Buffer, p: number, end: number, what: string, oid?: string): number {
  if (end <= p) throw new DecodeError(`${named(what, oid)}: zero-length integer`);
  let v = (buf[p] ?? 0) & 0x80 ? (buf[p] ?? 0) - 256 : (buf[p] ?? 0);
  for (let i = p + 1; i < end; i++) v = v * 256 + (buf[i] ?? 0);
  if (!Number.isSafeInteger(v)) throw new DecodeError(`${named(what, oid)}: integer too large`);
  return v;
}

function readIntField(buf: Buffer, p: number, end: number, what: string): number {
  const c = readHeader(buf, p, end, INTEGER, what);
  return intAt(buf, c, tlvEnd, what);
}

/** The message header. Throws DecodeError when it is not an SNMP message. */
export function decodeHeader(buf: Buffer): MessageHeader {
  const end = buf.length;
  let p = readHeader(buf, 0, end, SEQUENCE, 'message');
  const msgEnd = tlvEnd;
  const version = readIntField(buf, p, msgEnd, 'version');
  p = tlvEnd;
  if (version === 3) throw new DecodeError('an SNMPv3 message');
  let c = readHeader(buf, p, msgEnd, OCTET_STRING, 'community');
  const community = buf.subarray(c, tlvEnd);
  p = tlvEnd;
  if (p + 2 > msgEnd) throw new DecodeError('truncated PDU');
  const pdu = buf[p] ?? 0;
  c = readLengthAt(buf, p + 1, msgEnd, 'PDU');
  const pduEnd = tlvEnd;
  const requestId = readIntField(buf, c, pduEnd, 'request-id');
  const errorStatus = readIntField(buf, tlvEnd, pduEnd, 'error-status');
  const errorIndex = readIntField(buf, tlvEnd, pduEnd, 'error-index');
  const varbindsStart = readHeader(buf, tlvEnd, pduEnd, SEQUENCE, 'varbind list');
  return {
    version,
    community,
    pdu,
    requestId,
    errorStatus,
    errorIndex,
    varbindsStart,
    varbindsEnd: tlvEnd,
  };
}

/** Scratch for OID text: every sub-identifier byte gives at most 4 characters (digits and a dot). */
let scratch = Buffer.allocUnsafe(4096);

/** An OID's content bytes as dotted decimal, made in one string (X.690 8.19; RFC 2578 3.5: arcs < 2^32). */
export function oidText(buf: Buffer, start: number, end: number): string {
  if (end <= start) throw new DecodeError('empty OBJECT IDENTIFIER');
  if (scratch.length < (end - start) * 4 + 16) scratch = Buffer.allocUnsafe((end - start) * 4 + 16);
  const out = scratch;
  let n = 0;
  let acc = 0;
  let first = true;
  for (let i = start; i < end; i++) {
    const b = buf[i] ?? 0;
    acc = acc * 128 + (b & 0x7f);
    if (b & 0x80) {
      if (i === end - 1) throw new DecodeError('truncated OID sub-identifier');
      if (acc > 0xffffffff) throw new DecodeError('OID sub-identifier above 2^32 - 1');
      continue;
    }
    if (first) {
      // X.690 8.19.4: the first sub-identifier holds the first two arcs.
      const x = acc < 40 ? 0 : acc < 80 ? 1 : 2;
      out[n++] = 48 + x;
      out[n++] = 46;
      acc -= x * 40;
      first = false;
    } else {
      out[n++] = 46;
    }
    if (acc < 10) {
      out[n++] = 48 + acc;
    } else {
      const from = n;
      for (let v = acc; v > 0; v = Math.floor(v / 10)) out[n++] = 48 + (v % 10);
      // The digits went in least significant first: turn them round.
      for (let l = from, r = n - 1; l < r; l++, r--) {
        const t = out[l] ?? 0;
        out[l] = out[r] ?? 0;
        out[r] = t;
      }
    }
    acc = 0;
  }
  return latin1(out, n);
}

/**
 * The first `n` bytes as a latin1 string. Buffer's own latin1Slice (on Buffer.prototype in every Node
 * release, not in its typings) skips toString's encoding dispatch, measurable once per varbind.
 */
const latin1Slice = (Buffer.prototype as { latin1Slice?: (start: number, end: number) => string })
  .latin1Slice;
function latin1(buf: Buffer, n: number): string {
  return latin1Slice !== undefined ? latin1Slice.call(buf, 0, n) : buf.toString('latin1', 0, n);
}

/** Unsigned big-endian bytes as a bigint (Counter64: up to 8 bytes, 9 with a leading zero). */
function unsignedBig(buf: Buffer, p: number, end: number): bigint {
  const len = end - p;
  if (len <= 6) {
    let v = 0;
    for (let i = p; i < end; i++) v = v * 256 + (buf[i] ?? 0);
    return BigInt(v);
  }
  if (len <= 10) {
    let hi = 0;
    for (let i = p; i < end - 4; i++) hi = hi * 256 + (buf[i] ?? 0);
    return (BigInt(hi) << 32n) | BigInt(buf.readUInt32BE(end - 4));
  }
  let v = 0n;
  for (let i = p; i < end; i++) v = (v << 8n) | BigInt(buf[i] ?? 0);
  return v;
}

const TYPE_OF_TAG: Readonly<Record<number, VarBindType>> = {
  0x01: 'Boolean',
  0x02: 'Integer',
  0x03: 'BitString',
  0x04: 'OctetString',
  0x05: 'Null',
  0x06: 'OID',
  0x40: 'IpAddress',
  0x41: 'Counter32',
  0x42: 'Gauge32',
  0x43: 'TimeTicks',
  0x44: 'Opaque',
  0x46: 'Counter64',
  0x80: 'noSuchObject',
  0x81: 'noSuchInstance',
  0x82: 'endOfMibView',
};

/**
 * The varbinds of [start, end) as VarBinds, the same values net-snmp and session.ts's mapping gave:
 * OctetString and Opaque as Buffers (views on `buf`, no copy), Counter64 as a bigint, the 32-bit
 * unsigned types as numbers (read as net-snmp read them: signed, then taken modulo 2^32), OID and
 * IpAddress as dotted strings, the exceptions as null.
 */
export function decodeVarbinds(buf: Buffer, start: number, end: number): VarBind[] {
  const out: VarBind[] = [];
  let p = start;
  while (p < end) {
    const vbStart = readHeader(buf, p, end, SEQUENCE, 'varbind');
    const vbEnd = tlvEnd;
    const oidStart = readHeader(buf, vbStart, vbEnd, OID_TAG, 'varbind name');
    const oid = oidText(buf, oidStart, tlvEnd);
    const vp = tlvEnd;
    if (vp + 2 > vbEnd) throw new DecodeError(`varbind ${oid}: no value`);
    const tag = buf[vp] ?? 0;
    const type = TYPE_OF_TAG[tag];
    if (type === undefined) throw new DecodeError(`varbind ${oid}: unknown type 0x${tag.toString(16)}`);
    const c = readLengthAt(buf, vp + 1, vbEnd, 'varbind', oid);
    const e = tlvEnd;
    out.push({ oid, type, value: valueOf(buf, tag, c, e, oid) });
    p = vbEnd;
  }
  return out;
}

function valueOf(buf: Buffer, tag: number, c: number, e: number, oid: string): VarBind['value'] {
  switch (tag) {
    case 0x04: // OctetString
    case 0x44: // Opaque
      return buf.subarray(c, e);
    case 0x02: // Integer
      return intAt(buf, c, e, 'varbind', oid);
    case 0x41: // Counter32
    case 0x42: // Gauge32
    case 0x43: // TimeTicks
      return intAt(buf, c, e, 'varbind', oid) >>> 0;
    case 0x46: // Counter64
      if (e <= c) throw new DecodeError(`varbind ${oid}: empty Counter64`);
      return unsignedBig(buf, c, e);
    case 0x06: // OID
      return oidText(buf, c, e);
    case 0x40: // IpAddress
      if (e - c !== 4) throw new DecodeError(`varbind ${oid}: IpAddress of ${e - c} bytes`);
      return `${buf[c]}.${buf[c + 1]}.${buf[c + 2]}.${buf[c + 3]}`;
    case 0x01: // Boolean
      return intAt(buf, c, e, 'varbind', oid) !== 0;
    case 0x03: // BitString, as net-snmp gave it: the bits as a string of 0 and 1
      return bitString(buf, c, e);
    default: // Null and the three exceptions
      return null;
  }
}

function bitString(buf: Buffer, c: number, e: number): string {
  if (e <= c) return '';
  const unused = buf[c] ?? 0;
  let bits = '';
  for (let i = c + 1; i < e; i++) bits += (buf[i] ?? 0).toString(2).padStart(8, '0');
  return bits.slice(0, Math.max(0, bits.length - unused));
}
