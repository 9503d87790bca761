/**
 * The maintenance calendar: which maintenance windows and silences cover a site or device at a given time,
 * and when that next changes. Pure (times are inputs); the Monitor keeps one and asks it before paging.
 *
 * Weekly windows are in local wall time of their zone (Badung: Asia/Makassar, UTC+8, no daylight saving);
 * the offset is taken from Intl for each occurrence, so zones with daylight saving work too.
 */
import {
  scopeMatches,
  WEEKDAYS,
  type MaintenanceWindow,
  type Schedule,
  type ScopeTarget,
  type Silence,
  type Suppression,
} from './scope.ts';

export interface Interval {
  readonly startMs: number;
  readonly endMs: number;
}

const DAY = 86_400_000;

/** One formatter per zone: building an Intl.DateTimeFormat costs far more than using one. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Offset of `zone` from UTC at instant `ms`, in ms (Asia/Makassar: +8 h). */
export function zoneOffsetMs(zone: string, ms: number): number {
  const parts = formatterFor(zone).formatToParts(new Date(ms));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * The UTC instant of local wall time (y, m, d, hh:mm) in `zone`. Across a daylight-saving change this
 * follows RFC 5545 §3.3.5 (and Temporal's 'compatible'): a time that occurs twice (clocks going back) is
 * the first of the two; a time that does not exist (clocks going forward) is read with the offset from
 * before the gap, so 02:30 on the night clocks jump from 02:00 to 03:00 becomes 03:30 new time, whichever
 * side of UTC the zone is on. (A fixed-point iteration lands before the gap west of UTC and after it east
 * of it, and picks different halves of the repeated hour, too.)
 */
function localToUtc(zone: string, y: number, m: number, d: number, hh: number, mm: number): number {
  const wall = Date.UTC(y, m, d, hh, mm);
  // The offsets a day either side: zones change offset at most once in such a span.
  const before = zoneOffsetMs(zone, wall - DAY);
  const after = zoneOffsetMs(zone, wall + DAY);
  const fits = [wall - before, wall - after].filter((t) => zoneOffsetMs(zone, t) === wall - t);
  return fits.length > 0 ? Math.min(...fits) : wall - before;
}

/** Occurrences of a schedule overlapping [fromMs, toMs), unclipped, in start order. */
export function occurrences(s: Schedule, fromMs: number, toMs: number): Interval[] {
  if (s.kind === 'once')
    return s.startMs < toMs && s.endMs > fromMs ? [{ startMs: s.startMs, endMs: s.endMs }] : [];
  const [hh, mm] = s.at.split(':').map(Number) as [number, number];
  const out: Interval[] = [];
  // Local calendar days from one day before `from` (an occurrence may run past midnight) to `to`.
  const lo = Math.max(fromMs - s.durationMs - DAY, s.fromMs ?? -Infinity);
  const first = new Date(lo + zoneOffsetMs(s.timeZone, lo));
  for (
    let day = Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), first.getUTCDate());
    day < toMs + 2 * DAY;
    day += DAY
  ) {
    const d = new Date(day);
    const weekday = WEEKDAYS[(d.getUTCDay() + 6) % 7]!;
    if (s.days && s.days.length > 0 && !s.days.includes(weekday)) continue;
    const startMs = localToUtc(s.timeZone, d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), hh, mm);
    if (s.fromMs !== undefined && startMs < s.fromMs) continue;
    if (s.untilMs !== undefined && startMs >= s.untilMs) continue;
    const endMs = startMs + s.durationMs;
    if (startMs < toMs && endMs > fromMs) out.push({ startMs, endMs });
  }
  return out;
}

export function isOpen(s: Schedule, timeMs: number): boolean {
  return occurrences(s, timeMs, timeMs + 1).some((o) => o.startMs <= timeMs && timeMs < o.endMs);
}

/** Sorted, overlapping or touching intervals merged. */
export function mergeIntervals(list: readonly Interval[]): Interval[] {
  const sorted = [...list].sort((a, b) => a.startMs - b.startMs);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last && i.startMs <= last.endMs)
      out[out.length - 1] = { ...last, endMs: Math.max(last.endMs, i.endMs) };
    else out.push(i);
  }
  return out;
}

export type Cover =
  | { readonly kind: 'maintenance'; readonly window: MaintenanceWindow }
  | { readonly kind: 'silence'; readonly silence: Silence };

/** A cover as the surfaces show it: which window or silence, by whom, until when (from `timeMs`). */
export function suppressionOf(cover: Cover, timeMs: number): Suppression {
  if (cover.kind === 'silence') {
    const s = cover.silence;
    return { kind: 'silence', id: s.id, reason: s.comment, by: s.createdBy, untilMs: s.endsAt };
  }
  const w = cover.window;
  const open = occurrences(w.schedule, timeMs, timeMs + 1).find((o) => o.startMs <= timeMs);
  return {
    kind: 'maintenance',
    id: w.id,
    reason: w.name,
    by: w.createdBy,
    untilMs: open?.endMs ?? timeMs,
  };
}

export class MaintenanceCalendar {
  readonly #windows = new Map<string, MaintenanceWindow>();
  readonly #silences = new Map<string, Silence>();

  constructor(windows: readonly MaintenanceWindow[] = [], silences: readonly Silence[] = []) {
    for (const w of windows) this.#windows.set(w.id, w);
    for (const s of silences) this.#silences.set(s.id, s);
  }

  windows(): MaintenanceWindow[] {
    return [...this.#windows.values()];
  }

  silences(): Silence[] {
    return [...this.#silences.values()];
  }

  window(id: string): MaintenanceWindow | undefined {
    return this.#windows.get(id);
  }

  addWindow(w: MaintenanceWindow): void {
    this.#windows.set(w.id, w);
  }

  removeWindow(id: string): boolean {
    return this.#windows.delete(id);
  }

  addSilence(s: Silence): void {
    this.#silences.set(s.id, s);
  }

  removeSilence(id: string): boolean {
    return this.#silences.delete(id);
  }

  /** Silences that ended before `nowMs`, forgotten (returns their ids). */
  expire(nowMs: number): string[] {
    const gone = [...this.#silences.values()].filter((s) => s.endsAt <= nowMs).map((s) => s.id);
    for (const id of gone) this.#silences.delete(id);
    return gone;
  }

  /** The window or silence covering this target now, if any (windows first). */
  activeFor(target: ScopeTarget, timeMs: number): Cover | undefined {
    for (const w of this.#windows.values())
      if (scopeMatches(w.scope, target) && isOpen(w.schedule, timeMs))
        return { kind: 'maintenance', window: w };
    for (const s of this.#silences.values())
      if (scopeMatches(s.scope, target) && s.startsAt <= timeMs && timeMs < s.endsAt)
        return { kind: 'silence', silence: s };
    return undefined;
  }

  /** When this target was covered within [fromMs, toMs): merged, clipped intervals (for the reports). */
  coveredIntervals(target: ScopeTarget, fromMs: number, toMs: number): Interval[] {
    const all: Interval[] = [];
    for (const w of this.#windows.values())
      if (scopeMatches(w.scope, target)) all.push(...occurrences(w.schedule, fromMs, toMs));
    for (const s of this.#silences.values())
      if (scopeMatches(s.scope, target)) all.push({ startMs: s.startsAt, endMs: s.endsAt });
    return mergeIntervals(
      all
        .map((i) => ({ startMs: Math.max(i.startMs, fromMs), endMs: Math.min(i.endMs, toMs) }))
        .filter((i) => i.endMs > i.startMs),
    );
  }

  /** The next instant after `nowMs` at which any window or silence opens or closes (within `horizonMs`). */
  nextChange(nowMs: number, horizonMs = 7 * DAY): number | undefined {
    let next = Infinity;
    const consider = (t: number) => {
      if (t > nowMs && t < next) next = t;
    };
    for (const w of this.#windows.values())
      for (const o of occurrences(w.schedule, nowMs, nowMs + horizonMs)) {
        consider(o.startMs);
        consider(o.endMs);
      }
    for (const s of this.#silences.values()) {
      consider(s.startsAt);
      consider(s.endsAt);
    }
    return Number.isFinite(next) ? next : undefined;
  }
}
