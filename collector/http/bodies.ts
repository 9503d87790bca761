/**
 * What the API accepts: the JSON bodies of its writes and the query strings of its lists, as strict zod
 * schemas (an unknown field or parameter is refused, never ignored), turned into the service's types.
 * A refusal is a RequestProblem naming every field at fault, which server.ts sends as a 400.
 *
 * Times are ISO 8601 with an offset (`2025-03-01T22:00:00+08:00`) or milliseconds since 1970; durations
 * are `90m`, `2h`, `1d` (or milliseconds), as in the config.
 *
 * (config/maintenance.ts, when it lands, may own the maintenance and silence schemas; these are the API's
 * until the two are reconciled.)
 */
import { z } from 'zod';
import { isoWita, WITA_TIME_ZONE } from '../core/time-zone.ts';
import { WEEKDAYS } from '../alerting/scope.ts';
import { CATEGORIES, CRITICALITIES } from '../core/types.ts';
import { SITE_STATES } from '../health/site-state.ts';
import type { IncidentStatus } from '../store/incident-store.ts';
import { dotted, parseDuration } from '../../config/yaml-source.ts';
import type { IncidentFilter, NewMaintenance, NewSilence } from './service.ts';

export interface FieldIssue {
  /** Dotted path of the field or the name of the query parameter; `(body)` for the body as a whole. */
  readonly path: string;
  readonly message: string;
}

/** A request refused before it reaches the service (400 with its issues). */
export class RequestProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly issues: readonly FieldIssue[];
  constructor(status: number, code: string, message: string, issues: readonly FieldIssue[] = []) {
    super(message);
    this.name = 'RequestProblem';
    this.status = status;
    this.code = code;
    this.issues = issues;
  }
}

const DAY_MS = 86_400_000;
/** Longer than this is not a silence but a maintenance window (which is visible as such on the map). */
export const MAX_SILENCE_MS = 31 * DAY_MS;
export const MAX_ONCE_MAINTENANCE_MS = 180 * DAY_MS;
export const MAX_WEEKLY_DURATION_MS = 7 * DAY_MS;
export const DEFAULT_INCIDENT_LIMIT = 100;
export const MAX_INCIDENT_LIMIT = 1000;

const INSTANT_MSG =
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

const instant = z.unknown().transform((v, ctx) => {
  const ms = parseInstant(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: INSTANT_MSG });
    return z.NEVER;
  }
  return ms;
});

/** No duration the API takes is longer (`since=` goes back at most this far): 10 years. */
export const MAX_DURATION_MS = 3660 * DAY_MS;

/** A positive duration up to MAX_DURATION_MS: `99999999999d` is refused, not wrapped into nonsense. */
export function parseApiDuration(v: string | number): number | undefined {
  const ms = parseDuration(v);
  return ms === undefined || ms <= 0 || ms > MAX_DURATION_MS ? undefined : ms;
}

const duration = z.unknown().transform((v, ctx) => {
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

const text = (max: number) =>
  z
    .string({ message: 'expected a string' })
    .trim()
    .min(1, { message: 'must not be empty' })
    .max(max, { message: `at most ${max} characters` });

const ids = z
  .array(text(128), { message: 'expected a list of names' })
  .min(1, { message: 'name at least one' });

const scopeSchema = z
  .strictObject({
    sites: ids.optional(),
    devices: ids.optional(),
    categories: z
      .array(z.enum(CATEGORIES, { message: `expected one of ${CATEGORIES.join(', ')}` }))
      .min(1, { message: 'name at least one' })
      .optional(),
    kecamatan: ids.optional(),
    desa: ids.optional(),
  })
  .refine((s) => Object.values(s).some((v) => v !== undefined), {
    message:
      'name at least one of sites, devices, categories, kecamatan, desa: an empty scope would cover every site',
  });

// ---- bodies ----------------------------------------------------------------------------------------------

const noteBody = z.strictObject({ note: text(2000).optional() });

const onceSchedule = z.strictObject({ kind: z.literal('once'), start: instant, end: instant });
const weeklySchedule = z.strictObject({
  kind: z.literal('weekly'),
  days: z.array(z.enum(WEEKDAYS, { message: `expected one of ${WEEKDAYS.join(', ')}` })).optional(),
  at: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'expected HH:MM, 24-hour (e.g. 22:00)' }),
  duration,
  timeZone: z
    .string()
    .default(WITA_TIME_ZONE)
    .refine(validTimeZone, { message: `expected an IANA time zone (Badung is ${WITA_TIME_ZONE})` }),
  from: instant.optional(),
  until: instant.optional(),
});

/** A maintenance window as the API and the config's `maintenance:` list take it (config/monitor.ts). */
export const maintenanceBody = z
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
  .transform((b): NewMaintenance => ({
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

const silenceBody = z
  .strictObject({
    scope: scopeSchema,
    startsAt: instant.optional(),
    endsAt: instant.optional(),
    duration: duration.optional(),
    comment: text(500),
  })
  .superRefine((b, ctx) => {
    if ((b.endsAt === undefined) === (b.duration === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['endsAt'],
        message: 'give either endsAt (a time) or duration (e.g. 2h), not both and not neither',
      });
  });

/** `{note?}` of acknowledge and resolve; no body at all is the same as `{}`. */
export function parseNoteBody(body: unknown): { note: string | undefined } {
  return { note: parseBody(noteBody, body ?? {}).note };
}

/** A window must still have time ahead of it: one already over would be accepted and do nothing. */
export function parseMaintenanceBody(body: unknown, nowMs: number): NewMaintenance {
  const w = parseBody(maintenanceBody, body);
  const s = w.schedule;
  const now = isoWita(nowMs);
  if (s.kind === 'once' && s.endMs <= nowMs)
    throw invalid('invalid_body', 'request body', [
      {
        path: 'schedule.end',
        message: `${isoWita(s.endMs)} is in the past (now ${now}): this window would already be over`,
      },
    ]);
  if (s.kind === 'weekly' && s.untilMs !== undefined && s.untilMs <= nowMs)
    throw invalid('invalid_body', 'request body', [
      {
        path: 'schedule.until',
        message: `${isoWita(s.untilMs)} is in the past (now ${now}): this window would never open again`,
      },
    ]);
  return w;
}

/** A silence starts now unless `startsAt` says otherwise, and must end in the future. */
export function parseSilenceBody(body: unknown, nowMs: number): NewSilence {
  const b = parseBody(silenceBody, body);
  const startsAt = b.startsAt ?? nowMs;
  const endsAt = b.endsAt ?? startsAt + (b.duration ?? 0);
  const field = b.endsAt !== undefined ? 'endsAt' : 'duration';
  let problem: string | undefined;
  if (endsAt <= startsAt) problem = 'must end after startsAt';
  else if (endsAt <= nowMs)
    problem = `${isoWita(endsAt)} is in the past (now ${isoWita(nowMs)}): this silence would already be over`;
  else if (endsAt - startsAt > MAX_SILENCE_MS)
    problem = 'a silence lasts at most 31 days; for longer, declare a maintenance window';
  if (problem) throw invalid('invalid_body', 'request body', [{ path: field, message: problem }]);
  return { scope: b.scope, startsAt, endsAt, comment: b.comment };
}

function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (body === undefined)
    throw invalid('invalid_body', 'request body', [
      { path: '(body)', message: 'this request needs a JSON object body (Content-Type: application/json)' },
    ]);
  // zod 4 leaves the input out of its issues unless asked; bodyIssue needs it to tell a missing field
  // from one of the wrong type. It goes no further: a FieldIssue carries only the path and the message.
  const r = schema.safeParse(body, { reportInput: true });
  if (r.success) return r.data;
  throw invalid('invalid_body', 'request body', r.error.issues.slice(0, 20).map(bodyIssue));
}

function bodyIssue(issue: z.core.$ZodIssue): FieldIssue {
  if (issue.code === 'unrecognized_keys') {
    const path = dotted([...issue.path, issue.keys[0] ?? '']);
    return { path, message: `unknown field '${issue.keys.join("', '")}'` };
  }
  const path = issue.path.length === 0 ? '(body)' : dotted(issue.path);
  if (issue.code === 'invalid_type' && issue.input === undefined) return { path, message: 'required' };
  return { path, message: issue.message };
}

// ---- query strings ---------------------------------------------------------------------------------------

/** One value of a query parameter (Express's simple parser gives a list when it is repeated). */
const single = (name: string) =>
  z.string({
    error: (iss) =>
      Array.isArray(iss.input)
        ? `give ${name} once; separate several values with commas`
        : `expected a single value for ${name}`,
  });

const csvOf = <T extends string>(name: string, values: readonly [T, ...T[]]) =>
  single(name).transform((v, ctx) => {
    const parts = v.split(',').map((p) => p.trim());
    const bad = parts.filter((p) => !(values as readonly string[]).includes(p));
    if (bad.length > 0 || parts.length === 0) {
      ctx.addIssue({
        code: 'custom',
        message: `'${bad.join(',')}' is not one of ${values.join(', ')} (separate several with commas)`,
      });
      return z.NEVER;
    }
    return [...new Set(parts)] as T[];
  });

const oneOf = <T extends string>(name: string, values: readonly [T, ...T[]]) =>
  single(name).refine((v) => (values as readonly string[]).includes(v), {
    message: `expected one of ${values.join(', ')}`,
  });

const INCIDENT_STATUSES = ['open', 'acknowledged', 'resolved'] as const satisfies readonly IncidentStatus[];

const incidentQuery = z.strictObject({
  status: csvOf('status', INCIDENT_STATUSES).optional(),
  site: single('site').min(1).max(128).optional(),
  kecamatan: single('kecamatan').min(1).max(128).optional(),
  severity: oneOf('severity', CRITICALITIES).optional(),
  since: single('since').optional(),
  limit: single('limit')
    .regex(/^\d{1,7}$/, { message: `expected a whole number 1..${MAX_INCIDENT_LIMIT}` })
    .transform(Number)
    .refine((n) => n >= 1 && n <= MAX_INCIDENT_LIMIT, {
      message: `expected a whole number 1..${MAX_INCIDENT_LIMIT}`,
    })
    .optional(),
});

const sitesQuery = z.strictObject({
  kecamatan: single('kecamatan').min(1).max(128).optional(),
  state: oneOf('state', SITE_STATES).optional(),
});

/** `?status=open,acknowledged&site=&kecamatan=&severity=&since=&limit=`; `since` also takes `24h` (ago). */
export function parseIncidentQuery(query: unknown, nowMs: number): IncidentFilter {
  const q = parseQuery(incidentQuery, query);
  let sinceMs: number | undefined;
  if (q.since !== undefined) {
    const ago = parseApiDuration(q.since); // a bare number is not a duration here: it is ms since 1970
    sinceMs = parseInstant(q.since) ?? (ago === undefined ? undefined : nowMs - ago);
    if (sinceMs === undefined)
      throw invalid('invalid_query', 'query parameter', [
        {
          path: 'since',
          message: `${INSTANT_MSG} that exists on the calendar, or a duration ago up to 3660d (24h, 7d)`,
        },
      ]);
  }
  return {
    status: q.status,
    siteId: q.site,
    kecamatan: q.kecamatan,
    severity: q.severity,
    sinceMs,
    limit: q.limit ?? DEFAULT_INCIDENT_LIMIT,
  };
}

const reportQuery = z.strictObject({
  month: single('month')
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, { message: 'expected YYYY-MM, e.g. 2026-10' })
    .optional(),
  from: single('from').optional(),
  to: single('to').optional(),
  format: oneOf('format', ['csv', 'html', 'pdf', 'json'] as const).optional(),
  site: single('site').optional(),
  category: csvOf('category', CATEGORIES).optional(),
  kecamatan: single('kecamatan').optional(),
});

/** `?month=2026-10&format=pdf&category=puskesmas,pustu&kecamatan=Petang&site=` (or from/to instead of month). */
export function parseReportQuery(query: unknown): {
  month?: string | undefined;
  fromMs?: number | undefined;
  toMs?: number | undefined;
  format: 'csv' | 'html' | 'pdf' | 'json';
  sites?: string[] | undefined;
  categories?: string[] | undefined;
  kecamatan?: string[] | undefined;
} {
  const q = parseQuery(reportQuery, query);
  const at = (name: 'from' | 'to', v: string | undefined) => {
    if (v === undefined) return undefined;
    const ms = parseInstant(v);
    if (ms === undefined)
      throw invalid('invalid_query', 'query parameter', [{ path: name, message: INSTANT_MSG }]);
    return ms;
  };
  const list = (v: string | undefined) =>
    v
      ?.split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  return {
    month: q.month,
    fromMs: at('from', q.from),
    toMs: at('to', q.to),
    format: (q.format ?? 'json') as 'csv' | 'html' | 'pdf' | 'json',
    sites: list(q.site),
    categories: q.category,
    kecamatan: list(q.kecamatan),
  };
}

/** `?kecamatan=&state=` */
export function parseSitesQuery(query: unknown): {
  kecamatan?: string | undefined;
  state?: string | undefined;
} {
  return parseQuery(sitesQuery, query);
}

/** For routes that take no query parameters: any is refused, so a typo is never silently ignored. */
export function parseNoQuery(query: unknown): void {
  parseQuery(z.strictObject({}), query);
}

function parseQuery<S extends z.ZodObject>(schema: S, query: unknown): z.output<S> {
  const r = schema.safeParse(query ?? {});
  if (r.success) return r.data;
  const allowed = Object.keys(schema.shape);
  const issues = r.error.issues.slice(0, 20).map((issue): FieldIssue => {
    if (issue.code === 'unrecognized_keys') {
      const also = allowed.length > 0 ? `allowed: ${allowed.join(', ')}` : 'this route takes none';
      return { path: issue.keys[0] ?? '', message: `unknown query parameter (${also})` };
    }
    return { path: dotted(issue.path.slice(0, 1)), message: issue.message };
  });
  throw invalid('invalid_query', 'query parameter', issues);
}

function invalid(code: string, what: string, issues: FieldIssue[]): RequestProblem {
  const first = issues[0];
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  const message = first ? `invalid ${what}: ${first.path}: ${first.message}${more}` : `invalid ${what}`;
  return new RequestProblem(400, code, message, issues);
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
