/**
 * Fleet benchmark (not a test): the whole collector as `npm start` runs it (collector/main.ts on the example
 * config, InfluxDB from Debian's influxd, the fleet simulator answering SNMP), on a fleet of a given
 * multiple of Badung's (1 = the 987-site inventory of scripts/generate-inventory.ts: 3,350 SNMP devices, 3,414
 * with its 64 MQTT-only sensors, which are left out here), every part on free loopback ports in a temp dir.
 * Stops by itself.
 *
 *   npx tsx scripts/bench-fleet.ts [--sizes 1,3,10,30] [--interval 60] [--window 60] [--sims N]
 *                                  [--sink influxd|victoria|null] [--workers N|auto] [--catch-up S]
 *                                  [--cpu-prof DIR] [--node-args="FLAGS"]
 *
 * For each size in turn: generate the fleet (size copies of the Badung inventory, each on loopback
 * addresses 127.B.x.y of its own second octet B, ids of copy k prefixed "xk-"; 30x is 100,941 devices),
 * start the simulator in --sims processes (default one per 6,000 devices, at least 2 from 10,000: one
 * process holds a socket per device and one core; each loads only its share of the sites, written to a
 * file of its own), start the sink and the collector, wait for the first poll round (every device polled
 * once; at most 3 intervals) and for the backlog the start-up left to drain (--catch-up: late turns and
 * overruns under 1 % of the turns started in 10 s; at most 3 intervals by default, and the table says how
 * long it took), then sample for --window seconds:
 *   - CPU of every process (collector, each simulator, the sink) from /proc/PID/stat, as cores (CPU time /
 *     wall time) and CPU-ms per device poll; RSS from /proc/PID/status (the largest seen, sampled every
 *     2 s); the collector's open files (/proc/PID/fd); the whole machine's busy cores from /proc/stat (the
 *     rest is other processes: on a shared machine, other jobs);
 *   - the collector's V8 heap (process.memoryUsage(), written every second by scripts/bench/memory-report.ts,
 *     preloaded with --import), smallest and largest in the window: the smallest is about the live heap
 *     after a collection; per device, RSS and heap in KB, and between consecutive sizes the KB each added
 *     device costs (the slope, free of the fixed cost of the process);
 *   - from the monitor's GET /api/v1/health details: polls done (ok + failed) against polls due
 *     (devices / interval), late turns (started > 1 s after due), overruns (turns skipped because the
 *     previous one was still running), the scheduler's overload verdict when it has one, and the samples
 *     written per second.
 * A verdict per size says whether polls done kept up with polls due, and if not, what saturated first: a
 * simulator process or the collector (above 0.9 of a core: one event loop each), or the machine's CPU as
 * a whole (every process below its limit, the cores full), with the cores the collector would need for the
 * polls due at its measured CPU-ms per poll.
 *
 * --sink: where the samples go. influxd (the default): Debian's InfluxDB 1.x, as `npm start` runs it.
 * victoria: Debian's victoria-metrics through the 2.x write API (a lighter real database). null: a counting
 * HTTP sink (scripts/bench/null-sink.ts; the collector still builds and sends every batch), for scale runs
 * where a database beside the collector and the simulator would fill the machine by itself; the database's
 * cost is then not measured, and the table says so.
 *
 * Prints one markdown table (a row per size), the verdicts, the memory slopes and one JSON line per size.
 * The machine's load average is printed beside it: on a shared machine the figures are noisy. The fleet
 * is SNMP only (no MQTT broker and no MQTT devices), so what is measured is the SNMP collection path end
 * to end.
 * --cpu-prof DIR runs the collector under `node --cpu-prof` and leaves its profile in DIR when it stops.
 * --node-args="FLAGS" gives the collector's node these flags (space-separated), e.g. V8's GC settings
 * for an A/B against the default (none, as scripts/start.sh runs it).
 * --workers N|auto sets `snmp.workers` (collection in N worker threads, collector/collection/
 * worker-collection.ts); absent, the example config's setting (one event loop). With workers the CPU of
 * each of the collector's threads is read too (/proc/PID/task): the verdict judges its busiest thread
 * (one event loop each), not the process, and devices/core is devices per core the collector used.
 */
import { mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { spawnSync } from 'node:child_process';
import { parseDocument } from 'yaml';
import { generateToken } from '../collector/http/auth.ts';
import type { SchedulerStats } from '../collector/scheduler/scheduler.ts';
import { freeTcpPort, freeUdpPort, waitFor } from '../test/support/ports.ts';
import { ChildSet, cleanUpOnExit, simulatorArgs, waitForLine, type Child } from './bench/children.ts';
import {
  busiestThreads,
  fleetVerdict,
  machineBusyCores,
  memorySlopes,
  readMemoryReport,
  type MemoryWindow,
  type SinkKind,
} from './bench/fleet-figures.ts';
import { inventoryYaml, makeFleet, shardSites } from './bench/fleet-inventory.ts';
import { cpuMsOfPid, threadCpuMs } from './bench/measure.ts';
import { startInfluxd } from './lib/servers/influxd.ts';
import type { RunningServer } from './lib/servers/process.ts';
import { startVictoriaMetrics } from './lib/servers/victoria-metrics.ts';
import { parseCommandArgs, usageError } from './lib/cli.ts';

const USAGE =
  'usage: npx tsx scripts/bench-fleet.ts [--sizes 1,3,10,30] [--interval 30|60] [--window 60] [--sims N] [--sink influxd|victoria|null] [--workers N|auto] [--catch-up S] [--cpu-prof DIR] [--node-args="FLAGS"]';
const HELP = `${USAGE}

  Runs the whole collector (as npm start does: simulator + influxd + collector/main.ts) on fleets of
  SIZE x the Badung fleet (1 = 3,350 SNMP devices; 30 = 100,941) and prints, per size and per process,
  CPU cores, CPU-ms per device poll, RSS (and the collector's heap, per device), polls done against due,
  late turns, overruns, the write rate, and a verdict: kept up, or what saturated first.

  --sizes LIST      fleet sizes, multiples of the Badung fleet, whole numbers (default 1)
  --interval S      the polling interval in seconds (default 60)
  --window S        the measuring window after warm-up, seconds (default 60)
  --sims N          simulator processes (default: one per 6,000 devices, 2 from 10,000 on)
  --sink KIND       influxd (default: InfluxDB 1.x, as npm start), victoria (VictoriaMetrics, 2.x write
                    API) or null (a counting HTTP sink, no database: for scale runs; said in the table)
  --workers N|auto  collection worker threads (snmp.workers); default: the example config's (one event
                    loop). The verdict then judges the collector's busiest thread
  --catch-up S      after the first round, wait up to S seconds (default 3 intervals) for the backlog of
                    turns the start-up left to drain (in 10 s, late turns and overruns under 1 % of the
                    turns started) before measuring; 0 measures straight after the first round. The
                    table says how long it took, or that it did not drain
  --cpu-prof DIR    run the collector under node --cpu-prof, profiles written to DIR
  --node-args=FLAGS the collector's node flags, space-separated (default none, as npm start)
  -h, --help        this text`;

const args = parseCommandArgs('bench-fleet', HELP, {
  sizes: { type: 'string', default: '1' },
  interval: { type: 'string', default: '60' },
  window: { type: 'string', default: '60' },
  sims: { type: 'string' },
  sink: { type: 'string', default: 'influxd' },
  'cpu-prof': { type: 'string' },
  workers: { type: 'string' },
  'catch-up': { type: 'string' },
  'node-args': { type: 'string' },
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
const SINKS: readonly SinkKind[] = ['influxd', 'victoria', 'null'];
const SINK =
  SINKS.find((k) => k === args.sink) ??
  usage(`--sink must be one of ${SINKS.join(', ')}, got "${args.sink}"`);
const WORKERS: number | 'auto' | undefined =
  args.workers === undefined || args.workers === 'auto' ? args.workers : int('workers', args.workers, 1, 64);
const CATCH_UP_S =
  args['catch-up'] === undefined ? 3 * INTERVAL_S : int('catch-up', args['catch-up'], 0, 3600);
const CPU_PROF = args['cpu-prof'] === undefined ? undefined : resolve(args['cpu-prof']);
const NODE_ARGS: readonly string[] =
  args['node-args'] === undefined ? [] : args['node-args'].split(/\s+/).filter((a) => a !== '');
for (const a of NODE_ARGS) if (!a.startsWith('--')) usage(`--node-args takes node flags (--...), got "${a}"`);
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const CPUS = cpus().length;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/**
 * Devices one simulator process is given at most (its sockets, and its share of the answers: 0.12 CPU-ms per
 * answer, `scripts/bench/simulator-answers.ts`, so 15,000 devices at 60 s cost it about a tenth of a core).
 */
const DEVICES_PER_SIM = 15_000;
const MEMORY_REPORT = pathToFileURL(join(ROOT, 'scripts/bench/memory-report.ts')).href;

const children = new ChildSet();
const dir = mkdtempSync(join(tmpdir(), 'netmon-bench-fleet-'));
/** The database shared by every size (influxd or victoria); the null sink is started per size. */
let database: RunningServer | undefined;

cleanUpOnExit('bench-fleet', children, dir, () => children.stopAll(10_000).then(() => database?.stop()));

interface HealthDoc {
  devices: number;
  polls: { ok: number; failed: number };
  scheduler: SchedulerStats;
  writer: { written: number; buffered: number; dropped: number; onDisk?: number };
}

interface SinkTarget {
  readonly api: 'v1' | 'v2';
  readonly url: string;
}

/** config/netmon.example.yaml with places, ports, the sink and the interval changed, and no MQTT. */
function writeConfig(
  at: string,
  ports: { http: number; control: number },
  sink: SinkTarget,
  inventory: string,
): string {
  const doc = parseDocument(readFileSync(join(ROOT, 'config/netmon.example.yaml'), 'utf8'));
  doc.setIn(['inventory'], inventory);
  if (sink.api === 'v1') doc.setIn(['influx', 'url'], sink.url);
  else
    doc.setIn(
      ['influx'],
      doc.createNode({ api: 'v2', url: sink.url, org: 'bench', bucket: 'netmon', timeout: '10s' }),
    );
  doc.setIn(['writer', 'bufferDir'], join(at, 'buffer'));
  doc.setIn(['incidents', 'file'], join(at, 'incidents.db'));
  doc.setIn(['snmp', 'interval'], `${INTERVAL_S}s`);
  if (WORKERS !== undefined) doc.setIn(['snmp', 'workers'], WORKERS);
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
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

function openFiles(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

const procStat = (): string => readFileSync('/proc/stat', 'utf8');

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
  sink: SinkKind;
  firstRoundS: number | null;
  /** Seconds from the first round's end until the backlog drained; null: it did not within --catch-up (or 0). */
  caughtUpS: number | null;
  pollsDonePerS: number;
  pollsDuePerS: number;
  late: number;
  overruns: number;
  failed: number;
  writesPerS: number;
  /** Samples waiting in the writer at the end of the window (memory or disk): a sink that keeps up keeps it low. */
  writerBacklog: number;
  collector: ProcFigures;
  /** The collector's V8 heap over the window, MB: smallest (about the live heap) and largest. */
  collectorHeap: MemoryWindow | null;
  simulators: ProcFigures[];
  sinkProc: ProcFigures;
  collectorOpenFiles: number;
  devicesPerCore: number;
  /** `--workers` as given (undefined: one event loop). */
  workers: number | 'auto' | undefined;
  /** Cores of the collector's busiest threads over the window, highest first (with workers). */
  busiestThreads: number[] | null;
  /** Busy cores of the whole machine over the window (/proc/stat), every process on it. */
  machineBusyCores: number;
  simulatorSaturated: boolean;
  overload: SchedulerStats['overload'] | null;
  verdict: string;
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

/** The sink of this size: the shared database, or a null sink of its own. */
async function sinkFor(): Promise<{ target: SinkTarget; proc: Proc }> {
  if (SINK === 'null') {
    const child = await children.start(
      'null sink',
      process.execPath,
      ['--import', 'tsx', 'scripts/bench/null-sink.ts'],
      { cwd: ROOT },
    );
    await waitForLine(child, /null sink ready/, 60_000);
    const port = Number(/"port":(\d+)/.exec(child.tail())?.[1]);
    return {
      target: { api: 'v2', url: `http://127.0.0.1:${port}` },
      proc: { name: 'null sink', pid: child.pid },
    };
  }
  if (!database) throw new Error('the database was not started');
  return {
    target: { api: SINK === 'influxd' ? 'v1' : 'v2', url: database.url },
    proc: { name: SINK === 'influxd' ? 'influxd' : 'victoria-metrics', pid: database.pid ?? 0 },
  };
}

async function runSize(size: number): Promise<SizeResult> {
  const at = join(dir, `x${size}`);
  mkdirSync(at, { recursive: true });
  const snmpPort = await freeUdpPort();
  // Second octets of their own, so the simulator's addresses do not meet another instance's.
  const firstOctet = 100 + Math.floor(Math.random() * (150 - size));
  const fleet = makeFleet(size, firstOctet, snmpPort);
  const inventoryFile = join(at, 'fleet.inventory.yaml');
  writeFileSync(inventoryFile, inventoryYaml(fleet, fleet.sites));
  const sims = SIMS ?? Math.max(fleet.devices >= 10_000 ? 2 : 1, Math.ceil(fleet.devices / DEVICES_PER_SIM));
  const viewer = generateToken();
  writeFileSync(
    join(at, 'api-tokens.yaml'),
    `- { name: bench-viewer, role: viewer, tokenHash: '${viewer.tokenHash}' }\n`,
  );
  const controls = await Promise.all(Array.from({ length: sims }, () => freeTcpPort()));
  const http = await freeTcpPort();
  const sink = await sinkFor();
  const config = writeConfig(at, { http, control: controls[0] ?? 0 }, sink.target, inventoryFile);
  console.log(
    `\n== size ${size}: ${fleet.devices} devices every ${INTERVAL_S} s, ${sims} simulator process(es), sink ${SINK}`,
  );

  const t0 = performance.now();
  const simChildren: Child[] = [];
  for (let i = 0; i < sims; i++) {
    const shardFile = sims === 1 ? inventoryFile : join(at, `fleet.shard-${i}-of-${sims}.yaml`);
    if (sims > 1) writeFileSync(shardFile, inventoryYaml(fleet, shardSites(fleet, i, sims)));
    simChildren.push(
      await children.start(
        `simulator ${i}/${sims}`,
        process.execPath,
        simulatorArgs(shardFile, `127.0.0.1:${controls[i] ?? 0}`),
        { cwd: ROOT },
      ),
    );
  }
  await Promise.all(simChildren.map((c) => waitForLine(c, /simulator ready/, 900_000)));
  console.log(`simulators ready after ${((performance.now() - t0) / 1000).toFixed(0)} s`);

  const logFile = join(ROOT, 'var', `bench-fleet-collector-x${size}.log`);
  mkdirSync(dirname(logFile), { recursive: true });
  const logFd = openSync(logFile, 'w');
  const memoryFile = join(at, 'collector-memory.json');
  const nodeArgs = [
    ...NODE_ARGS,
    ...(CPU_PROF
      ? [
          '--cpu-prof',
          '--cpu-prof-dir',
          CPU_PROF,
          '--cpu-prof-name',
          `collector-x${size}-${Date.now()}.cpuprofile`,
        ]
      : []),
  ];
  const collector = await children.start(
    'collector',
    process.execPath,
    [...nodeArgs, '--import', 'tsx', '--import', MEMORY_REPORT, 'collector/main.ts', '--config', config],
    {
      cwd: ROOT,
      stdio: ['ignore', logFd, logFd],
      env: { ...process.env, NETMON_BENCH_MEMORY_FILE: memoryFile },
    },
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
    // Loading the inventory and starting while the first polls already run: more time for a bigger
    // fleet on a starved machine (10 minutes, and 1 more per 1x of fleet).
    { timeoutMs: 600_000 + size * 60_000, intervalMs: 500, what: 'the collector /health' },
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
      ? `first round NOT complete after ${3 * INTERVAL_S} s`
      : `first round complete after ${firstRoundS.toFixed(0)} s`,
  );
  // Catch-up: the start-up leaves a backlog (every device's first poll, detection, state made, code
  // compiled); the window measures the collector as it runs after that, and the table says how long it took.
  const t3 = performance.now();
  let caughtUpS: number | null = null;
  let prev = await health();
  while (performance.now() - t3 < CATCH_UP_S * 1000) {
    await new Promise((r) => setTimeout(r, 10_000));
    if (collector.proc.exitCode !== null) throw new Error(`collector exited; its log: ${logFile}`);
    const h = await health();
    const started = h.scheduler.started - prev.scheduler.started;
    const behind = h.scheduler.late - prev.scheduler.late + (h.scheduler.overruns - prev.scheduler.overruns);
    prev = h;
    if (started > 0 && behind <= started / 100) {
      caughtUpS = (performance.now() - t3) / 1000;
      break;
    }
  }
  console.log(
    CATCH_UP_S === 0
      ? `measuring ${WINDOW_S} s`
      : caughtUpS === null
        ? `backlog NOT drained after ${CATCH_UP_S} s: measuring ${WINDOW_S} s anyway`
        : `backlog drained after ${caughtUpS.toFixed(0)} s; measuring ${WINDOW_S} s`,
  );

  const procs: Proc[] = [
    { name: 'collector', pid: collector.pid },
    ...simChildren.map((c) => ({ name: c.name, pid: c.pid })),
    sink.proc,
  ];
  const before = await health();
  const cpu0 = procs.map((p) => cpuMsOfPid(p.pid, CLK_TCK));
  const threads0 = threadCpuMs(collector.pid, CLK_TCK);
  const stat0 = procStat();
  const w0 = performance.now();
  const rssMax = procs.map((p) => rssMb(p.pid));
  const heap: MemoryWindow[] = [];
  const sampleHeap = (): void => {
    const m = readMemoryReport(memoryFile);
    if (m) heap.push({ minMb: m.heapUsedMb, maxMb: m.heapUsedMb });
  };
  sampleHeap();
  let maxOpenFiles = openFiles(collector.pid);
  while (performance.now() - w0 < WINDOW_S * 1000) {
    await new Promise((r) => setTimeout(r, Math.min(2000, WINDOW_S * 1000 - (performance.now() - w0))));
    procs.forEach((p, i) => (rssMax[i] = Math.max(rssMax[i] ?? 0, rssMb(p.pid))));
    maxOpenFiles = Math.max(maxOpenFiles, openFiles(collector.pid));
    sampleHeap();
    if (collector.proc.exitCode !== null) throw new Error(`collector exited; its log: ${logFile}`);
  }
  const cpu1 = procs.map((p) => cpuMsOfPid(p.pid, CLK_TCK));
  const threads1 = threadCpuMs(collector.pid, CLK_TCK);
  const stat1 = procStat();
  const windowMs = performance.now() - w0;
  // Worker threads when snmp.workers resolves above 1 (auto: one per core); 1 is the main thread alone.
  const threadsOfWorkers = WORKERS === undefined ? 1 : WORKERS === 'auto' ? CPUS : WORKERS;
  const eventLoops = threadsOfWorkers > 1 ? 1 + threadsOfWorkers : 1;
  const busiest = WORKERS === undefined ? null : busiestThreads(threads0, threads1, windowMs, eventLoops);
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
  const sinkFig = figures[figures.length - 1] as ProcFigures;
  const collectorHeap =
    heap.length === 0
      ? null
      : {
          minMb: Math.min(...heap.map((h) => h.minMb)),
          maxMb: Math.max(...heap.map((h) => h.maxMb)),
        };
  const partial: Omit<SizeResult, 'verdict'> = {
    size,
    devices: fleet.devices,
    sims,
    sink: SINK,
    firstRoundS,
    caughtUpS,
    pollsDonePerS: (polls * 1000) / windowMs,
    pollsDuePerS: after.scheduler.jobs / INTERVAL_S,
    late: after.scheduler.late - before.scheduler.late,
    overruns: after.scheduler.overruns - before.scheduler.overruns,
    failed: after.polls.failed - before.polls.failed,
    writesPerS: ((after.writer.written - before.writer.written) * 1000) / windowMs,
    writerBacklog: after.writer.buffered,
    collector: collectorFig,
    collectorHeap,
    simulators: simFigs,
    sinkProc: sinkFig,
    collectorOpenFiles: maxOpenFiles,
    devicesPerCore: collectorFig.cores > 0 ? fleet.devices / collectorFig.cores : NaN,
    workers: WORKERS,
    busiestThreads: busiest,
    machineBusyCores: machineBusyCores(stat0, stat1, CPUS),
    simulatorSaturated: simFigs.some((f) => f.cores > 0.9),
    overload: after.scheduler.overload ?? null,
    load,
  };
  const result: SizeResult = {
    ...partial,
    verdict: fleetVerdict({
      pollsDonePerS: partial.pollsDonePerS,
      pollsDuePerS: partial.pollsDuePerS,
      collector: collectorFig,
      simulators: simFigs,
      sink: { ...sinkFig, kind: SINK },
      machineBusyCores: partial.machineBusyCores,
      cpus: CPUS,
      writerBacklog: partial.writerBacklog,
      writesPerS: partial.writesPerS,
      collectorThreads: busiest && eventLoops > 1 ? { eventLoops, busiest } : undefined,
    }),
  };

  await children.stopAll(20_000);
  return result;
}

// ---- the table ---------------------------------------------------------------------------------------

const f = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : '-');
const kb = (mb: number, devices: number): string => f((mb * 1024) / devices, 1);

const SINK_NOTE: Readonly<Record<SinkKind, string>> = {
  influxd: 'sink: influxd (InfluxDB 1.x, as npm start)',
  victoria: 'sink: victoria-metrics (the 2.x write API; a lighter database than influxd)',
  null: 'sink: NULL (a counting HTTP sink, no database: the collector builds and sends every batch, but no database shares the machine, and its cost is not measured)',
};

function table(results: readonly SizeResult[]): string {
  const sinkName = results[0]?.sinkProc.name ?? 'sink';
  const head = `| size | devices | polls/s done / due | late | overruns | failed | collector cores | collector CPU-ms/poll | collector RSS MB | RSS KB/device | heap MB min-max | heap KB/device | open files | devices/core | workers | busiest threads cores | simulator cores (procs) | simulator CPU-ms/poll | ${sinkName} cores | ${sinkName} CPU-ms/poll | ${sinkName} RSS MB | samples written/s | machine busy cores | first round s | caught up s | load avg |`;
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
      kb(r.collector.rssMb, r.devices),
      r.collectorHeap ? `${f(r.collectorHeap.minMb, 0)}-${f(r.collectorHeap.maxMb, 0)}` : '-',
      r.collectorHeap ? kb(r.collectorHeap.minMb, r.devices) : '-',
      r.collectorOpenFiles,
      f(r.devicesPerCore, 0),
      r.workers ?? '-',
      r.busiestThreads ? r.busiestThreads.map((c) => f(c)).join(', ') : '-',
      `${f(simCores)} (${r.sims})${r.simulatorSaturated ? ' saturated' : ''}`,
      f(simMs),
      f(r.sinkProc.cores),
      f(r.sinkProc.cpuMsPerPoll),
      f(r.sinkProc.rssMb, 0),
      f(r.writesPerS, 0),
      `${f(r.machineBusyCores)} of ${CPUS}`,
      r.firstRoundS === null ? 'not done' : f(r.firstRoundS, 0),
      CATCH_UP_S === 0 ? '-' : r.caughtUpS === null ? `not in ${CATCH_UP_S}` : f(r.caughtUpS, 0),
      r.load,
    ].join(' | ');
  });
  return [head, sep, ...rows.map((r) => `| ${r} |`)].join('\n');
}

async function main(): Promise<void> {
  console.log(
    `bench-fleet: sizes ${SIZES.join(',')} x Badung, interval ${INTERVAL_S} s, window ${WINDOW_S} s, sink ${SINK}, workers ${WORKERS ?? 'none (one event loop)'}, ${CPUS} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  if (SINK === 'influxd')
    database = await startInfluxd({ dataDir: join(dir, 'influxdb'), startTimeoutMs: 120_000 });
  else if (SINK === 'victoria')
    database = await startVictoriaMetrics({ dataDir: join(dir, 'victoria'), startTimeoutMs: 120_000 });
  const results: SizeResult[] = [];
  const failed: string[] = [];
  for (const size of SIZES) {
    try {
      const r = await runSize(size);
      results.push(r);
      console.log(JSON.stringify({ bench: 'fleet', intervalS: INTERVAL_S, windowS: WINDOW_S, ...r }));
    } catch (err) {
      // One size that cannot be measured (a collector that never answered is a finding) does not cost the others.
      const why = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
      failed.push(`- ${size}x: NOT MEASURED: ${why}`);
      console.log(`size ${size}: not measured: ${why}`);
      await children.stopAll(20_000);
    }
  }
  console.log(
    `\nFleet benchmark, interval ${INTERVAL_S} s, window ${WINDOW_S} s (npx tsx scripts/bench-fleet.ts --sizes ${SIZES.join(',')} --interval ${INTERVAL_S} --window ${WINDOW_S} --sink ${SINK}${args['catch-up'] === undefined ? '' : ` --catch-up ${CATCH_UP_S}`}${SIMS === undefined ? '' : ` --sims ${SIMS}`}${WORKERS === undefined ? '' : ` --workers ${WORKERS}`}${args['node-args'] === undefined ? '' : ` --node-args="${NODE_ARGS.join(' ')}"`}); collector node flags: ${NODE_ARGS.join(' ') || 'none'}; ${SINK_NOTE[SINK]}; the simulator in its own processes:\n`,
  );
  console.log(table(results));
  console.log('\nVerdicts:');
  for (const r of results)
    console.log(`- ${r.size}x (${r.devices.toLocaleString('en-US')} devices): ${r.verdict}`);
  for (const line of failed) console.log(line);
  const slopes = memorySlopes(
    results.map((r) => ({ devices: r.devices, rssMb: r.collector.rssMb, heapMb: r.collectorHeap?.minMb })),
  );
  if (slopes.length > 0) {
    console.log(
      '\nCollector memory per added device (between consecutive sizes, so without the fixed cost):',
    );
    for (const s of slopes) console.log(`- ${s}`);
  }
}

main().then(
  async () => {
    await children.stopAll(20_000);
    await database?.stop();
    process.exit(0);
  },
  async (err: unknown) => {
    console.error(`bench-fleet: ${err instanceof Error ? err.message : String(err)}`);
    await children.stopAll(20_000);
    await database?.stop();
    process.exit(1);
  },
);
