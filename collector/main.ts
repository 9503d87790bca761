/**
 * The collector's command line:
 *
 *   npx tsx collector/main.ts --config config/netmon.example.yaml
 *   npx tsx collector/main.ts --config config/netmon.example.yaml --check [--json]
 *
 * Loads and validates the config once (a bad config exits 2 with every error and where it is), starts the
 * runtime, and stops cleanly on SIGTERM/SIGINT: polls in flight finish, notifications are delivered and
 * every sample is written or kept in the on-disk buffer for the next start. A second signal while stopping
 * is noted and changes nothing (Ctrl-C in a terminal and the start script's TERM both arrive).
 *
 * --check validates the config, the inventory and the token file it names and the SNMP profiles, prints
 * what would run (with --json: one JSON object, for scripts/start.sh) and exits: 0 valid, 2 not. It starts
 * nothing and opens no port.
 */
// First: V8's settings for this process, before any module's code runs (see v8-tuning.ts).
import './core/v8-tuning.ts';
import { loadConfig, type MonitorConfig } from '../config/monitor.ts';
import { loadProfiles } from '../config/profiles.ts';
import { createLogger } from './core/log.ts';
import { ConfigError, errorMessage } from './core/errors.ts';
import { startClusterRuntime, startRuntime, type ClusterRuntime, type Runtime } from './app.ts';
import { parseCommandArgs, usageError } from '../scripts/lib/cli.ts';

/** A stop still running after this long logs, every this long, the part it waits on. */
const SLOW_STOP_MS = 3_000;

const USAGE = `usage: collector/main.ts --config FILE [--check [--json]]

  --config FILE  the monitor config (default: $NETMON_CONFIG), e.g. config/netmon.example.yaml
  --check        validate the config and the inventory it names, print what would run, and exit
                 (0: valid, 2: not); starts nothing
  --json         with --check: print one JSON object (the start script reads it)
  -h, --help     this text

Runs until SIGTERM or SIGINT (Ctrl-C), then stops cleanly: polls in flight finish, notifications are
delivered, samples are written (or kept in the buffer). Exit 0 after a clean stop, 2 on a bad config or
usage, 1 when the monitor cannot start.`;

/** What --check reports: where the monitor would listen and write. */
interface CheckSummary {
  readonly config: string;
  readonly inventory: string;
  readonly sites: number;
  readonly devices: number;
  readonly api: string;
  readonly influx: string;
  readonly influxDatabase: string;
  readonly mqtt?: string | undefined;
  /** Where traps are received (host:port); absent: no `traps:` section. */
  readonly traps?: string | undefined;
  /** Ping: the normal and the fast interval, e.g. "30s/10s"; absent: no `ping:` section. */
  readonly ping?: string | undefined;
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function checkSummary(file: string, config: MonitorConfig): CheckSummary {
  const m = config.mqtt?.broker;
  return {
    config: file,
    inventory: config.inventoryFile,
    sites: config.inventory.sites.length,
    devices: config.inventory.devices.length,
    api: `http://${hostPort(config.http.listen.host, config.http.listen.port)}`,
    influx: config.influx.url,
    influxDatabase: config.influx.api === 'v1' ? config.influx.database : config.influx.bucket,
    mqtt: m ? (m.kind === 'embedded' ? `mqtt://${hostPort(m.host, m.port)}` : m.url) : undefined,
    traps: config.traps ? hostPort(config.traps.host, config.traps.port) : undefined,
    ping: config.ping ? `${config.ping.intervalMs / 1000}s/${config.ping.fastIntervalMs / 1000}s` : undefined,
  };
}

function describe(s: CheckSummary): string {
  return [
    `${s.config} is valid: ${s.sites} sites, ${s.devices} devices (inventory ${s.inventory})`,
    `  API       ${s.api}`,
    `  InfluxDB  ${s.influx} (database ${s.influxDatabase})`,
    ...(s.mqtt ? [`  MQTT      ${s.mqtt}`] : []),
    ...(s.ping ? [`  Ping      every ${s.ping.replace('/', ', critical routers every ')}`] : []),
    ...(s.traps ? [`  Traps     udp ${s.traps}`] : []),
  ].join('\n');
}

async function main(): Promise<number> {
  const values = parseCommandArgs('collector', USAGE, {
    config: { type: 'string', default: process.env.NETMON_CONFIG },
    check: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  const configFile = values.config;
  if (!configFile) usageError('collector', USAGE, '--config is required (or set NETMON_CONFIG)');
  let config;
  try {
    config = await loadConfig(configFile);
    if (values.check) loadProfiles();
  } catch (err) {
    process.stderr.write(
      err instanceof ConfigError ? `${err.message}\n` : `cannot load ${configFile}: ${errorMessage(err)}\n`,
    );
    return 2;
  }
  if (values.check) {
    const summary = checkSummary(configFile, config);
    process.stdout.write(`${values.json ? JSON.stringify(summary) : describe(summary)}\n`);
    return 0;
  }
  const log = createLogger({ level: config.log.level, bindings: { app: 'badung-netmon' } });
  // Listen before starting: the first signal stops cleanly (once started, if it came during the start);
  // later ones are only noted, except during the start, when a second one exits at once.
  let signalled: string | undefined;
  let onSignal: ((signal: string) => void) | undefined;
  let started = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (!signalled) {
      signalled = signal;
      if (onSignal) onSignal(signal);
      else log.info('stop requested while starting: stopping once started', { signal });
      return;
    }
    if (!started) {
      // A second signal while the start has not finished: do not wait for it (nothing is drained yet).
      log.warn('second signal while starting: exiting now', { signal });
      process.exit(1);
    }
    log.info('already stopping', { signal, waitingFor: runtime?.stopProgress() });
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  let runtime: Runtime | ClusterRuntime | undefined;
  try {
    // A cluster member (config/cluster.ts) runs its roles over NATS; without `cluster:`, the one process.
    runtime = config.cluster
      ? await startClusterRuntime(config, { log })
      : await startRuntime(config, { log });
  } catch (err) {
    // Parts started before the failure (the scheduler, the broker) would keep the process alive: a monitor
    // that cannot start must exit, so whatever started it (npm start) sees it and stops the rest.
    log.error('cannot start', { error: errorMessage(err) });
    process.stderr.write(`badung-netmon: cannot start: ${errorMessage(err)}\n`);
    process.exit(1);
  }
  started = true;
  const signal =
    signalled ??
    (await new Promise<string>((resolve) => {
      onSignal = resolve;
    }));
  log.info('stopping', { signal });
  // A stop that takes long says which part it waits on (start.sh kills the collector after 30 s).
  const running = runtime;
  const slow = setInterval(() => {
    const waitingFor = running.stopProgress();
    if (waitingFor) log.warn('still stopping', { waitingFor });
  }, SLOW_STOP_MS);
  slow.unref();
  try {
    await running.stop();
  } finally {
    clearInterval(slow);
  }
  log.info('stopped', { signal });
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`badung-netmon: ${errorMessage(err)}\n`);
    process.exitCode = 1;
  },
);
