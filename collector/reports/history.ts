/**
 * Reads what the availability engine needs from InfluxDB (InfluxQL over /query: 1.x, or 2.x with a DBRP
 * mapping): every site router's state transitions (`device_state`), maintenance edges (`maintenance`),
 * clock breaches (`incident`), and the monitor's heartbeats (`monitor`), for [fromMs, toMs) plus the
 * state each was in when the range began. A handful of queries whatever the number of sites.
 */
import { SinkError, errorMessage } from '../core/errors.ts';
import type { Secret } from '../core/secret.ts';
import { watchingFrom, type Interval, type RouterState, type SiteHistory } from './availability.ts';

export interface InfluxSource {
  readonly url: string;
  readonly database: string;
  readonly username?: string | undefined;
  readonly password?: Secret | undefined;
  readonly timeoutMs?: number | undefined;
}

interface Series {
  readonly tags?: Record<string, string>;
  readonly columns: readonly string[];
  readonly values?: readonly (readonly unknown[])[];
}

export interface History {
  readonly watching: readonly Interval[];
  readonly sites: ReadonlyMap<string, SiteHistory>;
  /** The heartbeat period found (median gap), for the report's notes. */
  readonly heartbeatMs: number;
}

const STATES = new Set<RouterState>(['up', 'down', 'unreachable', 'suspect', 'unknown']);
const asState = (v: unknown): RouterState | undefined =>
  typeof v === 'string' && STATES.has(v as RouterState) ? (v as RouterState) : undefined;

/** Run an InfluxQL query; chunked, so a month of heartbeats never meets a row limit. */
export async function influxQuery(src: InfluxSource, q: string): Promise<Series[]> {
  const params = new URLSearchParams({
    db: src.database,
    q,
    epoch: 'ms',
    chunked: 'true',
    chunk_size: '20000',
  });
  const headers: Record<string, string> = {};
  if (src.username)
    headers.authorization = `Basic ${Buffer.from(`${src.username}:${src.password?.reveal() ?? ''}`).toString('base64')}`;
  let res: Response;
  try {
    res = await fetch(`${src.url.replace(/\/$/, '')}/query?${params.toString()}`, {
      headers,
      signal: AbortSignal.timeout(src.timeoutMs ?? 60_000),
    });
  } catch (err) {
    throw new SinkError('unreachable', `InfluxDB at ${src.url}: ${errorMessage(err)}`, {
      retryable: true,
      cause: err,
    });
  }
  const text = await res.text();
  if (!res.ok)
    throw new SinkError(`http_${res.status}`, `InfluxDB ${res.status}: ${text.slice(0, 200)}`, {
      retryable: res.status >= 500 || res.status === 429,
    });
  // One JSON document per chunk; a series split across chunks comes back in parts (partial: true).
  const out: Series[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const doc = JSON.parse(line) as { results?: { series?: Series[]; error?: string }[]; error?: string };
    const error = doc.error ?? doc.results?.find((r) => r.error)?.error;
    if (error)
      throw new SinkError('query', `InfluxDB refused ${q.slice(0, 120)}: ${error}`, { retryable: false });
    for (const r of doc.results ?? []) out.push(...(r.series ?? []));
  }
  return out;
}

const col = (s: Series, name: string) => s.columns.indexOf(name);

export async function readHistory(src: InfluxSource, fromMs: number, toMs: number): Promise<History> {
  const range = `time >= ${fromMs}ms AND time < ${toMs}ms`;
  const [initial, changes, maintBefore, maint, breaches, beats] = await Promise.all([
    influxQuery(
      src,
      `SELECT last("state") AS "state" FROM "device_state" WHERE "role" = 'router' AND time < ${fromMs}ms GROUP BY "site"`,
    ),
    influxQuery(
      src,
      `SELECT "state" FROM "device_state" WHERE "role" = 'router' AND ${range} GROUP BY "site"`,
    ),
    influxQuery(
      src,
      `SELECT last("active") AS "active" FROM "maintenance" WHERE time < ${fromMs}ms GROUP BY "site"`,
    ),
    influxQuery(src, `SELECT "active" FROM "maintenance" WHERE ${range} GROUP BY "site"`),
    influxQuery(
      src,
      `SELECT count("id") AS "n" FROM "incident" WHERE "event" = 'clock_breached' AND ${range} GROUP BY "site"`,
    ),
    // Heartbeats from a little before the range, so its start is not mistaken for a gap.
    influxQuery(
      src,
      `SELECT "polls" FROM "monitor" WHERE "component" = 'collector' AND time >= ${fromMs - 120_000}ms AND time < ${toMs + 120_000}ms`,
    ),
  ]);

  const sites = new Map<
    string,
    {
      initial?: RouterState;
      changes: { timeMs: number; state: RouterState }[];
      maintenance: Interval[];
      clockBreaches: number;
      maintOpenAt?: number;
    }
  >();
  const site = (id: string) => {
    let s = sites.get(id);
    if (!s) {
      s = { changes: [], maintenance: [], clockBreaches: 0 };
      sites.set(id, s);
    }
    return s;
  };
  for (const s of initial) {
    const id = s.tags?.site;
    const state = asState(s.values?.[0]?.[col(s, 'state')]);
    if (id && state) site(id).initial = state;
  }
  for (const s of changes) {
    const id = s.tags?.site;
    if (!id) continue;
    const t = col(s, 'time');
    const st = col(s, 'state');
    for (const row of s.values ?? []) {
      const state = asState(row[st]);
      if (state) site(id).changes.push({ timeMs: Number(row[t]), state });
    }
  }
  for (const h of sites.values()) h.changes.sort((a, b) => a.timeMs - b.timeMs);
  for (const s of maintBefore) {
    const id = s.tags?.site;
    if (id && Number(s.values?.[0]?.[col(s, 'active')]) === 1) site(id).maintOpenAt = fromMs;
  }
  for (const s of maint) {
    const id = s.tags?.site;
    if (!id) continue;
    const h = site(id);
    const rows = [...(s.values ?? [])].sort((a, b) => Number(a[0]) - Number(b[0]));
    for (const row of rows) {
      const t = Number(row[col(s, 'time')]);
      const active = Number(row[col(s, 'active')]) === 1;
      if (active && h.maintOpenAt === undefined) h.maintOpenAt = t;
      if (!active && h.maintOpenAt !== undefined) {
        h.maintenance.push({ startMs: h.maintOpenAt, endMs: t });
        h.maintOpenAt = undefined;
      }
    }
  }
  for (const h of sites.values())
    if (h.maintOpenAt !== undefined) h.maintenance.push({ startMs: h.maintOpenAt, endMs: toMs });
  for (const s of breaches) {
    const id = s.tags?.site;
    if (id) site(id).clockBreaches = Number(s.values?.[0]?.[col(s, 'n')] ?? 0);
  }

  const times = beats.flatMap((s) => (s.values ?? []).map((row) => Number(row[col(s, 'time')])));
  const heartbeatMs = medianGap(times) ?? 10_000;
  return {
    watching: watchingFrom(times, heartbeatMs, fromMs, toMs),
    sites: new Map(
      [...sites].map(([id, h]) => [
        id,
        {
          initial: h.initial,
          changes: h.changes,
          maintenance: h.maintenance,
          clockBreaches: h.clockBreaches,
        },
      ]),
    ),
    heartbeatMs,
  };
}

function medianGap(times: readonly number[]): number | undefined {
  const sorted = [...times].sort((a, b) => a - b);
  const gaps: number[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const g = sorted[i]! - sorted[i - 1]!;
    if (g > 0) gaps.push(g);
  }
  if (gaps.length === 0) return undefined;
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)];
}
