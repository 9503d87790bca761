/**
 * What a simulated device serves: a lexicographically sorted list of OID instances (RFC 3416 §4.2.2
 * ordering), each with a getter over the device's values at request time, and the GET / GETNEXT /
 * GETBULK semantics over it. The list depends only on the device's shape (profile, legacy, number of
 * interfaces, Wi-Fi rows), so devices of the same shape share one list.
 */
import type {
  DeviceModel,
  DeviceValues,
  InterfaceModel,
  InterfaceValues,
  WifiValues,
} from './device-model.ts';
import { Tag, encodeOid } from './ber.ts';
import { ErrorStatus, PduType, encodeValue, encodeVarbind } from './snmp-message.ts';
import type { Pdu, SnmpValue } from './snmp-message.ts';

type Getter = (m: DeviceModel, v: () => DeviceValues) => SnmpValue;

export interface MibEntry {
  readonly oid: readonly number[];
  /** The OID's TLV, encoded once when the view is built (shared by every device of the shape). */
  readonly oidTlv: Buffer;
  readonly get: Getter;
}

export interface MibView {
  readonly entries: readonly MibEntry[];
  /** OIDs of the objects (an instance without its last arc), for noSuchObject vs noSuchInstance. */
  readonly objects: ReadonlySet<string>;
}

export const OID = {
  system: [1, 3, 6, 1, 2, 1, 1],
  ifNumber: [1, 3, 6, 1, 2, 1, 2, 1, 0],
  ifEntry: [1, 3, 6, 1, 2, 1, 2, 2, 1],
  ifXEntry: [1, 3, 6, 1, 2, 1, 31, 1, 1, 1],
  mtxrWlApEntry: [1, 3, 6, 1, 4, 1, 14988, 1, 1, 1, 3, 1],
  unifiVapEntry: [1, 3, 6, 1, 4, 1, 41112, 1, 6, 1, 2, 1],
  airmaxStationCount: [1, 3, 6, 1, 4, 1, 41112, 1, 4, 5, 1, 15],
  bsnDot11EssEntry: [1, 3, 6, 1, 4, 1, 14179, 2, 1, 1, 1],
} as const;

export function compareOid(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

const int = (value: number): SnmpValue => ({ type: 'integer', value });
const str = (value: string): SnmpValue => ({ type: 'octets', value });
const c32 = (value: number): SnmpValue => ({ type: 'counter32', value });
const g32 = (value: number): SnmpValue => ({ type: 'gauge32', value });
const c64 = (value: bigint): SnmpValue => ({ type: 'counter64', value });

const views = new Map<string, MibView>();

export function mibViewFor(model: DeviceModel): MibView {
  const key = `${model.profile}:${model.legacy ? 1 : 0}:${model.interfaces.length}:${model.wifi.map((w) => w.index).join(',')}`;
  let view = views.get(key);
  if (!view) {
    view = buildView(model);
    views.set(key, view);
  }
  return view;
}

function buildView(shape: DeviceModel): MibView {
  const entries: MibEntry[] = [];
  const add = (oid: readonly number[], get: Getter): void => {
    entries.push({ oid, oidTlv: encodeOid(oid), get });
  };
  // SNMPv2-MIB system group
  add([...OID.system, 1, 0], (m) => str(m.sysDescr));
  add([...OID.system, 2, 0], (m) => ({ type: 'oid', value: m.sysObjectId }));
  add([...OID.system, 3, 0], (_m, v) => ({ type: 'timeticks', value: v().sysUpTimeCs }));
  add([...OID.system, 5, 0], (m) => str(m.sysName));
  add([...OID.system, 6, 0], (m) => str(m.sysLocation));
  add(OID.ifNumber, (m) => int(m.interfaces.length));

  // IF-MIB ifTable and ifXTable. Positions, not ifIndex values, key the getters: same shape, same positions.
  const ifCol = (col: number, f: (i: InterfaceModel, v: () => InterfaceValues) => SnmpValue): void => {
    shape.interfaces.forEach((ifc, pos) => {
      add([...OID.ifEntry, col, ifc.ifIndex], (m, v) => f(ifAt(m, pos), () => ifValuesAt(v(), pos)));
    });
  };
  const ifXCol = (col: number, f: (i: InterfaceModel, v: () => InterfaceValues) => SnmpValue): void => {
    shape.interfaces.forEach((ifc, pos) => {
      add([...OID.ifXEntry, col, ifc.ifIndex], (m, v) => f(ifAt(m, pos), () => ifValuesAt(v(), pos)));
    });
  };
  ifCol(1, (i) => int(i.ifIndex));
  ifCol(2, (i) => str(i.descr));
  ifCol(3, (i) => int(i.type));
  ifCol(5, (i) => g32(Math.min(i.speedBps, 4294967295)));
  ifCol(7, (i) => int(i.adminStatus));
  ifCol(8, (i) => int(i.operStatus));
  ifCol(10, (_i, v) => c32(v().inOctets32));
  ifCol(11, (_i, v) => c32(Number(v().inUcastPkts % 4294967296n)));
  ifCol(13, (_i, v) => c32(v().inDiscards));
  ifCol(14, (_i, v) => c32(v().inErrors));
  ifCol(16, (_i, v) => c32(v().outOctets32));
  ifCol(17, (_i, v) => c32(Number(v().outUcastPkts % 4294967296n)));
  ifCol(19, (_i, v) => c32(v().outDiscards));
  ifCol(20, (_i, v) => c32(v().outErrors));
  ifXCol(1, (i) => str(i.name));
  if (!shape.legacy) {
    ifXCol(6, (_i, v) => c64(v().inOctets));
    ifXCol(7, (_i, v) => c64(v().inUcastPkts));
    ifXCol(10, (_i, v) => c64(v().outOctets));
    ifXCol(11, (_i, v) => c64(v().outUcastPkts));
  }
  ifXCol(15, (i) => g32(Math.round(i.speedBps / 1_000_000)));
  ifXCol(18, (i) => str(i.alias));

  // Vendor Wi-Fi tables, with the value types the real agents use (../shared/devices/*.snmprec).
  const wifiCol = (
    base: readonly number[],
    col: number | undefined,
    f: (w: WifiValues) => SnmpValue,
  ): void => {
    shape.wifi.forEach((w, pos) => {
      const oid = col === undefined ? [...base, w.index] : [...base, col, w.index];
      add(oid, (_m, v) => f(wifiAt(v(), pos)));
    });
  };
  switch (shape.profile) {
    case 'mikrotik-routeros':
      wifiCol(OID.mtxrWlApEntry, 4, (w) => str(w.ssid)); // mtxrWlApSsid
      wifiCol(OID.mtxrWlApEntry, 6, (w) => c32(w.clients)); // mtxrWlApClientCount
      break;
    case 'unifi-ap':
      wifiCol(OID.unifiVapEntry, 6, (w) => str(w.ssid)); // unifiVapEssId
      wifiCol(OID.unifiVapEntry, 8, (w) => int(w.clients)); // unifiVapNumStations
      wifiCol(OID.unifiVapEntry, 9, (w) => str(w.radio)); // unifiVapRadio
      break;
    case 'airmax':
      wifiCol(OID.airmaxStationCount, undefined, (w) => g32(w.clients));
      break;
    case 'cisco-wlc':
      wifiCol(OID.bsnDot11EssEntry, 2, (w) => str(w.ssid)); // bsnDot11EssSsid
      wifiCol(OID.bsnDot11EssEntry, 38, (w) => c32(w.clients)); // bsnDot11EssNumberOfMobileStations
      break;
    case 'generic':
      break;
  }
  entries.sort((a, b) => compareOid(a.oid, b.oid));
  return { entries, objects: new Set(entries.map((e) => e.oid.slice(0, -1).join('.'))) };
}

function ifAt(m: DeviceModel, pos: number): InterfaceModel {
  const i = m.interfaces[pos];
  if (!i) throw new RangeError(`${m.id}: no interface at position ${pos}`);
  return i;
}
function ifValuesAt(v: DeviceValues, pos: number): InterfaceValues {
  const i = v.interfaces[pos];
  if (!i) throw new RangeError(`no interface values at position ${pos}`);
  return i;
}
function wifiAt(v: DeviceValues, pos: number): WifiValues {
  const w = v.wifi[pos];
  if (!w) throw new RangeError(`no Wi-Fi values at position ${pos}`);
  return w;
}

function findExact(entries: readonly MibEntry[], oid: readonly number[]): MibEntry | undefined {
  let lo = 0;
  let hi = entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const e = entries[mid];
    if (!e) break;
    const c = compareOid(e.oid, oid);
    if (c === 0) return e;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** The first entry strictly after `oid`, or undefined at the end of the MIB view. */
function findNext(entries: readonly MibEntry[], oid: readonly number[]): MibEntry | undefined {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const e = entries[mid];
    if (e && compareOid(e.oid, oid) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return entries[lo];
}

export interface PduAnswer {
  readonly errorStatus: number;
  readonly errorIndex: number;
  /** Encoded varbinds, in order. */
  readonly varbinds: readonly Buffer[];
  /** The same varbinds as one contiguous run of bytes (what goes into the response's varbind list). */
  readonly bytes?: Buffer | undefined;
}

/** Cap on varbinds in one GETBULK answer, whatever max-repetitions asks for. */
const MAX_BULK_VARBINDS = 2048;

/**
 * The varbinds of one answer, written straight into one scratch buffer and copied out once: the OID TLVs
 * come pre-encoded from the view and the common value types (32-bit unsigned, Counter64, small INTEGER,
 * OCTET STRING) are written in place, so an answer of 150 varbinds costs two allocations instead of
 * about eight per varbind. Other values go through the generic encoder (snmp-message.ts encodeValue);
 * the bytes are the same either way (test/unit/simulator/answer-bytes.test.ts compares them).
 */
class VarbindWriter {
  /** Shared by every answer of the process: an answer is built and copied out synchronously. */
  static #scratch = Buffer.allocUnsafe(70_000);
  static #u64 = Buffer.alloc(9);
  readonly #budget: number;
  readonly #ends: number[] = [];
  #pos = 0;

  constructor(budget: number) {
    this.#budget = Math.min(budget, VarbindWriter.#scratch.length);
  }

  get count(): number {
    return this.#ends.length;
  }

  /** Append one varbind; false (nothing written) when it does not fit the budget. */
  push(oidTlv: Buffer, value: SnmpValue): boolean {
    const buf = VarbindWriter.#scratch;
    const fast = fastValueSize(value);
    const generic = fast < 0 ? encodeValue(value) : undefined;
    const valueSize = generic ? generic.length : fast;
    const content = oidTlv.length + valueSize;
    const total = 1 + lengthSize(content) + content;
    if (this.#pos + total > this.#budget) return false;
    let p = this.#pos;
    buf[p++] = Tag.Sequence;
    p = writeLength(buf, p, content);
    p += oidTlv.copy(buf, p);
    if (generic) p += generic.copy(buf, p);
    else p = writeFastValue(buf, p, value, VarbindWriter.#u64);
    this.#pos = p;
    this.#ends.push(p);
    return true;
  }

  finish(errorStatus: number, errorIndex: number): PduAnswer {
    const bytes = Buffer.from(VarbindWriter.#scratch.subarray(0, this.#pos));
    const varbinds: Buffer[] = [];
    let start = 0;
    for (const end of this.#ends) {
      varbinds.push(bytes.subarray(start, end));
      start = end;
    }
    return { errorStatus, errorIndex, varbinds, bytes };
  }
}

function lengthSize(len: number): number {
  return len < 0x80 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 4;
}

/** X.690 definite length, as ber.ts writes it. */
function writeLength(buf: Buffer, p: number, len: number): number {
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

const TAG_OF: Readonly<Record<'counter32' | 'gauge32' | 'timeticks', number>> = {
  counter32: Tag.Counter32,
  gauge32: Tag.Gauge32,
  timeticks: Tag.TimeTicks,
};

function unsigned32Size(value: number): number {
  const v = value >>> 0;
  return v < 0x80 ? 1 : v < 0x8000 ? 2 : v < 0x800000 ? 3 : v < 0x80000000 ? 4 : 5;
}

/** Content bytes of a signed INTEGER of 1..4 bytes (X.690 8.3, minimal), or -1 when it needs more. */
function int32Size(v: number): number {
  if (!Number.isInteger(v)) return -1;
  if (v >= -0x80 && v < 0x80) return 1;
  if (v >= -0x8000 && v < 0x8000) return 2;
  if (v >= -0x800000 && v < 0x800000) return 3;
  if (v >= -0x80000000 && v < 0x80000000) return 4;
  return -1;
}

const MAX_U64 = 0xffffffffffffffffn;

/** The whole TLV size of a value the fast path writes, or -1 for the generic encoder. */
function fastValueSize(v: SnmpValue): number {
  switch (v.type) {
    case 'counter32':
    case 'gauge32':
    case 'timeticks':
      return 2 + unsigned32Size(v.value);
    case 'integer': {
      const n = int32Size(v.value);
      return n < 0 ? -1 : 2 + n;
    }
    case 'octets': {
      const n = typeof v.value === 'string' ? Buffer.byteLength(v.value, 'utf8') : v.value.length;
      return 1 + lengthSize(n) + n;
    }
    case 'counter64': {
      if (v.value < 0n || v.value > MAX_U64) return -1;
      return 2 + u64Size(v.value);
    }
    default:
      return -1;
  }
}

/** Content bytes of an unsigned BER value: minimal, with a leading 0 when the top bit is set. */
function u64Size(v: bigint): number {
  let n = 1;
  let top = v;
  while (top > 0xffn) {
    top >>= 8n;
    n++;
  }
  return top & 0x80n ? n + 1 : n;
}

function writeFastValue(buf: Buffer, p: number, v: SnmpValue, u64: Buffer): number {
  switch (v.type) {
    case 'counter32':
    case 'gauge32':
    case 'timeticks': {
      const x = v.value >>> 0;
      const n = unsigned32Size(x);
      buf[p++] = TAG_OF[v.type];
      buf[p++] = n;
      // Big-endian; a 5-byte form starts with the 0 that keeps the value positive.
      for (let i = n - 1; i >= 0; i--) buf[p++] = i >= 4 ? 0 : (x >>> (8 * i)) & 0xff;
      return p;
    }
    case 'integer': {
      const n = int32Size(v.value);
      buf[p++] = Tag.Integer;
      buf[p++] = n;
      for (let i = n - 1; i >= 0; i--) buf[p++] = (v.value >> (8 * i)) & 0xff;
      return p;
    }
    case 'octets': {
      buf[p++] = Tag.OctetString;
      if (typeof v.value === 'string') {
        const n = Buffer.byteLength(v.value, 'utf8');
        p = writeLength(buf, p, n);
        return p + buf.write(v.value, p, 'utf8');
      }
      p = writeLength(buf, p, v.value.length);
      return p + v.value.copy(buf, p);
    }
    case 'counter64': {
      const n = u64Size(v.value);
      u64.writeBigUInt64BE(v.value, 1);
      u64[0] = 0;
      buf[p++] = Tag.Counter64;
      buf[p++] = n;
      return p + u64.copy(buf, p, 9 - n, 9);
    }
    default:
      throw new RangeError(`no fast encoding for ${v.type}`);
  }
}

/**
 * Answer a GET, GETNEXT or GETBULK against a view. `budget` is the space left for varbinds in the
 * response datagram: GETBULK stops early to fit (RFC 3416 §4.2.3); GET/GETNEXT answer tooBig.
 */
export function answerPdu(
  view: MibView,
  model: DeviceModel,
  values: () => DeviceValues,
  pdu: Pdu,
  budget: number,
): PduAnswer {
  const out = new VarbindWriter(budget);
  const tooBig: PduAnswer = { errorStatus: ErrorStatus.TooBig, errorIndex: 0, varbinds: [] };
  const ok = (): PduAnswer => out.finish(ErrorStatus.NoError, 0);
  /** The varbind after `oid` (its entry, or endOfMibView at `oid`); returns the OID the cursor moves to. */
  const pushNext = (oid: readonly number[]): readonly number[] | false => {
    const e = findNext(view.entries, oid);
    if (e) return out.push(e.oidTlv, e.get(model, values)) && e.oid;
    return out.push(encodeOid(oid), END_OF_MIB_VIEW) && END;
  };

  switch (pdu.type) {
    case PduType.Get:
      for (const req of pdu.varbinds) {
        const e = findExact(view.entries, req.oid);
        const fits = e
          ? out.push(e.oidTlv, e.get(model, values))
          : out.push(encodeOid(req.oid), {
              type: view.objects.has(req.oid.slice(0, -1).join('.')) ? 'noSuchInstance' : 'noSuchObject',
            });
        if (!fits) return tooBig;
      }
      break;
    case PduType.GetNext:
      for (const req of pdu.varbinds) if (pushNext(req.oid) === false) return tooBig;
      break;
    case PduType.GetBulk: {
      const n = pdu.varbinds.length;
      const nonRepeaters = Math.min(Math.max(0, pdu.errorStatus), n);
      const maxRepetitions = Math.max(0, pdu.errorIndex);
      for (let i = 0; i < nonRepeaters; i++) {
        const req = pdu.varbinds[i];
        if (req && pushNext(req.oid) === false) return out.count === 0 ? tooBig : ok();
      }
      const cursors = pdu.varbinds.slice(nonRepeaters).map((v) => v.oid);
      if (cursors.length === 0) break;
      for (let r = 0; r < maxRepetitions; r++) {
        let allEnded = true;
        for (let c = 0; c < cursors.length; c++) {
          if (out.count >= MAX_BULK_VARBINDS) return ok();
          const at = cursors[c] ?? [];
          const moved = pushNext(at);
          if (moved === false) return out.count === 0 ? tooBig : ok();
          // At the end of the view a cursor stays where it was (endOfMibView names the OID asked).
          if (moved !== END) {
            allEnded = false;
            cursors[c] = moved;
          }
        }
        // RFC 3416 §4.2.3: the agent may stop once every repeater has reached the end of the view.
        if (allEnded) break;
      }
      break;
    }
    default:
      // SET and anything else: the simulator is read-only (RFC 3416 §4.2.5, notWritable).
      return {
        errorStatus: ErrorStatus.NotWritable,
        errorIndex: 1,
        varbinds: pdu.varbinds.map(encodeVarbind),
      };
  }
  return ok();
}

const END_OF_MIB_VIEW: SnmpValue = { type: 'endOfMibView' };
/** pushNext's answer for a cursor at the end of the view. */
const END: readonly number[] = [];
