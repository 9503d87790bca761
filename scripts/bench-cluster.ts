/**
 * Cluster benchmark (not a test, issue #15): for 1, 2 and 3 collector processes sharing one fleet over a
 * three-node NATS JetStream cluster on this machine, in one run:
 *   - device polls per second (results in the stream over the window / the window),
 *   - CPU-ms per poll: the collectors' utime + stime from /proc/PID/stat over the window / the polls,
 *   - failover time (2 and 3 collectors): `--kills` times, kill -9 one collector (in turn) and take, per
 *     kill, the longest time from the kill to the first poll by another collector of a device it owned;
 *     p50 and max over the kills (the design's bound: membership timeout + one interval). The killed
 *     collector is started again (same member id) and the cluster left to settle before the next kill.
 * Real parts: nats-server x3 (Debian's nats-server), influxd, the fleet simulator in this process, the
 * collectors as processes of collector/main.ts with a `cluster:` config. Prints a markdown table and the
 * load average (on a shared machine the figures are noisy). Stops by itself.
 *
 *   npx tsx scripts/bench-cluster.ts [--sites 120] [--interval 5] [--window 20] [--kills 3]
 *                                    [--heartbeat 1s] [--timeout 5s]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDuration } from '../config/yaml-source.ts';
import { FleetSimulator } from '../simulator/fleet.ts';
import { syntheticInventory } from '../simulator/synthetic-inventory.ts';
import { cpuMsOfPid, percentile } from './bench/measure.ts';
import { parseCommandArgs, usageError } from './lib/cli.ts';
import {
  ResultLog,
  startCollector,
  takeoverDelays,
  writeInventory,
  type CollectorProcess,
  type LabSettings,
} from './lib/cluster-lab.ts';
import { startInfluxd } from './lib/servers/influxd.ts';
import { startNatsCluster } from './lib/servers/nats-server.ts';
import { freeUdpPort, waitFor } from '../test/support/ports.ts';

const USAGE = `usage: scripts/bench-cluster.ts [--sites N] [--interval S] [--window S] [--kills N] [--heartbeat D] [--timeout D]

  --sites N      fleet size in sites (~3.5 devices each), default 120
  --interval S   poll interval in seconds, default 5
  --window S     measuring window per collector count, seconds, default 20
  --kills N      kill -9s per collector count (2 and 3), default 3
  --heartbeat D  membership heartbeat, default 1s
  --timeout D    membership timeout, default 5s`;

const TICKS_PER_S = 100; // getconf CLK_TCK on Linux

interface Row {
  readonly collectors: number;
  readonly devices: number;
  readonly pollsPerS: number;
  readonly cpuMsPerPoll: number;
  readonly failoverP50Ms: number | undefined;
  readonly failoverMaxMs: number | undefined;
  readonly kills: number;
}

function positive(v: string | undefined, name: string, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    usageError('bench-cluster', USAGE, `--${name} must be a positive number`);
  return n;
}

async function main(): Promise<void> {
  const args = parseCommandArgs('bench-cluster', USAGE, {
    sites: { type: 'string' },
    interval: { type: 'string' },
    window: { type: 'string' },
    kills: { type: 'string' },
    heartbeat: { type: 'string', default: '1s' },
    timeout: { type: 'string', default: '5s' },
  });
  const sites = Math.round(positive(args.sites, 'sites', 120));
  const intervalMs = positive(args.interval, 'interval', 5) * 1000;
  const windowMs = positive(args.window, 'window', 20) * 1000;
  const kills = Math.round(positive(args.kills, 'kills', 3));
  const timeoutMs =
    parseDuration(args.timeout) ?? usageError('bench-cluster', USAGE, '--timeout: a duration');

  const dir = mkdtempSync(join(tmpdir(), 'netmon-bench-cluster-'));
  const port = await freeUdpPort();
  const inventory = syntheticInventory({ sites, port, seed: 15, hostOctet: 60 });
  const [influx, nats] = await Promise.all([
    startInfluxd({ dataDir: join(dir, 'influxd') }),
    startNatsCluster({ nodes: 3, dir: join(dir, 'nats') }),
  ]);
  const sim = new FleetSimulator({ inventory, seed: 15 });
  const running: CollectorProcess[] = [];
  const rows: Row[] = [];
  try {
    await sim.start();
    writeInventory(dir, inventory, port);
    const lab: LabSettings = {
      dir,
      natsUrls: nats.urls,
      influxUrl: influx.url,
      database: 'bench',
      inventory,
      snmpPort: port,
      interval: `${intervalMs}ms`,
      heartbeat: args.heartbeat,
      timeout: args.timeout,
      logLevel: 'warn',
    };
    const devices = inventory.devices.map((d) => d.id);
    const stream = new ResultLog(nats.urls);
    for (const n of [1, 2, 3]) {
      while (running.length < n) {
        const c = startCollector({ ...lab, logLevel: 'info' }, `col-${running.length + 1}`);
        running.push(c);
        await c.joined;
      }
      // Settled: one whole interval in which every device was polled once, by the n collectors.
      await waitFor(
        async () => {
          const since = Date.now() - intervalMs;
          const recent = (await stream.update()).filter((r) => r.msg.probe.timeMs > since);
          return (
            new Set(recent.map((r) => r.msg.collector)).size === n &&
            devices.every((d) => recent.some((r) => r.msg.probe.deviceId === d))
          );
        },
        { timeoutMs: 60_000, intervalMs: 1000, what: `${n} collectors sharing the fleet` },
      );
      const t0 = Date.now();
      const cpu0 = running.reduce((s, c) => s + cpuMsOfPid(c.pid, TICKS_PER_S), 0);
      await new Promise((r) => setTimeout(r, windowMs));
      const t1 = Date.now();
      const cpu1 = running.reduce((s, c) => s + cpuMsOfPid(c.pid, TICKS_PER_S), 0);
      const polls = (await stream.update()).filter(
        (r) => r.msg.probe.timeMs >= t0 && r.msg.probe.timeMs < t1,
      ).length;
      const worst: number[] = [];
      if (n >= 2) {
        for (let k = 0; k < kills; k++) {
          const i = k % n;
          const victim = running[i];
          if (!victim) break;
          const killedAt = Date.now();
          await victim.kill9();
          let delays = new Map<string, number | undefined>();
          await waitFor(
            async () => {
              delays = takeoverDelays(await stream.update(), victim.id, killedAt, intervalMs);
              return delays.size > 0 && [...delays.values()].every((d) => d !== undefined);
            },
            {
              timeoutMs: timeoutMs + intervalMs + 30_000,
              intervalMs: 250,
              what: `takeover after kill ${k + 1}`,
            },
          );
          worst.push(Math.max(...[...delays.values()].map((d) => d ?? Infinity)));
          const again = startCollector({ ...lab, logLevel: 'info' }, victim.id);
          running[i] = again;
          await again.joined;
          // Settle: every device polled once more after the restart.
          const back = Date.now();
          await waitFor(
            async () => {
              const recent = (await stream.update()).filter((r) => r.msg.probe.timeMs > back + intervalMs);
              return devices.every((d) => recent.some((r) => r.msg.probe.deviceId === d));
            },
            { timeoutMs: 60_000, intervalMs: 1000, what: `the fleet settled after kill ${k + 1}` },
          );
        }
      }
      const sorted = [...worst].sort((a, b) => a - b);
      rows.push({
        collectors: n,
        devices: devices.length,
        pollsPerS: (polls * 1000) / (t1 - t0),
        cpuMsPerPoll: polls > 0 ? (cpu1 - cpu0) / polls : NaN,
        failoverP50Ms: sorted.length ? percentile(sorted, 50) : undefined,
        failoverMaxMs: sorted.length ? sorted[sorted.length - 1] : undefined,
        kills: sorted.length,
      });
      process.stderr.write(`${JSON.stringify(rows.at(-1))}\n`);
    }
  } finally {
    await Promise.all(running.map((c) => c.stop()));
    await sim.stop();
    await nats.stop();
    await influx.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const f = (v: number | undefined, digits = 0) =>
    v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits);
  const lines = [
    `cluster benchmark: ${inventory.devices.length} devices (${sites} sites), interval ${intervalMs / 1000} s, ` +
      `membership ${args.heartbeat}/${args.timeout} (bound timeout + interval = ${(timeoutMs + intervalMs) / 1000} s), ` +
      `window ${windowMs / 1000} s; load average ${load}`,
    '',
    '| collectors | polls/s | CPU-ms per poll | failover p50 (ms) | failover max (ms) | kills |',
    '|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.collectors} | ${f(r.pollsPerS, 1)} | ${f(r.cpuMsPerPoll, 3)} | ${f(r.failoverP50Ms)} | ${f(r.failoverMaxMs)} | ${r.kills} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-cluster: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
