/**
 * A site's recent history for the console's site page, read from InfluxDB (InfluxQL over /query, streamed,
 * through the reports' reader: collector/reports/history.ts, over the 1.x adapter collector/influx/v1.ts):
 *
 *   GET /api/v1/sites/:id/history?hours=24   (viewer; hours 1..720, default 24)
 *   { siteId, from, to,
 *     state:   [{ time, state }]                        site_state, changes only (the first point is the
 *                                                       state at `from`)
 *     devices: [{ id, role, state: [{ time, state }] }] device_state transitions, plus each device's
 *                                                       state at `from`
 *     traffic: [{ time, inBps, outBps }]                per bucket, the largest of the router's interfaces in
 *                                                       each direction (its uplink); no router: all devices
 *     clients: [{ time, count }]                        Wi-Fi clients of all its APs per bucket }
 *
 * Buckets are sized for ~288 points (5 min for 24 h). Times are ISO 8601 in WITA (+08:00).
 */
import type { Router } from 'express';
import { z } from 'zod';
import { NetmonError } from '../core/errors.ts';
import { collectRows, historyReader, type InfluxSource } from '../reports/history.ts';
import { RequestProblem } from './bodies.ts';
import { isoWita } from '../core/time-zone.ts';
import { param, type RouteKit } from './routes/kit.ts';
import { ApiError } from './service.ts';

export const MAX_HISTORY_HOURS = 720;

export interface SiteHistory {
  readonly siteId: string;
  readonly from: string;
  readonly to: string;
  readonly state: { time: string; state: string }[];
  readonly devices: { id: string; role: string; state: { time: string; state: string }[] }[];
  readonly traffic: { time: string; inBps: number | null; outBps: number | null }[];
  readonly clients: { time: string; count: number | null }[];
}

/** The site and its devices as the inventory says (so devices without any transition are listed too). */
export interface HistorySite {
  readonly id: string;
  readonly devices: readonly { readonly id: string; readonly role: string }[];
}

/** An InfluxQL string literal. */
const lit = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Bucket width for about 288 points over `hours`, at least a minute, in whole minutes. */
export function bucketMs(hours: number): number {
  return Math.max(60_000, Math.round((hours * 3600_000) / 288 / 60_000) * 60_000);
}

export async function readSiteHistory(
  src: InfluxSource,
  site: HistorySite,
  hours: number,
  nowMs: number,
): Promise<SiteHistory> {
  const fromMs = nowMs - hours * 3600_000;
  const range = `time >= ${fromMs}ms AND time <= ${nowMs}ms`;
  const where = `"site" = ${lit(site.id)}`;
  const bucket = `${bucketMs(hours) / 60_000}m`;
  const hasRouter = site.devices.some((d) => d.role === 'router');
  const trafficOf = hasRouter ? `${where} AND "role" = 'router'` : where;

  // Small answers (~288 buckets at most), so each is collected; the reader streams them underneath.
  const reader = historyReader(src);
  let answers: Awaited<ReturnType<typeof collectRows>>[];
  try {
    answers = await Promise.all(
      [
        `SELECT last("state") AS "state" FROM "site_state" WHERE ${where} AND time < ${fromMs}ms`,
        `SELECT "state" FROM "site_state" WHERE ${where} AND ${range}`,
        `SELECT last("state") AS "state" FROM "device_state" WHERE ${where} AND time < ${fromMs}ms GROUP BY "device"`,
        `SELECT "state" FROM "device_state" WHERE ${where} AND ${range} GROUP BY "device"`,
        `SELECT max("i") AS "in", max("o") AS "out" FROM (SELECT mean("in_bps") AS "i", mean("out_bps") AS "o" FROM "interface" WHERE ${trafficOf} AND ${range} GROUP BY time(${bucket}), "device", "ifIndex") WHERE ${range} GROUP BY time(${bucket})`,
        `SELECT sum("c") AS "count" FROM (SELECT mean("clients") AS "c" FROM "wifi" WHERE ${where} AND ${range} GROUP BY time(${bucket}), "device", "index") WHERE ${range} GROUP BY time(${bucket})`,
      ].map((q) => collectRows(reader.query(q))),
    );
  } finally {
    reader.close();
  }
  const [stateBefore = [], stateIn = [], devBefore = [], devIn = [], traffic = [], clients = []] = answers;

  // Site state: the state at `from`, then only the points where it changed.
  const state: { time: string; state: string }[] = [];
  let last: string | undefined;
  const first = stateBefore[0]?.get('state');
  if (typeof first === 'string') {
    state.push({ time: isoWita(fromMs), state: first });
    last = first;
  }
  for (const r of stateIn) {
    const s = r.get('state');
    const t = r.get('time');
    if (typeof s !== 'string' || typeof t !== 'number' || s === last) continue;
    state.push({ time: isoWita(t), state: s });
    last = s;
  }

  const byDevice = new Map<string, { time: string; state: string }[]>(site.devices.map((d) => [d.id, []]));
  for (const r of devBefore) {
    const s = r.get('state');
    const list = byDevice.get(r.tags.device ?? '');
    if (typeof s === 'string' && list) list.push({ time: isoWita(fromMs), state: s });
  }
  for (const r of devIn) {
    const s = r.get('state');
    const t = r.get('time');
    const list = byDevice.get(r.tags.device ?? '');
    if (typeof s === 'string' && typeof t === 'number' && list) list.push({ time: isoWita(t), state: s });
  }

  return {
    siteId: site.id,
    from: isoWita(fromMs),
    to: isoWita(nowMs),
    state,
    devices: site.devices.map((d) => ({ id: d.id, role: d.role, state: byDevice.get(d.id) ?? [] })),
    traffic: traffic.map((r) => ({
      time: isoWita(Number(r.get('time'))),
      inBps: num(r.get('in')),
      outBps: num(r.get('out')),
    })),
    clients: clients.map((r) => {
      const c = num(r.get('count'));
      return { time: isoWita(Number(r.get('time'))), count: c === null ? null : Math.round(c) };
    }),
  };
}

const historyQuery = z.strictObject({
  hours: z
    .string({ message: 'give hours once' })
    .regex(/^\d{1,4}$/, { message: `expected a whole number of hours 1..${MAX_HISTORY_HOURS}` })
    .transform(Number)
    .refine((n) => n >= 1 && n <= MAX_HISTORY_HOURS, {
      message: `expected a whole number of hours 1..${MAX_HISTORY_HOURS} (raw data is kept 30 days)`,
    })
    .optional(),
});

function parseHistoryQuery(query: unknown): number {
  const r = historyQuery.safeParse(query ?? {});
  if (r.success) return r.data.hours ?? 24;
  const issues = r.error.issues.map((i) =>
    i.code === 'unrecognized_keys'
      ? { path: i.keys[0] ?? '', message: 'unknown query parameter (allowed: hours)' }
      : { path: 'hours', message: i.message },
  );
  const first = issues[0];
  throw new RequestProblem(
    400,
    'invalid_query',
    `invalid query parameter: ${first?.path ?? ''}: ${first?.message ?? ''}`,
    issues,
  );
}

export interface HistoryDeps {
  /** InfluxDB to read; absent (the 2.x write API is configured): 503. */
  readonly source: InfluxSource | undefined;
  readonly site: (id: string) => HistorySite | undefined;
}

/** GET /sites/:id/history (viewer). */
export function registerHistoryRoutes(router: Router, kit: RouteKit, deps: HistoryDeps): void {
  router.get('/sites/:id/history', kit.need('viewer'), async (req, res) => {
    const id = param(req, 'id');
    const hours = parseHistoryQuery(req.query);
    const site = deps.site(id);
    if (!site) throw new ApiError(404, `no site '${id}'`);
    if (!deps.source)
      throw new ApiError(503, 'site history needs the InfluxDB 1.x API (influx.api: v1) to read from');
    let history: SiteHistory;
    try {
      history = await readSiteHistory(deps.source, site, hours, kit.now());
    } catch (err) {
      const code = err instanceof NetmonError ? ` (${err.code})` : '';
      throw new ApiError(503, `the history could not be read from InfluxDB${code}; try again shortly`);
    }
    res.json(history);
  });
}
