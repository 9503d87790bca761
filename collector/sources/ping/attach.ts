/**
 * Ping in the running monitor: builds the targets from the inventory, runs the Pinger on Debian's fping,
 * feeds its results to the health tracker (the same state machine SNMP feeds), pings at once what the
 * tracker asks for, and makes the "SNMP not answering" warning visible: a WARN log line in both
 * languages, a `device_warning` point, and HealthTracker.warnings() for the API. The warning pages
 * nobody: it is not an outage (README: Ping).
 */
import type { PingConfig } from '../../../config/ping.ts';
import type { Clock } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { Device, Inventory, Sample, Site } from '../../core/types.ts';
import type { HealthTracker, HealthWarning } from '../../health/health-tracker.ts';
import { deviceTags } from '../../sinks/schema.ts';
import { fpingBatch, type PingBatch } from './fping.ts';
import { Pinger, type PingTarget } from './pinger.ts';

export interface PingDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly inventory: Inventory;
  readonly health: HealthTracker;
  readonly push: (samples: Sample[]) => void;
  /** Tests and the benchmark may run another PingBatch; default fping. */
  readonly batch?: PingBatch | undefined;
}

export interface RunningPing {
  readonly pinger: Pinger;
  stop(): Promise<void>;
}

/** Whether a device is pinged: it has an address, and its entry does not say `ping: false`. */
export function isPinged(d: Device): boolean {
  return d.role !== 'sensor' && d.host !== '' && d.ping !== 'off';
}

export function pingTargets(inventory: Inventory, config: PingConfig): PingTarget[] {
  const sites = new Map(inventory.sites.map((s) => [s.id, s]));
  return inventory.devices.filter(isPinged).flatMap((d) => {
    const site = sites.get(d.siteId);
    if (!site) return [];
    const fast = d.role === 'router' && config.fastCriticalities.includes(site.criticality);
    return [
      {
        deviceId: d.id,
        host: d.host,
        intervalMs: fast ? config.fastIntervalMs : config.intervalMs,
        tags: deviceTags(site, d),
      },
    ];
  });
}

export function startPing(config: PingConfig, deps: PingDeps): RunningPing {
  const log = deps.log.child({ component: 'ping' });
  const pinger = new Pinger({
    clock: deps.clock,
    log,
    batch:
      deps.batch ??
      fpingBatch({
        bin: config.fping,
        count: config.count,
        timeoutMs: config.timeoutMs,
        periodMs: config.periodMs,
        intervalMs: config.packetIntervalMs,
      }),
    targets: pingTargets(deps.inventory, config),
    recheckMs: config.recheckMs,
    batchSize: config.batchSize,
    parallel: config.parallel,
    observe: (p) => deps.health.observe(p),
    push: deps.push,
  });
  const sites = new Map(deps.inventory.sites.map((s) => [s.id, s]));
  const devices = new Map(deps.inventory.devices.map((d) => [d.id, d]));
  const offPing = deps.health.onPingRequest((id) => pinger.request(id));
  const offWarn = deps.health.onWarning((w) => {
    try {
      const d = devices.get(w.deviceId);
      const s = d && sites.get(d.siteId);
      if (!d || !s) return;
      announceWarning(w, s, d, log);
      deps.push([
        {
          measurement: 'device_warning',
          tags: { ...deviceTags(s, d), kind: w.kind },
          fields: { active: w.raised ? 1 : 0, ...(w.cause ? { cause: w.cause } : {}) },
          timeMs: w.timeMs,
        },
      ]);
    } catch (err) {
      log.error('warning not recorded', { device: w.deviceId, error: errorMessage(err) });
    }
  });
  pinger.start();
  log.info('ping started', {
    addresses: pinger.size,
    intervalMs: config.intervalMs,
    fastIntervalMs: config.fastIntervalMs,
  });
  return {
    pinger,
    stop: async () => {
      offPing();
      offWarn();
      await pinger.stop();
    },
  };
}

/** The warning's log line, in both languages (it pages nobody). */
function announceWarning(w: HealthWarning, site: Site, device: Device, log: Logger): void {
  const where = `${device.id} (${site.name})`;
  if (w.raised)
    log.warn('SNMP NOT ANSWERING', {
      device: device.id,
      site: site.id,
      cause: w.cause,
      text_id: `SNMP tidak menjawab pada ${where}; perangkat masih menjawab ping, situs tidak padam.`,
      text_en: `SNMP not answering on ${where}; the device still answers ping, the site is not down.`,
    });
  else
    log.info('SNMP answering again', {
      device: device.id,
      site: site.id,
      text_id: `SNMP menjawab lagi pada ${where}.`,
      text_en: `SNMP answering again on ${where}.`,
    });
}
