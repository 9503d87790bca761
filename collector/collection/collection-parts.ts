/**
 * The parts of the collection role that talk to the outside: the SNMP poller (with profile detection)
 * and the disk-buffered InfluxDB writer. Built the same way in the main thread (collector/app.ts) and in
 * each collection worker thread (collection-worker.ts), from the parts of the config they need.
 */
import type { MonitorConfig } from '../../config/monitor.ts';
import { loadDetectionTable } from '../../config/detection.ts';
import { loadProfiles } from '../../config/profiles.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import { createSink } from '../sinks/create-sink.ts';
import { SampleWriter } from '../sinks/writer.ts';
import { AutoProfilePoller } from '../sources/snmp/detect.ts';
import { SnmpPoller } from '../sources/snmp/poller.ts';

/** The config sections collection reads (a worker thread gets only these). */
export type CollectionConfig = Pick<MonitorConfig, 'snmp' | 'influx' | 'writer'>;

/** The SNMP poller and the disk-buffered InfluxDB writer of the collection role (one process or a cluster's). */
export function collectionParts(
  config: CollectionConfig,
  clock: Clock,
  log: Logger,
): { poller: AutoProfilePoller; writer: SampleWriter } {
  const snmpPoller = new SnmpPoller({
    timeoutMs: config.snmp.timeoutMs,
    retries: config.snmp.retries,
    maxRepetitions: config.snmp.maxRepetitions,
    profiles: loadProfiles(),
    clock,
    onDecodeWarning: (device, w) =>
      log.warn('bad value in SNMP response', {
        device: device.id,
        oid: w.oid,
        field: w.field,
        reason: w.reason,
      }),
  });
  // `profile: auto` devices (the inventory's default) are detected before their first poll (issue #13).
  const poller = new AutoProfilePoller(snmpPoller, {
    table: loadDetectionTable(),
    client: { timeoutMs: config.snmp.timeoutMs, retries: config.snmp.retries },
    log: log.child({ component: 'detect' }),
  });
  const writer = sampleWriter(config, clock, log);
  return { poller, writer };
}

/** The disk-buffered InfluxDB writer of a role (collection, or a cluster's alerting). */
export function sampleWriter(
  config: Pick<MonitorConfig, 'influx' | 'writer'>,
  clock: Clock,
  log: Logger,
): SampleWriter {
  return new SampleWriter({
    sink: createSink(config.influx),
    clock,
    log: log.child({ component: 'writer' }),
    batchSize: config.writer.batchSize,
    flushIntervalMs: config.writer.flushIntervalMs,
    bufferDir: config.writer.bufferDir,
    maxBufferBytes: config.writer.maxBufferBytes,
  });
}
