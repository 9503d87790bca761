/**
 * Reads what the availability engine needs from InfluxDB (InfluxQL over /query: 1.x, or 2.x with a DBRP
 * mapping, through the 1.x adapter collector/influx/v1.ts): every site router's state transitions
 * (`device_state`), maintenance edges (`maintenance`), clock breaches (`incident`), and the monitor's
 * heartbeats (`monitor`), for [fromMs, toMs) plus the state each was in when the range began. A handful of
 * queries whatever the number of sites; their answers are streamed (chunked) and folded as they arrive,
 * so a month of heartbeats is never one reply in memory.
 */
import type { Secret } from '../core/secret.ts';
import { InfluxV1Client, type InfluxSeries } from '../influx/v1.ts';
import { watchingFrom, type Interval, type RouterState, type SiteHistory } from './availability.ts';

export interface InfluxSource {
  readonly url: string;
  readonly database: string;
  readonly username?: string | undefined;
  readonly password?: Secret | undefined;
  readonly timeoutMs?: number | undefined;
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

/**
 * Run InfluxQL queries on a source: `query(q)` yields the answer's series chunk by chunk (a series longer
 * than a chunk comes in parts). `close()` when done.
 */
export interface HistoryReader {
  query(q: string): AsyncIterable<InfluxSeries>;
  close(): void;
}

export function historyReader(src: InfluxSource): HistoryReader {
  const client = new InfluxV1Client(
    { url: src.url, username: src.username, password: src.password, timeoutMs: src.timeoutMs ?? 60_000 },
    'InfluxDB history',
  );
  return {
    query: (q) => client.series(q, { database: src.database }),
    close: () => client.close(),
  };
}

/** Every row of every series of an answer, with its series' tags: for answers known to be small. */
export async function collectRows(
  series: AsyncIterable<InfluxSeries>,
): Promise<{ readonly tags: Readonly<Record<string, string>>; get(column: string): unknown }[]> {
  const out: { tags: Readonly<Record<string, string>>; get(column: string): unknown }[] = [];
  for await (const s of series)
    for (const v of s.values ?? []) out.push({ tags: s.tags ?? {}, get: (c) => v[s.columns.indexOf(c)] });
  return out;
}

/** Feed each row of an answer to `each`, as the chunks arrive. */
async function forEachRow(
  series: AsyncIterable<InfluxSeries>,
  each: (site: string | undefined, get: (column: string) => unknown) => void,
): Promise<void> {
  for await (const s of series) {
    const site = s.tags?.site;
    for (const row of s.values ?? []) each(site, (c) => row[s.columns.indexOf(c)]);
  }
}

interface SiteFold {
  initial?: RouterState;
  changes: { timeMs: number; state: RouterState }[];
  /** `maintenance` rows: time and active, in arrival order (sorted before pairing). */
  maintenanceEdges: { timeMs: number; active: boolean }[];
  maintOpenAtStart: boolean;
  clockBreaches: number;
}

export async function readHistory(src: InfluxSource, fromMs: number, toMs: number): Promise<History> {
  const reader = historyReader(src);
  try {
    return await readWith(reader, fromMs, toMs);
  } finally {
    reader.close();
  }
}

async function readWith(reader: HistoryReader, fromMs: number, toMs: number): Promise<History> {
  const range = `time >= ${fromMs}ms AND time < ${toMs}ms`;
  const sites = new Map<string, SiteFold>();
  const site = (id: string): SiteFold => {
    let s = sites.get(id);
    if (!s) {
      s = { changes: [], maintenanceEdges: [], maintOpenAtStart: false, clockBreaches: 0 };
      sites.set(id, s);
    }
    return s;
  };
  const times: number[] = [];
  await Promise.all([
    forEachRow(
      reader.query(
        `SELECT last("state") AS "state" FROM "device_state" WHERE "role" = 'router' AND time < ${fromMs}ms GROUP BY "site"`,
      ),
      (id, get) => {
        const state = asState(get('state'));
        if (id && state) site(id).initial = state;
      },
    ),
    forEachRow(
      reader.query(`SELECT "state" FROM "device_state" WHERE "role" = 'router' AND ${range} GROUP BY "site"`),
      (id, get) => {
        const state = asState(get('state'));
        if (id && state) site(id).changes.push({ timeMs: Number(get('time')), state });
      },
    ),
    forEachRow(
      reader.query(
        `SELECT last("active") AS "active" FROM "maintenance" WHERE time < ${fromMs}ms GROUP BY "site"`,
      ),
      (id, get) => {
        if (id && Number(get('active')) === 1) site(id).maintOpenAtStart = true;
      },
    ),
    forEachRow(
      reader.query(`SELECT "active" FROM "maintenance" WHERE ${range} GROUP BY "site"`),
      (id, get) => {
        if (id)
          site(id).maintenanceEdges.push({
            timeMs: Number(get('time')),
            active: Number(get('active')) === 1,
          });
      },
    ),
    forEachRow(
      reader.query(
        `SELECT count("id") AS "n" FROM "incident" WHERE "event" = 'clock_breached' AND ${range} GROUP BY "site"`,
      ),
      (id, get) => {
        if (id) site(id).clockBreaches = Number(get('n') ?? 0);
      },
    ),
    // Heartbeats from a little before the range, so its start is not mistaken for a gap.
    forEachRow(
      reader.query(
        `SELECT "polls" FROM "monitor" WHERE "component" = 'collector' AND time >= ${fromMs - 120_000}ms AND time < ${toMs + 120_000}ms`,
      ),
      (_id, get) => times.push(Number(get('time'))),
    ),
  ]);

  const heartbeatMs = medianGap(times) ?? 10_000;
  return {
    watching: watchingFrom(times, heartbeatMs, fromMs, toMs),
    sites: new Map([...sites].map(([id, h]) => [id, siteHistory(h, fromMs, toMs)])),
    heartbeatMs,
  };
}

/** A site's folded rows as the availability engine takes them: changes in order, maintenance as intervals. */
function siteHistory(h: SiteFold, fromMs: number, toMs: number): SiteHistory {
  h.changes.sort((a, b) => a.timeMs - b.timeMs);
  const maintenance: Interval[] = [];
  let openAt: number | undefined = h.maintOpenAtStart ? fromMs : undefined;
  for (const edge of h.maintenanceEdges.sort((a, b) => a.timeMs - b.timeMs)) {
    if (edge.active && openAt === undefined) openAt = edge.timeMs;
    if (!edge.active && openAt !== undefined) {
      maintenance.push({ startMs: openAt, endMs: edge.timeMs });
      openAt = undefined;
    }
  }
  if (openAt !== undefined) maintenance.push({ startMs: openAt, endMs: toMs });
  return { initial: h.initial, changes: h.changes, maintenance, clockBreaches: h.clockBreaches };
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
