/**
 * Fleet benchmark (not a test): the whole collector as `npm start` runs it (collector/main.ts on the example
 * config, InfluxDB from Debian's influxd, the fleet simulator answering SNMP), on a fleet of a given
 * multiple of Badung's (1 = the 987-site inventory of scripts/generate-inventory.ts: 3,350 SNMP devices, 3,414
 * with its 64 MQTT-only sensors, which are left out here), every part on free loopback ports in a temp dir.
 * Stops by itself.
 *
 *   npx tsx scripts/bench-fleet.ts [--sizes 1,3,10,30] [--interval 60] [--window 60] [--sims N] [--cpu-prof DIR]
 *
 * For each size in turn: generate the fleet (size copies of the Badung inventory, each on loopback
 * addresses 127.B.x.y of its own second octet B, ids of copy k prefixed "xk-"), start the simulator in
 * --sims processes (default one per 6,000 devices, at least 2 from 10,000: one process holds a socket per
 * device and one core), start the collector, wait for its first poll round (every device polled once; at
 * most 3 intervals), then sample for --window seconds:
 *   - CPU of every process (collector, each simulator, influxd) from /proc/PID/stat, as cores (CPU time /
 *     wall time) and CPU-ms per device poll; RSS from /proc/PID/status (the largest seen, sampled every 2 s);
 *     the collector's open files (/proc/PID/fd);
 *   - from the monitor's GET /api/v1/health details: polls done (ok + failed) against polls due
 *     (devices / interval), late turns (started > 1 s after due), overruns (turns skipped because the
 *     previous one was still running), the scheduler's overload verdict when it has one, and the samples
 *     written to InfluxDB per second.
 * A simulator process using more than 0.9 of a core is reported as saturated: the collector's figures are
 * then bounded by the simulator, not by itself.
 *
 * Prints one markdown table (a row per size) and one JSON line per size. The machine's load average is
 * printed beside it: on a shared machine the figures are noisy. The fleet is SNMP only (no MQTT broker and
 * no MQTT devices), so what is measured is the SNMP collection path end to end.
 * --cpu-prof DIR runs the collector under `node --cpu-prof` and leaves its profile in DIR when it stops.
 */
import { mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { spawnSync } from 'node:child_process';
import { Document, parseDocument } from 'yaml';
import { generateToken } from '../collector/http/auth.ts';
import type { SchedulerStats } from '../collector/scheduler/scheduler.ts';
import { generateBadungInventory, type GeneratedInventory } from '../config/badung/generate.ts';
import { freeTcpPort, freeUdpPort, waitFor } from '../test/support/ports.ts';
import { ChildSet, cleanUpOnExit, simulatorArgs, waitForLine, type Child } from './bench/children.ts';
import { cpuMsOfPid } from './bench/measure.ts';
import { startInfluxd } from './lib/servers/influxd.ts';
import type { RunningServer } from './lib/servers/process.ts';
import { parseCommandArgs, usageError } from './lib/cli.ts';

const USAGE =
  'usage: npx tsx scripts/bench-fleet.ts [--sizes 1,3,10,30] [--interval 30|60] [--window 60] [--sims N] [--cpu-prof DIR]';
const HELP = `${USAGE}

  Runs the whole collector (as npm start does: simulator + influxd + collector/main.ts) on fleets of
  SIZE x the Badung fleet (1 = 3,350 SNMP devices) and prints, per size and per process, CPU cores,
  CPU-ms per device poll, RSS, polls done against due, late turns, overruns and the InfluxDB write rate.

  --sizes LIST      fleet sizes, multiples of the Badung fleet, whole numbers (default 1)
  --interval S      the polling interval in seconds (default 60)
  --window S        the measuring window after warm-up, seconds (default 60)
  --sims N          simulator processes (default: one per 6,000 devices, 2 from 10,000 on)
  --cpu-prof DIR    run the collector under node --cpu-prof, profiles written to DIR
  -h, --help        this text`;

const args = parseCommandArgs('bench-fleet', HELP, {
  sizes: { type: 'string', default: '1' },
  interval: { type: 'string', default: '60' },
  window: { type: 'string', default: '60' },
  sims: { type: 'string' },
  'cpu-prof': { type: 'string' },
});
const usage = (message: string): never => usageError('bench-fleet', USAGE, message);
const int = (name: string, raw: string, min: number, max: number): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    usage(`--${name} must be a whole number ${min}..${max}, got "${raw}"`);
  return n;
};
const SIZES = args.sizes.split(',').map((s) => int('sizes', s.trim(), 1, 60));
const INTERVAL_S = int('interval', args.interval, 5, 600);
const WINDOW_S = int('window', args.window, 5, 3600);
const SIMS = args.sims === undefined ? undefined : int('sims', args.sims, 1, 32);
const CPU_PROF = args['cpu-prof'] === undefined ? undefined : resolve(args['cpu-prof']);
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Devices one simulator process is given at most (its sockets, and a core's worth of answers). */
const DEVICES_PER_SIM = 6000;

const children = new ChildSet();
const dir = mkdtempSync(join(tmpdir(), 'netmon-bench-fleet-'));
let influx: RunningServer | undefined;

cleanUpOnExit('bench-fleet', children, dir, () => children.stopAll(10_000).then(() => influx?.stop()));

interface HealthDoc {
  devices: number;
  polls: { ok: number; failed: number };
  scheduler: SchedulerStats;
  writer: { written: number; buffered: number; dropped: number };
}

// ---- the fleet ---------------------------------------------------------------------------------------

type RawSite = GeneratedInventory['sites'][number];

/**
 * SIZE copies of the Badung inventory as one inventory YAML: copy k (k >= 1) has seed k + 1, addresses
 * 127.(octet + k).x.y and "xk-" before every site and device id (and the references to them). MQTT
 * accounts and MQTT-only sensors are left out: the benchmark measures SNMP collection.
 */
function fleetYaml(size: number, firstOctet: number, port: number): { yaml: string; devices: number } {
  const sites: RawSite[] = [];
  let devices = 0;
  let credentials: unknown;
  for (let k = 0; k < size; k++) {
    // No ping-only sites: the benchmark measures SNMP polling (its config has no ping: section).
    const gen = generateBadungInventory({ seed: k + 1, hostOctet: firstOctet + k, port, ispRouterEvery: 0 });
    const pre = k === 0 ? '' : `x${k}-`;
    credentials ??= parseDocument(gen.yaml).get('credentials');
    for (const s of gen.sites) {
      const devs = s.devices
        .filter((d) => d.role !== 'sensor' && d.host !== undefined)
        .map((d) => {
          const { mqtt: _mqtt, ...rest } = d;
          return { ...rest, id: `${pre}${d.id}` };
        });
      devices += devs.length;
      sites.push({
        ...s,
        id: `${pre}${s.id}`,
        name: k === 0 ? s.name : `${s.name} (${k})`,
        ...(s.upstream ? { upstream: `${pre}${s.upstream}` } : {}),
        devices: devs,
      });
    }
  }
  const doc = new Document({ credentials, defaults: { port, credentials: 'public-v2' }, sites });
  return { yaml: doc.toString({ lineWidth: 0 }), devices };
}

/** config/netmon.example.yaml with places, ports and the interval changed, and no MQTT. */
function writeConfig(
  at: string,
  ports: { http: number; influx: number; control: number },
  inventory: string,
): string {
  const doc = parseDocument(readFileSync(join(ROOT, 'config/netmon.example.yaml'), 'utf8'));
  doc.setIn(['inventory'], inventory);
  doc.setIn(['influx', 'url'], `http://127.0.0.1:${ports.influx}`);
  doc.setIn(['writer', 'bufferDir'], join(at, 'buffer'));
  doc.setIn(['incidents', 'file'], join(at, 'incidents.db'));
  doc.setIn(['snmp', 'interval'], `${INTERVAL_S}s`);
  doc.deleteIn(['mqtt']);
  // Ping and traps off: the figures are SNMP polling's, as before (and 10162 is one fixed port).
  doc.deleteIn(['ping']);
  doc.deleteIn(['traps']);
  doc.setIn(['http', 'port'], ports.http);
  doc.setIn(['api', 'tokensFile'], join(at, 'api-tokens.yaml'));
  doc.setIn(['console', 'usersFile'], join(at, 'users.yaml'));
  doc.setIn(['console', 'sessionsFile'], join(at, 'sessions.db'));
  doc.setIn(['alerts', 'webhooks', 0, 'url'], `http://127.0.0.1:${ports.control}/webhook`);
  doc.setIn(['log', 'level'], 'warn');
  const file = join(at, 'netmon.yaml');
  writeFileSync(file, doc.toString());
  return file;
}

// ---- /proc -------------------------------------------------------------------------------------------

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m?.[1] ? Number(m[1]) / 1024 : NaN;
}

function openFiles(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

interface Proc {
  readonly name: string;
  readonly pid: number;
}

// ---- one size ----------------------------------------------------------------------------------------

interface ProcFigures {
  name: string;
  cores: number;
  cpuMsPerPoll: number;
  rssMb: number;
}

interface SizeResult {
  size: number;
  devices: number;
  sims: number;
  firstRoundS: number | null;
  pollsDonePerS: number;
  pollsDuePerS: number;
  late: number;
  overruns: number;
  failed: number;
  writesPerS: number;
  collector: ProcFigures;
  simulators: ProcFigures[];
  influxd: ProcFigures;
  collectorOpenFiles: number;
  devicesPerCore: number;
  simulatorSaturated: boolean;
  overload: SchedulerStats['overload'] | null;
  load: string;
}

/**
 * A starved or overloaded collector may answer late or drop a connection: 3 tries of up to 2 minutes
 * each before the size is given up (the error says the collector did not answer, which is a finding).
 */
async function getJson<T>(url: string, token: string): Promise<T> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const r = await fetch(url, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(120_000),
      });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      return (await r.json()) as T;
    } catch (err) {
      last = err;
    }
  }
  throw new Error(`${url}: the collector did not answer in 3 tries (${String(last)})`);
}

async function runSize(size: number, influxd: RunningServer): Promise<SizeResult> {
  const at = join(dir, `x${size}`);
  mkdirSync(at, { recursive: true });
  const snmpPort = await freeUdpPort();
  // Second octets of their own, so the simulator's addresses do not meet another instance's.
  const firstOctet = 100 + Math.floor(Math.random() * (150 - size));
  const fleet = fleetYaml(size, firstOctet, snmpPort);
  const inventoryFile = join(at, 'fleet.inventory.yaml');
  writeFileSync(inventoryFile, fleet.yaml);
  const sims = SIMS ?? Math.max(fleet.devices >= 10_000 ? 2 : 1, Math.ceil(fleet.devices / DEVICES_PER_SIM));
  const viewer = generateToken();
  writeFileSync(
    join(at, 'api-tokens.yaml'),
    `- { name: bench-viewer, role: viewer, tokenHash: '${viewer.tokenHash}' }\n`,
  );
  const controls = await Promise.all(Array.from({ length: sims }, () => freeTcpPort()));
  const http = await freeTcpPort();
  const config = writeConfig(at, { http, influx: influxd.port, control: controls[0] ?? 0 }, inventoryFile);
  console.log(
    `\n== size ${size}: ${fleet.devices} devices every ${INTERVAL_S} s, ${sims} simulator process(es)`,
  );

  const t0 = performance.now();
  const simChildren: Child[] = [];
  for (let i = 0; i < sims; i++) {
    simChildren.push(
      await children.start(
        `simulator ${i}/${sims}`,
        process.execPath,
        simulatorArgs(inventoryFile, `127.0.0.1:${controls[i] ?? 0}`, '--shard', `${i}/${sims}`),
        { cwd: ROOT },
      ),
    );
  }
  await Promise.all(simChildren.map((c) => waitForLine(c, /simulator ready/, 900_000)));
  console.log(`simulators ready after ${((performance.now() - t0) / 1000).toFixed(0)} s`);

  const logFile = join(ROOT, 'var', `bench-fleet-collector-x${size}.log`);
  mkdirSync(dirname(logFile), { recursive: true });
  const logFd = openSync(logFile, 'w');
  const nodeArgs = CPU_PROF
    ? [
        '--cpu-prof',
        '--cpu-prof-dir',
        CPU_PROF,
        '--cpu-prof-name',
        `collector-x${size}-${Date.now()}.cpuprofile`,
      ]
    : [];
  const collector = await children.start(
    'collector',
    process.execPath,
    [...nodeArgs, '--import', 'tsx', 'collector/main.ts', '--config', config],
    { cwd: ROOT, stdio: ['ignore', logFd, logFd] },
  );
  const base = `http://127.0.0.1:${http}`;
  const t1 = performance.now();
  await waitFor(
    async () => {
      if (collector.proc.exitCode !== null)
        throw new Error(
          `collector exited; its log: ${logFile}\n${readFileSync(logFile, 'utf8').slice(-3000)}`,
        );
      try {
        return (await fetch(`${base}/health`)).ok;
      } catch {
        return false;
      }
    },
    { timeoutMs: 600_000, intervalMs: 500, what: 'the collector /health' },
  );
  console.log(
    `collector answering after ${((performance.now() - t1) / 1000).toFixed(0)} s; waiting for the first round`,
  );
  const health = async (): Promise<HealthDoc> =>
    (await getJson<{ details: HealthDoc }>(`${base}/api/v1/health`, viewer.token)).details;

  // Warm-up: the first round (every device polled once), at most 3 intervals.
  const t2 = performance.now();
  let firstRoundS: number | null = null;
  const warmDeadline = t2 + 3 * INTERVAL_S * 1000;
  while (performance.now() < warmDeadline) {
    const h = await health();
    if (h.scheduler.jobs > 0 && h.scheduler.started >= h.scheduler.jobs) {
      firstRoundS = (performance.now() - t2) / 1000;
      break;
    }
    if (collector.proc.exitCode !== null) throw new Error(`collector exited; its log: ${logFile}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  console.log(
    firstRoundS === null
      ? `first round NOT complete after ${3 * INTERVAL_S} s: measuring anyway`
      : `first round complete after ${firstRoundS.toFixed(0)} s; measuring ${WINDOW_S} s`,
  );

  const procs: Proc[] = [
    { name: 'collector', pid: collector.pid },
    ...simChildren.map((c) => ({ name: c.name, pid: c.pid })),
    { name: 'influxd', pid: influxd.pid ?? 0 },
  ];
  const before = await health();
  const cpu0 = procs.map((p) => cpuMsOfPid(p.pid, CLK_TCK));
  const w0 = performance.now();
  const rssMax = procs.map((p) => rssMb(p.pid));
  let maxOpenFiles = openFiles(collector.pid);
  while (performance.now() - w0 < WINDOW_S * 1000) {
    await new Promise((r) => setTimeout(r, Math.min(2000, WINDOW_S * 1000 - (performance.now() - w0))));
    procs.forEach((p, i) => (rssMax[i] = Math.max(rssMax[i] ?? 0, rssMb(p.pid))));
    maxOpenFiles = Math.max(maxOpenFiles, openFiles(collector.pid));
    if (collector.proc.exitCode !== null) throw new Error(`collector exited; its log: ${logFile}`);
  }
  const cpu1 = procs.map((p) => cpuMsOfPid(p.pid, CLK_TCK));
  const windowMs = performance.now() - w0;
  const after = await health();
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

  const polls = after.polls.ok + after.polls.failed - (before.polls.ok + before.polls.failed);
  const figures = procs.map((p, i): ProcFigures => {
    const ms = (cpu1[i] ?? 0) - (cpu0[i] ?? 0);
    return {
      name: p.name,
      cores: ms / windowMs,
      cpuMsPerPoll: polls > 0 ? ms / polls : NaN,
      rssMb: rssMax[i] ?? NaN,
    };
  });
  const collectorFig = figures[0] as ProcFigures;
  const simFigs = figures.slice(1, 1 + sims);
  const influxFig = figures[figures.length - 1] as ProcFigures;
  const result: SizeResult = {
    size,
    devices: fleet.devices,
    sims,
    firstRoundS,
    pollsDonePerS: (polls * 1000) / windowMs,
    pollsDuePerS: after.scheduler.jobs / INTERVAL_S,
    late: after.scheduler.late - before.scheduler.late,
    overruns: after.scheduler.overruns - before.scheduler.overruns,
    failed: after.polls.failed - before.polls.failed,
    writesPerS: ((after.writer.written - before.writer.written) * 1000) / windowMs,
    collector: collectorFig,
    simulators: simFigs,
    influxd: influxFig,
    collectorOpenFiles: maxOpenFiles,
    devicesPerCore: collectorFig.cores > 0 ? fleet.devices / collectorFig.cores : NaN,
    simulatorSaturated: simFigs.some((f) => f.cores > 0.9),
    overload: after.scheduler.overload ?? null,
    load,
  };

  await children.stopAll(20_000);
  return result;
}

// ---- the table ---------------------------------------------------------------------------------------

const f = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : '-');

function table(results: readonly SizeResult[]): string {
  const head =
    '| size | devices | polls/s done / due | late | overruns | failed | collector cores | collector CPU-ms/poll | collector RSS MB | open files | devices/core | simulator cores (procs) | simulator CPU-ms/poll | influxd cores | influxd CPU-ms/poll | influxd RSS MB | samples written/s | first round s | load avg |';
  const sep = `|${head
    .split('|')
    .slice(1, -1)
    .map(() => '---')
    .join('|')}|`;
  const rows = results.map((r) => {
    const simCores = r.simulators.reduce((a, s) => a + s.cores, 0);
    const simMs = r.simulators.reduce((a, s) => a + s.cpuMsPerPoll, 0);
    return [
      `${r.size}x`,
      r.devices.toLocaleString('en-US'),
      `${f(r.pollsDonePerS, 0)} / ${f(r.pollsDuePerS, 0)}`,
      r.late,
      r.overruns,
      r.failed,
      f(r.collector.cores),
      f(r.collector.cpuMsPerPoll),
      f(r.collector.rssMb, 0),
      r.collectorOpenFiles,
      f(r.devicesPerCore, 0),
      `${f(simCores)} (${r.sims})${r.simulatorSaturated ? ' saturated' : ''}`,
      f(simMs),
      f(r.influxd.cores),
      f(r.influxd.cpuMsPerPoll),
      f(r.influxd.rssMb, 0),
      f(r.writesPerS, 0),
      r.firstRoundS === null ? 'not done' : f(r.firstRoundS, 0),
      r.load,
    ].join(' | ');
  });
  return [head, sep, ...rows.map((r) => `| ${r} |`)].join('\n');
}

async function main(): Promise<void> {
  console.log(
    `bench-fleet: sizes ${SIZES.join(',')} x Badung, interval ${INTERVAL_S} s, window ${WINDOW_S} s, ${
      (await import('node:os')).cpus().length
    } CPUs, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  influx = await startInfluxd({ dataDir: join(dir, 'influxdb'), startTimeoutMs: 120_000 });
  const results: SizeResult[] = [];
  for (const size of SIZES) {
    const r = await runSize(size, influx);
    results.push(r);
    console.log(JSON.stringify({ bench: 'fleet', intervalS: INTERVAL_S, windowS: WINDOW_S, ...r }));
  }
  console.log(
    `\nFleet benchmark, interval ${INTERVAL_S} s, window ${WINDOW_S} s (npx tsx scripts/bench-fleet.ts --sizes ${SIZES.join(',')} --interval ${INTERVAL_S} --window ${WINDOW_S}):\n`,
  );
  console.log(table(results));
  const saturated = results.filter((r) => r.simulatorSaturated).map((r) => `${r.size}x`);
  if (saturated.length > 0)
    console.log(
      `\nA simulator process was saturated (> 0.9 core) at ${saturated.join(', ')}: those rows are bounded by the simulator.`,
    );
}

main().then(
  async () => {
    await children.stopAll(20_000);
    await influx?.stop();
    process.exit(0);
  },
  async (err: unknown) => {
    console.error(`bench-fleet: ${err instanceof Error ? err.message : String(err)}`);
    await children.stopAll(20_000);
    await influx?.stop();
    process.exit(1);
  },
);
