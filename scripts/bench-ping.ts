/**
 * Ping benchmark (not a test): one ping round over the whole Badung fleet's addresses (the synthetic
 * inventory of 987 sites, ~3,400 devices, each at its own 127.x address: every 127.x answers ping on
 * Linux) done two ways, one after the other:
 *
 *   fping   the collector's way: batches of --batch addresses per fping process (collector/sources/ping)
 *   ping    one iputils `ping -c 1` process per address, --concurrency of them at once
 *
 * For each: wall time of the round, CPU time (user + system) of the child processes (from this process's
 * cutime/cstime in /proc/self/stat, which count the children it has waited for) plus this process's own,
 * addresses answered. Installs Debian's fping and iputils-ping if missing (scripts/lib/apt.sh).
 *
 *   npx tsx scripts/bench-ping.ts [--sites 987] [--batch 1024] [--parallel 2] [--concurrency 64] [--interval 1]
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseCommandArgs } from './lib/cli.ts';
import { fpingBatch } from '../collector/sources/ping/fping.ts';
import { syntheticInventory } from '../simulator/synthetic-inventory.ts';

const USAGE = `usage: npx tsx scripts/bench-ping.ts [--sites 987] [--batch 1024] [--parallel 2] [--concurrency 64] [--interval 1]
  One ping round over the fleet's loopback addresses: fping batches against one ping process per address.`;
const args = parseCommandArgs('bench-ping', USAGE, {
  sites: { type: 'string', default: '987' },
  batch: { type: 'string', default: '1024' },
  parallel: { type: 'string', default: '2' },
  concurrency: { type: 'string', default: '64' },
  interval: { type: 'string', default: '1' },
});
const num = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`bench-ping: --${name} must be a positive integer, got "${v}"\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const SITES = num('sites', args.sites);
const BATCH = num('batch', args.batch);
const PARALLEL = num('parallel', args.parallel);
const CONCURRENCY = num('concurrency', args.concurrency);
const INTERVAL = num('interval', args.interval);

const apt = spawnSync('bash', ['-c', 'source scripts/lib/apt.sh && ensure_debs fping iputils-ping'], {
  stdio: 'inherit',
});
if (apt.status !== 0) {
  console.error('bench-ping: could not install fping and iputils-ping');
  process.exit(1);
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
/** CPU ms of the children waited for so far, and of this process. */
function cpuMs(): { children: number; self: number } {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of proc(5) (cutime, cstime) are at 13 and 14 after the ") " split.
  const children = ((Number(fields[13]) + Number(fields[14])) * 1000) / CLK_TCK;
  const u = process.cpuUsage();
  return { children, self: (u.user + u.system) / 1000 };
}

async function measure(name: string, round: () => Promise<number>): Promise<Record<string, number | string>> {
  const c0 = cpuMs();
  const t0 = performance.now();
  const answered = await round();
  const wallMs = performance.now() - t0;
  const c1 = cpuMs();
  const childCpu = c1.children - c0.children;
  const selfCpu = c1.self - c0.self;
  return {
    way: name,
    addresses: hosts.length,
    answered,
    wall_ms: Math.round(wallMs),
    cpu_children_ms: Math.round(childCpu),
    cpu_self_ms: Math.round(selfCpu),
    cpu_total_ms: Math.round(childCpu + selfCpu),
  };
}

const inventory = syntheticInventory({ sites: SITES, port: 161, hostOctet: 60 });
const hosts = [...new Set(inventory.devices.filter((d) => d.host !== '').map((d) => d.host))];

async function fpingRound(): Promise<number> {
  const batch = fpingBatch({ count: 1, timeoutMs: 500, periodMs: 100, intervalMs: INTERVAL });
  const batches: string[][] = [];
  for (let i = 0; i < hosts.length; i += BATCH) batches.push(hosts.slice(i, i + BATCH));
  let answered = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const b = batches[next++];
      if (!b) continue;
      const r = await batch(b);
      for (const t of r.tallies.values()) if (t.rttsMs.some((x) => x !== undefined)) answered++;
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return answered;
}

async function pingEachRound(): Promise<number> {
  let answered = 0;
  let next = 0;
  const one = (host: string): Promise<boolean> =>
    new Promise((resolve) => {
      const child = spawn('ping', ['-n', '-q', '-c', '1', '-W', '1', host], { stdio: 'ignore' });
      child.once('error', () => resolve(false));
      child.once('close', (code) => resolve(code === 0));
    });
  const worker = async (): Promise<void> => {
    while (next < hosts.length) {
      const h = hosts[next++];
      if (h !== undefined && (await one(h))) answered++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return answered;
}

console.log(
  `one ping round over ${hosts.length} loopback addresses (${SITES} sites); fping: --batch ${BATCH} --parallel ${PARALLEL} -i ${INTERVAL}ms; ping: ${CONCURRENCY} at once`,
);
const results = [
  await measure(`fping, batches of ${BATCH}`, fpingRound),
  await measure('ping, a process per address', pingEachRound),
];
console.table(results);
console.log(JSON.stringify({ bench: 'ping', results }));
