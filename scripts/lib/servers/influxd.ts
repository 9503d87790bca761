/**
 * Debian's influxd (InfluxDB 1.6, 1.x API) as a plain process: a generated config, everything under
 * `dataDir`, HTTP and RPC bound to 127.0.0.1, reporting off, quiet logs. Used by tests and by
 * scripts/influxdb.sh (`npx tsx scripts/lib/servers/influxd.ts --data-dir DIR --port N`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freeLoopbackPort, requireBinary, startProcess, type RunningServer } from './process.ts';
import { intOption, parseCommandArgs } from '../cli.ts';

export interface InfluxdOptions {
  readonly dataDir: string;
  /** HTTP port on 127.0.0.1; a free one when omitted. */
  readonly port?: number;
  readonly binary?: string;
  readonly startTimeoutMs?: number;
}

export const INFLUXD_BINARY = '/usr/bin/influxd';

/** The influxd.conf for a data dir and two loopback ports. Pure, so it can be read in a test. */
export function influxdConfig(dataDir: string, httpPort: number, rpcPort: number): string {
  const dir = (sub: string): string => JSON.stringify(join(dataDir, sub));
  return `reporting-enabled = false
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = ${dir('meta')}
  logging-enabled = false

[data]
  dir = ${dir('data')}
  wal-dir = ${dir('wal')}
  query-log-enabled = false
  index-version = "inmem"

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = false
  log-enabled = false
  pprof-enabled = false

[continuous_queries]
  log-enabled = false

[logging]
  level = "warn"
  suppress-logo = true
`;
}

export async function startInfluxd(opts: InfluxdOptions): Promise<RunningServer> {
  const binary = opts.binary ?? INFLUXD_BINARY;
  requireBinary(binary, 'influxdb');
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const port = opts.port ?? (await freeLoopbackPort());
  const rpcPort = await freeLoopbackPort();
  const configPath = join(dataDir, 'influxd.conf');
  writeFileSync(configPath, influxdConfig(dataDir, port, rpcPort));
  return startProcess({
    name: 'influxd',
    binary,
    args: ['-config', configPath],
    port,
    readyPath: '/ping',
    startTimeoutMs: opts.startTimeoutMs ?? 20_000,
  });
}

// CLI for scripts/influxdb.sh: start, print the URL, run until SIGTERM/SIGINT, then stop influxd.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const usage =
    "usage: scripts/lib/servers/influxd.ts [--data-dir var/influxdb] [--port N]\n\nRuns Debian's influxd on 127.0.0.1 with everything under the data dir until SIGTERM/SIGINT\n(scripts/influxdb.sh start|stop|status is the command for people).";
  const values = parseCommandArgs('influxd', usage, {
    'data-dir': { type: 'string', default: 'var/influxdb' },
    port: { type: 'string' },
  });
  const dataDir = values['data-dir'];
  const portArg = values.port && String(intOption('influxd', usage, 'port', values.port, 1, 65535));
  // A data dir with a month of the fleet takes influxd a while to open on a busy machine: more room than tests get.
  startInfluxd({ dataDir, startTimeoutMs: 120_000, ...(portArg ? { port: Number(portArg) } : {}) }).then(
    (server) => {
      process.stdout.write(
        `influxd ready at ${server.url} (pid ${String(server.pid)}, data in ${dataDir})\n`,
      );
      const shutdown = (): void => {
        server.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGTERM', shutdown);
      process.once('SIGINT', shutdown);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
