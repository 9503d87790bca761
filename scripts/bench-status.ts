/**
 * Status page benchmark (not a test): the monitor as `npm start` runs it (the example config, the 987-site
 * Badung inventory answered by the fleet simulator over SNMP and MQTT, InfluxDB from Debian's influxd),
 * every part on free loopback ports in a temp dir; then /status driven at a fixed rate over keep-alive
 * connections while the monitor polls. Stops by itself.
 *
 *   npx tsx scripts/bench-status.ts [--seconds 20] [--rate 1000] [--concurrency 64] [--path /status] [--no-mqtt]
 *
 * --no-mqtt leaves MQTT out (no broker, no simulated MQTT devices; SNMP polling of every device as before):
 * the collector serves HTTP only once its MQTT side is connected, and ~1,000 simulated MQTT logins (scrypt
 * checks) hold that back for minutes on a starved machine.
 * Load: open loop at `--rate` requests/s (requests are issued on schedule, not when the last one returns),
 * at most `--concurrency` in flight (a request due when all are busy is counted as "not sent"), each with
 * `Accept-Encoding: gzip` as a browser sends it, its body read to the end. Latency: from issuing the
 * request to the last byte.
 *
 * Polling: read from the monitor's own counters (GET /api/v1/health, viewer token: details.polls and details.scheduler) before and after the load:
 * the scheduler's late turns (a device polled more than 1 s after it was due: scheduler.ts `late`),
 * skipped turns (`overruns`), the longest lag so far, and the polls made in the window against what the
 * interval asks for. The load starts once every device has been polled at least once (the first round).
 *
 * Prints p50/p99/max latency, the achieved rate, errors, the monitor's CPU in the window, and whether any
 * poll round was late; then one JSON line. Goal: p99 under 50 ms and no late round. Exit 0 when the goal
 * is met, 1 when not, 2 on a usage error.
 */
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseDocument } from 'yaml';
import { generateToken } from '../collector/http/auth.ts';
import { generateBadungInventory } from '../config/badung/generate.ts';
import { parseDuration } from '../config/yaml-source.ts';
import { freeTcpPort, freeUdpPort, waitFor } from '../test/support/ports.ts';
import { ChildSet, cleanUpOnExit, simulatorArgs, waitForLine, type Child } from './bench/children.ts';
import { cpuMsOfPid, percentile } from './bench/measure.ts';
import { startInfluxd } from './lib/servers/influxd.ts';
import type { RunningServer } from './lib/servers/process.ts';
import { spawnSync } from 'node:child_process';
import { intOption, parseCommandArgs, usageError } from './lib/cli.ts';

const USAGE =
  'usage: npx tsx scripts/bench-status.ts [--seconds 20] [--rate 1000] [--concurrency 64] [--path /status] [--no-mqtt]';

const HELP = `${USAGE}

  Runs the monitor on the whole Badung fleet (simulator + influxd, as npm start does, on free ports)
  and drives the public status page at --rate requests/s for --seconds over loopback while it polls;
  prints p50/p99 latency, the achieved rate, errors, and whether any poll round was late.
  Exit 0 when the goal (p99 under 50 ms, no late round) is met, 1 when not, 2 on a usage error.`;

function usage(message: string): never {
  return usageError('bench-status', HELP, message);
}

const args = parseCommandArgs('bench-status', HELP, {
  seconds: { type: 'string', default: '20' },
  rate: { type: 'string', default: '1000' },
  concurrency: { type: 'string', default: '64' },
  path: { type: 'string', default: '/status' },
  'no-mqtt': { type: 'boolean', default: false },
});
const int = (name: string, raw: string, max: number): number =>
  intOption('bench-status', HELP, name, raw, 1, max);
const SECONDS = int('seconds', args.seconds, 3600);
const RATE = int('rate', args.rate, 100_000);
const CONCURRENCY = int('concurrency', args.concurrency, 4096);
const PATH = args.path;
if (!['/status', '/status.json'].includes(PATH))
  usage(`--path must be /status or /status.json, got "${PATH}"`);
/** SNMP only: no MQTT broker, no simulated MQTT devices (the collector answers HTTP without waiting for them). */
const NO_MQTT = args['no-mqtt'];
const GOAL_P99_MS = 50;
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const children = new ChildSet();
/** For the error report: the last output of each process started. */
const started: Child[] = [];
const dir = mkdtempSync(join(tmpdir(), 'netmon-bench-status-'));
let influx: RunningServer | undefined;
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, maxFreeSockets: CONCURRENCY });

async function cleanup(): Promise<void> {
  agent.destroy();
  await children.stopAll(10_000);
  await influx?.stop();
  rmSync(dir, { recursive: true, force: true });
}
cleanUpOnExit('bench-status', children, dir, cleanup);

interface SchedulerFigures {
  jobs: number;
  started: number;
  overruns: number;
  late: number;
  maxLagMs: number;
  queued: number;
}
interface MonitorStatusDoc {
  devices: number;
  sites: number;
  states: Record<string, number>;
  polls: { ok: number; failed: number };
  scheduler: SchedulerFigures;
}

/** The monitor's own config: config/netmon.example.yaml with only places and ports changed. */
function writeConfig(
  ports: { http: number; influx: number; mqtt: number },
  inventory: string,
): { file: string; intervalMs: number } {
  const doc = parseDocument(readFileSync(join(ROOT, 'config/netmon.example.yaml'), 'utf8'));
  doc.setIn(['inventory'], inventory);
  doc.setIn(['influx', 'url'], `http://127.0.0.1:${ports.influx}`);
  doc.setIn(['writer', 'bufferDir'], join(dir, 'buffer'));
  doc.setIn(['incidents', 'file'], join(dir, 'incidents.db'));
  if (NO_MQTT) doc.deleteIn(['mqtt']);
  else doc.setIn(['mqtt', 'port'], ports.mqtt);
  // Ping and traps off: the figures are SNMP polling's, as before (and 10162 is one fixed port).
  doc.deleteIn(['ping']);
  doc.deleteIn(['traps']);
  doc.setIn(['http', 'port'], ports.http);
  doc.setIn(['api', 'tokensFile'], join(dir, 'api-tokens.yaml'));
  doc.setIn(['log', 'level'], 'info');
  const file = join(dir, 'netmon.yaml');
  writeFileSync(file, doc.toString());
  const intervalMs = parseDuration(String(doc.getIn(['snmp', 'interval'])));
  if (intervalMs === undefined)
    throw new Error('config/netmon.example.yaml: snmp.interval is not a duration');
  return { file, intervalMs };
}

async function getJson<T>(url: string, token: string): Promise<T> {
  const r = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

interface LoadResult {
  latencies: number[];
  sent: number;
  notSent: number;
  errors: number;
  statusCounts: Record<string, number>;
  bytes: number;
  elapsedMs: number;
}

/** Open loop: `rate` requests/s for `seconds`, at most `concurrency` in flight. */
async function drive(url: URL): Promise<LoadResult> {
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  let inFlight = 0;
  let sent = 0;
  let notSent = 0;
  let errors = 0;
  let bytes = 0;
  let due = 0;
  const start = performance.now();
  const endAt = start + SECONDS * 1000;
  let drained: () => void = () => undefined;
  const allDone = new Promise<void>((r) => (drained = r));
  let ticking = true;

  const one = (): void => {
    inFlight++;
    sent++;
    const t0 = performance.now();
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        agent,
        headers: { 'accept-encoding': 'gzip', 'user-agent': 'bench-status' },
      },
      (res) => {
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => {
          latencies.push(performance.now() - t0);
          const k = String(res.statusCode);
          statusCounts[k] = (statusCounts[k] ?? 0) + 1;
          if (res.statusCode !== 200) errors++;
          finish();
        });
        res.on('error', () => {
          errors++;
          finish();
        });
      },
    );
    req.on('error', () => {
      errors++;
      finish();
    });
    req.end();
  };
  const finish = (): void => {
    inFlight--;
    if (!ticking && inFlight === 0) drained();
  };

  await new Promise<void>((resolveLoop) => {
    const timer = setInterval(() => {
      const now = performance.now();
      const target = Math.floor(((Math.min(now, endAt) - start) * RATE) / 1000);
      while (due < target) {
        due++;
        if (inFlight >= CONCURRENCY) notSent++;
        else one();
      }
      if (now >= endAt) {
        clearInterval(timer);
        ticking = false;
        resolveLoop();
      }
    }, 2);
  });
  if (inFlight > 0) await Promise.race([allDone, new Promise((r) => setTimeout(r, 10_000))]);
  return { latencies, sent, notSent, errors, statusCounts, bytes, elapsedMs: performance.now() - start };
}

async function main(): Promise<number> {
  const ports = {
    http: await freeTcpPort(),
    mqtt: await freeTcpPort(),
    control: await freeTcpPort(),
    snmp: await freeUdpPort(),
  };
  // A host octet of its own, so the simulator's addresses do not meet another instance's.
  const hostOctet = 100 + Math.floor(Math.random() * 100);
  console.log(
    `bench-status: ${SECONDS} s at ${RATE} req/s on ${PATH}, at most ${CONCURRENCY} in flight${NO_MQTT ? ', SNMP only (--no-mqtt)' : ''}`,
  );

  influx = await startInfluxd({ dataDir: join(dir, 'influxdb') });
  // No ping-only sites: this monitor config has no ping: section to see them.
  const gen = generateBadungInventory({ hostOctet, port: ports.snmp, ispRouterEvery: 0 });
  const inventoryFile = join(dir, 'badung.inventory.yaml');
  writeFileSync(inventoryFile, gen.yaml);
  const viewer = generateToken();
  writeFileSync(
    join(dir, 'api-tokens.yaml'),
    `- { name: bench-viewer, role: viewer, tokenHash: '${viewer.tokenHash}' }\n`,
  );
  const { file: config, intervalMs } = writeConfig(
    { http: ports.http, influx: influx.port, mqtt: ports.mqtt },
    inventoryFile,
  );

  const sim = await children.start(
    'simulator',
    process.execPath,
    simulatorArgs(
      inventoryFile,
      `127.0.0.1:${ports.control}`,
      ...(NO_MQTT ? [] : ['--mqtt', `mqtt://127.0.0.1:${ports.mqtt}`]),
    ),
    { cwd: ROOT },
  );
  started.push(sim);
  const t0sim = performance.now();
  await waitForLine(sim, /simulator ready/, 600_000);
  console.log(`simulator ready after ${((performance.now() - t0sim) / 1000).toFixed(0)} s`);
  // The collector's log goes to a file (var/bench-status-collector.log), for a look when it misbehaves.
  const logFile = join(ROOT, 'var', 'bench-status-collector.log');
  mkdirSync(dirname(logFile), { recursive: true });
  const logFd = openSync(logFile, 'w');
  const monitor = await children.start(
    'collector',
    process.execPath,
    ['--import', 'tsx', 'collector/main.ts', '--config', config],
    { cwd: ROOT, stdio: ['ignore', logFd, logFd] },
  );
  started.push(monitor);
  const base = `http://127.0.0.1:${ports.http}`;
  await waitFor(
    async () => {
      if (monitor.proc.exitCode !== null) throw new Error(`collector exited: ${monitor.tail()}`);
      return (await fetch(`${base}/health`)).ok;
    },
    { timeoutMs: 600_000, intervalMs: 500, what: 'the collector /health' },
  );
  console.log(`collector answering after ${((performance.now() - t0sim) / 1000).toFixed(0)} s`);
  const status = async (): Promise<MonitorStatusDoc> =>
    (await getJson<{ details: MonitorStatusDoc }>(`${base}/api/v1/health`, viewer.token)).details;
  console.log(
    `monitor up: ${gen.inventory.sites.length} sites, ${gen.inventory.devices.length} devices; waiting for the first poll round`,
  );
  await waitFor(
    async () => {
      const s = await status();
      return s.scheduler.started >= s.scheduler.jobs && s.scheduler.jobs > 0;
    },
    { timeoutMs: 180_000, intervalMs: 1000, what: 'every device polled once' },
  );
  // The page has been rebuilt from the polled fleet by now (every 5 s).
  const firstPage = await fetch(`${base}${PATH}`);
  const pageBytes = (await firstPage.arrayBuffer()).byteLength;
  if (firstPage.status !== 200) throw new Error(`${PATH}: HTTP ${firstPage.status}`);

  const before = await status();
  const cpuBefore = cpuMsOfPid(monitor.pid, CLK_TCK);
  const t0 = performance.now();
  const load = await drive(new URL(`${base}${PATH}`));
  const windowMs = performance.now() - t0;
  const cpuAfter = cpuMsOfPid(monitor.pid, CLK_TCK);
  const after = await status();

  const sorted = [...load.latencies].sort((a, b) => a - b);
  const p50 = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);
  const max = sorted.at(-1) ?? 0;
  const achieved = (load.latencies.length / load.elapsedMs) * 1000;
  const pollsDone = after.polls.ok + after.polls.failed - (before.polls.ok + before.polls.failed);
  const schedulerStarted = after.scheduler.started - before.scheduler.started;
  const lateTurns = after.scheduler.late - before.scheduler.late;
  const overruns = after.scheduler.overruns - before.scheduler.overruns;
  const intervalS = intervalMs / 1000;
  const expectedPolls = (after.scheduler.jobs * (windowMs / 1000)) / intervalS;
  const lagRose = after.scheduler.maxLagMs > before.scheduler.maxLagMs;
  const monitorCpuPct = ((cpuAfter - cpuBefore) / windowMs) * 100;
  const anyLate = lateTurns > 0 || overruns > 0;
  const met = p99 < GOAL_P99_MS && !anyLate && load.errors === 0 && achieved >= RATE * 0.98;

  const f = (n: number, d = 2) => n.toFixed(d);
  console.log(`
/status load (${PATH}, ${f(pageBytes / 1024, 1)} KiB plain, gzip asked): ${load.sent} sent, ${load.latencies.length} answered in ${f(load.elapsedMs / 1000, 1)} s
  achieved rate     ${f(achieved, 0)} req/s (asked ${RATE}; ${load.notSent} not sent for the concurrency bound)
  latency           p50 ${f(p50)} ms   p99 ${f(p99)} ms   max ${f(max)} ms
  errors            ${load.errors}   (status codes: ${JSON.stringify(load.statusCounts)})
  monitor CPU       ${f(monitorCpuPct, 0)} % of one core over the window (polling + HTTP)
polling while loaded (${after.scheduler.jobs} devices every ${intervalS} s)
  polls made        ${pollsDone} (scheduler started ${schedulerStarted}; the interval asks about ${f(expectedPolls, 0)})
  late turns        ${lateTurns} (started > 1 s after due)   skipped turns (overruns): ${overruns}
  longest lag       ${f(after.scheduler.maxLagMs, 0)} ms since the start${lagRose ? ' (set during the load)' : ' (before the load; none as long during it)'}
  device states     ${JSON.stringify(after.states)}
goal (p99 < ${GOAL_P99_MS} ms, no late round, no error): ${met ? 'met' : 'NOT met'}`);
  console.log(
    JSON.stringify({
      bench: 'status',
      path: PATH,
      seconds: SECONDS,
      rate: RATE,
      concurrency: CONCURRENCY,
      achievedRate: Math.round(achieved),
      p50Ms: Number(f(p50, 3)),
      p99Ms: Number(f(p99, 3)),
      maxMs: Number(f(max, 3)),
      errors: load.errors,
      notSent: load.notSent,
      monitorCpuPct: Number(f(monitorCpuPct, 1)),
      polls: pollsDone,
      expectedPolls: Math.round(expectedPolls),
      lateTurns,
      overruns,
      maxLagMs: after.scheduler.maxLagMs,
      goalMet: met,
    }),
  );
  return met ? 0 : 1;
}

main().then(
  async (code) => {
    await cleanup();
    process.exit(code);
  },
  async (err: unknown) => {
    console.error(`bench-status: ${err instanceof Error ? err.message : String(err)}`);
    for (const c of started) console.error(`--- last output of ${c.name} ---\n${c.tail()}`);
    await cleanup();
    process.exit(1);
  },
);
