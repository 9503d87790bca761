/**
 * SNMP poller benchmark (not a test): this collector's SnmpPoller against Debian's
 * prometheus-snmp-exporter (the reference Go poller), in one run, against the same agent (Debian's snmpd,
 * started here on a free 127.0.0.1 UDP port) and the same OIDs (the exporter's module is generated from
 * the generic profile). Prints, for each: device polls per second, CPU ms per device poll, p50/p95 latency,
 * the agent's CPU per poll, failures; then whether both read the same data, and one JSON line.
 *
 *   npm run bench -- [--seconds 20] [--concurrency 32] [--repetitions 25] [--agent snmpd|simulator] [--sites 100]
 *
 * Agents: `snmpd` (default) serves this machine's interfaces at one address, and `concurrency` devices of
 * ours (own sessions) and the exporter's scrapes all go there. `simulator` runs the project's fleet
 * simulator (scripts/bench/simulator-agent.ts: a synthetic Badung inventory of `--sites` sites, every
 * device at its own 127.20.x.y address), and both pollers go through all its devices in turn, each read
 * with the generic profile's IF-MIB OIDs.
 *
 * How each side is measured, over the same duration and with the same number of polls in flight:
 * - ours: scripts/bench/collector-worker.ts in a child process; CPU = its process.cpuUsage() delta over
 *   the measured loop only.
 * - exporter: HTTP scrapes from this process (keep-alive, `concurrency` in flight); CPU = utime + stime of
 *   the exporter's process from /proc/PID/stat, so this load generator is not counted in it.
 * - agent: /proc/PID/stat of snmpd over each side's measured interval.
 * Every process started here is stopped on exit, error, Ctrl-C or SIGTERM.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { intOption, parseCommandArgs, usageError } from './lib/cli.ts';
import { stringify } from 'yaml';
import { Secret } from '../collector/core/secret.ts';
import type { Device } from '../collector/core/types.ts';
import { SnmpPoller, columnsOf } from '../collector/sources/snmp/poller.ts';
import { openSnmpClient } from '../collector/sources/snmp/session.ts';
import { loadProfiles, type InterfaceField, type Profile } from '../config/profiles.ts';
import { freeTcpPort, freeUdpPort, waitFor } from '../test/support/ports.ts';
import { ChildSet, type Child } from './bench/children.ts';
import type { WorkerConfig, WorkerResult, WorkerTarget } from './bench/collector-worker.ts';
import type { SimulatorAgentConfig, SimulatorAgentReady } from './bench/simulator-agent.ts';
import { exporterModule, exporterTypeOf, type ExporterModule } from './bench/exporter-module.ts';
import { cpuMsOfPid, figuresOf, type RawRun, type RunFigures } from './bench/measure.ts';
import { RecordingClient } from './bench/recording-client.ts';
import {
  compareReads,
  exporterInstances,
  ourInstances,
  parseExposition,
  sameData,
  type SameDataReport,
} from './bench/same-data.ts';

const SNMPD = '/usr/sbin/snmpd';
const EXPORTER = '/usr/bin/prometheus-snmp-exporter';
const COMMUNITY = 'bench';
const MODULE = 'bench';
const PROFILE = 'generic';
const TIMEOUT_MS = 2000;

const USAGE =
  'usage: npm run bench -- [--seconds 20] [--concurrency 32] [--repetitions 25] [--agent snmpd|simulator] [--sites 100]';

/** A bad command line: say what and how, no stack trace, exit 2. */
function usage(message: string): never {
  return usageError('bench-snmp', HELP, message);
}

function positiveInt(name: string, raw: string | undefined, max: number): number {
  return intOption('bench-snmp', HELP, name, raw, 1, max);
}

const OPTIONS = {
  seconds: { type: 'string', default: '20' },
  concurrency: { type: 'string', default: '32' },
  repetitions: { type: 'string', default: '25' },
  agent: { type: 'string', default: 'snmpd' },
  sites: { type: 'string', default: '100' },
} as const;
const HELP = `${USAGE}

  --seconds N       how long to poll (default 20)
  --concurrency N   polls in flight at once (default 32)
  --repetitions N   GETBULK max-repetitions (default 25)
  --agent KIND      snmpd (Debian's) or simulator (the fleet simulator) (default snmpd)
  --sites N         how many sites of the fleet to poll, 1..987 (default 100)
  -h, --help        this text`;
const args = parseCommandArgs('bench-snmp', HELP, OPTIONS);
if (args.agent !== 'snmpd' && args.agent !== 'simulator')
  usage(`--agent must be snmpd or simulator, got "${args.agent}"`);
const AGENT_KIND: 'snmpd' | 'simulator' = args.agent;
const SITES = positiveInt('sites', args.sites, 987);
const SECONDS = positiveInt('seconds', args.seconds, 3600);
const CONCURRENCY = positiveInt('concurrency', args.concurrency, 1024);
const REPS = positiveInt('repetitions', args.repetitions, 200);
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

const children = new ChildSet();
const dir = mkdtempSync(join(tmpdir(), 'netmon-bench-snmp-'));
let httpAgent: Agent | undefined;
process.on('exit', () => {
  children.killAllNow();
  rmSync(dir, { recursive: true, force: true });
});
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    console.error(`\nbench-snmp: ${sig}: stopping ${children.running} process(es)`);
    void children.stopAll(2000).finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Install the Debian packages only when a binary is missing (scripts/lib/apt.sh). */
function ensureInstalled(): void {
  if ([SNMPD, EXPORTER, '/usr/bin/snmpget'].every(isExecutable)) return;
  const r = spawnSync(
    'bash',
    ['-c', 'source scripts/lib/apt.sh && ensure_debs snmpd snmp prometheus-snmp-exporter'],
    { stdio: 'inherit' },
  );
  if (r.status !== 0 || ![SNMPD, EXPORTER].every(isExecutable)) {
    throw new Error('could not install snmpd, snmp and prometheus-snmp-exporter (apt-get, as root)');
  }
}

function firstLine(cmd: string, argv: string[]): string {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  return (
    `${r.stdout}\n${r.stderr}`
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? 'unknown'
  );
}

/** A bench device: the same credentials object for every device, as an inventory would share it. */
const credentials = { version: '2c' as const, community: new Secret(COMMUNITY) };
const deviceAt = (t: WorkerTarget): Device => ({
  id: t.id,
  siteId: 'bench',
  role: 'router',
  host: t.host,
  port: t.port,
  profile: PROFILE,
  snmp: credentials,
});

/** The agent under both pollers: its process (for /proc CPU) and the devices it answers for. */
interface SnmpAgent {
  readonly child: Child;
  readonly targets: readonly WorkerTarget[];
  readonly description: string;
}

async function startSnmpd(verifier: SnmpPoller): Promise<SnmpAgent> {
  const port = await freeUdpPort();
  const conf = join(dir, 'snmpd.conf');
  // Read-only v2c for loopback only. Per-request "Connection from" log lines would cost the agent CPU
  // on every poll: off. The listening address is the command line's.
  writeFileSync(conf, `rocommunity ${COMMUNITY} 127.0.0.1\ndontLogTCPWrappersConnects yes\n`);
  const child = await children.start('snmpd', SNMPD, [
    '-f',
    '-C',
    '-c',
    conf,
    '-Lf',
    join(dir, 'snmpd.log'),
    '-M',
    '/nonexistent',
    '-m',
    '',
    '-p',
    join(dir, 'snmpd.pid'),
    `udp:127.0.0.1:${port}`,
  ]);
  const device = deviceAt({ id: 'bench-ready', host: '127.0.0.1', port });
  await waitFor(
    async () => {
      if (child.proc.exitCode !== null) throw new Error(`snmpd exited: ${child.tail()}`);
      return (await verifier.probe(device)).ok;
    },
    { timeoutMs: 15_000, intervalMs: 100, what: `snmpd on 127.0.0.1:${port}` },
  );
  verifier.forget(device.id);
  return {
    child,
    targets: Array.from({ length: CONCURRENCY }, (_, i) => ({ id: `bench-${i}`, host: '127.0.0.1', port })),
    description: `Debian snmpd (${firstLine(SNMPD, ['-v'])}) on 127.0.0.1:${port} (udp, v2c), serving this machine's interfaces`,
  };
}

async function startSimulator(): Promise<SnmpAgent> {
  const cfg: SimulatorAgentConfig = { sites: SITES, port: await freeUdpPort(), community: COMMUNITY };
  const child = await children.start('fleet simulator', process.execPath, [
    '--import',
    'tsx',
    'scripts/bench/simulator-agent.ts',
    JSON.stringify(cfg),
  ]);
  const stdout = child.proc.stdout;
  if (!stdout) throw new Error('fleet simulator: no stdout');
  const first = await createInterface({ input: stdout })[Symbol.asyncIterator]().next();
  if (first.done === true) throw new Error(`fleet simulator ${await child.exited}: ${child.tail()}`);
  const ready = JSON.parse(first.value) as SimulatorAgentReady;
  return {
    child,
    targets: ready.devices.map((d) => ({ id: d.id, host: d.host, port: d.port })),
    description:
      `fleet simulator (simulator/fleet.ts, one node process): ${SITES} synthetic sites, ` +
      `${ready.devices.length} devices, each at its own 127.20.x.y:${cfg.port} (udp, v2c), ` +
      `all read with the generic profile's IF-MIB OIDs`,
  };
}

async function startExporter(module: ExporterModule): Promise<{ child: Child; port: number }> {
  const file = join(dir, 'snmp.yml');
  writeFileSync(file, stringify({ [MODULE]: module }));
  const check = spawnSync(EXPORTER, [`--config.file=${file}`, '--dry-run'], { encoding: 'utf8' });
  if (check.status !== 0) {
    throw new Error(`snmp_exporter --dry-run rejects the generated module ${file}: ${check.stderr.trim()}`);
  }
  const port = await freeTcpPort();
  const child = await children.start('snmp_exporter', EXPORTER, [
    `--config.file=${file}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);
  await waitFor(
    async () => {
      if (child.proc.exitCode !== null) throw new Error(`snmp_exporter exited: ${child.tail()}`);
      return (await httpGet(port, '/')).status === 200;
    },
    { timeoutMs: 15_000, intervalMs: 100, what: `snmp_exporter on 127.0.0.1:${port}` },
  );
  return { child, port };
}

function httpGet(port: number, path: string, agent?: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.setTimeout(TIMEOUT_MS * 5, () => req.destroy(new Error(`no answer in ${TIMEOUT_MS * 5} ms`)));
    req.on('error', reject);
    req.end();
  });
}

const scrapePathOf = (t: WorkerTarget): string => `/snmp?target=${t.host}:${t.port}&module=${MODULE}`;

const metricOf = (body: string, name: string): number | undefined => {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(body);
  return m ? Number(m[1]) : undefined;
};

/** One read by each poller, back to back, compared OID by OID. */
async function verifySameData(
  profile: Profile,
  module: ExporterModule,
  target: WorkerTarget,
  exporterPort: number,
): Promise<{ report: SameDataReport; ourRequests: number; exporterRequests: number }> {
  let recorder: RecordingClient | undefined;
  const poller = new SnmpPoller({
    timeoutMs: TIMEOUT_MS,
    retries: 0,
    maxRepetitions: REPS,
    profiles: new Map([[profile.name, profile]]),
    openClient: (device, opts) => (recorder = new RecordingClient(openSnmpClient(device, opts))),
  });
  // The first poll reads the table size (GET + GETBULK); from the second on a poll is one GETBULK with
  // sysUpTime as a non-repeater (poller.ts): the measured loop's figure is the second poll's.
  let ourRequests: number;
  try {
    await poller.pollDetailed(deviceAt(target));
    recorder?.received.splice(0); // compared: what the second (steady-state) poll read
    ourRequests = (await poller.pollDetailed(deviceAt(target))).requests;
  } finally {
    poller.close();
  }
  const scrapePath = scrapePathOf(target);
  const scrape = await httpGet(exporterPort, scrapePath);
  if (scrape.status !== 200)
    throw new Error(`exporter scrape ${scrapePath}: HTTP ${scrape.status}: ${scrape.body}`);
  const ours = ourInstances(recorder?.received ?? [], { gets: module.get, columns: module.walk });
  const theirs = exporterInstances(module, parseExposition(scrape.body));
  const volatileBases = [
    ...module.metrics.filter((m) => m.type === 'counter').map((m) => m.oid),
    ...(profile.scalars.sysUpTime ? [profile.scalars.sysUpTime.replace(/\.0$/, '')] : []),
  ];
  const rowColumn = profile.interfaces.descr ?? profile.interfaces.name ?? module.walk[0] ?? '';
  return {
    report: compareReads(ours, theirs, { volatileBases, rowColumn }),
    ourRequests,
    exporterRequests: metricOf(scrape.body, 'snmp_scrape_packets_sent') ?? NaN,
  };
}

/** `requestsPerPoll`: of the verification poll of the first device (the same figure as the exporter's). */
async function runCollector(agent: SnmpAgent, requestsPerPoll: number): Promise<RawRun> {
  const cfg: WorkerConfig = {
    targets: agent.targets,
    community: COMMUNITY,
    profile: PROFILE,
    seconds: SECONDS,
    concurrency: CONCURRENCY,
    maxRepetitions: REPS,
    timeoutMs: TIMEOUT_MS,
  };
  const worker = await children.start(
    'collector-worker',
    process.execPath,
    ['--import', 'tsx', 'scripts/bench/collector-worker.ts', JSON.stringify(cfg)],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const stdout = worker.proc.stdout;
  if (!stdout) throw new Error('collector worker: no stdout');
  const lines = createInterface({ input: stdout });
  const iter = lines[Symbol.asyncIterator]();
  const next = async (what: string): Promise<string> => {
    const line = await iter.next();
    if (line.done === true) {
      throw new Error(`collector worker ${await worker.exited} before ${what}: ${worker.tail()}`);
    }
    return line.value;
  };
  const ready = JSON.parse(await next('ready')) as { warmFailures: number };
  if (ready.warmFailures > 0) console.log(`  (${ready.warmFailures} warm-up polls failed)`);
  const a0 = cpuMsOfPid(agent.child.pid, CLK_TCK);
  worker.proc.stdin?.write('go\n');
  const result = JSON.parse(await next('its result')) as WorkerResult;
  const agentCpuMs = cpuMsOfPid(agent.child.pid, CLK_TCK) - a0;
  lines.close();
  await worker.exited;
  return {
    polls: result.polls,
    failures: result.failures,
    firstFailure: result.firstFailure,
    wallMs: result.wallMs,
    cpuMs: result.cpuMs,
    agentCpuMs,
    latenciesMs: result.latenciesMs,
    requestsPerPoll,
  };
}

async function runExporter(
  agent: SnmpAgent,
  exporter: { child: Child; port: number },
  requestsPerPoll: number,
): Promise<RawRun & { loadGenCpuMs: number }> {
  httpAgent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const agentHttp = httpAgent;
  // Warm-up with every connection open, as the collector's worker warms its sessions.
  const paths = agent.targets.map(scrapePathOf);
  let cursor = 0;
  const nextPath = (): string => paths[cursor++ % paths.length] ?? '';
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, paths.length) }, () =>
      httpGet(exporter.port, nextPath(), agentHttp),
    ),
  );
  const latenciesMs: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  const fail = (why: string): void => {
    failures++;
    firstFailure ??= why;
  };
  const a0 = cpuMsOfPid(agent.child.pid, CLK_TCK);
  const e0 = cpuMsOfPid(exporter.child.pid, CLK_TCK);
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const until = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        const s = performance.now();
        try {
          const path = nextPath();
          const res = await httpGet(exporter.port, path, agentHttp);
          // snmp_exporter answers 500 when the SNMP walk failed; a 200 carries what it read.
          const pdus = metricOf(res.body, 'snmp_scrape_pdus_returned') ?? 0;
          if (res.status !== 200) fail(`${path}: HTTP ${res.status}: ${res.body.slice(0, 200)}`);
          else if (!(pdus > 0)) fail(`${path}: no varbinds`);
          else latenciesMs.push(performance.now() - s);
        } catch (err) {
          fail(err instanceof Error ? err.message : String(err));
        }
      }
    }),
  );
  const wallMs = performance.now() - t0;
  const cpuMs = cpuMsOfPid(exporter.child.pid, CLK_TCK) - e0;
  const agentCpuMs = cpuMsOfPid(agent.child.pid, CLK_TCK) - a0;
  const self = process.cpuUsage(self0);
  agentHttp.destroy();
  return {
    polls: latenciesMs.length,
    failures,
    firstFailure,
    wallMs,
    cpuMs,
    agentCpuMs,
    latenciesMs,
    requestsPerPoll,
    loadGenCpuMs: (self.user + self.system) / 1000,
  };
}

function table(rows: [string, RunFigures][]): string {
  const cols: [string, number, (f: RunFigures) => string][] = [
    ['polls/s', 9, (f) => f.pollsPerS.toFixed(0)],
    ['CPU ms/poll', 12, (f) => f.cpuMsPerPoll.toFixed(3)],
    ['CPU cores', 10, (f) => f.cpuCores.toFixed(2)],
    ['p50 ms', 8, (f) => f.p50Ms.toFixed(2)],
    ['p95 ms', 8, (f) => f.p95Ms.toFixed(2)],
    ['req/poll', 9, (f) => String(f.requestsPerPoll)],
    ['agent req/s', 12, (f) => (f.pollsPerS * f.requestsPerPoll).toFixed(0)],
    ['agent ms/poll', 14, (f) => f.agentCpuMsPerPoll.toFixed(3)],
    ['agent cores', 12, (f) => f.agentCpuCores.toFixed(2)],
    ['polls', 8, (f) => String(f.polls)],
    ['failed', 7, (f) => String(f.failures)],
  ];
  const head = ['poller'.padEnd(26), ...cols.map(([h, w]) => h.padStart(w))].join(' ');
  const body = rows.map(([name, f]) =>
    [name.padEnd(26), ...cols.map(([, w, v]) => v(f).padStart(w))].join(' '),
  );
  return [head, '-'.repeat(head.length), ...body].join('\n');
}

function describeSameData(r: SameDataReport): string[] {
  const out = [
    `same data: ${sameData(r) ? 'YES' : 'NO'}: ours ${r.ours} values (${r.interfaces.ours} interfaces), ` +
      `snmp_exporter ${r.exporter} values (${r.interfaces.exporter} interfaces); ${r.common} OIDs in common, ` +
      `${r.equal} equal, ${r.moved} counters/uptime moved between the two reads, ${r.mismatched.length} differ`,
  ];
  if (r.onlyOurs.length > 0) out.push(`  only ours: ${r.onlyOurs.slice(0, 5).join(', ')}`);
  if (r.onlyExporter.length > 0) out.push(`  only snmp_exporter: ${r.onlyExporter.slice(0, 5).join(', ')}`);
  for (const m of r.mismatched.slice(0, 5)) out.push(`  differs: ${m}`);
  return out;
}

async function main(): Promise<void> {
  ensureInstalled();
  const profile = loadProfiles().get(PROFILE);
  if (!profile) throw new Error(`no "${PROFILE}" profile in config/profiles/`);
  const module = exporterModule(profile, {
    community: COMMUNITY,
    maxRepetitions: REPS,
    timeoutMs: TIMEOUT_MS,
    retries: 0,
  });

  const prober = new SnmpPoller({ timeoutMs: 300, retries: 0, maxRepetitions: 1, profiles: loadProfiles() });
  const agent =
    AGENT_KIND === 'snmpd' ? await startSnmpd(prober).finally(() => prober.close()) : await startSimulator();
  prober.close();
  const exporter = await startExporter(module);
  const target = agent.targets[0];
  if (!target) throw new Error('the agent serves no devices');

  const versions = {
    node: process.version,
    snmpExporter: firstLine(EXPORTER, ['--version']),
    snmpd: firstLine(SNMPD, ['-v']),
  };
  const columns = columnsOf(profile);
  const fieldTypes = (Object.keys(profile.interfaces) as InterfaceField[]).map(exporterTypeOf);
  console.log(
    `agent: ${agent.description}\n` +
      `OIDs: profile "${PROFILE}": sysUpTime.0 by GET + ${columns.length} ifTable/ifXTable columns walked ` +
      `(${fieldTypes.filter((t) => t === 'counter').length} counters), max-repetitions ${REPS}, timeout ${TIMEOUT_MS} ms, no retries\n` +
      `load: ${SECONDS} s per poller, ${CONCURRENCY} polls in flight over ${agent.targets.length} devices; ${cpus().length} cores (${cpus()[0]?.model.trim() ?? '?'}); ` +
      `node ${versions.node}; ${versions.snmpExporter}`,
  );

  const verify = await verifySameData(profile, module, target, exporter.port);
  for (const l of describeSameData(verify.report)) console.log(l);
  console.log(
    `requests per poll of ${target.id}: ours ${verify.ourRequests} (GETBULK of the columns, sysUpTime as a non-repeater; the first poll: GET + GETBULK), ` +
      `snmp_exporter ${verify.exporterRequests} (GET + one GETBULK walk per column)`,
  );

  console.log(`\nmeasuring badung-netmon SnmpPoller (${SECONDS} s)...`);
  const ours = await runCollector(agent, verify.ourRequests);
  console.log(`measuring snmp_exporter (${SECONDS} s)...`);
  const ref = await runExporter(agent, exporter, verify.exporterRequests);
  await children.stopAll();

  const oursF = figuresOf(ours);
  const refF = figuresOf(ref);
  console.log();
  console.log(
    table([
      ['badung-netmon (node)', oursF],
      ['snmp_exporter 0.21 (go)', refF],
    ]),
  );
  for (const [name, f] of [
    ['badung-netmon', oursF],
    ['snmp_exporter', refF],
  ] as const) {
    if (f.firstFailure !== undefined) console.log(`${name}: first failure: ${f.firstFailure}`);
  }
  console.log(
    `ratio: ours ${(oursF.pollsPerS / refF.pollsPerS).toFixed(2)}x the polls/s, ` +
      `${(oursF.cpuMsPerPoll / refF.cpuMsPerPoll).toFixed(2)}x the CPU per poll, ` +
      `${(oursF.agentCpuMsPerPoll / refF.agentCpuMsPerPoll).toFixed(2)}x the agent CPU per poll of snmp_exporter; ` +
      `HTTP load generator (not counted for the exporter): ${(ref.loadGenCpuMs / Math.max(1, ref.polls)).toFixed(3)} ms/scrape`,
  );
  const strip = ({ firstFailure: _f, ...f }: RunFigures): Omit<RunFigures, 'firstFailure'> => f;
  console.log(
    JSON.stringify({
      bench: 'snmp',
      agent: agent.description,
      agentKind: AGENT_KIND,
      devices: agent.targets.length,
      profile: PROFILE,
      seconds: SECONDS,
      concurrency: CONCURRENCY,
      maxRepetitions: REPS,
      cores: cpus().length,
      versions,
      sameData: { ok: sameData(verify.report), ...verify.report },
      collector: strip(oursF),
      snmpExporter: { ...strip(refF), loadGenCpuMsPerScrape: ref.loadGenCpuMs / Math.max(1, ref.polls) },
    }),
  );
}

main()
  .catch((err: unknown) => {
    console.error(`bench-snmp: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  })
  .finally(() => {
    httpAgent?.destroy();
    void children.stopAll();
  });
