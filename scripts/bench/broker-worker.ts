/**
 * The embedded broker in its own process for scripts/bench-mqtt.ts (so its CPU is measured apart from the
 * load generator). Accounts: `N` devices bench-0..N-1 (password "pw-<id>") and the collector.
 *
 *   node --import tsx scripts/bench/broker-worker.ts PORT N
 */
import { Accounts, hashPassword, type Account } from '../../broker/accounts.ts';
import { startEmbeddedBroker } from '../../broker/embedded-broker.ts';
import { createLogger } from '../../collector/core/log.ts';

const [port, n] = process.argv.slice(2).map(Number);
const accounts: Account[] = Array.from({ length: n ?? 1 }, (_, i) => ({
  username: `bench-${i}`,
  passwordHash: hashPassword(`pw-bench-${i}`, { N: 1024 }),
  role: 'device',
  deviceId: `bench-${i}`,
  siteId: 'bench',
}));
accounts.push({
  username: 'netmon-collector',
  passwordHash: hashPassword('collector-secret', { N: 1024 }),
  role: 'collector',
});
const broker = await startEmbeddedBroker({
  host: '127.0.0.1',
  port: port ?? 0,
  accounts: new Accounts(accounts),
  log: createLogger({ level: 'error' }),
});
process.stdout.write(`${JSON.stringify({ ready: broker.url })}\n`);
process.once('SIGTERM', () => void broker.close().then(() => process.exit(0)));
