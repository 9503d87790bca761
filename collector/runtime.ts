/**
 * Builds the running monitor from a validated MonitorConfig: the real I/O parts (SNMP poller, InfluxDB sink
 * behind the buffered writer, notification channels, HTTP API) handed to the Monitor. main.ts is the CLI
 * around this; the scenario tests start the same runtime, so what they test is what `npm start` runs.
 */
import type { MonitorConfig } from '../config/monitor.ts';
import { loadProfiles } from '../config/profiles.ts';
import { Monitor } from './app.ts';
import { systemClock, type Clock } from './core/clock.ts';
import type { Logger } from './core/log.ts';
import { startHttp, type RunningHttp } from './http/server.ts';
import { LogNotifier } from './notify/log-notifier.ts';
import type { Notifier } from './notify/notifier.ts';
import { WebhookNotifier } from './notify/webhook.ts';
import { createSink } from './sinks/create-sink.ts';
import { SampleWriter } from './sinks/writer.ts';
import { SnmpPoller } from './sources/snmp/poller.ts';

export interface Runtime {
  readonly monitor: Monitor;
  readonly http: RunningHttp;
  /** Stops polling, delivers pending notifications, flushes samples (or persists them to the buffer). */
  stop(): Promise<void>;
}

export interface RuntimeOptions {
  readonly log: Logger;
  readonly clock?: Clock | undefined;
  /** Extra channels (tests add a recorder; issue #4 adds Telegram, e-mail, MQTT). */
  readonly notifiers?: readonly Notifier[] | undefined;
}

export async function startRuntime(config: MonitorConfig, opts: RuntimeOptions): Promise<Runtime> {
  const clock = opts.clock ?? systemClock;
  const { log } = opts;
  const profiles = loadProfiles();
  const poller = new SnmpPoller({
    timeoutMs: config.snmp.timeoutMs,
    retries: config.snmp.retries,
    maxRepetitions: config.snmp.maxRepetitions,
    profiles,
    clock,
    onDecodeWarning: (device, w) =>
      log.warn('bad value in SNMP response', {
        device: device.id,
        oid: w.oid,
        field: w.field,
        reason: w.reason,
      }),
  });
  const writer = new SampleWriter({
    sink: createSink(config.influx),
    clock,
    log: log.child({ component: 'writer' }),
    batchSize: config.writer.batchSize,
    flushIntervalMs: config.writer.flushIntervalMs,
    bufferDir: config.writer.bufferDir,
    maxBufferBytes: config.writer.maxBufferBytes,
  });
  const notifiers: Notifier[] = [
    new LogNotifier(log.child({ component: 'alert' })),
    ...config.alerts.webhooks.map(
      (w) => new WebhookNotifier({ name: w.name, url: w.url, headers: w.headers }),
    ),
    ...(opts.notifiers ?? []),
  ];
  const monitor = new Monitor(
    { clock, log, inventory: config.inventory, poller, writer, notifiers },
    {
      intervalMs: config.snmp.intervalMs,
      jitterMs: config.snmp.jitterMs,
      concurrency: config.snmp.concurrency,
      downAfterFailures: config.health.downAfterFailures,
      recheckMs: config.health.recheckMs,
      selfMetricsMs: 10_000,
      linkBase: config.alerts.linkBase,
    },
  );
  await monitor.start();
  let http: RunningHttp;
  try {
    http = await startHttp(monitor, config.http.listen, log.child({ component: 'http' }));
  } catch (err) {
    await monitor.stop();
    throw err;
  }
  log.info('http listening', { url: http.url });
  return {
    monitor,
    http,
    stop: async () => {
      await http.close();
      await monitor.stop();
    },
  };
}
