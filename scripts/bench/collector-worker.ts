/**
 * The collector side of scripts/bench-snmp.ts, in its own process so its CPU time is only the poller's:
 * `concurrency` loops, each polling its own device (own session, same agent) back to back for `seconds`.
 * Prints one JSON line: polls, failures, cpuMs (process.cpuUsage delta), latency percentiles, interfaces read.
 *
 *   node --import tsx scripts/bench/collector-worker.ts PORT COMMUNITY SECONDS CONCURRENCY REPETITIONS
 */
import { Secret } from '../../collector/core/secret.ts';
import type { Device } from '../../collector/core/types.ts';
import { SnmpPoller } from '../../collector/sources/snmp/poller.ts';
import { loadProfiles } from '../../config/profiles.ts';

const [port, community, seconds, concurrency, reps] = process.argv.slice(2);
const poller = new SnmpPoller({
  timeoutMs: 2000,
  retries: 0,
  maxRepetitions: Number(reps ?? 25),
  profiles: loadProfiles(),
});
const devices: Device[] = Array.from({ length: Number(concurrency) }, (_, i) => ({
  id: `bench-${i}`,
  siteId: 'bench',
  role: 'router',
  host: '127.0.0.1',
  port: Number(port),
  profile: 'generic',
  snmp: { version: '2c', community: new Secret(community ?? 'public') },
}));

const first = await poller.pollDetailed(devices[0]!); // warm-up, and what one poll reads
const latencies: number[] = [];
let failures = 0;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const until = t0 + Number(seconds) * 1000;
await Promise.all(
  devices.map(async (d) => {
    while (performance.now() < until) {
      const s = performance.now();
      try {
        await poller.poll(d);
        latencies.push(performance.now() - s);
      } catch {
        failures++;
      }
    }
  }),
);
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
poller.close();
latencies.sort((a, b) => a - b);
const pct = (p: number): number =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
console.log(
  JSON.stringify({
    polls: latencies.length,
    failures,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    p50: pct(50),
    p95: pct(95),
    interfaces: first.reading.interfaces.length,
    requestsPerPoll: first.requests,
    values: first.reading.interfaces.reduce(
      (n, i) => n + Object.values(i).filter((v) => v !== undefined).length,
      0,
    ),
  }),
);
