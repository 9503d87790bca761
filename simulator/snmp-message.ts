/**
 * SNMP message layouts: community messages (RFC 1157 / RFC 1901) and SNMPv3 messages (RFC 3412 §6,
 * USM security parameters of RFC 3414 §2.4). Decoding and encoding only; no crypto and no I/O.
 */
import {
  BerReader,
  Tag,
  decodeSigned,
  encodeInteger,
  encodeNull,
  encodeOctets,
  encodeOid,
  encodeSequence,
  encodeTlv,
  encodeUnsigned,
  encodeUnsigned32,
  headerLength,
} from './ber.ts';
import { BerError } from './errors.ts';

export const PduType = {
  Get: 0xa0,
  GetNext: 0xa1,
  Response: 0xa2,
  Set: 0xa3,
  GetBulk: 0xa5,
  Inform: 0xa6,
  TrapV2: 0xa7,
  Report: 0xa8,
} as const;

export const ErrorStatus = {
  NoError: 0,
  TooBig: 1,
  NoSuchName: 2,
  GenErr: 5,
  NoAccess: 6,
  NotWritable: 17,
} as const;

/** A value as it goes on the wire. */
export type SnmpValue =
  | { readonly type: 'integer'; readonly value: number }
  | { readonly type: 'octets'; readonly value: string | Buffer }
  | { readonly type: 'oid'; readonly value: readonly number[] }
  | { readonly type: 'counter32' | 'gauge32' | 'timeticks'; readonly value: number }
  | { readonly type: 'counter64'; readonly value: bigint }
  | { readonly type: 'null' | 'noSuchObject' | 'noSuchInstance' | 'endOfMibView' };

export interface Varbind {
  readonly oid: readonly number[];
  readonly value: SnmpValue;
}

export interface Pdu {
  readonly type: number;
  readonly requestId: number;
  /** errorStatus, or non-repeaters in a GetBulkRequest. */
  readonly errorStatus: number;
  /** errorIndex, or max-repetitions in a GetBulkRequest. */
  readonly errorIndex: number;
  readonly varbinds: readonly Varbind[];
}

export interface CommunityMessage {
  /** 0 = SNMPv1, 1 = SNMPv2c. */
  readonly version: 0 | 1;
  readonly community: Buffer;
  readonly pdu: Pdu;
}

export interface UsmParameters {
  readonly engineId: Buffer;
  readonly engineBoots: number;
  readonly engineTime: number;
  readonly userName: Buffer;
  readonly authParams: Buffer;
  readonly privParams: Buffer;
}

export interface V3Message {
  readonly version: 3;
  readonly msgId: number;
  readonly maxSize: number;
  readonly flags: number;
  readonly securityModel: number;
  readonly usm: UsmParameters;
  /** Offset of the authentication parameters' value in the datagram (for HMAC verification). */
  readonly authParamsOffset: number;
  /** Plain scoped PDU bytes (when not encrypted) or the ciphertext (when the priv flag is set). */
  readonly data: Buffer;
}

export const MsgFlags = { Auth: 0x01, Priv: 0x02, Reportable: 0x04 } as const;

export interface ScopedPdu {
  readonly contextEngineId: Buffer;
  readonly contextName: Buffer;
  readonly pdu: Pdu;
}

export type SnmpMessage = CommunityMessage | V3Message;

export function decodeMessage(buf: Buffer): SnmpMessage {
  const top = new BerReader(buf).readConstructed(Tag.Sequence);
  const version = top.readInteger();
  if (version === 0 || version === 1) {
    const community = top.readOctets();
    return { version, community, pdu: decodePdu(top) };
  }
  if (version !== 3) throw new BerError(`unsupported SNMP version ${version}`);
  const global = top.readConstructed(Tag.Sequence);
  const msgId = global.readInteger();
  const maxSize = global.readInteger();
  const flagsOctets = global.readOctets();
  const securityModel = global.readInteger();
  const secTlv = top.readTlv(Tag.OctetString);
  const sec = new BerReader(buf, secTlv.valueStart, secTlv.end).readConstructed(Tag.Sequence);
  const engineId = sec.readOctets();
  const engineBoots = sec.readInteger();
  const engineTime = sec.readInteger();
  const userName = sec.readOctets();
  const authTlv = sec.readTlv(Tag.OctetString);
  const privParams = sec.readOctets();
  const dataTag = top.peekTag();
  const dataTlv = top.readTlv();
  if (dataTag !== Tag.Sequence && dataTag !== Tag.OctetString) throw new BerError('bad msgData');
  const data =
    dataTag === Tag.Sequence
      ? buf.subarray(dataTlv.start, dataTlv.end)
      : buf.subarray(dataTlv.valueStart, dataTlv.end);
  return {
    version: 3,
    msgId,
    maxSize,
    flags: flagsOctets[0] ?? 0,
    securityModel,
    usm: {
      engineId,
      engineBoots,
      engineTime,
      userName,
      authParams: buf.subarray(authTlv.valueStart, authTlv.end),
      privParams,
    },
    authParamsOffset: authTlv.valueStart,
    data,
  };
}

export function decodeScopedPdu(buf: Buffer): ScopedPdu {
  const r = new BerReader(buf).readConstructed(Tag.Sequence);
  const contextEngineId = r.readOctets();
  const contextName = r.readOctets();
  return { contextEngineId, contextName, pdu: decodePdu(r) };
}

function decodePdu(r: BerReader): Pdu {
  const type = r.peekTag();
  const p = r.readConstructed(type);
  const requestId = p.readInteger();
  const errorStatus = p.readInteger();
  const errorIndex = p.readInteger();
  const vbl = p.readTlv(Tag.Sequence);
  const varbinds = decodeVarbindList(r.buf, vbl.valueStart, vbl.end);
  return { type, requestId, errorStatus, errorIndex, varbinds };
}

const NULL_VALUE: SnmpValue = { type: 'null' };

/** The varbinds of a request's varbind list (the content bytes of its SEQUENCE); values are not kept. */
export function decodeVarbindList(buf: Buffer, start: number, end: number): Varbind[] {
  const vbl = new BerReader(buf, start, end);
  const varbinds: Varbind[] = [];
  while (!vbl.atEnd()) {
    const vb = vbl.readConstructed(Tag.Sequence);
    const oid = vb.readOid();
    vb.readTlv(); // the request's value (NULL for reads): not needed
    varbinds.push({ oid, value: NULL_VALUE });
  }
  return varbinds;
}

/**
 * The header fields of a community message (SNMPv1 / SNMPv2c), read in place: where the community and
 * the varbind list are, no copies and no OID decoding. The agent's hot path (snmp-agent.ts): a poller
 * sends the same varbind list every interval, so its bytes key a cached answer plan (mib-view.ts) and
 * the OIDs are decoded only on a miss (decodeVarbindList).
 */
export interface CommunityRequest {
  readonly version: number;
  readonly communityStart: number;
  readonly communityEnd: number;
  readonly type: number;
  readonly requestId: number;
  /** errorStatus, or non-repeaters in a GetBulkRequest. */
  readonly errorStatus: number;
  /** errorIndex, or max-repetitions in a GetBulkRequest. */
  readonly errorIndex: number;
  /** The content of the varbind list SEQUENCE. */
  readonly vblStart: number;
  readonly vblEnd: number;
}

/**
 * Read a community message's header as decodeMessage would, or undefined when it is not one this reader
 * takes (SNMPv3, an unusual encoding, anything malformed): the caller then goes the generic way, which
 * decides, with the same rules, whether to answer. The varbind list's inside is not checked here.
 */
export function scanCommunityRequest(buf: Buffer): CommunityRequest | undefined {
  const end = buf.length;
  // SEQUENCE { INTEGER version, OCTET STRING community, PDU { INTEGER x3, SEQUENCE varbinds } }
  let p = tlvStart(buf, 0, end, Tag.Sequence);
  if (p < 0) return undefined;
  const msgEnd = tlvEndAt;
  let q = tlvStart(buf, p, msgEnd, Tag.Integer);
  if (q < 0 || tlvEndAt - q < 1 || tlvEndAt - q > 6) return undefined;
  const version = decodeSigned(buf, q, tlvEndAt);
  if (version !== 0 && version !== 1) return undefined;
  p = tlvEndAt;
  q = tlvStart(buf, p, msgEnd, Tag.OctetString);
  if (q < 0) return undefined;
  const communityStart = q;
  const communityEnd = tlvEndAt;
  p = tlvEndAt;
  if (p >= msgEnd) return undefined;
  const type = buf[p] ?? 0;
  q = tlvStart(buf, p, msgEnd, type);
  if (q < 0) return undefined;
  const pduEnd = tlvEndAt;
  const ints = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    q = tlvStart(buf, q, pduEnd, Tag.Integer);
    if (q < 0 || tlvEndAt - q < 1 || tlvEndAt - q > 6) return undefined;
    ints[i] = decodeSigned(buf, q, tlvEndAt);
    q = tlvEndAt;
  }
  const vblStart = tlvStart(buf, q, pduEnd, Tag.Sequence);
  if (vblStart < 0) return undefined;
  return {
    version,
    communityStart,
    communityEnd,
    type,
    requestId: ints[0] ?? 0,
    errorStatus: ints[1] ?? 0,
    errorIndex: ints[2] ?? 0,
    vblStart,
    vblEnd: tlvEndAt,
  };
}

/** Set by tlvStart: the end of the value it found. One reader at a time (synchronous, no re-entry). */
let tlvEndAt = 0;

/** The value start of the TLV at `p` (tag `tag`, definite length inside `end`), or -1. */
function tlvStart(buf: Buffer, p: number, end: number, tag: number): number {
  if (p + 2 > end || buf[p] !== tag || (tag & 0x1f) === 0x1f) return -1;
  let len = buf[p + 1] ?? 0;
  p += 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > end) return -1;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[p++] ?? 0);
  }
  if (p + len > end) return -1;
  tlvEndAt = p + len;
  return p;
}

// ---- encoding ----

export function encodeValue(v: SnmpValue): Buffer {
  switch (v.type) {
    case 'integer':
      return encodeInteger(v.value);
    case 'octets':
      return encodeOctets(v.value);
    case 'oid':
      return encodeOid(v.value);
    case 'counter32':
      return encodeUnsigned32(Tag.Counter32, v.value);
    case 'gauge32':
      return encodeUnsigned32(Tag.Gauge32, v.value);
    case 'timeticks':
      return encodeUnsigned32(Tag.TimeTicks, v.value);
    case 'counter64':
      return encodeUnsigned(Tag.Counter64, v.value);
    case 'null':
      return encodeNull();
    case 'noSuchObject':
      return encodeNull(Tag.NoSuchObject);
    case 'noSuchInstance':
      return encodeNull(Tag.NoSuchInstance);
    case 'endOfMibView':
      return encodeNull(Tag.EndOfMibView);
  }
}

export function encodeVarbind(vb: Varbind): Buffer {
  return encodeSequence([encodeOid(vb.oid), encodeValue(vb.value)]);
}

export function encodePdu(pdu: Pdu, encodedVarbinds?: readonly Buffer[]): Buffer {
  return encodeSequence(
    [
      encodeInteger(pdu.requestId),
      encodeInteger(pdu.errorStatus),
      encodeInteger(pdu.errorIndex),
      encodeSequence(encodedVarbinds ?? pdu.varbinds.map(encodeVarbind)),
    ],
    pdu.type,
  );
}

/**
 * A community message's response, written in one go: `varbinds` are the encoded varbinds (the content of
 * the varbind list), `community` the request's bytes. The same bytes as encodeCommunityMessage over
 * encodePdu (test/unit/simulator/answer-bytes.test.ts compares them); one allocation.
 */
export function encodeCommunityResponse(
  version: 0 | 1,
  community: Buffer,
  requestId: number,
  errorStatus: number,
  errorIndex: number,
  varbinds: Buffer,
): Buffer {
  const ints = intTlvSize(requestId) + intTlvSize(errorStatus) + intTlvSize(errorIndex);
  const pduBody = ints + 1 + lengthSize(varbinds.length) + varbinds.length;
  const msgBody = 3 + 1 + lengthSize(community.length) + community.length + 1 + lengthSize(pduBody) + pduBody;
  const out = Buffer.allocUnsafe(1 + lengthSize(msgBody) + msgBody);
  let p = 0;
  out[p++] = Tag.Sequence;
  p = writeLength(out, p, msgBody);
  p = writeInt(out, p, version);
  out[p++] = Tag.OctetString;
  p = writeLength(out, p, community.length);
  p += community.copy(out, p);
  out[p++] = PduType.Response;
  p = writeLength(out, p, pduBody);
  p = writeInt(out, p, requestId);
  p = writeInt(out, p, errorStatus);
  p = writeInt(out, p, errorIndex);
  out[p++] = Tag.Sequence;
  p = writeLength(out, p, varbinds.length);
  varbinds.copy(out, p);
  return out;
}

function lengthSize(len: number): number {
  return len < 0x80 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 4;
}

/** X.690 definite length, as ber.ts writes it. */
export function writeLength(buf: Buffer, p: number, len: number): number {
  if (len < 0x80) buf[p++] = len;
  else if (len < 0x100) {
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

/** Content bytes of a minimal two's complement INTEGER (X.690 8.3.2), any safe integer. */
function intContentSize(v: number): number {
  let n = 1;
  let x = v;
  // Shrink towards 0 or -1 a byte at a time, as encodeInteger does.
  for (;;) {
    const b = ((x % 256) + 256) % 256;
    x = Math.floor(x / 256);
    if ((x === 0 && (b & 0x80) === 0) || (x === -1 && (b & 0x80) !== 0)) return n;
    n++;
  }
}

function intTlvSize(v: number): number {
  return 2 + intContentSize(v);
}

function writeInt(buf: Buffer, p: number, v: number): number {
  if (!Number.isSafeInteger(v)) throw new BerError(`not an integer: ${v}`);
  const n = intContentSize(v);
  buf[p++] = Tag.Integer;
  buf[p++] = n;
  let x = v;
  for (let i = n - 1; i >= 0; i--) {
    buf[p + i] = ((x % 256) + 256) % 256;
    x = Math.floor(x / 256);
  }
  return p + n;
}

export function encodeCommunityMessage(version: 0 | 1, community: Buffer, pduBytes: Buffer): Buffer {
  return encodeSequence([encodeInteger(version), encodeOctets(community), pduBytes]);
}

export function encodeScopedPdu(contextEngineId: Buffer, contextName: Buffer, pduBytes: Buffer): Buffer {
  return encodeSequence([encodeOctets(contextEngineId), encodeOctets(contextName), pduBytes]);
}

/**
 * An SNMPv3 message. `authParams` is a zero-filled placeholder of the digest's length (or empty); the
 * returned offset says where it is, so the caller can write the HMAC into the finished datagram.
 */
export function encodeV3Message(m: {
  msgId: number;
  maxSize: number;
  flags: number;
  usm: UsmParameters;
  /** A plain scoped PDU (SEQUENCE bytes), or ciphertext that will be wrapped in an OCTET STRING. */
  data: Buffer;
  encrypted: boolean;
}): { bytes: Buffer; authParamsOffset: number } {
  const version = encodeInteger(3);
  const global = encodeSequence([
    encodeInteger(m.msgId),
    encodeInteger(m.maxSize),
    encodeOctets(Buffer.from([m.flags])),
    encodeInteger(3), // USM
  ]);
  const pre = [
    encodeOctets(m.usm.engineId),
    encodeInteger(m.usm.engineBoots),
    encodeInteger(m.usm.engineTime),
    encodeOctets(m.usm.userName),
  ];
  const authTlv = encodeOctets(m.usm.authParams);
  const privTlv = encodeOctets(m.usm.privParams);
  const secSeq = encodeSequence([...pre, authTlv, privTlv]);
  const secOctets = encodeTlv(Tag.OctetString, secSeq);
  const data = m.encrypted ? encodeOctets(m.data) : m.data;
  const content = Buffer.concat([version, global, secOctets, data]);
  const bytes = encodeTlv(Tag.Sequence, content);
  const preLen = pre.reduce((n, b) => n + b.length, 0);
  // Walk the layout: message header, version, global data, the OCTET STRING and SEQUENCE headers of the
  // security parameters, the fields before the auth parameters, then their own header.
  const offset =
    headerLength(content.length) +
    version.length +
    global.length +
    headerLength(secSeq.length) +
    headerLength(preLen + authTlv.length + privTlv.length) +
    preLen +
    headerLength(m.usm.authParams.length);
  return { bytes, authParamsOffset: offset };
}
