/**
 * Debian's victoria-metrics as a plain process: storage under `dataDir`, HTTP on 127.0.0.1. It accepts
 * InfluxDB line protocol on /write and /api/v2/write, so the 2.x sink is tested against it.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { freeLoopbackPort, requireBinary, startProcess, type RunningServer } from './process.ts';

export interface VictoriaMetricsOptions {
  readonly dataDir: string;
  /** HTTP port on 127.0.0.1; a free one when omitted. */
  readonly port?: number;
  readonly binary?: string;
  readonly startTimeoutMs?: number;
}

export const VICTORIA_METRICS_BINARY = '/usr/bin/victoria-metrics';

export async function startVictoriaMetrics(opts: VictoriaMetricsOptions): Promise<RunningServer> {
  const binary = opts.binary ?? VICTORIA_METRICS_BINARY;
  requireBinary(binary, 'victoria-metrics');
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const port = opts.port ?? (await freeLoopbackPort());
  return startProcess({
    name: 'victoria-metrics',
    binary,
    args: [
      `-storageDataPath=${dataDir}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      '-loggerLevel=ERROR',
      '-retentionPeriod=100y',
      // Make points visible to queries at once (the default hides the last 30 s).
      '-search.latencyOffset=0s',
      '-search.disableCache',
    ],
    port,
    readyPath: '/health',
    startTimeoutMs: opts.startTimeoutMs ?? 20_000,
  });
}
