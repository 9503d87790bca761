/**
 * SNMP poller benchmark: this collector against Debian's prometheus-snmp-exporter (the reference Go
 * poller), in the same run, against the same agent (Debian's snmpd on loopback) and the same OIDs (the
 * exporter's module is generated from config/profiles/generic.yaml). Prints device polls per second and
 * CPU milliseconds per device poll for each, plus latency and the agent's own CPU. Not a test.
 *
 *   npm run bench -- [--seconds 20] [--concurrency 32]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { columnsOf } from '../collector/sources/snmp/poller.ts';
import { loadProfiles, type InterfaceField } from '../config/profiles.ts';
import { freeLoopbackPort } from './lib/servers/process.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '32' },
    repetitions: { type: 'string', default: '25' },
  },
});
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
const REPS = Number(values.repetitions);
const COMMUNITY = 'bench';
const EXPORTER = '/usr/bin/prometheus-snmp-exporter';
const SNMPD = '/usr/sbin/snmpd';
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'netmon-bench-'));
function cleanup(): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

function ensureInstalled(): void {
  const missing = [SNMPD, EXPORTER, '/usr/bin/snmpget'].some(
    (b) => spawnSync('test', ['-x', b]).status !== 0,
  );
  if (!missing) return;
  const r = spawnSync(
    'bash',
    ['-c', 'source scripts/lib/apt.sh && ensure_debs snmpd snmp prometheus-snmp-exporter'],
    { stdio: 'inherit' },
  );
  if (r.status !== 0) throw new Error('could not install snmpd, snmp and prometheus-snmp-exporter');
}

/** utime + stime of a process in ms, from /proc/PID/stat. */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

async function waitUntil(check: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function startSnmpd(): Promise<{ port: number; pid: number }> {
  const port = await freeLoopbackPort();
  const conf = join(dir, 'snmpd.conf');
  // The listening address is the command line's (the same one in agentAddress too would bind twice).
  writeFileSync(conf, `rocommunity ${COMMUNITY} 127.0.0.1\n`);
  const child = spawn(
    SNMPD,
    ['-f', '-Lo', '-C', '-c', conf, '-M', '/nonexistent', '-m', '', `udp:127.0.0.1:${port}`],
    { stdio: 'ignore' },
  );
  children.push(child);
  await waitUntil(
    () =>
      spawnSync('snmpget', [
        '-v2c',
        '-c',
        COMMUNITY,
        '-t',
        '0.3',
        '-r',
        '0',
        `127.0.0.1:${port}`,
        '1.3.6.1.2.1.1.3.0',
      ]).status === 0,
    'snmpd',
  );
  return { port, pid: child.pid ?? 0 };
}

/** The exporter module reading exactly the generic profile's OIDs. */
function exporterModule(): string {
  const profile = loadProfiles().get('generic');
  if (!profile) throw new Error('no generic profile');
  const typeOf = (f: InterfaceField): string =>
    f === 'descr' || f === 'name' || f === 'alias'
      ? 'DisplayString'
      : /Octets|Pkts|Errors|Discards/.test(f)
        ? 'counter'
        : 'gauge';
  const metrics = [
    {
      name: 'sysUpTime',
      oid: profile.scalars.sysUpTime?.replace(/\.0$/, ''),
      type: 'gauge',
      help: 'sysUpTime',
    },
    ...(Object.entries(profile.interfaces) as [InterfaceField, string][]).map(([f, oid]) => ({
      name: `if_${f}`,
      oid,
      type: typeOf(f),
      help: f,
      indexes: [{ labelname: 'ifIndex', type: 'gauge' }],
    })),
  ];
  // snmp_exporter 0.21: modules at the top level of snmp.yml.
  return stringify({
    bench: {
      walk: columnsOf(profile),
      get: [profile.scalars.sysUpTime],
      metrics,
      version: 2,
      max_repetitions: REPS,
      retries: 0,
      timeout: '2s',
      auth: { community: COMMUNITY },
    },
  });
}

async function startExporter(): Promise<{ url: string; pid: number }> {
  const file = join(dir, 'snmp.yml');
  writeFileSync(file, exporterModule());
  const check = spawnSync(EXPORTER, [`--config.file=${file}`, '--dry-run'], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`snmp_exporter rejects the module: ${check.stderr}`);
  const port = await freeLoopbackPort();
  const child = spawn(
    EXPORTER,
    [`--config.file=${file}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=error'],
    { stdio: 'ignore' },
  );
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(`${url}/`)).ok, 'snmp_exporter');
  return { url, pid: child.pid ?? 0 };
}

interface Result {
  polls: number;
  failures: number;
  wallMs: number;
  cpuMs: number;
  p50: number;
  p95: number;
  agentCpuMs: number;
  interfaces: number;
}

async function runCollector(agent: { port: number; pid: number }): Promise<Result> {
  const a0 = cpuMsOf(agent.pid);
  const out = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'scripts/bench/collector-worker.ts',
      String(agent.port),
      COMMUNITY,
      String(SECONDS),
      String(CONCURRENCY),
      String(REPS),
    ],
    { encoding: 'utf8' },
  );
  if (out.status !== 0) throw new Error(`collector worker failed: ${out.stderr}`);
  const line = out.stdout.trim().split('\n').at(-1) ?? '{}';
  return { ...(JSON.parse(line) as Omit<Result, 'agentCpuMs'>), agentCpuMs: cpuMsOf(agent.pid) - a0 };
}

async function runExporter(
  agent: { port: number; pid: number },
  exporter: { url: string; pid: number },
): Promise<Result> {
  const target = `${exporter.url}/snmp?target=127.0.0.1:${agent.port}&module=bench`;
  const sample = await (await fetch(target)).text();
  const interfaces = sample.split('\n').filter((l) => l.startsWith('if_hcInOctets{')).length;
  const latencies: number[] = [];
  let failures = 0;
  const a0 = cpuMsOf(agent.pid);
  const e0 = cpuMsOf(exporter.pid);
  const t0 = performance.now();
  const until = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        const s = performance.now();
        try {
          const res = await fetch(target);
          const body = await res.text();
          if (!res.ok || !body.includes('if_hcInOctets')) failures++;
          else latencies.push(performance.now() - s);
        } catch {
          failures++;
        }
      }
    }),
  );
  const wallMs = performance.now() - t0;
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return {
    polls: latencies.length,
    failures,
    wallMs,
    cpuMs: cpuMsOf(exporter.pid) - e0,
    p50: pct(50),
    p95: pct(95),
    agentCpuMs: cpuMsOf(agent.pid) - a0,
    interfaces,
  };
}

async function main(): Promise<void> {
  ensureInstalled();
  const agent = await startSnmpd();
  const exporter = await startExporter();
  console.log(
    `agent: Debian snmpd on 127.0.0.1:${agent.port}; ${SECONDS}s per poller, ${CONCURRENCY} in flight, max-repetitions ${REPS}, ${cpus().length} cores`,
  );
  const ours = await runCollector(agent);
  const ref = await runExporter(agent, exporter);
  const row = (name: string, r: Result): string =>
    [
      name.padEnd(26),
      (r.polls / (r.wallMs / 1000)).toFixed(0).padStart(10),
      (r.cpuMs / Math.max(1, r.polls)).toFixed(3).padStart(12),
      r.p50.toFixed(2).padStart(8),
      r.p95.toFixed(2).padStart(8),
      (r.agentCpuMs / Math.max(1, r.polls)).toFixed(3).padStart(14),
      String(r.failures).padStart(8),
      String(r.interfaces).padStart(6),
    ].join(' ');
  console.log(
    [
      'poller'.padEnd(26),
      'polls/s'.padStart(10),
      'CPU ms/poll'.padStart(12),
      'p50 ms'.padStart(8),
      'p95 ms'.padStart(8),
      'agent ms/poll'.padStart(14),
      'failed'.padStart(8),
      'ifs'.padStart(6),
    ].join(' '),
  );
  console.log(row('badung-netmon (node)', ours));
  console.log(row('snmp_exporter 0.21 (go)', ref));
  const version = spawnSync(EXPORTER, ['--version'], { encoding: 'utf8' }).stderr.split('\n')[0] ?? '';
  console.log(
    JSON.stringify({
      bench: 'snmp',
      seconds: SECONDS,
      concurrency: CONCURRENCY,
      cores: cpus().length,
      node: process.version,
      exporter: version.trim(),
      collector: {
        pollsPerS: ours.polls / (ours.wallMs / 1000),
        cpuMsPerPoll: ours.cpuMs / Math.max(1, ours.polls),
        ...ours,
      },
      snmpExporter: {
        pollsPerS: ref.polls / (ref.wallMs / 1000),
        cpuMsPerPoll: ref.cpuMs / Math.max(1, ref.polls),
        ...ref,
      },
    }),
  );
}

main().catch((err: unknown) => {
  console.error(`bench-snmp: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
