/**
 * What the API accepts: the JSON bodies of its writes and the query strings of its lists, as strict zod
 * schemas (an unknown field or parameter is refused, never ignored), turned into the service's types.
 * A refusal is a RequestProblem naming every field at fault, which server.ts sends as a 400.
 *
 * Times are ISO 8601 with an offset (`2025-03-01T22:00:00+08:00`) or milliseconds since 1970; durations
 * are `90m`, `2h`, `1d` (or milliseconds), as in the config.
 *
 * The scope and maintenance window schemas are the config's (config/maintenance.ts): one schema for the
 * YAML and the API.
 */
import { z } from 'zod';
import { isoWita } from '../core/time-zone.ts';
import { CATEGORIES, CRITICALITIES } from '../core/types.ts';
import { SITE_STATES } from '../health/site-state.ts';
import type { IncidentStatus } from '../store/incident-store.ts';
import {
  INSTANT_MSG,
  instant,
  maintenanceSchema,
  parseApiDuration,
  parseInstant,
  positiveDuration,
  scopeSchema,
  text,
} from '../../config/maintenance.ts';
import { dotted } from '../../config/yaml-source.ts';
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

/** Longer than this is not a silence but a maintenance window (which is visible as such on the map). */
export const MAX_SILENCE_MS = 31 * 86_400_000;
export const DEFAULT_INCIDENT_LIMIT = 100;
export const MAX_INCIDENT_LIMIT = 1000;

// ---- bodies ----------------------------------------------------------------------------------------------

const noteBody = z.strictObject({ note: text(2000).optional() });

const silenceBody = z
  .strictObject({
    scope: scopeSchema,
    startsAt: instant.optional(),
    endsAt: instant.optional(),
    duration: positiveDuration.optional(),
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
  const w = parseBody(maintenanceSchema, body);
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
