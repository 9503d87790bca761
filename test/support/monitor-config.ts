/** A MonitorConfig for tests of the whole running monitor: fast polls (2 s), real InfluxDB, loopback HTTP. */
import { join } from 'node:path';
import type { MonitorConfig } from '../../config/monitor.ts';
import type { Inventory } from '../../collector/core/types.ts';
import { freeTcpPort } from './ports.ts';
import { generateToken } from '../../collector/http/auth.ts';

/** A viewer token every test config accepts: `headers: TEST_VIEWER_HEADERS` on reads of the API. */
export const TEST_VIEWER = generateToken();
export const TEST_VIEWER_HEADERS = { authorization: `Bearer ${TEST_VIEWER.token}` };

export const TEST_INTERVAL_MS = 2000;

export async function testMonitorConfig(opts: {
  readonly inventory: Inventory;
  readonly influxUrl: string;
  readonly database: string;
  /** Scratch dir for the writer's buffer. */
  readonly dir: string;
  readonly webhooks?: MonitorConfig['alerts']['webhooks'] | undefined;
  readonly mqtt?: MonitorConfig['mqtt'] | undefined;
  readonly area?: MonitorConfig['alerts']['area'];
}): Promise<MonitorConfig> {
  return {
    inventoryFile: '(test)',
    inventory: opts.inventory,
    influx: { api: 'v1', url: opts.influxUrl, database: opts.database, timeoutMs: 5000 },
    writer: {
      batchSize: 500,
      flushIntervalMs: 100,
      bufferDir: join(opts.dir, 'buffer'),
      maxBufferBytes: 16 << 20,
    },
    snmp: {
      intervalMs: TEST_INTERVAL_MS,
      jitterMs: 200,
      timeoutMs: 300,
      retries: 0,
      concurrency: 32,
      maxRepetitions: 25,
    },
    health: { downAfterFailures: 2, recheckMs: 300 },
    incidents: { file: join(opts.dir, 'incidents.db') },
    alerts: { webhooks: opts.webhooks ?? [], area: opts.area },
    http: { listen: { host: '127.0.0.1', port: await freeTcpPort() } },
    api: {
      tokens: [{ name: 'test-viewer', role: 'viewer', tokenHash: TEST_VIEWER.tokenHash }],
      feedsPublic: false,
    },
    feeds: {
      sender: 'netmon@kominfo.badungkab.go.id',
      senderName: 'Diskominfo Kabupaten Badung / Badung Communications Office',
      recentMs: 24 * 3600_000,
      push: [],
    },
    status: { enabled: true, rebuildMs: 5000, availabilityRefreshMs: 600_000 },
    log: { level: 'info' },
    mqtt: opts.mqtt,
  };
}

/** A `ping:` section for tests: short rounds (one echo, 300 ms timeout), fping from the PATH. */
export function testPingConfig(
  o: Partial<NonNullable<MonitorConfig['ping']>> = {},
): NonNullable<MonitorConfig['ping']> {
  return {
    intervalMs: 2000,
    fastIntervalMs: 2000,
    fastCriticalities: ['critical'],
    recheckMs: 500,
    count: 1,
    timeoutMs: 300,
    periodMs: 100,
    packetIntervalMs: 1,
    batchSize: 1024,
    parallel: 1,
    fping: 'fping',
    ...o,
  };
}

/** The console on, its accounts in `usersFile`, its sessions in `dir`. */
export function testConsoleConfig(dir: string, usersFile: string): NonNullable<MonitorConfig['console']> {
  return {
    enabled: true,
    usersFile,
    sessionsFile: join(dir, 'sessions.db'),
    sessionIdleMs: 12 * 3600_000,
    sessionMaxMs: 7 * 86_400_000,
    secureCookies: false,
    trustProxy: false,
    maxEventClients: 20,
    tileUrl: '',
    tileAttribution: '',
  };
}
