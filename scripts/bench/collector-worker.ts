/**
 * The collector side of scripts/bench-snmp.ts, in a process of its own so that its CPU time is the
 * poller's alone (process.cpuUsage of this process, over the measured loop only).
 *
 * Protocol with the parent, one JSON line each way:
 *   argv[2]  WorkerConfig as JSON
 *   stdout   {"ready":true,"warmFailures":N}      after one warm-up poll of every device
 *   stdin    any line                             start the measured loop
 *   stdout   WorkerResult                         when `seconds` have passed
 * `concurrency` loops poll the targets in turn (a shared cursor: each device has its own session and
 * socket) back to back, so `concurrency` polls are in flight at any time, as in the collector's scheduler
 * under load. Against snmpd the targets are `concurrency` devices at the same address; against the fleet
 * simulator, every simulated device.
 */
import { createInterface } from 'node:readline';
import { Secret } from '../../collector/core/secret.ts';
import { errorMessage } from '../../collector/core/errors.ts';
import type { Device } from '../../collector/core/types.ts';
import { SnmpPoller } from '../../collector/sources/snmp/poller.ts';
import { loadProfiles } from '../../config/profiles.ts';

export interface WorkerTarget {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

export interface WorkerConfig {
  readonly targets: readonly WorkerTarget[];
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
const devices: Device[] = cfg.targets.map((t) => ({
  id: t.id,
  siteId: 'bench',
  role: 'router',
  host: t.host,
  port: t.port,
  profile: cfg.profile,
  snmp: credentials,
}));

/** `concurrency` loops, each taking the next device in turn, until `more()` says stop. */
async function loops(more: (done: number) => boolean, each: (d: Device) => Promise<void>): Promise<void> {
  let cursor = 0;
  await Promise.all(
    Array.from({ length: cfg.concurrency }, async () => {
      while (more(cursor)) {
        const d = devices[cursor++ % devices.length];
        if (d) await each(d);
      }
    }),
  );
}

// Warm-up: open every session and let V8 compile the hot paths before the clock starts.
let warmFailures = 0;
await loops(
  (done) => done < Math.max(devices.length, cfg.concurrency),
  async (d) => {
    try {
      await poller.poll(d);
    } catch {
      warmFailures++;
    }
  },
);
process.stdout.write(`${JSON.stringify({ ready: true, warmFailures })}\n`);

const lines = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => lines.once('line', () => resolve()));
lines.close();

const latenciesMs: number[] = [];
let failures = 0;
let firstFailure: string | undefined;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const until = t0 + cfg.seconds * 1000;
await loops(
  () => performance.now() < until,
  async (d) => {
    const s = performance.now();
    try {
      await poller.poll(d);
      latenciesMs.push(Math.round((performance.now() - s) * 1000) / 1000);
    } catch (err) {
      failures++;
      firstFailure ??= `${d.id}: ${errorMessage(err)}`;
    }
  },
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
