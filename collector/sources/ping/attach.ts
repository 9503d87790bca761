/**
 * Ping in the running monitor: builds the targets from the inventory, runs the Pinger on Debian's fping,
 * feeds its results to the health tracker (the same state machine SNMP feeds), pings at once what the
 * tracker asks for, and makes the "SNMP not answering" warning visible: a WARN log line in both
 * languages, a `device_warning` point, and HealthTracker.warnings() for the API. The warning pages
 * nobody: it is not an outage (README: Ping). A cluster member builds its Pinger with createPinger; the
 * alerting leader watches its tracker with watchPing (README: Traps and ping on collector members).
 */
import type { PingConfig } from '../../../config/ping.ts';
import type { Clock } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { Device, Inventory, ProbeResult, Sample, Site } from '../../core/types.ts';
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

/** What a Pinger needs besides the config: where its results go. */
export interface PingerDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly observe: (probe: ProbeResult) => void;
  readonly push: (samples: Sample[]) => void;
  readonly targets: readonly PingTarget[];
  readonly batch?: PingBatch | undefined;
}

/** A Pinger on Debian's fping with the config's settings (one process, and a cluster's collector member). */
export function createPinger(config: PingConfig, deps: PingerDeps): Pinger {
  return new Pinger({
    clock: deps.clock,
    log: deps.log,
    batch:
      deps.batch ??
      fpingBatch({
        bin: config.fping,
        count: config.count,
        timeoutMs: config.timeoutMs,
        periodMs: config.periodMs,
        intervalMs: config.packetIntervalMs,
      }),
    targets: deps.targets,
    recheckMs: config.recheckMs,
    batchSize: config.batchSize,
    parallel: config.parallel,
    observe: deps.observe,
    push: deps.push,
  });
}

export interface PingWatchDeps {
  readonly log: Logger;
  readonly inventory: Inventory;
  /** Where the `device_warning` points go. */
  readonly push: (samples: Sample[]) => void;
  /** Ping this device now: the local Pinger, or (the cluster's leader) a request to the device's owner. */
  readonly requestPing: (deviceId: string) => void;
}

/**
 * The health tracker's side of ping: its requests for an immediate ping, and the "SNMP not answering"
 * warning made visible (a WARN log line in both languages, a `device_warning` point; the API reads
 * HealthTracker.warnings()). The one process and the cluster's alerting leader both use it. Returns the
 * unsubscribe.
 */
export function watchPing(health: HealthTracker, deps: PingWatchDeps): () => void {
  const { log } = deps;
  const sites = new Map(deps.inventory.sites.map((s) => [s.id, s]));
  const devices = new Map(deps.inventory.devices.map((d) => [d.id, d]));
  const offPing = health.onPingRequest((id) => {
    try {
      deps.requestPing(id);
    } catch (err) {
      log.warn('ping request not sent', { device: id, error: errorMessage(err) });
    }
  });
  const offWarn = health.onWarning((w) => {
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
  return () => {
    offPing();
    offWarn();
  };
}

export function startPing(config: PingConfig, deps: PingDeps): RunningPing {
  const log = deps.log.child({ component: 'ping' });
  const pinger = createPinger(config, {
    clock: deps.clock,
    log,
    batch: deps.batch,
    targets: pingTargets(deps.inventory, config),
    observe: (p) => deps.health.observe(p),
    push: deps.push,
  });
  const off = watchPing(deps.health, {
    log,
    inventory: deps.inventory,
    push: deps.push,
    requestPing: (id) => pinger.request(id),
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
      off();
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
