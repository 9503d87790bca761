/**
 * Throwaway real servers for a test file: InfluxDB (Debian's influxd, 1.x API) and VictoriaMetrics, each
 * with a temp data dir and a free loopback port (a missing binary fails with the package to install); and
 * queries: InfluxQL over /query, VictoriaMetrics' /api/v1/export.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInfluxd } from '../../scripts/lib/servers/influxd.ts';
import type { RunningServer } from '../../scripts/lib/servers/process.ts';
import { startVictoriaMetrics } from '../../scripts/lib/servers/victoria-metrics.ts';

export interface TestServer extends RunningServer {
  readonly dir: string;
  /** Stop the server and delete its data. */
  dispose(): Promise<void>;
}

async function withDir(prefix: string, start: (dir: string) => Promise<RunningServer>): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let server: RunningServer;
  try {
    server = await start(dir);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: server.url,
    port: server.port,
    /** The current process (a restart changes it). */
    get pid() {
      return server.pid;
    },
    stop: () => server.stop(),
    restart: () => server.restart(),
    kill9: () => server.kill9(),
    start: () => server.start(),
    dir,
    dispose: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const startTestInfluxd = (): Promise<TestServer> =>
  withDir('netmon-influxd-', (dir) => startInfluxd({ dataDir: join(dir, 'data') }));

export const startTestVictoriaMetrics = (): Promise<TestServer> =>
  withDir('netmon-vm-', (dir) => startVictoriaMetrics({ dataDir: join(dir, 'data') }));

export interface Series {
  readonly name?: string;
  readonly tags?: Record<string, string>;
  readonly columns: string[];
  readonly values: unknown[][];
}

/** Run InfluxQL over HTTP /query; throws with the server's message on an error. */
export async function influxQuery(url: string, db: string, q: string): Promise<Series[]> {
  const res = await fetch(`${url}/query?db=${encodeURIComponent(db)}&epoch=ms&q=${encodeURIComponent(q)}`);
  const body = (await res.json()) as { results?: { series?: Series[]; error?: string }[]; error?: string };
  const r = body.results?.[0];
  if (body.error ?? r?.error) throw new Error(`${q}: ${body.error ?? r?.error}`);
  return r?.series ?? [];
}

/** InfluxQL rows as objects keyed by column name (one query, all series concatenated, tags merged in). */
export async function influxRows(url: string, db: string, q: string): Promise<Record<string, unknown>[]> {
  const series = await influxQuery(url, db, q);
  return series.flatMap((s) =>
    s.values.map((v) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) })),
  );
}

export interface VmSeries {
  readonly metric: Record<string, string>;
  readonly values: number[];
  readonly timestamps: number[];
}

/**
 * VictoriaMetrics' raw samples for a series selector (`/api/v1/export`), after forcing its in-memory
 * buffers to storage so that what was just written is visible without waiting. VM names a series
 * `<measurement>_<field>` and keeps tags as labels.
 */
export async function vmExport(url: string, match: string): Promise<VmSeries[]> {
  const flush = await fetch(`${url}/internal/force_flush`);
  await flush.body?.cancel();
  if (!flush.ok) throw new Error(`victoria-metrics force_flush: HTTP ${flush.status}`);
  const res = await fetch(`${url}/api/v1/export?match[]=${encodeURIComponent(match)}`);
  const text = await res.text();
  if (!res.ok) throw new Error(`victoria-metrics export ${match}: HTTP ${res.status}: ${text}`);
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as VmSeries);
}
