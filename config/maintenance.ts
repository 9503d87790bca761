/**
 * Maintenance windows and the scope shared by windows, silences and the scope preview: one schema, used by
 * the config's `maintenance:` list (config/monitor.ts) and by the HTTP API's bodies
 * (collector/http/bodies.ts, collector/http/scope-preview.ts). The config layer owns it; the HTTP layer
 * imports it, never the other way round.
 *
 * Times are ISO 8601 with an offset (`2025-03-01T22:00:00+08:00`) or milliseconds since 1970; durations
 * are `90m`, `2h`, `1d` (or milliseconds).
 *
 * Whether the sites, devices and kecamatan a scope names exist is checked against the inventory where one
 * is at hand: config/cross-check.ts at load, the service for the API.
 */
import { z } from 'zod';
import { WITA_TIME_ZONE } from '../collector/core/time-zone.ts';
import { WEEKDAYS, type Schedule, type Scope } from '../collector/alerting/scope.ts';
import { CATEGORIES } from '../collector/core/types.ts';
import { parseDuration } from './yaml-source.ts';

const DAY_MS = 86_400_000;
export const MAX_ONCE_MAINTENANCE_MS = 180 * DAY_MS;
export const MAX_WEEKLY_DURATION_MS = 7 * DAY_MS;
/** No duration the API takes is longer (`since=` goes back at most this far): 10 years. */
export const MAX_DURATION_MS = 3660 * DAY_MS;

export const INSTANT_MSG =
  'expected an ISO 8601 time with an offset (2025-03-01T22:00:00+08:00) or milliseconds since 1970';
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * ms since 1970 from an ISO 8601 time with offset, or a non-negative integer (or string of digits).
 * The calendar is checked field by field: Date.parse takes `2026-02-31` as 3 March, which is not what
 * anybody meant.
 */
export function parseInstant(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  if (/^\d{1,16}$/.test(v)) return parseInstant(Number(v));
  if (!ISO_RE.test(v) || !realCalendarTime(v)) return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The date exists (day within its month, leap years), the time is within 00:00:00..23:59:59, the offset ±14:00. */
function realCalendarTime(iso: string): boolean {
  const [y, mo, d, h, mi, sec] = [0, 5, 8, 11, 14, 17].map((at, i) =>
    Number(iso.slice(at, at + (i === 0 ? 4 : 2))),
  ) as [number, number, number, number, number, number];
  const hasSeconds = iso[16] === ':';
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59) return false;
  if (hasSeconds && sec > 59) return false;
  const off = /([+-])(\d{2}):(\d{2})$/.exec(iso);
  if (off && (Number(off[2]) > 14 || Number(off[3]) > 59)) return false;
  return true;
}

/** A positive duration up to MAX_DURATION_MS: `99999999999d` is refused, not wrapped into nonsense. */
export function parseApiDuration(v: string | number): number | undefined {
  const ms = parseDuration(v);
  return ms === undefined || ms <= 0 || ms > MAX_DURATION_MS ? undefined : ms;
}

/** A point in time (see parseInstant), as ms. */
export const instant = z.unknown().transform((v, ctx) => {
  const ms = parseInstant(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: INSTANT_MSG });
    return z.NEVER;
  }
  return ms;
});

/** A positive duration up to 3660 days, as ms. */
export const positiveDuration = z.unknown().transform((v, ctx) => {
  const ms = typeof v === 'string' || typeof v === 'number' ? parseApiDuration(v) : undefined;
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected a positive duration up to 3660d: 90m, 2h, 1d, or milliseconds',
    });
    return z.NEVER;
  }
  return ms;
});

/** A trimmed, non-empty string of at most `max` characters. */
export const text = (max: number) =>
  z
    .string({ message: 'expected a string' })
    .trim()
    .min(1, { message: 'must not be empty' })
    .max(max, { message: `at most ${max} characters` });

const names = z
  .array(text(128), { message: 'expected a list of names' })
  .min(1, { message: 'name at least one' })
  .max(2000, { message: 'at most 2000 names; scope by kecamatan or category instead' });

/** What a window, a silence or a preview covers (collector/alerting/scope.ts matches it). */
export const scopeSchema = z
  .strictObject({
    sites: names.optional(),
    devices: names.optional(),
    categories: z
      .array(z.enum(CATEGORIES, { message: `expected one of ${CATEGORIES.join(', ')}` }))
      .min(1, { message: 'name at least one' })
      .optional(),
    kecamatan: names.optional(),
    desa: names.optional(),
  })
  .refine((s) => Object.values(s).some((v) => v !== undefined), {
    message:
      'name at least one of sites, devices, categories, kecamatan, desa: an empty scope would cover every site',
  }) satisfies z.ZodType<Scope>;

/** The inventory lists a scope may name, in the order they are checked. */
export const SCOPE_LISTS = ['sites', 'devices', 'categories', 'kecamatan', 'desa'] as const;

const onceSchedule = z.strictObject({ kind: z.literal('once'), start: instant, end: instant });
const weeklySchedule = z.strictObject({
  kind: z.literal('weekly'),
  days: z.array(z.enum(WEEKDAYS, { message: `expected one of ${WEEKDAYS.join(', ')}` })).optional(),
  at: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'expected HH:MM, 24-hour (e.g. 22:00)' }),
  duration: positiveDuration,
  timeZone: z
    .string()
    .default(WITA_TIME_ZONE)
    .refine(validTimeZone, { message: `expected an IANA time zone (Badung is ${WITA_TIME_ZONE})` }),
  from: instant.optional(),
  until: instant.optional(),
});

/** A maintenance window as the config's `maintenance:` list and `POST /api/v1/maintenance` take it. */
export const maintenanceSchema = z
  .strictObject({
    name: text(100),
    scope: scopeSchema,
    schedule: z.discriminatedUnion('kind', [onceSchedule, weeklySchedule], {
      message: "schedule.kind must be 'once' (start, end) or 'weekly' (days, at, duration)",
    }),
    reason: text(500).optional(),
  })
  .superRefine((b, ctx) => {
    const s = b.schedule;
    const at = (field: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: ['schedule', field], message });
    if (s.kind === 'once') {
      if (s.end <= s.start) at('end', 'must be after schedule.start');
      else if (s.end - s.start > MAX_ONCE_MAINTENANCE_MS)
        at('end', 'a window lasts at most 180 days; declare a longer closure in the inventory');
    } else {
      if (s.duration > MAX_WEEKLY_DURATION_MS) at('duration', 'a weekly window lasts at most 7 days');
      if (s.from !== undefined && s.until !== undefined && s.until <= s.from)
        at('until', 'must be after schedule.from');
    }
  })
  .transform((b): { name: string; scope: Scope; schedule: Schedule; reason: string | undefined } => ({
    name: b.name,
    scope: b.scope,
    reason: b.reason,
    schedule:
      b.schedule.kind === 'once'
        ? { kind: 'once', startMs: b.schedule.start, endMs: b.schedule.end }
        : {
            kind: 'weekly',
            days: b.schedule.days,
            at: b.schedule.at,
            durationMs: b.schedule.duration,
            timeZone: b.schedule.timeZone,
            fromMs: b.schedule.from,
            untilMs: b.schedule.until,
          },
  }));

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
