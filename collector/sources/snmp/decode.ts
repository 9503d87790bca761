/**
 * Varbinds → DeviceReading: a pure function of (profile, what the agent returned). Nothing here does I/O
 * or keeps state (snmp_exporter's pduToSamples: the scraper fetches, this transforms).
 *
 * Agents send odd things: an OctetString where a counter belongs, a missing column, an index that is not
 * an ifIndex. None of that throws: the bad value is skipped with a DecodeWarning saying why, and the rest
 * of the reading is kept.
 */
import type { InterfaceReading, DeviceReading, WifiReading } from '../../core/types.ts';
import {
  INTERFACE_FIELDS,
  type InterfaceField,
  type InterfaceOverride,
  type Profile,
  type WifiLabel,
  type WifiMetric,
} from '../../../config/profiles.ts';
import type { VarBind } from './session.ts';
import { inSubtree, oidSuffix } from './walk.ts';

export interface DecodeWarning {
  readonly oid: string;
  readonly field: string;
  readonly reason: string;
}

/** What the poller fetched for one profile: scalar GET results and walked columns by base OID. */
export interface RawPoll {
  readonly scalars: readonly VarBind[];
  readonly columns: ReadonlyMap<string, readonly VarBind[]>;
  /**
   * Every varbind of `columns.get(base)` lies under `base`, as walkColumns makes sure (walk.ts): the
   * decoder then does not check each one again (issue #14: the prefix check of each varbind, made twice,
   * was a sixth of the poll path's CPU).
   */
  readonly inside?: boolean | undefined;
}

export interface DecodeResult {
  readonly reading: DeviceReading;
  readonly warnings: readonly DecodeWarning[];
  /**
   * With `trace`: for each reading.wifi row, the OIDs its count came from (summed or counted). Tools and
   * tests use it to compare with other pollers; the poller does not ask for it.
   */
  readonly wifiSources?: readonly (readonly string[])[] | undefined;
}

export interface DecodeOptions {
  readonly trace?: boolean | undefined;
}

/** ifSpeed saturates here (RFC 2863: use ifHighSpeed above it). */
const IF_SPEED_MAX = 4294967295;
const MAX_IF_INDEX = 2147483647; // InterfaceIndex ::= Integer32 (1..2147483647)
const ZERO = 48; // '0'
const TWO_64 = 2n ** 64n;

/**
 * A value that did not decode, and why. A decoder returns the value itself or a Bad: no result object per
 * varbind (about a hundred varbinds a poll), only one per value that is wrong.
 */
class Bad {
  readonly reason: string;
  constructor(reason: string) {
    this.reason = reason;
  }
}
type Decoded<T> = T | Bad;
const bad = (reason: string): Bad => new Bad(reason);

function describe(vb: VarBind): string {
  return vb.type === 'noSuchObject' || vb.type === 'noSuchInstance' || vb.type === 'endOfMibView'
    ? vb.type
    : `${vb.type} ${typeof vb.value === 'bigint' ? vb.value.toString() : Buffer.isBuffer(vb.value) ? `"${vb.value.toString('latin1').slice(0, 32)}"` : String(vb.value)}`;
}

/** A value of one of `types` that is a non-negative integer (Counter32, Gauge32, TimeTicks, Integer). */
function uint(vb: VarBind, types: readonly VarBind['type'][]): Decoded<number> {
  if (!types.includes(vb.type)) return bad(`expected ${types.join(' or ')}, got ${describe(vb)}`);
  if (typeof vb.value !== 'number' || !Number.isInteger(vb.value) || vb.value < 0) {
    return bad(`expected a non-negative integer, got ${describe(vb)}`);
  }
  return vb.value;
}

function int(vb: VarBind): Decoded<number> {
  if (vb.type !== 'Integer' || typeof vb.value !== 'number')
    return bad(`expected Integer, got ${describe(vb)}`);
  return vb.value;
}

/** An enumerated INTEGER: anything outside the MIB's range is a broken agent, not a new state. */
function enumInt(min: number, max: number): (vb: VarBind) => Decoded<number> {
  return (vb) => {
    const d = int(vb);
    if (d instanceof Bad) return d;
    return d >= min && d <= max ? d : bad(`expected ${min}..${max}, got ${d}`);
  };
}

/**
 * The bigints 0 .. 1023, made once. Error and discard counters are zero or small on most interfaces, poll
 * after poll; a bigint is a value (immutable, compared by value), so sharing one changes nothing, and
 * saves one allocation per counter per poll that would live as long as the reading (issue #14).
 */
const SMALL_BIGINTS: readonly bigint[] = Array.from({ length: 1024 }, (_, i) => BigInt(i));

// The type lists uint() takes, made once (an array literal in a call is an array per call).
const COUNTER32: readonly VarBind['type'][] = ['Counter32'];
const GAUGE_OR_INTEGER: readonly VarBind['type'][] = ['Gauge32', 'Integer'];
const GAUGE_OR_COUNTER: readonly VarBind['type'][] = ['Gauge32', 'Counter32'];
const TIMETICKS: readonly VarBind['type'][] = ['TimeTicks'];
const COUNT_TYPES: readonly VarBind['type'][] = ['Integer', 'Gauge32', 'Counter32'];

function counter32(vb: VarBind): Decoded<bigint> {
  const d = uint(vb, COUNTER32);
  if (d instanceof Bad) return d;
  // Inside the bounds only: a read past an array's end is a slow path of its own.
  return d < SMALL_BIGINTS.length ? (SMALL_BIGINTS[d] ?? BigInt(d)) : BigInt(d);
}

function counter64(vb: VarBind): Decoded<bigint> {
  if (vb.type !== 'Counter64' || typeof vb.value !== 'bigint')
    return bad(`expected Counter64, got ${describe(vb)}`);
  if (vb.value < 0n || vb.value >= TWO_64) return bad(`Counter64 out of range: ${vb.value}`);
  return vb.value;
}

/** DisplayString / SnmpAdminString: text, with trailing NULs (some agents pad) removed. */
function text(vb: VarBind): Decoded<string> {
  if (vb.type !== 'OctetString') return bad(`expected OctetString, got ${describe(vb)}`);
  const raw = Buffer.isBuffer(vb.value)
    ? vb.value.toString('utf8')
    : typeof vb.value === 'string'
      ? vb.value
      : '';
  // Most values have no trailing NUL: the regular expression only for those that do.
  return raw.charCodeAt(raw.length - 1) === 0 ? raw.replace(/\0+$/, '') : raw;
}

type IfValue = number | bigint | string;
const IF_DECODERS: Readonly<Record<InterfaceField, (vb: VarBind) => Decoded<IfValue>>> = {
  descr: text,
  name: text,
  alias: text,
  type: enumInt(1, 2147483647), // IANAifType
  adminStatus: enumInt(1, 3), // RFC 2863: up, down, testing
  operStatus: enumInt(1, 7), // up, down, testing, unknown, dormant, notPresent, lowerLayerDown
  speed: (vb) => uint(vb, GAUGE_OR_INTEGER),
  highSpeed: (vb) => uint(vb, GAUGE_OR_INTEGER),
  inOctets: counter32,
  outOctets: counter32,
  inUcastPkts: counter32,
  outUcastPkts: counter32,
  inErrors: counter32,
  outErrors: counter32,
  inDiscards: counter32,
  outDiscards: counter32,
  hcInOctets: counter64,
  hcOutOctets: counter64,
  hcInUcastPkts: counter64,
  hcOutUcastPkts: counter64,
};

function ifIndexOf(suffix: string): number | undefined {
  return ifIndexAt(suffix, 0);
}

/**
 * The ifIndex that `oid` holds from position `from` to its end (one arc: 1 .. 2^31 - 1, no leading zero),
 * read digit by digit: no substring or regular expression per varbind.
 */
function ifIndexAt(oid: string, from: number): number | undefined {
  const len = oid.length;
  if (from >= len || len - from > 10 || oid.charCodeAt(from) === ZERO) return undefined;
  let n = 0;
  for (let i = from; i < len; i++) {
    const d = oid.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return n <= MAX_IF_INDEX ? n : undefined;
}

/** A profile's interface column: its field, the field's slot in a row, its base OID and its decoder. */
interface IfColumn {
  readonly field: InterfaceField;
  readonly slot: number;
  readonly base: string;
  readonly decode: (vb: VarBind) => Decoded<IfValue>;
}

/** A profile's interface columns, made once per profile object. */
const interfaceColumns = new WeakMap<Profile, readonly IfColumn[]>();
function interfaceColumnsOf(profile: Profile): readonly IfColumn[] {
  let cols = interfaceColumns.get(profile);
  if (cols === undefined) {
    cols = (Object.entries(profile.interfaces) as [InterfaceField, string][]).map(([field, base]) => ({
      field,
      slot: SLOT[field],
      base,
      decode: IF_DECODERS[field],
    }));
    interfaceColumns.set(profile, cols);
  }
  return cols;
}

export function decodeReading(
  profile: Profile,
  raw: RawPoll,
  meta: { readonly deviceId: string; readonly timeMs: number },
  opts: DecodeOptions = {},
): DecodeResult {
  // No closures here (nor in decodeMetric): tsx names each closure it makes (esbuild keepNames), a
  // defineProperty per closure per poll that showed in the profile (issue #14).
  const ws: DecodeWarning[] = [];

  // Scalars: sysUpTime.0 (absent on some agents, e.g. the iosxe recording: not an error).
  let sysUpTimeCs: number | undefined;
  const upOid = profile.scalars.sysUpTime;
  let upVb: VarBind | undefined;
  if (upOid !== undefined) {
    for (const vb of raw.scalars) {
      if (vb.oid === upOid) {
        upVb = vb;
        break;
      }
    }
  }
  if (
    upVb &&
    upVb.type !== 'noSuchObject' &&
    upVb.type !== 'noSuchInstance' &&
    upVb.type !== 'endOfMibView'
  ) {
    const d = uint(upVb, TIMETICKS);
    if (d instanceof Bad) warn(ws, upVb.oid, 'sysUpTime', d.reason);
    else sysUpTimeCs = d;
  }

  // Interfaces: one row per valid ifIndex seen in any column.
  const rows = new Map<number, IfRow>();
  for (const { field, slot, base, decode } of interfaceColumnsOf(profile)) {
    for (const vb of raw.columns.get(base) ?? []) {
      const ifIndex =
        raw.inside === true || inSubtree(base, vb.oid) ? ifIndexAt(vb.oid, base.length + 1) : undefined;
      if (ifIndex === undefined) {
        warn(ws, vb.oid, field, `index "${oidSuffix(base, vb.oid)}" is not an ifIndex`);
        continue;
      }
      const d = decode(vb);
      if (d instanceof Bad) {
        warn(ws, vb.oid, field, d.reason);
        continue;
      }
      let row = rows.get(ifIndex);
      if (!row) rows.set(ifIndex, (row = emptyRow()));
      row[slot] = d;
    }
  }
  for (const o of profile.overrides) applyOverride(o, rows, raw, ws);
  // Rows come in ifIndex order from a walk: sorted only when they do not.
  let ordered = true;
  let last = -1;
  for (const ifIndex of rows.keys()) {
    if (ifIndex < last) ordered = false;
    last = ifIndex;
  }
  const interfaces: InterfaceReading[] = [];
  if (ordered) {
    // By key: no [ifIndex, row] pair per row, no array of them.
    for (const ifIndex of rows.keys()) {
      interfaces.push(interfaceFrom(ifIndex, rows.get(ifIndex) as IfRow, profile, ws));
    }
  } else {
    const entries = [...rows.entries()].sort(([a], [b]) => a - b);
    for (const [ifIndex, row] of entries) interfaces.push(interfaceFrom(ifIndex, row, profile, ws));
  }

  const wifi: WifiReading[] = [];
  const sources: string[][] | undefined = opts.trace ? [] : undefined;
  for (const m of profile.wifiMetrics) decodeMetric(m, raw, ws, wifi, sources);
  return {
    reading: { deviceId: meta.deviceId, timeMs: meta.timeMs, sysUpTimeCs, interfaces, wifi },
    warnings: ws,
    wifiSources: sources,
  };
}

/** The override's vendor value replaces the IF-MIB one (see InterfaceOverride in config/profiles.ts). */
function applyOverride(o: InterfaceOverride, rows: Map<number, IfRow>, raw: RawPoll, ws: Warnings): void {
  for (const vb of raw.columns.get(o.column) ?? []) {
    let ifIndex: number | undefined;
    if (o.interface !== undefined) {
      for (const [i, row] of rows)
        if (row[F_NAME] === o.interface || row[F_DESCR] === o.interface) ifIndex = i;
      if (ifIndex === undefined) return; // the interface is not there (yet): IF-MIB's value stays
    } else {
      ifIndex = ifIndexOf(oidSuffix(o.column, vb.oid));
      if (ifIndex === undefined) {
        warn(ws, vb.oid, o.field, `index "${oidSuffix(o.column, vb.oid)}" is not an ifIndex`);
        continue;
      }
    }
    const d = vb.type === 'Integer' ? int(vb) : uint(vb, GAUGE_OR_COUNTER);
    const mapped = d instanceof Bad ? undefined : o.map ? o.map.get(d) : d;
    if (d instanceof Bad || mapped === undefined) {
      warn(ws, vb.oid, o.field, d instanceof Bad ? d.reason : `value ${d} is not in the override's map`);
    } else {
      const row = rows.get(ifIndex);
      if (row) row[SLOT[o.field]] = mapped;
      else {
        const fresh = emptyRow();
        fresh[SLOT[o.field]] = mapped;
        rows.set(ifIndex, fresh);
      }
    }
    if (o.interface !== undefined) return; // one interface: its first row
  }
}

/**
 * One interface's values as decoded, by field slot (INTERFACE_FIELDS order; undefined: not in the reply,
 * or not decoded). An array, not an object keyed by field name: a varbind's value is stored at a number,
 * where a store under one of twenty names at the same place in the code is a slow, megamorphic one
 * (issue #14: per varbind, per poll).
 */
type IfRow = (IfValue | undefined)[];

/** Each interface field's slot in an IfRow. */
const SLOT = Object.fromEntries(INTERFACE_FIELDS.map((f, i) => [f, i])) as Record<InterfaceField, number>;
const F_DESCR = SLOT.descr;
const F_NAME = SLOT.name;

function emptyRow(): IfRow {
  const row: IfRow = new Array<IfValue | undefined>(INTERFACE_FIELDS.length);
  return row.fill(undefined);
}

const numOf = (row: IfRow, f: InterfaceField): number | undefined => {
  const v = row[SLOT[f]];
  return typeof v === 'number' ? v : undefined;
};
const bigOf = (row: IfRow, f: InterfaceField): bigint | undefined => {
  const v = row[SLOT[f]];
  return typeof v === 'bigint' ? v : undefined;
};
const strOf = (row: IfRow, f: InterfaceField): string | undefined => {
  const v = row[SLOT[f]];
  return typeof v === 'string' ? v : undefined;
};

function interfaceFrom(ifIndex: number, row: IfRow, profile: Profile, ws: Warnings): InterfaceReading {
  // RFC 2863 section 3.1.6: 64-bit counters where the interface has them, for both directions at once,
  // so in and out never mix widths.
  const hc = bigOf(row, 'hcInOctets') !== undefined && bigOf(row, 'hcOutOctets') !== undefined;
  if (!hc && (bigOf(row, 'hcInOctets') !== undefined || bigOf(row, 'hcOutOctets') !== undefined)) {
    const base = profile.interfaces.hcInOctets ?? profile.interfaces.hcOutOctets ?? '';
    warn(
      ws,
      `${base}.${ifIndex}`,
      'hcOctets',
      'only one direction has a 64-bit counter: using the 32-bit ones',
    );
  }
  const speed = numOf(row, 'speed');
  const highSpeed = numOf(row, 'highSpeed');
  const speedBps =
    speed !== undefined && speed < IF_SPEED_MAX
      ? speed
      : highSpeed !== undefined
        ? highSpeed * 1_000_000
        : speed;
  const descr = strOf(row, 'descr');
  const name = strOf(row, 'name');
  return {
    ifIndex,
    name:
      name !== undefined && name !== '' ? name : descr !== undefined && descr !== '' ? descr : `if${ifIndex}`,
    descr,
    alias: strOf(row, 'alias'),
    type: numOf(row, 'type'),
    operStatus: numOf(row, 'operStatus'),
    adminStatus: numOf(row, 'adminStatus'),
    speedBps,
    counterBits: hc ? 64 : 32,
    inOctets: hc ? bigOf(row, 'hcInOctets') : bigOf(row, 'inOctets'),
    outOctets: hc ? bigOf(row, 'hcOutOctets') : bigOf(row, 'outOctets'),
    // Packet counters follow the octets' width; a 32-bit packet counter labelled 64 would read as a
    // discontinuity at its first wrap.
    inUcastPkts: hc ? bigOf(row, 'hcInUcastPkts') : bigOf(row, 'inUcastPkts'),
    outUcastPkts: hc ? bigOf(row, 'hcOutUcastPkts') : bigOf(row, 'outUcastPkts'),
    inErrors: bigOf(row, 'inErrors'),
    outErrors: bigOf(row, 'outErrors'),
    inDiscards: bigOf(row, 'inDiscards'),
    outDiscards: bigOf(row, 'outDiscards'),
  };
}

/** The warnings of one decode, appended to as they come. */
type Warnings = DecodeWarning[];

function warn(ws: Warnings, oid: string, field: string, reason: string): void {
  ws.push({ oid, field, reason });
}

/** A station count: Integer/Gauge32/Counter32, or a decimal text (net-snmp `extend` output lines). */
function count(vb: VarBind): Decoded<number> {
  if (vb.type === 'OctetString') {
    const t = text(vb);
    if (!(t instanceof Bad) && /^\s*\d{1,9}\s*$/.test(t)) return Number(t);
  }
  return uint(vb, COUNT_TYPES);
}

/** A label column's text: OctetString as text, a number as its decimal. */
function labelText(vb: VarBind): Decoded<string> {
  if (vb.type === 'OctetString') return text(vb);
  if (typeof vb.value === 'number' || typeof vb.value === 'bigint') return String(vb.value);
  return bad(`expected a text or a number, got ${describe(vb)}`);
}

/** A label decoded from a row index (RFC 2578 section 7.7: strings in an index are length-prefixed). */
function indexLabel(l: WifiLabel, index: string): Decoded<string> {
  const parts = index.split('.').map(Number);
  if (l.kind === 'indexNumber') {
    const p = parts[l.part];
    return p === undefined ? bad(`index "${index}" has no part ${l.part}`) : String(p);
  }
  const bytes = l.kind === 'indexString' ? parts.slice(l.skip) : [];
  if (l.kind === 'indexString' && !l.implied) {
    const n = bytes.shift();
    if (n === undefined || n !== bytes.length) return bad(`index "${index}" is not a length-prefixed string`);
  }
  if (bytes.some((b) => !(b >= 0 && b <= 255))) return bad(`index "${index}" is not a string`);
  return Buffer.from(bytes).toString('utf8');
}

interface Row {
  index: string;
  clients: number;
  /** The counted column's text, for a `value` label. */
  value?: string | undefined;
  /** A value that did not decode: the row is dropped, with a warning if the filters keep it. */
  bad?: { readonly oid: string; readonly reason: string } | undefined;
  sources?: string[] | undefined;
}

/**
 * One Wi-Fi metric (config/profiles.ts WifiMetric) → rows appended to `out`: values per row index (one
 * column, several summed, or rows counted), labels, filters, then grouping.
 */
function decodeMetric(
  m: WifiMetric,
  raw: RawPoll,
  ws: Warnings,
  out: WifiReading[],
  sources: string[][] | undefined,
): void {
  const rows = new Map<string, Row>();
  const trace = sources !== undefined;
  if (m.value.kind === 'columns') {
    for (const col of m.value.columns) {
      for (const vb of raw.columns.get(col) ?? []) {
        const index = oidSuffix(col, vb.oid);
        if (!/^\d+(\.\d+)*$/.test(index)) {
          warn(ws, vb.oid, 'clients', `index "${index}" is not a table index`);
          continue;
        }
        const d = count(vb);
        const row = rows.get(index);
        if (d instanceof Bad) {
          // Warned only if the row is kept: a filtered-out row (another extend script) may hold anything.
          const bad = { oid: vb.oid, reason: d.reason };
          if (row) row.bad = bad;
          else rows.set(index, { index, clients: 0, bad });
        } else if (row) {
          row.clients += d;
          row.sources?.push(vb.oid);
        } else rows.set(index, { index, clients: d, sources: trace ? [vb.oid] : undefined });
      }
    }
  } else {
    const col = m.value.column;
    for (const vb of raw.columns.get(col) ?? []) {
      const index = oidSuffix(col, vb.oid);
      if (!/^\d+(\.\d+)*$/.test(index)) {
        warn(ws, vb.oid, 'count', `index "${index}" is not a table index`);
        continue;
      }
      const t = m.ssid?.kind === 'value' || m.radio?.kind === 'value' ? labelText(vb) : undefined;
      if (t instanceof Bad) {
        warn(ws, vb.oid, 'count', t.reason);
        continue;
      }
      rows.set(index, { index, clients: 1, value: t, sources: trace ? [vb.oid] : undefined });
    }
  }
  if (rows.size === 0) return;

  const base = m.value.kind === 'count' ? m.value.column : (m.value.columns[0] ?? '');
  const ssids = labelsOf(m.ssid, 'ssid', base, rows, raw, ws);
  const radios = labelsOf(m.radio, 'radio', base, rows, raw, ws);
  const g = m.groupBy;
  if (g === undefined) {
    for (const row of rows.values()) {
      if (keepRow(m, row, ssids, radios, ws)) {
        pushRow(
          m,
          out,
          sources,
          row.index,
          row.clients,
          ssids?.get(row.index),
          radios?.get(row.index),
          row.sources,
        );
      }
    }
    return;
  }
  // Grouped: rows sharing a key summed; a label is kept where every row of the group agrees on it.
  const groups = new Map<
    string,
    {
      clients: number;
      ssid?: string | undefined;
      radio?: string | undefined;
      mixed: [boolean, boolean];
      src: string[];
    }
  >();
  for (const row of rows.values()) {
    if (!keepRow(m, row, ssids, radios, ws)) continue;
    const ssid = ssids?.get(row.index);
    const radio = radios?.get(row.index);
    const key =
      g.kind === 'all'
        ? 'all'
        : g.kind === 'indexPrefix'
          ? row.index.split('.').slice(0, g.parts).join('.')
          : g.label === 'ssid'
            ? ssid
            : radio;
    if (key === undefined || key === '') continue; // no label to group by (a bad one was warned about)
    const grp = groups.get(key);
    if (!grp) {
      groups.set(key, {
        clients: row.clients,
        ssid,
        radio,
        mixed: [false, false],
        src: row.sources ? [...row.sources] : [],
      });
    } else {
      grp.clients += row.clients;
      if (grp.ssid !== ssid) grp.mixed[0] = true;
      if (grp.radio !== radio) grp.mixed[1] = true;
      if (row.sources) grp.src.push(...row.sources);
    }
  }
  for (const [key, grp] of groups) {
    pushRow(
      m,
      out,
      sources,
      key,
      grp.clients,
      grp.mixed[0] ? undefined : grp.ssid,
      grp.mixed[1] ? undefined : grp.radio,
      grp.src,
    );
  }
}

/** Whether a row passes the metric's filters and decoded (a bad value of a kept row is warned about). */
function keepRow(
  m: WifiMetric,
  row: Row,
  ssids: ReadonlyMap<string, string> | undefined,
  radios: ReadonlyMap<string, string> | undefined,
  ws: Warnings,
): boolean {
  for (const f of m.match) {
    const v = (f.label === 'ssid' ? ssids : radios)?.get(row.index) ?? '';
    if (f.re.test(v) !== f.keep) return false;
  }
  if (row.bad) warn(ws, row.bad.oid, 'clients', row.bad.reason);
  return row.bad === undefined;
}

function pushRow(
  m: WifiMetric,
  out: WifiReading[],
  sources: string[][] | undefined,
  index: string,
  clients: number,
  ssid: string | undefined,
  radio: string | undefined,
  src: string[] | undefined,
): void {
  out.push({
    index: m.prefix + index,
    clients,
    ssid: ssid === '' ? undefined : ssid,
    radio: radio === '' ? undefined : radio,
  });
  if (sources) sources.push(src ?? []);
}

/** Each row's label, or undefined when the metric has none. */
function labelsOf(
  l: WifiLabel | undefined,
  field: string,
  /** The metric's value column: warnings name `base.index`. */
  base: string,
  rows: ReadonlyMap<string, Row>,
  raw: RawPoll,
  ws: Warnings,
): Map<string, string> | undefined {
  if (l === undefined) return undefined;
  const out = new Map<string, string>();
  if (l.kind === 'column') {
    for (const vb of raw.columns.get(l.oid) ?? []) {
      const d = labelText(vb);
      if (d instanceof Bad) warn(ws, vb.oid, field, d.reason);
      else out.set(oidSuffix(l.oid, vb.oid), d);
    }
    return out;
  }
  for (const row of rows.values()) {
    if (l.kind === 'index') out.set(row.index, row.index);
    else if (l.kind === 'value') {
      if (row.value !== undefined) out.set(row.index, row.value);
    } else {
      const d = indexLabel(l, row.index);
      if (d instanceof Bad) warn(ws, `${base}.${row.index}`, field, d.reason);
      else out.set(row.index, d);
    }
  }
  return out;
}
