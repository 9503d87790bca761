/**
 * DeviceReading (raw counters as the agent reported them) → Sample[] in the schema of sinks/schema.ts.
 * Pure: the previous reading is passed in, nothing is kept here.
 *
 * Rates are counter deltas over the wall time between the two polls. The traps, and what happens:
 *   - 32-bit counter wrapped (cur < prev):   delta = cur + 2^32 - prev, kept only when the implied rate is
 *                                            plausible (≤ the interface speed, or ≤ MAX_PLAUSIBLE_BPS)
 *   - 64-bit counter went backwards:         a reset (agent restart, counter cleared): no rate
 *   - the agent rebooted:                    sysUpTime grew by less than the wall time elapsed allows (it
 *                                            went backwards, or the device came back up since the previous
 *                                            poll); no rates at all for this poll, rebooted = 1.
 *                                            A reboot never shows as a traffic spike.
 *   - sysUpTime itself wraps at 2^32 cs (497 days): not a reboot when the wrapped value matches the
 *                                            elapsed time
 *   - counter width changed (device swapped), interface new or gone, dt ≤ 0: no rate, a warning
 *   - an increase beyond 100 Gbit/s (or the link, if faster): a discontinuity, no rate, a warning
 *   - sysUpTime frozen at the same value: not a reboot (the counters still show a restart), a warning
 */
import type { Device, DeviceReading, InterfaceReading, Sample, Site, WifiReading } from '../core/types.ts';
import { intern } from './intern.ts';

export interface NormaliseContext {
  readonly site: Site;
  readonly device: Device;
  /** How long the poll took: the device point's `poll_ms` field, when given. */
  readonly pollMs?: number | undefined;
}

export interface NormaliseResult {
  readonly samples: Sample[];
  readonly rebooted: boolean;
  readonly warnings: string[];
}

const TWO_32 = 2n ** 32n;
const TWO_64 = 2n ** 64n;
/** Counters up to here are exact as doubles, and so are their differences. */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const UPTIME_WRAP_CS = 2 ** 32;
/** Above this a wrapped 32-bit counter is not believed when the interface speed is unknown. */
export const MAX_PLAUSIBLE_BPS = 100e9;
/**
 * Slack between the sysUpTime advance and the wall time elapsed before it is called a reboot: agent clocks
 * drift, and a reading's time is when the collector got the reply, not when the agent stamped it (event
 * loop lag on a busy collector, a retried request).
 */
const UPTIME_SLACK_CS = 1000;
const UPTIME_SLACK_RATIO = 0.02;
/** The smallest Ethernet frame on the wire (64 bytes + preamble + inter-frame gap), for packet-rate caps. */
const MIN_FRAME_BITS = 84 * 8;

/** The raw counters of an interface reading, the ones rates are made from. */
export const COUNTER_KEYS = [
  'inOctets',
  'outOctets',
  'inUcastPkts',
  'outUcastPkts',
  'inErrors',
  'outErrors',
  'inDiscards',
  'outDiscards',
] as const satisfies readonly (keyof InterfaceReading)[];
type CounterKey = (typeof COUNTER_KEYS)[number];

/** `readingWidth`: the counter has the reading's width (counterBits); the others are always 32-bit. */
const RATE_FIELDS: readonly {
  key: CounterKey;
  field: string;
  scale: number;
  octets: boolean;
  readingWidth: boolean;
}[] = [
  { key: 'inOctets', field: 'in_bps', scale: 8, octets: true, readingWidth: true },
  { key: 'outOctets', field: 'out_bps', scale: 8, octets: true, readingWidth: true },
  { key: 'inUcastPkts', field: 'in_pps', scale: 1, octets: false, readingWidth: true },
  { key: 'outUcastPkts', field: 'out_pps', scale: 1, octets: false, readingWidth: true },
  { key: 'inErrors', field: 'in_errors_ps', scale: 1, octets: false, readingWidth: false },
  { key: 'outErrors', field: 'out_errors_ps', scale: 1, octets: false, readingWidth: false },
  { key: 'inDiscards', field: 'in_discards_ps', scale: 1, octets: false, readingWidth: false },
  { key: 'outDiscards', field: 'out_discards_ps', scale: 1, octets: false, readingWidth: false },
];

/**
 * Whether the agent restarted between two readings. sysUpTime (RFC 3418) should have advanced by about the
 * wall time elapsed. It restarted when the advance is clearly shorter: it went backwards (and is not the
 * 497-day TimeTicks wrap, RFC 2578 section 7.1.8, matching the elapsed time), or it is ahead of the
 * previous value by less than the time that passed (the device rebooted and has been up for a while).
 */
export function detectReboot(prev: DeviceReading, cur: DeviceReading): boolean {
  if (prev.sysUpTimeCs === undefined || cur.sysUpTimeCs === undefined) return false;
  // The very same value again is a frozen agent clock (some firmwares, cached agents), not a restart: a
  // device that came back up would not land on the same hundredth of a second. Judging it a reboot would
  // suppress every rate of that device for ever; its counters still reveal a real restart (64-bit
  // decrease, implausible 32-bit wrap).
  if (cur.sysUpTimeCs === prev.sysUpTimeCs) return false;
  const elapsedCs = Math.max(0, (cur.timeMs - prev.timeMs) / 10);
  const slack = UPTIME_SLACK_CS + elapsedCs * UPTIME_SLACK_RATIO;
  if (cur.sysUpTimeCs >= prev.sysUpTimeCs) return cur.sysUpTimeCs - prev.sysUpTimeCs < elapsedCs - slack;
  const wrapped = cur.sysUpTimeCs + UPTIME_WRAP_CS - prev.sysUpTimeCs;
  return Math.abs(wrapped - elapsedCs) > slack;
}

/** The increase of a counter between two readings, or a reason there is none. Pure. */
export function counterDelta(
  prev: bigint,
  cur: bigint,
  bits: 32 | 64,
): { ok: true; delta: bigint; wrapped: boolean } | { ok: false; reason: string } {
  const problem = deltaProblem(prev, cur, bits);
  if (problem !== undefined) return { ok: false, reason: problem };
  if (cur >= prev) return { ok: true, delta: cur - prev, wrapped: false };
  return { ok: true, delta: cur + TWO_32 - prev, wrapped: true };
}

/** Why `prev -> cur` gives no delta, or undefined when it gives one (a decrease of a 32-bit counter: a wrap). */
function deltaProblem(prev: bigint, cur: bigint, bits: 32 | 64): string | undefined {
  // A reading's counters come from the decoder, which keeps Counter32 values below 2^32; anything else is
  // a caller's mistake, and a "wrap" computed from it would be negative.
  const limit = bits === 32 ? TWO_32 : TWO_64;
  if (prev < 0n || cur < 0n || prev >= limit || cur >= limit)
    return `value out of the ${bits}-bit range (${prev} → ${cur})`;
  if (cur < prev && bits === 64) return 'counter went backwards (reset)';
  return undefined;
}

/**
 * counterDelta's delta for a pair deltaProblem passed, as a double (exact below 2^53) without its result
 * object and bigints (issue #14: eight counters an interface, every poll). A decrease is a 32-bit wrap.
 */
function deltaOf(prev: bigint, cur: bigint): number {
  if (cur < prev) return Number(cur) + 2 ** 32 - Number(prev);
  return prev <= MAX_SAFE && cur <= MAX_SAFE ? Number(cur) - Number(prev) : Number(cur - prev);
}

export function normalise(
  prev: DeviceReading | undefined,
  cur: DeviceReading,
  ctx: NormaliseContext,
): NormaliseResult {
  const { site, device } = ctx;
  const warnings: string[] = [];
  const rebooted = prev !== undefined && detectReboot(prev, cur);
  const samples: Sample[] = [];
  if (
    prev?.sysUpTimeCs !== undefined &&
    prev.sysUpTimeCs === cur.sysUpTimeCs &&
    cur.timeMs - prev.timeMs > UPTIME_SLACK_CS * 10
  ) {
    warnings.push(
      `sysUpTime stayed at ${cur.sysUpTimeCs} for ${(cur.timeMs - prev.timeMs) / 1000}s (frozen agent clock): restarts judged by the counters alone`,
    );
  }

  // Tags are built with their keys in sorted order (the order line protocol writes them in), so the
  // encoder does not sort them per sample; the set of tags is deviceTags() (schema.ts) plus the
  // measurement's own. Written out per measurement: no spread, no intermediate objects.
  const deviceFields: Record<string, number> = { reachable: 1, rebooted: rebooted ? 1 : 0 };
  if (cur.sysUpTimeCs !== undefined) deviceFields.uptime_s = cur.sysUpTimeCs / 100;
  if (ctx.pollMs !== undefined) deviceFields.poll_ms = ctx.pollMs;
  const tagSets = tagSetsOf(site, device);
  tagSets.interfaces = sized(tagSets.interfaces, cur.interfaces.length);
  tagSets.wifi = sized(tagSets.wifi, cur.wifi.length);
  samples.push({ measurement: 'device', tags: tagSets.device, fields: deviceFields, timeMs: cur.timeMs });

  const dtS = prev ? (cur.timeMs - prev.timeMs) / 1000 : 0;
  if (prev && dtS <= 0) warnings.push(`poll time did not advance (${dtS}s): no rates`);
  const prevIfs = prev?.interfaces;
  // The table usually comes back in the same rows as last time: match by position, and build a map by
  // ifIndex only when a row moved, appeared or went.
  let prevByIndex: Map<number, InterfaceReading> | undefined;
  let sameRows = prevIfs !== undefined && prevIfs.length === cur.interfaces.length;

  for (let i = 0; i < cur.interfaces.length; i++) {
    const ifc = cur.interfaces[i];
    if (ifc === undefined) continue;
    let fields: Record<string, number> | undefined;
    if (ifc.operStatus !== undefined) (fields ??= {}).oper_status = ifc.operStatus;
    if (ifc.speedBps !== undefined) (fields ??= {}).speed_bps = ifc.speedBps;
    let before: InterfaceReading | undefined;
    if (prevIfs !== undefined) {
      const atSameRow = prevIfs[i];
      if (prevByIndex === undefined && atSameRow?.ifIndex === ifc.ifIndex) {
        before = atSameRow;
      } else {
        sameRows = false;
        prevByIndex ??= new Map<number, InterfaceReading>(prevIfs.map((p) => [p.ifIndex, p]));
        before = prevByIndex.get(ifc.ifIndex);
      }
    }
    if (prev && !before)
      warnings.push(`ifIndex ${ifc.ifIndex} (${ifc.name}) is new: no rate until the next poll`);
    if (before && !rebooted && dtS > 0) {
      if (before.counterBits !== ifc.counterBits) {
        warnings.push(
          `ifIndex ${ifc.ifIndex}: counter width changed ${before.counterBits} → ${ifc.counterBits}: no rate`,
        );
      } else {
        fields = addRates(fields, before, ifc, dtS, warnings);
      }
    }
    if (fields === undefined) continue;
    const tags = interfaceTags(tagSets, i, site, device, ifc);
    samples.push({ measurement: 'interface', tags, fields, timeMs: cur.timeMs });
  }
  if (prevIfs !== undefined && !sameRows) {
    const now = new Set(cur.interfaces.map((i) => i.ifIndex));
    for (const old of prevIfs)
      if (!now.has(old.ifIndex)) warnings.push(`ifIndex ${old.ifIndex} (${old.name}) is gone`);
  }

  for (let i = 0; i < cur.wifi.length; i++) {
    const w = cur.wifi[i];
    if (w === undefined) continue;
    const tags = wifiTags(tagSets, i, site, device, w);
    samples.push({ measurement: 'wifi', tags, fields: { clients: w.clients }, timeMs: cur.timeMs });
  }
  return { samples, rebooted, warnings };
}

// ---- tag sets ----------------------------------------------------------------------------------------
//
// A device's tags are the same poll after poll: the device's own, and each interface's and Wi-Fi row's
// as long as the row holds the same ifIndex and name (index, radio, SSID). Each tag set is made once and
// shared by the points of every poll until it changes (issue #14: a ten-tag object per point, every poll,
// kept alive until its batch is written, is what the garbage collector copies). They are frozen: a point
// never changes its tags, and a shared set cannot be changed under another point. What is kept per device
// is the last sets made at each row position (rows are matched the same way above), so it does not grow
// with interfaces that come and go; it is dropped with the Device object (an inventory reload makes new ones).

type Tags = Readonly<Record<string, string>>;

interface TagSets {
  readonly site: Site;
  readonly device: Tags;
  /** By row position; each set holds the ifIndex and name it was made for (and is made again when they change). */
  interfaces: Tags[];
  /** By row position; each set holds the index, radio and SSID it was made for. */
  wifi: Tags[];
}

const tagSetMemo = new WeakMap<Device, TagSets>();

function tagSetsOf(site: Site, device: Device): TagSets {
  let sets = tagSetMemo.get(device);
  if (sets === undefined || sets.site !== site) {
    // Keys in sorted order: the order line protocol writes them in (see line-protocol.ts).
    const tags: Tags = Object.freeze({
      category: site.category,
      desa: site.desa,
      device: device.id,
      kecamatan: site.kecamatan,
      profile: device.profile,
      role: device.role,
      site: site.id,
      site_name: site.name,
    });
    sets = { site, device: tags, interfaces: [], wifi: [] };
    tagSetMemo.set(device, sets);
  }
  return sets;
}

function interfaceTags(sets: TagSets, row: number, site: Site, device: Device, ifc: InterfaceReading): Tags {
  const name = ifc.name || `if${ifc.ifIndex}`;
  const known = sets.interfaces[row];
  // String(n) of a small integer comes from V8's number-string cache: no string made per poll.
  if (known !== undefined && known.ifName === name && known.ifIndex === String(ifc.ifIndex)) return known;
  const tags: Tags = Object.freeze({
    category: site.category,
    desa: site.desa,
    device: device.id,
    ifIndex: intern(String(ifc.ifIndex)),
    ifName: intern(name),
    kecamatan: site.kecamatan,
    profile: device.profile,
    role: device.role,
    site: site.id,
    site_name: site.name,
  });
  sets.interfaces[row] = tags;
  return tags;
}

function wifiTags(sets: TagSets, row: number, site: Site, device: Device, w: WifiReading): Tags {
  const known = sets.wifi[row];
  // An empty radio or SSID is no tag: the set made for it has none.
  if (
    known !== undefined &&
    known.index === w.index &&
    known.radio === (w.radio || undefined) &&
    known.ssid === (w.ssid || undefined)
  )
    return known;
  const tags: Record<string, string> = {
    category: site.category,
    desa: site.desa,
    device: device.id,
    index: intern(w.index),
    kecamatan: site.kecamatan,
    profile: device.profile,
  };
  if (w.radio) tags.radio = intern(w.radio);
  tags.role = device.role;
  tags.site = site.id;
  tags.site_name = site.name;
  if (w.ssid) tags.ssid = intern(w.ssid);
  Object.freeze(tags);
  sets.wifi[row] = tags;
  return tags;
}

/**
 * The list with room for `rows` (its own rows kept): a new array of exactly that length when it is
 * shorter. An array grown one index at a time takes room for 17 (136 bytes, kept for the device's
 * lifetime) where a device has a handful of rows.
 */
function sized<T>(list: T[], rows: number): T[] {
  if (list.length >= rows) return list;
  const grown = new Array<T>(rows);
  for (let i = 0; i < list.length; i++) grown[i] = list[i] as T;
  return grown;
}

/** The rate fields of one interface added to `fields` (created when the first one is), which is returned. */
function addRates(
  fields: Record<string, number> | undefined,
  before: InterfaceReading,
  ifc: InterfaceReading,
  dtS: number,
  warnings: string[],
): Record<string, number> | undefined {
  // Only the octet counters come in two widths; the others (ifTable) are always 32-bit, except the HC
  // packet counters, which the reading reports with the octets' width.
  const knownBps = ifc.speedBps && ifc.speedBps > 0 ? ifc.speedBps * 1.05 : undefined;
  for (const { key, field, scale, octets, readingWidth } of RATE_FIELDS) {
    const a = before[key];
    const b = ifc[key];
    if (a === undefined || b === undefined) continue;
    const bits: 32 | 64 = readingWidth ? ifc.counterBits : 32;
    const problem = deltaProblem(a, b, bits);
    if (problem !== undefined) {
      warnings.push(`ifIndex ${ifc.ifIndex} ${key}: ${problem}: no rate`);
      continue;
    }
    const wrapped = b < a;
    const delta = deltaOf(a, b);
    const rate = (delta * scale) / dtS;
    const unit = octets ? 'bit/s' : '/s';
    if (wrapped) {
      // A decrease is a wrap only if the traffic it implies fits the link; otherwise the counter was reset
      // (cleared, or the agent restarted without sysUpTime showing it) and the "wrap" would be a spike.
      const cap = perUnit(knownBps ?? MAX_PLAUSIBLE_BPS, octets);
      if (rate > cap) {
        warnings.push(
          `ifIndex ${ifc.ifIndex} ${key}: decrease implies ${Math.round(rate)} ${unit}, above the link: treated as a reset`,
        );
        continue;
      }
    } else {
      // An increase is not checked against ifSpeed (wireless and virtual interfaces often report a wrong
      // or nominal speed), only against what no link here carries: a jump beyond that is a discontinuity
      // (a replaced device under the same ifIndex, an agent that re-based its counters), not traffic.
      const cap = perUnit(Math.max(MAX_PLAUSIBLE_BPS, knownBps ?? 0), octets);
      if (rate > cap) {
        warnings.push(
          `ifIndex ${ifc.ifIndex} ${key}: increase implies ${Math.round(rate)} ${unit}, beyond any link: a discontinuity, no rate`,
        );
        continue;
      }
    }
    (fields ??= {})[field] = rate;
  }
  return fields;
}

/** A bit rate as the cap of a counter: bits for octet counters, smallest frames for packet counters. */
function perUnit(bps: number, octets: boolean): number {
  return octets ? bps : bps / MIN_FRAME_BITS;
}
