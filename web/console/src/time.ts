/**
 * Times for people are WITA (Asia/Makassar, UTC+8, no daylight saving): Badung's clock, whatever the
 * browser's zone. The API sends ISO 8601 with offset (or, before the v1 change, ms since 1970): both parse.
 */
import {
  WITA_TIME_ZONE,
  witaLocalMinute,
  witaMinuteToIso,
  witaMonth,
} from '../../../collector/core/time-zone.ts';
import { lang } from './i18n.ts';

export const TIME_ZONE = WITA_TIME_ZONE;

/** ms since 1970 from an ISO string or a number; undefined for anything else. */
export function toMs(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

const formats = new Map<string, Intl.DateTimeFormat>();
function format(kind: 'full' | 'short' | 'hm'): Intl.DateTimeFormat {
  const key = `${lang()}:${kind}`;
  let f = formats.get(key);
  if (!f) {
    const opts: Intl.DateTimeFormatOptions =
      kind === 'hm'
        ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
        : kind === 'short'
          ? { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
          : {
              day: 'numeric',
              month: 'short',
              year: 'numeric',
              hour: '2-digit',
              minute: '2-digit',
              second: '2-digit',
              hourCycle: 'h23',
            };
    f = new Intl.DateTimeFormat(lang() === 'id' ? 'id-ID' : 'en-GB', { ...opts, timeZone: TIME_ZONE });
    formats.set(key, f);
  }
  return f;
}

/** `3 Des 2026 14.05.09 WITA` */
export function when(v: unknown, kind: 'full' | 'short' | 'hm' = 'full'): string {
  const ms = toMs(v);
  return ms === undefined ? '–' : `${format(kind).format(ms)} WITA`;
}

/** `2 j 5 m` / `2 h 5 m`: how long since `v`. */
export function ago(v: unknown, now: number = Date.now()): string {
  const ms = toMs(v);
  if (ms === undefined) return '–';
  let s = Math.max(0, Math.round((now - ms) / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const hr = Math.floor(s / 3600);
  s -= hr * 3600;
  const m = Math.floor(s / 60);
  const [dd, hh] = lang() === 'id' ? ['h', 'j'] : ['d', 'h'];
  if (d > 0) return `${d} ${dd} ${hr} ${hh}`;
  if (hr > 0) return `${hr} ${hh} ${m} m`;
  if (m > 0) return `${m} m`;
  return `${s} s`;
}

/** A `datetime-local` input's value, read as WITA, to ISO 8601 with +08:00; ms to such a value; this month in WITA (`2026-12`). */
export { witaMinuteToIso as localInputToIso, witaLocalMinute as msToLocalInput, witaMonth as monthOf };
