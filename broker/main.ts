/**
 * The embedded broker on its own (it normally starts with the monitor):
 *
 *   npx tsx broker/main.ts --config config/netmon.example.yaml
 *
 * Uses the config's `mqtt` section (listen address, TLS, the collector's account) and the inventory's
 * device accounts. Prints one JSON line when listening; stops on SIGTERM/SIGINT.
 */
import { loadConfig } from '../config/monitor.ts';
import { createLogger } from '../collector/core/log.ts';
import { errorMessage } from '../collector/core/errors.ts';
import { parseCommandArgs, usageError } from '../scripts/lib/cli.ts';
import { Accounts, hashPassword } from './accounts.ts';
import { startEmbeddedBroker } from './embedded-broker.ts';

const USAGE = `usage: broker/main.ts --config FILE

  --config FILE  the monitor config whose mqtt section (broker: embedded) and inventory to serve
  -h, --help     this text

Prints one JSON line when listening; stops on SIGTERM or SIGINT.`;

async function main(): Promise<void> {
  const values = parseCommandArgs('broker', USAGE, { config: { type: 'string' } });
  if (!values.config) usageError('broker', USAGE, '--config is required');
  const config = await loadConfig(values.config);
  const m = config.mqtt;
  if (m?.broker.kind !== 'embedded')
    throw new Error(`${values.config}: no mqtt section with broker: embedded`);
  const log = createLogger({ level: config.log.level, bindings: { component: 'broker' } });
  const broker = await startEmbeddedBroker({
    host: m.broker.host,
    port: m.broker.port,
    allowAnonymous: m.broker.allowAnonymous,
    tls: m.broker.tls,
    accounts: Accounts.fromInventory(config.inventory, [
      {
        username: m.username,
        passwordHash: hashPassword(m.password.reveal(), { N: 1024 }),
        role: 'collector',
      },
    ]),
    log,
  });
  const stop = (): void => void broker.close().then(() => log.info('broker stopped'));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`broker: ${errorMessage(err)}\n`);
  process.exitCode = 1;
});
