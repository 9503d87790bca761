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
import { ErrorStatus, PduType, encodeValue, encodeVarbind, writeLength } from './snmp-message.ts';
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
  // A column reads either the interface's model (names, types, speeds) or its values now (counters), each
  // getter a plain call: no closure made per varbind answered.
  const ifStatic = (entry: readonly number[], col: number, f: (i: InterfaceModel) => SnmpValue): void => {
    shape.interfaces.forEach((ifc, pos) => {
      add([...entry, col, ifc.ifIndex], (m) => f(ifAt(m, pos)));
    });
  };
  const ifLive = (entry: readonly number[], col: number, f: (v: InterfaceValues) => SnmpValue): void => {
    shape.interfaces.forEach((ifc, pos) => {
      add([...entry, col, ifc.ifIndex], (_m, v) => f(ifValuesAt(v(), pos)));
    });
  };
  const T = OID.ifEntry;
  const X = OID.ifXEntry;
  ifStatic(T, 1, (i) => int(i.ifIndex));
  ifStatic(T, 2, (i) => str(i.descr));
  ifStatic(T, 3, (i) => int(i.type));
  ifStatic(T, 5, (i) => g32(Math.min(i.speedBps, 4294967295)));
  ifStatic(T, 7, (i) => int(i.adminStatus));
  ifStatic(T, 8, (i) => int(i.operStatus));
  ifLive(T, 10, (v) => c32(v.inOctets32));
  ifLive(T, 11, (v) => c32(Number(v.inUcastPkts % 4294967296n)));
  ifLive(T, 13, (v) => c32(v.inDiscards));
  ifLive(T, 14, (v) => c32(v.inErrors));
  ifLive(T, 16, (v) => c32(v.outOctets32));
  ifLive(T, 17, (v) => c32(Number(v.outUcastPkts % 4294967296n)));
  ifLive(T, 19, (v) => c32(v.outDiscards));
  ifLive(T, 20, (v) => c32(v.outErrors));
  ifStatic(X, 1, (i) => str(i.name));
  if (!shape.legacy) {
    ifLive(X, 6, (v) => c64(v.inOctets));
    ifLive(X, 7, (v) => c64(v.inUcastPkts));
    ifLive(X, 10, (v) => c64(v.outOctets));
    ifLive(X, 11, (v) => c64(v.outUcastPkts));
  }
  ifStatic(X, 15, (i) => g32(Math.round(i.speedBps / 1_000_000)));
  ifStatic(X, 18, (i) => str(i.alias));

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
 * The varbinds of one answer, written straight into one scratch buffer: the OID TLVs come pre-encoded
 * from the view and the common value types (32-bit unsigned, Counter64, small INTEGER, OCTET STRING) are
 * written in place, so an answer of 150 varbinds costs no allocation per varbind. Other values go
 * through the generic encoder (snmp-message.ts encodeValue); the bytes are the same either way
 * (test/unit/simulator/answer-bytes.test.ts compares them). One writer is shared by the process: an
 * answer is built and copied out synchronously (reset() starts the next one).
 */
export class AnswerWriter {
  static readonly #scratch = Buffer.allocUnsafe(70_000);
  static readonly #u64 = Buffer.alloc(9);
  #budget = 0;
  #count = 0;
  #pos = 0;
  /** Where each varbind ends: kept only for finish() (the object API); the wire path needs none. */
  #ends: number[] | undefined;

  /** Start an answer of at most `budget` bytes of varbinds; `keepEnds` for finish()'s varbind list. */
  reset(budget: number, keepEnds = false): this {
    this.#budget = Math.min(budget, AnswerWriter.#scratch.length);
    this.#count = 0;
    this.#pos = 0;
    this.#ends = keepEnds ? [] : undefined;
    return this;
  }

  get count(): number {
    return this.#count;
  }

  /** The varbinds written so far: a view of the shared scratch buffer, valid until the next reset(). */
  get bytes(): Buffer {
    return AnswerWriter.#scratch.subarray(0, this.#pos);
  }

  /** Append one varbind; false (nothing written) when it does not fit the budget. */
  push(oidTlv: Buffer, value: SnmpValue): boolean {
    const buf = AnswerWriter.#scratch;
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
    else p = writeFastValue(buf, p, value, AnswerWriter.#u64);
    this.#pos = p;
    this.#count++;
    this.#ends?.push(p);
    return true;
  }

  /** The answer as a PduAnswer (copied out of the scratch buffer), for the object API. */
  finish(errorStatus: number, errorIndex: number): PduAnswer {
    const bytes = Buffer.from(this.bytes);
    const varbinds: Buffer[] = [];
    let start = 0;
    for (const end of this.#ends ?? []) {
      varbinds.push(bytes.subarray(start, end));
      start = end;
    }
    return { errorStatus, errorIndex, varbinds, bytes };
  }
}

function lengthSize(len: number): number {
  return len < 0x80 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 4;
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
const TWO_53 = 2n ** 53n;

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
  // Counters below 2^53 (every simulated one for millennia) are sized as doubles: no BigInt shifts.
  if (v < TWO_53) {
    const x = Number(v);
    let n = 1;
    let top = x;
    while (top > 0xff) {
      top = Math.floor(top / 256);
      n++;
    }
    return top & 0x80 ? n + 1 : n;
  }
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
      buf[p++] = Tag.Counter64;
      buf[p++] = n;
      if (v.value < TWO_53) {
        // Big-endian from a double: exact below 2^53, and no BigInt arithmetic.
        let x = Number(v.value);
        for (let i = n - 1; i >= 0; i--) {
          buf[p + i] = x % 256;
          x = Math.floor(x / 256);
        }
        return p + n;
      }
      u64.writeBigUInt64BE(v.value, 1);
      u64[0] = 0;
      return p + u64.copy(buf, p, 9 - n, 9);
    }
    default:
      throw new RangeError(`no fast encoding for ${v.type}`);
  }
}

/** One varbind of a planned answer: a view entry's value at answer time, or a fixed exception. */
interface PlanStep {
  readonly oidTlv: Buffer;
  readonly entry: MibEntry | undefined;
  /** endOfMibView, noSuchObject or noSuchInstance, when there is no entry. */
  readonly fixed: SnmpValue;
}

/**
 * Which varbinds answer one read request against one view: GET / GETNEXT / GETBULK semantics resolved
 * once (the lookups, cursors, the repetition and varbind caps), so an answer only fetches values and
 * writes bytes. It depends on the view and the request only, not on a device's values, so every device
 * of a shape shares it, and a poller asking the same thing every interval finds it in the view's cache.
 */
export interface AnswerPlan {
  readonly steps: readonly PlanStep[];
  /** GETBULK: an answer cut short by the budget keeps what fits (RFC 3416 §4.2.3); others say tooBig. */
  readonly partial: boolean;
}

/** Plans kept per view; past this the cache starts again (a client asking ever new things). */
const MAX_PLANS = 512;
const plansOf = new WeakMap<MibView, Map<string, AnswerPlan>>();

/**
 * The plan for a GET, GETNEXT or GETBULK (other types: undefined), cached under `key`, which must name
 * the request exactly (type, non-repeaters and max-repetitions for GETBULK, the OIDs); `oids` is called
 * only on a miss. Throws BerError for an OID that cannot be encoded.
 */
export function planFor(
  view: MibView,
  key: string,
  type: number,
  nonRepeaters: number,
  maxRepetitions: number,
  oids: () => readonly (readonly number[])[],
): AnswerPlan | undefined {
  if (type !== PduType.Get && type !== PduType.GetNext && type !== PduType.GetBulk) return undefined;
  let cache = plansOf.get(view);
  if (cache === undefined) {
    cache = new Map();
    plansOf.set(view, cache);
  }
  let plan = cache.get(key);
  if (plan === undefined) {
    plan = buildPlan(view, type, nonRepeaters, maxRepetitions, oids());
    if (cache.size >= MAX_PLANS) cache.clear();
    cache.set(key, plan);
  }
  return plan;
}

function buildPlan(
  view: MibView,
  type: number,
  nr: number,
  mr: number,
  oids: readonly (readonly number[])[],
): AnswerPlan {
  const steps: PlanStep[] = [];
  /** The step after `oid` (its entry, or endOfMibView at `oid`); returns the OID the cursor moves to. */
  const stepNext = (oid: readonly number[]): readonly number[] => {
    const e = findNext(view.entries, oid);
    if (e) {
      steps.push({ oidTlv: e.oidTlv, entry: e, fixed: END_OF_MIB_VIEW });
      return e.oid;
    }
    steps.push({ oidTlv: encodeOid(oid), entry: undefined, fixed: END_OF_MIB_VIEW });
    return END;
  };
  switch (type) {
    case PduType.Get:
      for (const oid of oids) {
        const e = findExact(view.entries, oid);
        steps.push(
          e
            ? { oidTlv: e.oidTlv, entry: e, fixed: END_OF_MIB_VIEW }
            : {
                oidTlv: encodeOid(oid),
                entry: undefined,
                fixed: view.objects.has(oid.slice(0, -1).join('.')) ? NO_SUCH_INSTANCE : NO_SUCH_OBJECT,
              },
        );
      }
      return { steps, partial: false };
    case PduType.GetNext:
      for (const oid of oids) stepNext(oid);
      return { steps, partial: false };
    default: {
      const n = oids.length;
      const nonRepeaters = Math.min(Math.max(0, nr), n);
      const maxRepetitions = Math.max(0, mr);
      for (let i = 0; i < nonRepeaters; i++) {
        const oid = oids[i];
        if (oid) stepNext(oid);
      }
      const cursors = oids.slice(nonRepeaters);
      if (cursors.length > 0) {
        repeat: for (let r = 0; r < maxRepetitions; r++) {
          let allEnded = true;
          for (let c = 0; c < cursors.length; c++) {
            if (steps.length >= MAX_BULK_VARBINDS) break repeat;
            const moved = stepNext(cursors[c] ?? []);
            // At the end of the view a cursor stays where it was (endOfMibView names the OID asked).
            if (moved !== END) {
              allEnded = false;
              cursors[c] = moved;
            }
          }
          // RFC 3416 §4.2.3: the agent may stop once every repeater has reached the end of the view.
          if (allEnded) break;
        }
      }
      return { steps, partial: true };
    }
  }
}

/**
 * Write a plan's varbinds for one device now into `out` (reset by the caller). The error-status: noError,
 * or tooBig when a GET/GETNEXT, or a GETBULK's first varbind, does not fit the budget (then `out` holds
 * nothing the answer may use).
 */
export function writePlan(
  plan: AnswerPlan,
  model: DeviceModel,
  values: () => DeviceValues,
  out: AnswerWriter,
): number {
  for (const s of plan.steps) {
    const fits = out.push(s.oidTlv, s.entry ? s.entry.get(model, values) : s.fixed);
    if (!fits) return plan.partial && out.count > 0 ? ErrorStatus.NoError : ErrorStatus.TooBig;
  }
  return ErrorStatus.NoError;
}

const sharedWriter = new AnswerWriter();

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
  const bulk = pdu.type === PduType.GetBulk;
  const key = `o${pdu.type}/${bulk ? pdu.errorStatus : 0}/${bulk ? pdu.errorIndex : 0}/${pdu.varbinds.map((v) => v.oid.join('.')).join(' ')}`;
  const plan = planFor(view, key, pdu.type, pdu.errorStatus, pdu.errorIndex, () =>
    pdu.varbinds.map((v) => v.oid),
  );
  if (plan === undefined) {
    // SET and anything else: the simulator is read-only (RFC 3416 §4.2.5, notWritable).
    return {
      errorStatus: ErrorStatus.NotWritable,
      errorIndex: 1,
      varbinds: pdu.varbinds.map(encodeVarbind),
    };
  }
  const out = sharedWriter.reset(budget, true);
  const status = writePlan(plan, model, values, out);
  if (status === ErrorStatus.TooBig) return { errorStatus: status, errorIndex: 0, varbinds: [] };
  return out.finish(status, 0);
}

const END_OF_MIB_VIEW: SnmpValue = { type: 'endOfMibView' };
const NO_SUCH_OBJECT: SnmpValue = { type: 'noSuchObject' };
const NO_SUCH_INSTANCE: SnmpValue = { type: 'noSuchInstance' };
/** stepNext's answer for a cursor at the end of the view. */
const END: readonly number[] = [];
