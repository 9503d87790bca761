/** Throwaway real InfluxDB (Debian's influxd) and VictoriaMetrics servers for a test file, plus InfluxQL queries. */
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
  const server = await start(dir);
  return {
    ...server,
    url: server.url,
    port: server.port,
    pid: server.pid,
    stop: () => server.stop(),
    restart: () => server.restart(),
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
