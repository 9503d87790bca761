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
import { ErrorStatus, PduType, encodeVarbind } from './snmp-message.ts';
import type { Pdu, SnmpValue, Varbind } from './snmp-message.ts';

type Getter = (m: DeviceModel, v: () => DeviceValues) => SnmpValue;

export interface MibEntry {
  readonly oid: readonly number[];
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
    entries.push({ oid, get });
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
}

/** Cap on varbinds in one GETBULK answer, whatever max-repetitions asks for. */
const MAX_BULK_VARBINDS = 2048;

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
  const out: Buffer[] = [];
  let used = 0;
  const entryVarbind = (e: MibEntry): Varbind => ({ oid: e.oid, value: e.get(model, values) });
  const push = (vb: Varbind): boolean => {
    const b = encodeVarbind(vb);
    if (used + b.length > budget) return false;
    out.push(b);
    used += b.length;
    return true;
  };
  const tooBig: PduAnswer = { errorStatus: ErrorStatus.TooBig, errorIndex: 0, varbinds: [] };
  const next = (oid: readonly number[]): Varbind => {
    const e = findNext(view.entries, oid);
    return e ? entryVarbind(e) : { oid, value: { type: 'endOfMibView' } };
  };

  switch (pdu.type) {
    case PduType.Get:
      for (const req of pdu.varbinds) {
        const e = findExact(view.entries, req.oid);
        const vb: Varbind = e
          ? entryVarbind(e)
          : {
              oid: req.oid,
              value: {
                type: view.objects.has(req.oid.slice(0, -1).join('.')) ? 'noSuchInstance' : 'noSuchObject',
              },
            };
        if (!push(vb)) return tooBig;
      }
      break;
    case PduType.GetNext:
      for (const req of pdu.varbinds) if (!push(next(req.oid))) return tooBig;
      break;
    case PduType.GetBulk: {
      const n = pdu.varbinds.length;
      const nonRepeaters = Math.min(Math.max(0, pdu.errorStatus), n);
      const maxRepetitions = Math.max(0, pdu.errorIndex);
      for (let i = 0; i < nonRepeaters; i++) {
        const req = pdu.varbinds[i];
        if (req && !push(next(req.oid))) return out.length === 0 ? tooBig : ok(out);
      }
      const cursors = pdu.varbinds.slice(nonRepeaters).map((v) => v.oid);
      if (cursors.length === 0) break;
      for (let r = 0; r < maxRepetitions; r++) {
        let allEnded = true;
        for (let c = 0; c < cursors.length; c++) {
          if (out.length >= MAX_BULK_VARBINDS) return ok(out);
          const vb = next(cursors[c] ?? []);
          if (vb.value.type !== 'endOfMibView') allEnded = false;
          if (!push(vb)) return out.length === 0 ? tooBig : ok(out);
          cursors[c] = vb.oid;
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
  return ok(out);
}

function ok(varbinds: Buffer[]): PduAnswer {
  return { errorStatus: ErrorStatus.NoError, errorIndex: 0, varbinds };
}
