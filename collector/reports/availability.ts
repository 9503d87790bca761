/**
 * Availability from state transitions (pure). A site is up while its router is up; down while the router
 * is down or unreachable (a site behind a failed upstream has no service either). Three things override
 * that, in this order:
 *   1. the monitor was not watching (no heartbeat: collector down, data gap) → unknown, never up or down;
 *   2. the site was inside a maintenance window or silence → maintenance, shown apart;
 *   3. otherwise the router's state.
 * A `suspect` state that ended in down is counted as down from its start (the outage began at the first
 * failed poll, not when it was confirmed); one that ended up is up. Availability = up / (up + down).
 */
import type { Site } from '../core/types.ts';
import type { AvailabilityFigures, GroupRow, SiteRow } from './model.ts';
import { shareOf } from './shares.ts';

export type RouterState = 'up' | 'down' | 'unreachable' | 'suspect' | 'unknown';

export interface StateChange {
  readonly timeMs: number;
  readonly state: RouterState;
}

export interface Interval {
  readonly startMs: number;
  readonly endMs: number;
}

export interface SiteHistory {
  /** The router's state at the start of the range (its last transition before), if any. */
  readonly initial?: RouterState | undefined;
  /** Transitions within the range, in time order. */
  readonly changes: readonly StateChange[];
  /** When the site was in maintenance (merged or not), any extent: clipped here. */
  readonly maintenance: readonly Interval[];
  /** Clock breaches recorded in the range. */
  readonly clockBreaches: number;
}

type Cls = 'up' | 'down' | 'maintenance' | 'unknown';

/** Suspect runs that ended in down become down; those that ended up (or are last) stay up. */
function resolveSuspect(changes: readonly StateChange[]): StateChange[] {
  const out = changes.map((c) => ({ ...c }));
  for (let i = 0; i < out.length; i++) {
    if (out[i]?.state !== 'suspect') continue;
    let j = i;
    while (out[j]?.state === 'suspect') j++;
    const next = out[j]?.state;
    const becomes: RouterState = next === 'down' || next === 'unreachable' ? 'down' : 'up';
    for (let k = i; k < j; k++) out[k] = { timeMs: out[k]!.timeMs, state: becomes };
  }
  return out;
}

const stateClass = (s: RouterState | undefined): Cls =>
  s === undefined || s === 'unknown' ? 'unknown' : s === 'up' || s === 'suspect' ? 'up' : 'down';

function inAny(list: readonly Interval[], t: number): boolean {
  return list.some((i) => i.startMs <= t && t < i.endMs);
}

/** The figures of one site over [fromMs, toMs), given when the monitor was watching. */
export function siteFigures(
  h: SiteHistory,
  watching: readonly Interval[],
  fromMs: number,
  toMs: number,
): AvailabilityFigures {
  const changes = resolveSuspect(h.changes.filter((c) => c.timeMs >= fromMs && c.timeMs < toMs));
  const cuts = new Set<number>([fromMs, toMs]);
  for (const c of changes) cuts.add(c.timeMs);
  for (const i of [...h.maintenance, ...watching])
    for (const t of [i.startMs, i.endMs]) if (t > fromMs && t < toMs) cuts.add(t);
  const times = [...cuts].sort((a, b) => a - b);

  const acc = { up: 0, down: 0, maintenance: 0, unknown: 0 };
  const outages: { startMs: number; endMs: number; ended: boolean }[] = [];
  let state: RouterState | undefined = h.initial === 'suspect' ? 'up' : h.initial;
  let ci = 0;
  let open: { startMs: number } | undefined;
  for (let k = 0; k < times.length - 1; k++) {
    const a = times[k]!;
    const b = times[k + 1]!;
    while (ci < changes.length && changes[ci]!.timeMs <= a) state = changes[ci++]!.state;
    const routerCls = stateClass(state);
    const cls: Cls = !inAny(watching, a) ? 'unknown' : inAny(h.maintenance, a) ? 'maintenance' : routerCls;
    acc[cls] += b - a;
    // An outage runs from the router going down to it coming back up (whatever overrides the counting).
    if (routerCls === 'down' && !open) open = { startMs: a };
    if (routerCls === 'up' && open) {
      outages.push({ startMs: open.startMs, endMs: a, ended: true });
      open = undefined;
    }
  }
  if (open) outages.push({ startMs: open.startMs, endMs: toMs, ended: false });
  return figures(acc, outages, toMs - fromMs, h.clockBreaches);
}

function figures(
  acc: { up: number; down: number; maintenance: number; unknown: number },
  outages: readonly { startMs: number; endMs: number; ended: boolean }[],
  periodMs: number,
  clockBreaches: number,
): AvailabilityFigures {
  const observed = acc.up + acc.down;
  const ended = outages.filter((o) => o.ended);
  return {
    periodMs,
    upMs: acc.up,
    downMs: acc.down,
    maintenanceMs: acc.maintenance,
    unknownMs: acc.unknown,
    unknownSharePct: shareOf(acc.unknown, periodMs),
    availabilityPct: observed > 0 ? (acc.up / observed) * 100 : null,
    outages: outages.length,
    longestOutageMs: Math.max(0, ...outages.map((o) => o.endMs - o.startMs)),
    mttrMs: ended.length > 0 ? ended.reduce((n, o) => n + (o.endMs - o.startMs), 0) / ended.length : null,
    clockBreaches,
  };
}

/** Figures of several sites together: times and counts add up; the longest is the longest of any. */
export function sumFigures(rows: readonly AvailabilityFigures[], periodMs: number): AvailabilityFigures {
  const acc = { up: 0, down: 0, maintenance: 0, unknown: 0 };
  let outages = 0;
  let longest = 0;
  let restoredMs = 0;
  let restored = 0;
  let breaches = 0;
  for (const r of rows) {
    acc.up += r.upMs;
    acc.down += r.downMs;
    acc.maintenance += r.maintenanceMs;
    acc.unknown += r.unknownMs;
    outages += r.outages;
    longest = Math.max(longest, r.longestOutageMs);
    breaches += r.clockBreaches;
    if (r.mttrMs !== null) {
      // mttr is a mean over the site's ended outages; weight it by them (all its outages when none open).
      const n = Math.max(1, r.outages);
      restoredMs += r.mttrMs * n;
      restored += n;
    }
  }
  const observed = acc.up + acc.down;
  return {
    periodMs,
    upMs: acc.up,
    downMs: acc.down,
    maintenanceMs: acc.maintenance,
    unknownMs: acc.unknown,
    // Of the time there was to watch: every site, the whole period.
    unknownSharePct: shareOf(acc.unknown, periodMs * rows.length),
    availabilityPct: observed > 0 ? (acc.up / observed) * 100 : null,
    outages,
    longestOutageMs: longest,
    mttrMs: restored > 0 ? restoredMs / restored : null,
    clockBreaches: breaches,
  };
}

export function siteRow(site: Site, f: AvailabilityFigures, targetPct: number): SiteRow {
  return {
    ...f,
    siteId: site.id,
    name: site.name,
    category: site.category,
    kecamatan: site.kecamatan,
    desa: site.desa,
    targetPct,
    meetsTarget: f.availabilityPct === null ? null : f.availabilityPct >= targetPct,
  };
}

/** Rows grouped by a key, in key order, each with its sites' sum and how many met their target. */
export function groupRows(
  rows: readonly SiteRow[],
  keyOf: (r: SiteRow) => string,
  labelOf: (key: string) => string,
  periodMs: number,
  targetOf?: (key: string) => number | undefined,
): GroupRow[] {
  const groups = new Map<string, SiteRow[]>();
  for (const r of rows) {
    const k = keyOf(r);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, members]) => ({
      ...sumFigures(members, periodMs),
      key,
      label: labelOf(key),
      sites: members.length,
      sitesMeetingTarget: members.filter((m) => m.meetsTarget === true).length,
      sitesMeetingTargetPct: shareOf(members.filter((m) => m.meetsTarget === true).length, members.length),
      targetPct: targetOf?.(key),
    }));
}

/**
 * When the monitor was watching, from its heartbeats (the `monitor` points, every `everyMs`), within
 * [fromMs, toMs): from each heartbeat to the next when they are at most `everyMs` x 1.5 apart. A start
 * writes one at once and a stop one at the end, so the edges are exact; a kill -9 loses at most `everyMs`.
 */
export function watchingFrom(
  beats: readonly number[],
  everyMs: number,
  fromMs: number,
  toMs: number,
): Interval[] {
  const sorted = [...beats].sort((a, b) => a - b);
  const out: Interval[] = [];
  let cur: Interval | undefined;
  for (let i = 0; i < sorted.length; i++) {
    const t = sorted[i]!;
    const next = sorted[i + 1];
    if (!cur) cur = { startMs: t, endMs: t };
    if (next !== undefined && next - t <= everyMs * 1.5) cur = { startMs: cur.startMs, endMs: next };
    else {
      out.push(cur);
      cur = undefined;
    }
  }
  return out
    .map((i) => ({ startMs: Math.max(i.startMs, fromMs), endMs: Math.min(i.endMs, toMs) }))
    .filter((i) => i.endMs > i.startMs);
}
