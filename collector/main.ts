/**
 * The collector's command line:
 *
 *   npx tsx collector/main.ts --config config/netmon.example.yaml
 *
 * Loads and validates the config once (a bad config exits 2 with every error and where it is), starts the
 * runtime, and stops cleanly on SIGTERM/SIGINT: polls in flight finish, notifications are delivered and
 * every sample is written or kept in the on-disk buffer for the next start.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/monitor.ts';
import { createLogger } from './core/log.ts';
import { ConfigError, errorMessage } from './core/errors.ts';
import { startRuntime } from './runtime.ts';

const USAGE = 'usage: collector/main.ts --config FILE';

async function main(): Promise<number> {
  let configFile: string;
  try {
    const { values } = parseArgs({
      args: process.argv.slice(2),
      options: { config: { type: 'string', default: process.env.NETMON_CONFIG } },
      strict: true,
    });
    if (!values.config) throw new Error(`--config is required; ${USAGE}`);
    configFile = values.config;
  } catch (err) {
    process.stderr.write(`${errorMessage(err)}\n`);
    return 2;
  }
  let config;
  try {
    config = await loadConfig(configFile);
  } catch (err) {
    process.stderr.write(
      err instanceof ConfigError ? `${err.message}\n` : `cannot load ${configFile}: ${errorMessage(err)}\n`,
    );
    return 2;
  }
  const log = createLogger({ level: config.log.level, bindings: { app: 'badung-netmon' } });
  const runtime = await startRuntime(config, { log });
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info('stopping', { signal });
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await runtime.stop();
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
