/** A MonitorConfig for tests of the whole running monitor: fast polls (2 s), real InfluxDB, loopback HTTP. */
import { join } from 'node:path';
import type { MonitorConfig } from '../../config/monitor.ts';
import type { Inventory } from '../../collector/core/types.ts';
import { freeTcpPort } from './ports.ts';

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
    log: { level: 'info' },
    mqtt: opts.mqtt,
  };
}
