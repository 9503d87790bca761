/**
 * Varbinds → DeviceReading: a pure function of (profile, what the agent returned). Nothing here does I/O
 * or keeps state (snmp_exporter's pduToSamples: the scraper fetches, this transforms).
 *
 * Agents send odd things: an OctetString where a counter belongs, a missing column, an index that is not
 * an ifIndex. None of that throws: the bad value is skipped with a DecodeWarning saying why, and the rest
 * of the reading is kept.
 */
import type { InterfaceReading, DeviceReading, WifiReading } from '../../core/types.ts';
import type { InterfaceField, Profile } from '../../../config/profiles.ts';
import type { VarBind } from './session.ts';
import { oidSuffix } from './walk.ts';

export interface DecodeWarning {
  readonly oid: string;
  readonly field: string;
  readonly reason: string;
}

/** What the poller fetched for one profile: scalar GET results and walked columns by base OID. */
export interface RawPoll {
  readonly scalars: readonly VarBind[];
  readonly columns: ReadonlyMap<string, readonly VarBind[]>;
}

export interface DecodeResult {
  readonly reading: DeviceReading;
  readonly warnings: readonly DecodeWarning[];
}

/** ifSpeed saturates here (RFC 2863: use ifHighSpeed above it). */
const IF_SPEED_MAX = 4294967295;
const MAX_IF_INDEX = 2147483647; // InterfaceIndex ::= Integer32 (1..2147483647)

type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };
const bad = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

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
  return { ok: true, value: vb.value };
}

function int(vb: VarBind): Decoded<number> {
  if (vb.type !== 'Integer' || typeof vb.value !== 'number')
    return bad(`expected Integer, got ${describe(vb)}`);
  return { ok: true, value: vb.value };
}

/** An enumerated INTEGER: anything outside the MIB's range is a broken agent, not a new state. */
function enumInt(min: number, max: number): (vb: VarBind) => Decoded<number> {
  return (vb) => {
    const d = int(vb);
    if (!d.ok) return d;
    return d.value >= min && d.value <= max ? d : bad(`expected ${min}..${max}, got ${d.value}`);
  };
}

function counter32(vb: VarBind): Decoded<bigint> {
  const d = uint(vb, ['Counter32']);
  return d.ok ? { ok: true, value: BigInt(d.value) } : d;
}

function counter64(vb: VarBind): Decoded<bigint> {
  if (vb.type !== 'Counter64' || typeof vb.value !== 'bigint')
    return bad(`expected Counter64, got ${describe(vb)}`);
  if (vb.value < 0n || vb.value >= 2n ** 64n) return bad(`Counter64 out of range: ${vb.value}`);
  return { ok: true, value: vb.value };
}

/** DisplayString / SnmpAdminString: text, with trailing NULs (some agents pad) removed. */
function text(vb: VarBind): Decoded<string> {
  if (vb.type !== 'OctetString') return bad(`expected OctetString, got ${describe(vb)}`);
  const raw = Buffer.isBuffer(vb.value)
    ? vb.value.toString('utf8')
    : typeof vb.value === 'string'
      ? vb.value
      : '';
  return { ok: true, value: raw.replace(/\0+$/, '') };
}

type IfValue = number | bigint | string;
const IF_DECODERS: Readonly<Record<InterfaceField, (vb: VarBind) => Decoded<IfValue>>> = {
  descr: text,
  name: text,
  alias: text,
  type: enumInt(1, 2147483647), // IANAifType
  adminStatus: enumInt(1, 3), // RFC 2863: up, down, testing
  operStatus: enumInt(1, 7), // up, down, testing, unknown, dormant, notPresent, lowerLayerDown
  speed: (vb) => uint(vb, ['Gauge32', 'Integer']),
  highSpeed: (vb) => uint(vb, ['Gauge32', 'Integer']),
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
  if (!/^[1-9]\d{0,9}$/.test(suffix)) return undefined;
  const n = Number(suffix);
  return n <= MAX_IF_INDEX ? n : undefined;
}

export function decodeReading(
  profile: Profile,
  raw: RawPoll,
  meta: { readonly deviceId: string; readonly timeMs: number },
): DecodeResult {
  const warnings: DecodeWarning[] = [];
  const warn = (oid: string, field: string, reason: string): void => {
    warnings.push({ oid, field, reason });
  };

  // Scalars: sysUpTime.0 (absent on some agents, e.g. the iosxe recording: not an error).
  let sysUpTimeCs: number | undefined;
  const upOid = profile.scalars.sysUpTime;
  const upVb = upOid === undefined ? undefined : raw.scalars.find((vb) => vb.oid === upOid);
  if (
    upVb &&
    upVb.type !== 'noSuchObject' &&
    upVb.type !== 'noSuchInstance' &&
    upVb.type !== 'endOfMibView'
  ) {
    const d = uint(upVb, ['TimeTicks']);
    if (d.ok) sysUpTimeCs = d.value;
    else warn(upVb.oid, 'sysUpTime', d.reason);
  }

  // Interfaces: one row per valid ifIndex seen in any column.
  const rows = new Map<number, Partial<Record<InterfaceField, IfValue>>>();
  for (const [field, base] of Object.entries(profile.interfaces) as [InterfaceField, string][]) {
    for (const vb of raw.columns.get(base) ?? []) {
      const suffix = oidSuffix(base, vb.oid);
      const ifIndex = ifIndexOf(suffix);
      if (ifIndex === undefined) {
        warn(vb.oid, field, `index "${suffix}" is not an ifIndex`);
        continue;
      }
      const d = IF_DECODERS[field](vb);
      if (!d.ok) {
        warn(vb.oid, field, d.reason);
        continue;
      }
      let row = rows.get(ifIndex);
      if (!row) rows.set(ifIndex, (row = {}));
      row[field] = d.value;
    }
  }
  const interfaces = [...rows.entries()]
    .sort(([a], [b]) => a - b)
    .map(([ifIndex, row]) => interfaceFrom(ifIndex, row, profile, warn));

  return {
    reading: {
      deviceId: meta.deviceId,
      timeMs: meta.timeMs,
      sysUpTimeCs,
      interfaces,
      wifi: decodeWifi(profile, raw, warn),
    },
    warnings,
  };
}

function interfaceFrom(
  ifIndex: number,
  row: Partial<Record<InterfaceField, IfValue>>,
  profile: Profile,
  warn: (oid: string, field: string, reason: string) => void,
): InterfaceReading {
  const num = (f: InterfaceField): number | undefined => (typeof row[f] === 'number' ? row[f] : undefined);
  const big = (f: InterfaceField): bigint | undefined => (typeof row[f] === 'bigint' ? row[f] : undefined);
  const str = (f: InterfaceField): string | undefined => (typeof row[f] === 'string' ? row[f] : undefined);

  // RFC 2863 section 3.1.6: 64-bit counters where the interface has them, for both directions at once,
  // so in and out never mix widths.
  const hc = big('hcInOctets') !== undefined && big('hcOutOctets') !== undefined;
  if (!hc && (big('hcInOctets') !== undefined || big('hcOutOctets') !== undefined)) {
    const base = profile.interfaces.hcInOctets ?? profile.interfaces.hcOutOctets ?? '';
    warn(`${base}.${ifIndex}`, 'hcOctets', 'only one direction has a 64-bit counter: using the 32-bit ones');
  }
  const speed = num('speed');
  const highSpeed = num('highSpeed');
  const speedBps =
    speed !== undefined && speed < IF_SPEED_MAX
      ? speed
      : highSpeed !== undefined
        ? highSpeed * 1_000_000
        : speed;
  const descr = str('descr');
  const name = str('name');
  return {
    ifIndex,
    name:
      name !== undefined && name !== '' ? name : descr !== undefined && descr !== '' ? descr : `if${ifIndex}`,
    descr,
    alias: str('alias'),
    type: num('type'),
    operStatus: num('operStatus'),
    adminStatus: num('adminStatus'),
    speedBps,
    counterBits: hc ? 64 : 32,
    inOctets: hc ? big('hcInOctets') : big('inOctets'),
    outOctets: hc ? big('hcOutOctets') : big('outOctets'),
    // Packet counters follow the octets' width; a 32-bit packet counter labelled 64 would read as a
    // discontinuity at its first wrap.
    inUcastPkts: hc ? big('hcInUcastPkts') : big('inUcastPkts'),
    outUcastPkts: hc ? big('hcOutUcastPkts') : big('outUcastPkts'),
    inErrors: big('inErrors'),
    outErrors: big('outErrors'),
    inDiscards: big('inDiscards'),
    outDiscards: big('outDiscards'),
  };
}

function decodeWifi(
  profile: Profile,
  raw: RawPoll,
  warn: (oid: string, field: string, reason: string) => void,
): WifiReading[] {
  const cols = profile.wifi;
  if (!cols) return [];
  const byIndex = (
    base: string | undefined,
    field: string,
    decode: (vb: VarBind) => Decoded<string>,
  ): Map<string, string> => {
    const out = new Map<string, string>();
    if (base === undefined) return out;
    for (const vb of raw.columns.get(base) ?? []) {
      const d = decode(vb);
      if (d.ok) out.set(oidSuffix(base, vb.oid), d.value);
      else warn(vb.oid, field, d.reason);
    }
    return out;
  };
  const ssids = byIndex(cols.ssid, 'ssid', text);
  const radios = byIndex(cols.radio, 'radio', (vb) => {
    if (vb.type === 'OctetString') return text(vb);
    const d = int(vb);
    return d.ok ? { ok: true, value: String(d.value) } : d;
  });
  const out: WifiReading[] = [];
  for (const vb of raw.columns.get(cols.clients) ?? []) {
    const index = oidSuffix(cols.clients, vb.oid);
    if (!/^\d+(\.\d+)*$/.test(index)) {
      warn(vb.oid, 'clients', `index "${index}" is not a table index`);
      continue;
    }
    const d = uint(vb, ['Integer', 'Gauge32', 'Counter32']);
    if (!d.ok) {
      warn(vb.oid, 'clients', d.reason);
      continue;
    }
    const ssid = ssids.get(index);
    const radio = radios.get(index);
    out.push({
      index,
      clients: d.value,
      ssid: ssid === '' ? undefined : ssid,
      radio: radio === '' ? undefined : radio,
    });
  }
  return out;
}
