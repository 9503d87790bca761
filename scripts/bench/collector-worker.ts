/**
 * The collector side of scripts/bench-snmp.ts, in a process of its own so that its CPU time is the
 * poller's alone (process.cpuUsage of this process, over the measured loop only).
 *
 * Protocol with the parent, one JSON line each way:
 *   argv[2]  WorkerConfig as JSON
 *   stdout   {"ready":true,"requestsPerPoll":N}   after one warm-up poll of every device
 *   stdin    any line                             start the measured loop
 *   stdout   WorkerResult                         when `seconds` have passed
 * `concurrency` loops each poll their own device (own session and socket, same agent) back to back, so
 * `concurrency` polls are in flight at any time, as in the collector's scheduler under load.
 */
import { createInterface } from 'node:readline';
import { Secret } from '../../collector/core/secret.ts';
import { errorMessage } from '../../collector/core/errors.ts';
import type { Device } from '../../collector/core/types.ts';
import { SnmpPoller } from '../../collector/sources/snmp/poller.ts';
import { loadProfiles } from '../../config/profiles.ts';

export interface WorkerConfig {
  readonly port: number;
  readonly community: string;
  readonly profile: string;
  readonly seconds: number;
  readonly concurrency: number;
  readonly maxRepetitions: number;
  readonly timeoutMs: number;
}

export interface WorkerResult {
  readonly polls: number;
  readonly failures: number;
  readonly firstFailure?: string | undefined;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly latenciesMs: number[];
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const poller = new SnmpPoller({
  timeoutMs: cfg.timeoutMs,
  retries: 0,
  maxRepetitions: cfg.maxRepetitions,
  profiles: loadProfiles(),
});
const credentials = { version: '2c' as const, community: new Secret(cfg.community) };
const devices: Device[] = Array.from({ length: cfg.concurrency }, (_, i) => ({
  id: `bench-${i}`,
  siteId: 'bench',
  role: 'router',
  host: '127.0.0.1',
  port: cfg.port,
  profile: cfg.profile,
  snmp: credentials,
}));

// Warm-up: open every session and let V8 compile the hot paths before the clock starts.
let requestsPerPoll = 0;
for (const d of devices) requestsPerPoll = (await poller.pollDetailed(d)).requests;
process.stdout.write(`${JSON.stringify({ ready: true, requestsPerPoll })}\n`);

const lines = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => lines.once('line', () => resolve()));
lines.close();

const latenciesMs: number[] = [];
let failures = 0;
let firstFailure: string | undefined;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const until = t0 + cfg.seconds * 1000;
await Promise.all(
  devices.map(async (d) => {
    while (performance.now() < until) {
      const s = performance.now();
      try {
        await poller.poll(d);
        latenciesMs.push(Math.round((performance.now() - s) * 1000) / 1000);
      } catch (err) {
        failures++;
        firstFailure ??= `${d.id}: ${errorMessage(err)}`;
      }
    }
  }),
);
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
poller.close();
const result: WorkerResult = {
  polls: latenciesMs.length,
  failures,
  firstFailure,
  wallMs,
  cpuMs: (cpu.user + cpu.system) / 1000,
  latenciesMs,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
