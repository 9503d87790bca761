/**
 * `npm start` itself (scripts/start.sh), on moved ports, its own var dir and a 24-site slice of the Badung
 * inventory (SNMP and MQTT devices): the stack comes up, the banner names the real ports, a second start
 * says how to stop the first, and both ways of stopping it end everything within 15 s with no `suspect` or
 * `down` transition in the log or in InfluxDB:
 *   - `kill <pid in var/netmon.pid>` (SIGTERM to the script alone);
 *   - Ctrl-C (SIGINT to the whole foreground process group: script, collector, and anything not in a
 *     session of its own).
 * And a bad config stops start.sh before anything starts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateBadungInventory } from '../../config/badung/generate.ts';
import { startInfluxd } from '../../scripts/lib/servers/influxd.ts';
import { influxQuery } from '../support/influx.ts';
import { freeTcpPort, freeUdpPort, waitFor } from '../support/ports.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const STOP_BUDGET_MS = 15_000;
/** Four node processes start under tsx, on a CPU shared with other tests: room beyond the usual 60 s. */
const TEST_TIMEOUT_MS = 150_000;

let dir: string;
let inventoryFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-start-'));
  // A slice of the real demo inventory: the first sites, with the MQTT routers among them.
  const gen = generateBadungInventory({
    hostOctet: 200 + Math.floor(Math.random() * 50),
    port: await freeUdpPort(),
  });
  const doc = parse(gen.yaml) as { sites: { id: string; upstream?: string; devices: unknown[] }[] };
  const sites = doc.sites.slice(0, 24);
  const ids = new Set(sites.map((s) => s.id));
  for (const s of sites) if (s.upstream && !ids.has(s.upstream)) delete s.upstream;
  inventoryFile = join(dir, 'inventory.yaml');
  writeFileSync(inventoryFile, stringify({ ...doc, sites }));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Stack {
  readonly varDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly httpPort: number;
  readonly influxPort: number;
  readonly child: ChildProcess;
  readonly out: string[];
  readonly err: string[];
  readonly exited: Promise<number | null>;
}

let running: Stack | undefined;

afterEach(() => {
  // A failed test leaves nothing behind: the script's group, then whatever still runs from its dirs.
  if (running?.child.pid && running.child.exitCode === null) {
    try {
      process.kill(-running.child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  if (running) for (const pid of processesMentioning(running.varDir)) killQuietly(pid);
  running = undefined;
});

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

/** Live processes whose command line names `text` (a temp dir of this test). */
function processesMentioning(text: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // A zombie has exited; only its parent has not collected it yet.
      if (cmd.includes(text) && !/^\d+ \(.*\) Z/.test(stat)) out.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

async function configFor(
  name: string,
  extra = '',
): Promise<{ varDir: string; env: NodeJS.ProcessEnv; httpPort: number; influxPort: number }> {
  const base = join(dir, name);
  const varDir = join(base, 'var');
  mkdirSync(varDir, { recursive: true });
  const configFile = join(base, 'netmon.yaml');
  writeFileSync(
    configFile,
    `inventory: ${inventoryFile}
influx: { api: v1, url: "\${NETMON_INFLUX_URL}", database: startstop }
writer: { flushInterval: 200ms, bufferDir: buffer }
snmp: { interval: 2s, jitter: 500ms, timeout: 1s, retries: 0, concurrency: 64 }
health: { downAfterFailures: 2, recheck: 300ms }
incidents: { file: incidents.db }
mqtt:
  broker: embedded
  host: 127.0.0.1
  port: \${NETMON_MQTT_PORT}
  username: netmon-collector
  password: start-stop-test-password
  grace: 2s
http: { port: "\${NETMON_HTTP_PORT}" }
log: { level: info }
${extra}`,
  );
  const httpPort = await freeTcpPort();
  const influxPort = await freeTcpPort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NETMON_CONFIG: configFile,
    NETMON_VAR_DIR: varDir,
    NETMON_HTTP_PORT: String(httpPort),
    NETMON_INFLUX_PORT: String(influxPort),
    NETMON_MQTT_PORT: String(await freeTcpPort()),
    NETMON_SIM_CONTROL: `127.0.0.1:${await freeTcpPort()}`,
  };
  delete env.NETMON_INFLUX_URL;
  delete env.NETMON_INVENTORY;
  return { varDir, env, httpPort, influxPort };
}

function startScript(setup: Awaited<ReturnType<typeof configFor>>): Stack {
  // detached: the script leads a process group of its own, as a job in a terminal does.
  const child = spawn('bash', ['scripts/start.sh'], {
    cwd: ROOT,
    env: setup.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  const err: string[] = [];
  const collect = (into: string[]) => {
    let rest = '';
    return (chunk: Buffer) => {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      into.push(...lines);
    };
  };
  child.stdout.on('data', collect(out));
  child.stderr.on('data', collect(err));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  running = { ...setup, child, out, err, exited };
  return running;
}

interface LogLine {
  readonly msg?: string;
  readonly to?: string;
  readonly from?: string;
  readonly device?: string;
  readonly time?: string;
}

const logLines = (s: Stack): LogLine[] =>
  s.out.flatMap((l) => {
    if (!l.startsWith('{')) return [];
    try {
      return [JSON.parse(l) as LogLine];
    } catch {
      return [];
    }
  });

const transport = (s: Stack) => () =>
  `stdout:\n${s.out.slice(-30).join('\n')}\nstderr:\n${s.err.slice(-30).join('\n')}`;

/** Start the stack and wait until every site has been polled and the MQTT routers are connected. */
async function upAndPolling(s: Stack): Promise<void> {
  await waitFor(() => logLines(s).some((l) => l.msg === 'http listening'), {
    timeoutMs: 90_000,
    intervalMs: 200,
    what: transport(s),
  });
  await waitFor(
    async () => {
      const res = await fetch(`http://127.0.0.1:${s.httpPort}/health`);
      return res.ok;
    },
    { timeoutMs: 10_000, what: 'the API' },
  );
  // Two poll rounds: the collector is busy polling (and MQTT devices are connected) when it is stopped.
  await waitFor(
    async () => {
      const series = await influxQuery(
        `http://127.0.0.1:${s.influxPort}`,
        'startstop',
        'SELECT count(reachable) FROM device GROUP BY site',
      );
      return series.length === 24 && series.every((x) => Number(x.values[0]?.[1]) >= 2);
    },
    { timeoutMs: 30_000, intervalMs: 250, what: 'two polls of every site' },
  );
}

/** Everything the stack started, by pid (read before the stop: the files go with it). */
interface StackPids {
  readonly script: number;
  readonly collector: number;
  readonly simulator: number;
  readonly influxd: number;
}

function pidsOf(s: Stack): StackPids {
  const read = (f: string) => Number(readFileSync(join(s.varDir, f), 'utf8').trim());
  return {
    script: read('netmon.pid'),
    collector: read('collector.pid'),
    simulator: read('simulator.pid'),
    influxd: read('influxdb/influxd.pid'),
  };
}

async function expectAllGone(s: Stack, pids: StackPids, since: number): Promise<number> {
  const code = await Promise.race([
    s.exited,
    new Promise<'late'>((r) => setTimeout(() => r('late'), STOP_BUDGET_MS + 1000).unref()),
  ]);
  expect(code, transport(s)()).not.toBe('late');
  const tookMs = Date.now() - since;
  expect(tookMs).toBeLessThan(STOP_BUDGET_MS);
  for (const [name, pid] of Object.entries(pids) as [string, number][])
    expect(alive(pid), `${name} (pid ${pid})`).toBe(false);
  // influxd itself (a child of its wrapper) and anything else started on this test's files.
  expect(processesMentioning(s.varDir)).toEqual([]);
  expect(processesMentioning(inventoryFile)).toEqual([]);
  expect(code, transport(s)()).toBe(0);
  return tookMs;
}

/**
 * No suspect or down transition from the moment the stop began (the fleet is healthy; a slow first poll
 * on a busy machine may be a true suspect at start), in the log and in InfluxDB.
 */
async function expectNoFalseOutage(s: Stack, stopMs: number): Promise<void> {
  const lines = logLines(s);
  expect(lines.some((l) => l.msg === 'stopping')).toBe(true);
  expect(lines.some((l) => l.msg === 'monitor stopped')).toBe(true);
  const bad = lines.filter(
    (l) =>
      l.msg === 'state' &&
      (l.to === 'suspect' || l.to === 'down' || l.to === 'unreachable') &&
      Date.parse(l.time ?? '') >= stopMs,
  );
  expect(bad, `transitions after the stop began:\n${bad.map((l) => JSON.stringify(l)).join('\n')}`).toEqual(
    [],
  );
  // The data the collector wrote, read back from the stack's own InfluxDB data dir.
  const influx = await startInfluxd({ dataDir: join(s.varDir, 'influxdb') });
  try {
    const states = await influxQuery(
      influx.url,
      'startstop',
      `SELECT count(state_code) FROM device_state WHERE (state = 'suspect' OR state = 'down' OR state = 'unreachable') AND time >= ${stopMs}ms`,
    );
    expect(states).toEqual([]);
    const polls = await influxQuery(influx.url, 'startstop', 'SELECT count(reachable) FROM device');
    expect(Number(polls[0]?.values[0]?.[1])).toBeGreaterThan(24 * 2);
    const failed = await influxQuery(
      influx.url,
      'startstop',
      `SELECT count(reachable) FROM device WHERE reachable = 0 AND time >= ${stopMs}ms`,
    );
    expect(failed).toEqual([]);
  } finally {
    await influx.stop();
  }
}

describe('npm start (scripts/start.sh)', () => {
  it(
    'comes up on the moved ports; a second start names the pid; kill <pid> stops it all within 15 s, no false outage',
    async () => {
      const s = startScript(await configFor('term'));
      await upAndPolling(s);
      const banner = s.out.join('\n');
      expect(banner).toContain(`http://127.0.0.1:${s.httpPort}/health`);
      expect(banner).toContain(`http://127.0.0.1:${s.influxPort}`);
      expect(banner).not.toMatch(/:8080\b|:8086\b/);
      const pids = pidsOf(s);
      expect(pids.script).toBe(s.child.pid);

      const again = spawnSync('bash', ['scripts/start.sh'], { cwd: ROOT, env: s.env, encoding: 'utf8' });
      expect(again.status).toBe(0);
      expect(again.stdout).toContain(`already running (pid ${pids.script})`);
      expect(again.stdout).toContain(`kill ${pids.script}`);

      const since = Date.now();
      process.kill(pids.script, 'SIGTERM');
      const took = await expectAllGone(s, pids, since);
      console.info(`kill <pid>: everything stopped in ${took} ms`);
      expect(s.out.join('\n')).toContain('badung-netmon stopped (SIGTERM)');
      await expectNoFalseOutage(s, since);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'Ctrl-C (SIGINT to the process group): the collector stops first, no false outage, all gone within 15 s',
    async () => {
      const s = startScript(await configFor('int'));
      await upAndPolling(s);
      const pids = pidsOf(s);
      const since = Date.now();
      process.kill(-pids.script, 'SIGINT'); // what a terminal sends its foreground job
      const took = await expectAllGone(s, pids, since);
      console.info(`Ctrl-C: everything stopped in ${took} ms`);
      // The simulator was still answering until the collector had stopped: it logged its stop after.
      const simLog = readFileSync(join(s.varDir, 'simulator.log'), 'utf8');
      expect(simLog).toMatch(/"simulator stopped".*"signal":"SIGTERM"/);
      await expectNoFalseOutage(s, since);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a collector that cannot start (its MQTT port taken) exits, and start.sh stops the rest and fails',
    async () => {
      const setup = await configFor('nostart');
      const blocker = createServer();
      await new Promise<void>((r) => blocker.listen(Number(setup.env.NETMON_MQTT_PORT), '127.0.0.1', r));
      try {
        const s = startScript(setup);
        const code = await Promise.race([
          s.exited,
          new Promise<'late'>((r) => setTimeout(() => r('late'), 100_000).unref()),
        ]);
        expect(code, transport(s)()).not.toBe('late');
        expect(code).not.toBe(0);
        expect(s.err.join('\n')).toMatch(/badung-netmon: cannot start: .*EADDRINUSE/);
        expect(s.err.join('\n')).toMatch(/the collector exited \(status 1\)/);
        expect(processesMentioning(s.varDir)).toEqual([]);
        expect(processesMentioning(inventoryFile)).toEqual([]);
        expect(existsSync(join(s.varDir, 'netmon.pid'))).toBe(false);
      } finally {
        blocker.close();
      }
    },
    TEST_TIMEOUT_MS,
  );

  it('a bad config: exit 2 with the error and a hint, before InfluxDB, the simulator or the banner', async () => {
    const setup = await configFor('bad', 'writer2: {}\n');
    const configFile = setup.env.NETMON_CONFIG ?? '';
    writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('interval: 2s', 'intervall: 2s'));
    const r = spawnSync('bash', ['scripts/start.sh'], {
      cwd: ROOT,
      env: setup.env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/snmp\.intervall: unknown key 'intervall' .*did you mean 'interval'\?/);
    expect(r.stderr).toMatch(/writer2: unknown key 'writer2' .*did you mean 'writer'\?/);
    expect(r.stderr).toContain('not started');
    expect(r.stdout).not.toContain('is starting');
    expect(r.stdout).not.toContain('InfluxDB running');
    expect(existsSync(join(setup.varDir, 'influxdb'))).toBe(false);
    expect(existsSync(join(setup.varDir, 'simulator.log'))).toBe(false);
    expect(existsSync(join(setup.varDir, 'netmon.pid'))).toBe(false);
    expect(processesMentioning(setup.varDir)).toEqual([]);
  });
});
