/**
 * What one fleet-simulator process costs per SNMP answer (issue #14: the simulator must answer 100k
 * devices at 60 s beside the collector on a 2-core machine).
 *
 *   npx tsx scripts/bench/simulator-answers.ts [--devices 6000] [--rate 1000] [--seconds 20]
 *                                              [--cpu-prof DIR] [--inproc-seconds 5]
 *
 * 1. Starts simulator/main.ts in a process of its own on `--devices` devices of the benchmark fleet
 *    (scripts/bench/fleet-inventory.ts: the Badung inventory, copied; 6,000 is one process's share in
 *    scripts/bench-fleet.ts).
 * 2. Polls every device twice with the collector's own SnmpPoller (collector/sources/snmp/poller.ts),
 *    recording the GETBULK of the second poll: the one-round-trip request the collector sends every
 *    interval once it knows a device's table size (sysUpTime as a non-repeater, every profile column,
 *    rows + 1 repetitions). So the requests are the collector's, whatever it asks.
 * 3. Replays those requests, encoded once (v2c-codec.ts) with only the request id patched, at `--rate`
 *    per second over a few UDP sockets for `--seconds`, and reads the simulator's CPU time from
 *    /proc/PID/stat before and after: CPU-ms per answer, including the kernel's UDP work and Node's
 *    per-datagram cost, as in the fleet benchmark.
 * 4. With --inproc-seconds > 0, also builds the same fleet in this process (no sockets) and answers the
 *    same datagrams through FleetSimulator.answerDatagram in a loop: the answer path alone, per answer.
 *
 * Prints the figures and the load average (the machine is shared: say it with every figure).
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { loadInventory } from '../../config/inventory.ts';
import { loadProfiles } from '../../config/profiles.ts';
import type { Device } from '../../collector/core/types.ts';
import { SnmpPoller } from '../../collector/sources/snmp/poller.ts';
import { openSnmpClient, type SnmpClient } from '../../collector/sources/snmp/session.ts';
import { encodeRequest, PduTag } from '../../collector/sources/snmp/v2c-codec.ts';
import { FleetSimulator } from '../../simulator/fleet.ts';
import { ChildSet, cleanUpOnExit, simulatorArgs, waitForLine } from './children.ts';
import { makeFleet, inventoryYaml, type RawSite } from './fleet-inventory.ts';
/** User and system CPU-ms of a process so far (proc(5) /proc/PID/stat fields 14 and 15). */
function cpuSplitOf(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(fields[11]) * 1000) / CLK_TCK, system: (Number(fields[12]) * 1000) / CLK_TCK };
}
import { freeUdpPort } from '../../test/support/ports.ts';

const USAGE =
  'usage: npx tsx scripts/bench/simulator-answers.ts [--devices 6000] [--rate 1000] [--seconds 20] [--cpu-prof DIR] [--inproc-seconds 5]';
const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '6000' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '20' },
    'cpu-prof': { type: 'string' },
    'inproc-seconds': { type: 'string', default: '5' },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
});
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
function int(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`--${name} must be a whole number ${min}..${max}, got "${raw}"\n${USAGE}`);
    process.exit(2);
  }
  return n;
}
const DEVICES = int('devices', args.devices, 10, 20_000);
const RATE = int('rate', args.rate, 1, 20_000);
const SECONDS = int('seconds', args.seconds, 1, 600);
const INPROC_S = int('inproc-seconds', args['inproc-seconds'], 0, 600);
const CPU_PROF = args['cpu-prof'] === undefined ? undefined : resolve(args['cpu-prof']);
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Sockets the replay sends from (the collector uses a pool of 64; a few are enough at these rates). */
const LOAD_SOCKETS = 8;

const children = new ChildSet();
const dir = mkdtempSync(join(tmpdir(), 'netmon-bench-sim-'));
cleanUpOnExit('simulator-answers', children, dir, () => children.stopAll(5000));

const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** The first sites of the benchmark fleet that hold `n` devices (whole sites, so a little more). */
function fleetOf(n: number, port: number): { yaml: string; devices: number } {
  const size = Math.ceil(n / 3000);
  const octet = 100 + Math.floor(Math.random() * (150 - size));
  const fleet = makeFleet(size, octet, port);
  const sites: RawSite[] = [];
  let devices = 0;
  for (const s of fleet.sites) {
    if (devices >= n) break;
    sites.push(s.upstream === undefined || sites.some((x) => x.id === s.upstream) ? s : dropUpstream(s));
    devices += s.devices.length;
  }
  return { yaml: inventoryYaml(fleet, sites), devices };
}
function dropUpstream(s: RawSite): RawSite {
  const { upstream: _gone, ...rest } = s;
  return rest;
}

interface Recorded {
  readonly device: Device;
  oids: readonly string[];
  nonRepeaters: number;
  maxRepetitions: number;
}

/** Poll every device twice with the collector's poller; keep the last GETBULK each device was sent. */
async function recordRequests(devices: readonly Device[]): Promise<Recorded[]> {
  const profiles = loadProfiles();
  const recorded = new Map<string, Recorded>();
  const poller = new SnmpPoller({
    timeoutMs: 3000,
    retries: 1,
    maxRepetitions: 25,
    profiles,
    openClient: (device, opts): SnmpClient => {
      const real = openSnmpClient(device, opts);
      return {
        get: (oids, o) => real.get(oids, o),
        bulkWalk: (base, reps) => real.bulkWalk(base, reps),
        close: () => real.close(),
        getBulk: (oids, nonRepeaters, maxRepetitions, o) => {
          recorded.set(device.id, { device, oids: [...oids], nonRepeaters, maxRepetitions });
          return real.getBulk(oids, nonRepeaters, maxRepetitions, o);
        },
      };
    },
  });
  const queue = [...devices, ...devices];
  let failed = 0;
  const worker = async (): Promise<void> => {
    for (let d = queue.shift(); d; d = queue.shift()) {
      try {
        await poller.poll(d);
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  poller.close();
  if (failed > 0) console.log(`(${failed} of ${devices.length * 2} recording polls failed)`);
  return [...recorded.values()];
}

interface Encoded {
  readonly bytes: Buffer;
  readonly host: string;
  readonly port: number;
  /** Offset of the 4-byte request id value in `bytes`. */
  readonly idAt: number;
}

/** Each recorded request encoded once, with a 4-byte request id (0x01000000 .. 0x7fffffff) to patch. */
function encodeAll(recorded: readonly Recorded[]): Encoded[] {
  return recorded.map((r) => {
    const c = r.device.snmp;
    if (c?.version !== '2c') throw new Error(`${r.device.id}: only SNMPv2c requests can be replayed`);
    const community = Buffer.from(c.community.reveal(), 'utf8');
    const bytes = encodeRequest({
      pdu: PduTag.GetBulkRequest,
      requestId: 0x01020304,
      community,
      oids: r.oids,
      nonRepeaters: r.nonRepeaters,
      maxRepetitions: r.maxRepetitions,
    });
    const idAt = bytes.indexOf(Buffer.from([0x02, 0x04, 0x01, 0x02, 0x03, 0x04]));
    if (idAt < 0) throw new Error('request id not found in the encoded request');
    return { bytes, host: r.device.host, port: r.device.port, idAt: idAt + 2 };
  });
}

interface ReplayFigures {
  sent: number;
  answered: number;
  bytesIn: number;
  wallMs: number;
  simCpuMs: number;
  simSystemMs: number;
}

async function replay(reqs: readonly Encoded[], simPid: number): Promise<ReplayFigures> {
  const sockets: Socket[] = [];
  let answered = 0;
  let bytesIn = 0;
  for (let i = 0; i < LOAD_SOCKETS; i++) {
    const s = createSocket('udp4');
    s.on('message', (m) => {
      answered++;
      bytesIn += m.length;
    });
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    sockets.push(s);
  }
  let sent = 0;
  let next = 0;
  let id = 0x01000000;
  const t0 = performance.now();
  const cpu0 = cpuSplitOf(simPid);
  const end = t0 + SECONDS * 1000;
  // Paced in 10 ms ticks: each tick sends what the rate owes since the start.
  await new Promise<void>((done) => {
    const tick = (): void => {
      const now = performance.now();
      const owed = Math.floor(((Math.min(now, end) - t0) / 1000) * RATE) - sent;
      for (let k = 0; k < owed; k++) {
        const r = reqs[next++ % reqs.length];
        if (!r) continue;
        r.bytes.writeUInt32BE(id++ & 0x7fffffff, r.idAt);
        const s = sockets[sent % LOAD_SOCKETS];
        // A copy: send() is asynchronous, and the same request is patched again on a later round.
        s?.send(Buffer.from(r.bytes), r.port, r.host);
        sent++;
      }
      if (now >= end) done();
      else setTimeout(tick, 10);
    };
    tick();
  });
  // Let the last answers arrive (with a deadline), then read the CPU.
  const settle = performance.now() + 2000;
  while (answered < sent && performance.now() < settle) await new Promise((r) => setTimeout(r, 20));
  const wallMs = performance.now() - t0;
  const cpu1 = cpuSplitOf(simPid);
  for (const s of sockets) s.close();
  const simSystemMs = cpu1.system - cpu0.system;
  return { sent, answered, bytesIn, wallMs, simCpuMs: cpu1.user - cpu0.user + simSystemMs, simSystemMs };
}

function procFacts(pid: number): { rssMb: number; fds: number; sockets: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  let fds = 0;
  let sockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    fds++;
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
    } catch {
      // closed meanwhile
    }
  }
  return { rssMb: rssKb / 1024, fds, sockets };
}

/** The answer path alone: the same fleet in this process, the same datagrams, no sockets. */
async function inproc(file: string, reqs: readonly Encoded[], ids: readonly string[]): Promise<void> {
  const inventory = await loadInventory(file);
  const sim = new FleetSimulator({ inventory });
  let n = 0;
  let bytes = 0;
  const until = performance.now() + INPROC_S * 1000;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() < until) {
    for (let i = 0; i < reqs.length; i++) {
      const r = reqs[i];
      const id = ids[i];
      if (!r || id === undefined) continue;
      r.bytes.writeUInt32BE(0x01000000 + (n & 0xffffff), r.idAt);
      const a = sim.answerDatagram(id, r.bytes);
      bytes += a?.length ?? 0;
      n++;
      if ((n & 255) === 0 && performance.now() >= until) break;
    }
  }
  const c = process.cpuUsage(c0);
  const cpuMs = (c.user + c.system) / 1000;
  console.log(
    `in process (answerDatagram, no sockets): ${n} answers in ${((performance.now() - t0) / 1000).toFixed(1)} s, ` +
      `${(cpuMs / n).toFixed(4)} CPU-ms per answer, ${(bytes / n).toFixed(0)} bytes per answer; load ${load()}`,
  );
}

const port = await freeUdpPort();
const { yaml, devices } = fleetOf(DEVICES, port);
const file = join(dir, 'fleet.inventory.yaml');
writeFileSync(file, yaml);
console.log(`simulator-answers: ${devices} devices, one simulator process; load ${load()}`);
const profArgs = CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : [];
const sim = await children.start(
  'simulator',
  process.execPath,
  [...profArgs, ...simulatorArgs(file, '127.0.0.1:0', '--blackhole', 'off')],
  { cwd: ROOT },
);
await waitForLine(sim, /simulator ready/, 300_000);
const facts0 = procFacts(sim.pid);
console.log(
  `simulator ready: RSS ${facts0.rssMb.toFixed(0)} MB, ${facts0.fds} open files (${facts0.sockets} sockets), ${(
    (facts0.rssMb * 1024) /
    devices
  ).toFixed(1)} KB per device`,
);

const inventory = await loadInventory(file);
const snmpDevices = inventory.devices.filter((d) => d.role !== 'sensor' && d.snmp !== undefined);
const v3 = snmpDevices.filter((d) => d.snmp?.version === '3').length;
// SNMPv3 requests cannot be replayed (authenticated, in a time window): the replay is of the v2c devices.
const recorded = await recordRequests(snmpDevices.filter((d) => d.snmp?.version === '2c'));
console.log(`${v3} of ${snmpDevices.length} devices speak SNMPv3: not replayed`);
const encoded = encodeAll(recorded);
const varbindsAsked = recorded.reduce(
  (n, r) => n + r.nonRepeaters + (r.oids.length - r.nonRepeaters) * r.maxRepetitions,
  0,
);
console.log(
  `recorded ${recorded.length} one-trip GETBULKs (the collector's), ${(varbindsAsked / recorded.length).toFixed(0)} varbinds asked per request on average`,
);

const f = await replay(encoded, sim.pid);
const facts1 = procFacts(sim.pid);
const perAnswer = f.simCpuMs / f.answered;
console.log(
  `replay: ${f.sent} sent, ${f.answered} answered (${((f.answered / f.wallMs) * 1000).toFixed(0)}/s for ${(f.wallMs / 1000).toFixed(1)} s), ` +
    `${(f.bytesIn / Math.max(1, f.answered)).toFixed(0)} bytes per answer; simulator ${(f.simCpuMs / f.wallMs).toFixed(2)} cores, ` +
    `**${perAnswer.toFixed(3)} CPU-ms per answer** (${(f.simSystemMs / f.answered).toFixed(3)} of it in the kernel), RSS ${facts1.rssMb.toFixed(0)} MB; load ${load()}`,
);
console.log(
  `at 30x (1,682 answers/s) that is ${((perAnswer * 1682) / 1000).toFixed(2)} cores for the whole simulated fleet`,
);

if (INPROC_S > 0)
  await inproc(
    file,
    encoded,
    recorded.map((r) => r.device.id),
  );
await children.stopAll(5000);
if (CPU_PROF) console.log(`CPU profile of the simulator in ${CPU_PROF}`);
process.exit(0);
