/**
 * Traps in the running monitor: the receiver (receiver.ts) hands each trap to trap-rules.ts; an accepted
 * one is recorded (a `trap` point and a log line) and, for the five standard traps, asks the health
 * tracker for an immediate poll of the device (HealthTracker.requestProbe, the monitor's scheduler).
 * A trap never sets a state. Unknown sources, wrong communities or users, and undecodable messages are
 * counted (the `monitor` point of component traps) and dropped.
 */
import type { TrapsConfig } from '../../../config/traps.ts';
import type { Logger } from '../../core/log.ts';
import type { Clock } from '../../core/clock.ts';
import type { Device, Inventory, Sample, SnmpCredentials } from '../../core/types.ts';
import type { HealthTracker } from '../../health/health-tracker.ts';
import { deviceTags } from '../../sinks/schema.ts';
import { startTrapReceiver } from './receiver.ts';
import { judgeTrap, normaliseAddress, trapIfIndex, trapName, type TrapIn } from './trap-rules.ts';

export interface TrapStats {
  readonly received: number;
  readonly accepted: number;
  readonly droppedUnknownSource: number;
  readonly droppedAuth: number;
  readonly bad: number;
}

export interface RunningTraps {
  /** The UDP port traps are received on (the configured one, or the one bound for port 0). */
  readonly port: number;
  stats(): TrapStats;
  stop(): Promise<void>;
}

export interface TrapDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly inventory: Inventory;
  readonly health: Pick<HealthTracker, 'requestProbe'>;
  readonly push: (samples: Sample[]) => void;
}

export async function startTraps(config: TrapsConfig, deps: TrapDeps): Promise<RunningTraps> {
  const log = deps.log.child({ component: 'traps' });
  const bySource = new Map<string, Device[]>();
  for (const d of deps.inventory.devices) {
    if (!d.snmp || d.host === '') continue;
    const list = bySource.get(normaliseAddress(d.host)) ?? [];
    list.push(d);
    bySource.set(normaliseAddress(d.host), list);
  }
  const sites = new Map(deps.inventory.sites.map((s) => [s.id, s]));
  const users = new Map<string, Extract<SnmpCredentials, { version: '3' }>>();
  const communities = new Set<string>();
  for (const d of deps.inventory.devices) {
    if (d.snmp?.version === '3') users.set(d.snmp.user, d.snmp);
    else if (d.snmp?.version === '2c') communities.add(d.snmp.community.reveal());
  }
  const stats = { received: 0, accepted: 0, droppedUnknownSource: 0, droppedAuth: 0, bad: 0 };

  const onTrap = (t: TrapIn): void => {
    stats.received++;
    const verdict = judgeTrap(t, bySource);
    const { name, standard } = trapName(t);
    if (verdict.kind === 'unknown_source') {
      stats.droppedUnknownSource++;
      log.debug('trap dropped: unknown source', { source: t.source, trap: name });
      return;
    }
    if (verdict.kind === 'auth') {
      stats.droppedAuth++;
      log.warn('trap dropped: credentials', { source: t.source, trap: name, why: verdict.why });
      return;
    }
    stats.accepted++;
    const now = deps.clock.now();
    const ifIndex = trapIfIndex(t);
    const samples: Sample[] = [];
    for (const d of verdict.devices) {
      const site = sites.get(d.siteId);
      if (!site) continue;
      samples.push({
        measurement: 'trap',
        tags: { ...deviceTags(site, d), trap: name },
        fields: {
          source: t.source,
          version: t.version,
          ...(ifIndex === undefined ? {} : { if_index: ifIndex }),
        },
        timeMs: now,
      });
      log.info('trap', { device: d.id, trap: name, ifIndex, polling: standard });
      if (standard) deps.health.requestProbe(d.id);
    }
    deps.push(samples);
  };
  const receiver = await startTrapReceiver({
    host: config.host,
    port: config.port,
    users: [...users.values()],
    communities: [...communities],
    onTrap,
    onRefused: (kind, source, why) => {
      stats.received++;
      // The library refuses a community or user no device has before trap-rules.ts sees the source:
      // a stranger's trap is counted as a stranger's, whatever it carried.
      if (source !== undefined && !bySource.has(normaliseAddress(source))) {
        stats.droppedUnknownSource++;
        log.debug('trap dropped: unknown source', { source, why });
        return;
      }
      if (kind === 'auth') stats.droppedAuth++;
      else stats.bad++;
      log.warn(kind === 'auth' ? 'trap dropped: credentials' : 'trap dropped: unreadable', { source, why });
    },
  });
  log.info('receiving traps', { host: config.host, port: receiver.port, devices: bySource.size });
  return { port: receiver.port, stats: () => ({ ...stats }), stop: () => receiver.close() };
}
