/**
 * The signals besides SNMP polls and MQTT, started beside the Monitor by the composition root with one
 * call: ICMP through fping (collector/sources/ping) and SNMP traps (collector/sources/traps). Both feed
 * the Monitor's HealthTracker (ping results are probes; a trap asks for a poll), and their counters go
 * out as `monitor` points (components ping and traps) every `metricsMs`.
 */
import type { MonitorConfig } from '../../config/monitor.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { Sample } from '../core/types.ts';
import type { HealthTracker } from '../health/health-tracker.ts';
import { startPing, type RunningPing } from './ping/attach.ts';
import { startTraps, type RunningTraps } from './traps/attach.ts';

export interface SignalDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly health: HealthTracker;
  readonly push: (samples: Sample[]) => void;
  readonly metricsMs?: number | undefined;
}

export interface RunningSignals {
  readonly ping?: RunningPing | undefined;
  readonly traps?: RunningTraps | undefined;
  /** Stop pinging and receiving (before the monitor stops: it writes the last counters). */
  stop(): Promise<void>;
}

export async function startSignals(
  config: Pick<MonitorConfig, 'ping' | 'traps' | 'inventory'>,
  deps: SignalDeps,
): Promise<RunningSignals> {
  const base = {
    clock: deps.clock,
    log: deps.log,
    inventory: config.inventory,
    health: deps.health,
    push: deps.push,
  };
  const ping = config.ping && startPing(config.ping, base);
  if (!config.ping) {
    // Nothing else watches them: say so once, rather than leave them `unknown` without a word.
    const unseen = config.inventory.devices.filter((d) => d.ping === 'only');
    if (unseen.length > 0)
      deps.log.warn('ping-only devices are not watched: the config has no ping: section', {
        devices: unseen.length,
        first: unseen.slice(0, 5).map((d) => d.id),
      });
  }
  let traps: RunningTraps | undefined;
  try {
    traps = config.traps && (await startTraps(config.traps, base));
  } catch (err) {
    await ping?.stop();
    throw err;
  }
  const counters = (): Record<string, Record<string, number>> => {
    const out: Record<string, Record<string, number>> = {};
    const p = ping?.pinger.stats();
    if (p)
      out.ping = {
        ping_rounds: p.runs,
        ping_targets: p.targets,
        ping_bad_output: p.badOutput,
        ping_errors: p.errors,
      };
    const t = traps?.stats();
    if (t)
      out.traps = {
        traps_received: t.received,
        traps_accepted: t.accepted,
        traps_dropped_unknown_source: t.droppedUnknownSource,
        traps_dropped_auth: t.droppedAuth,
      };
    return out;
  };
  let last = counters();
  let lastAt = deps.clock.now();
  const write = (): void => {
    const now = deps.clock.now();
    const current = counters();
    const samples: Sample[] = Object.entries(current).map(([component, values]) => ({
      measurement: 'monitor',
      tags: { component },
      fields: {
        period_s: (now - lastAt) / 1000,
        ...Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v - (last[component]?.[k] ?? 0)])),
      },
      timeMs: now,
    }));
    if (samples.length > 0) deps.push(samples);
    last = current;
    lastAt = now;
  };
  let timer: TimerHandle | undefined;
  let running = true;
  const arm = (): void => {
    timer = deps.clock.setTimeout(() => {
      write();
      if (running) arm();
    }, deps.metricsMs ?? 10_000);
  };
  if (ping || traps) arm();
  return {
    ping,
    traps,
    stop: async () => {
      running = false;
      if (timer) deps.clock.clearTimeout(timer);
      await Promise.all([ping?.stop(), traps?.stop()]);
      if (ping || traps) write();
    },
  };
}
