/**
 * Badung's clock: WITA (Waktu Indonesia Tengah, IANA Asia/Makassar), UTC+8 all year, no daylight
 * saving. The one home of that fact: the offset, an instant written as ISO 8601 in WITA with its
 * offset (what the v1 API, the feeds, MQTT state and CSV reports send), the "14:05 WITA, 22-11-2026"
 * form alert texts and pages use, and calendar days and months in WITA.
 *
 * Pure and without imports (no node: modules), so the browser console (web/console/src, bundled by
 * esbuild) imports it too. Schedules that name another IANA zone go through alerting/calendar.ts.
 */

/** Hours WITA is ahead of UTC. */
export const WITA_OFFSET_HOURS = 8;
export const WITA_OFFSET_MS = WITA_OFFSET_HOURS * 3_600_000;
/** The offset as ISO 8601 writes it. */
export const WITA_ISO_OFFSET = '+08:00';
/** The IANA zone, for Intl.DateTimeFormat, Grafana and maintenance schedules. */
export const WITA_TIME_ZONE = 'Asia/Makassar';

const DAY_MS = 86_400_000;

/** The instant's UTC ISO string shifted to WITA wall time, still ending in "Z" (not for output). */
function wallIso(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`not a time: ${ms}`);
  return new Date(ms + WITA_OFFSET_MS).toISOString();
}

/**
 * An instant as ISO 8601 in WITA with its offset: "2026-12-03T22:15:00.000+08:00". What the v1 API, the
 * feeds and the MQTT state say (Badung's own clock, readable as is; any ISO parser gets the instant).
 */
export function isoWita(ms: number): string {
  return `${wallIso(ms).slice(0, -1)}${WITA_ISO_OFFSET}`;
}

/** isoWita, or null for an absent time (a JSON field that is always there). */
export function isoWitaOrNull(ms: number | undefined | null): string | null {
  return ms === undefined || ms === null ? null : isoWita(ms);
}

/** Whole seconds (rounded down), as CAP's dateTime and CSV reports write it: "2026-11-23T10:15:00+08:00". */
export function isoWitaSeconds(ms: number): string {
  return `${wallIso(ms).slice(0, 19)}${WITA_ISO_OFFSET}`;
}

/** To the minute (seconds dropped): "2026-12-03T14:05:00+08:00". */
export function isoWitaMinute(ms: number): string {
  return `${wallIso(ms).slice(0, 16)}:00${WITA_ISO_OFFSET}`;
}

/** "14:05 WITA, 22-11-2026": how alerts, pages and reports write a time for people (both languages). */
export function formatWita(ms: number): string {
  const d = new Date(ms + WITA_OFFSET_MS);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())} WITA, ${p(d.getUTCDate())}-${p(d.getUTCMonth() + 1)}-${d.getUTCFullYear()}`;
}

/** Wall time in WITA to the minute, as a `datetime-local` input holds it: "2026-12-03T14:05". */
export function witaLocalMinute(ms: number): string {
  return wallIso(ms).slice(0, 16);
}

/** A wall time in WITA to the minute ("2026-12-03T14:05", a `datetime-local` value) as ISO 8601 with the offset. */
export function witaMinuteToIso(wall: string): string | undefined {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(wall) ? `${wall}:00${WITA_ISO_OFFSET}` : undefined;
}

/** The month in WITA that contains the instant: "2026-12". */
export function witaMonth(ms: number): string {
  return wallIso(ms).slice(0, 7);
}

/** [start, end) of a calendar month ("2026-10") in WITA, as ms since 1970. */
export function witaMonthRange(month: string): { fromMs: number; toMs: number } {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!m) throw new RangeError(`'${month}' is not a month; write YYYY-MM, e.g. 2026-10`);
  const y = Number(m[1]);
  const mo = Number(m[2]) - 1;
  return { fromMs: Date.UTC(y, mo, 1) - WITA_OFFSET_MS, toMs: Date.UTC(y, mo + 1, 1) - WITA_OFFSET_MS };
}

/** [start, end) of the WITA calendar day that contains the instant (midnight to midnight in Bali). */
export function witaDayRange(ms: number): { fromMs: number; toMs: number } {
  const fromMs = Math.floor((ms + WITA_OFFSET_MS) / DAY_MS) * DAY_MS - WITA_OFFSET_MS;
  return { fromMs, toMs: fromMs + DAY_MS };
}

/** Hours since midnight in WITA, with fractions: 0 at midnight, 12.5 at half past noon. */
export function witaHourOfDay(ms: number): number {
  return (ms / 3_600_000 + WITA_OFFSET_HOURS) % 24;
}
