/**
 * Idle-connection flood against the HTTP API (issue #10; not a test, it prints figures): the monitor's
 * HTTP server (collector/http/server.ts, default limits) runs in a child process; this process opens
 * `--sockets` connections that each send half a request header and then nothing, from `--addresses`
 * loopback addresses (127.0.1.1, 127.0.1.2, ...), while it asks GET /health from 127.0.0.1 every 200 ms.
 *
 *   npx tsx scripts/bench-http-idle.ts [--sockets 17000] [--addresses 1] [--per-ip 256] [--max 2048]
 *
 * Prints how many connections the server accepted, refused and evicted, its open files (/proc/PID/fd) at
 * the peak, /health answers (on a kept-alive connection and on new ones, in turn) and their latency during
 * the flood, and when the header timeout had closed what was accepted. Before the fix, 17,000 such sockets held 13,910 files open until /health failed.
 * Everything started here stops on exit, error, Ctrl-C or SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { createLogger } from '../collector/core/log.ts';
import { DEFAULT_SERVER_LIMITS } from '../collector/http/hardening.ts';
import { startHttp } from '../collector/http/server.ts';
import { ApiError, type MonitorService } from '../collector/http/service.ts';
import { intOption, parseCommandArgs } from './lib/cli.ts';

const COMMAND = 'bench-http-idle';
const USAGE = `usage: npx tsx scripts/bench-http-idle.ts [--sockets 17000] [--addresses 1] [--per-ip 256] [--max 2048]

  Opens --sockets connections that each send half a request header and then nothing, from --addresses
  loopback addresses, against the monitor's HTTP server, and prints how the server copes (open files,
  sockets closed by the header timeout or the caps, /health answered or not). Loopback only; it stops
  by itself.`;
const values = parseCommandArgs(COMMAND, USAGE, {
  serve: { type: 'boolean', default: false },
  sockets: { type: 'string', default: '17000' },
  addresses: { type: 'string', default: '1' },
  'per-ip': { type: 'string', default: String(DEFAULT_SERVER_LIMITS.maxConnectionsPerIp) },
  max: { type: 'string', default: String(DEFAULT_SERVER_LIMITS.maxConnections) },
});
const int = (name: string, v: string, min: number, max: number): number =>
  intOption(COMMAND, USAGE, name, v, min, max);

/** The child: the API with a service that only answers /health. */
async function serve(): Promise<void> {
  const refuse = (): never => {
    throw new ApiError(404, 'not in this benchmark');
  };
  const service: MonitorService = {
    health: () => ({ status: 'ok', details: {} }),
    sites: () => [],
    site: refuse,
    incidents: () => [],
    incident: refuse,
    acknowledge: refuse,
    resolve: refuse,
    maintenance: () => [],
    addMaintenance: refuse,
    deleteMaintenance: refuse,
    availabilityReport: () => Promise.reject(new ApiError(404, 'not in this benchmark')),
    silences: () => [],
    addSilence: refuse,
    deleteSilence: refuse,
  };
  const refusals: Record<string, unknown>[] = [];
  const log = createLogger({
    level: 'warn',
    write: (_line, r) => {
      if (r.msg === 'http connection refused') refusals.push(r);
    },
  });
  const http = await startHttp(service, {
    listen: { host: '127.0.0.1', port: 0 },
    tokens: [],
    log,
    limits: { maxConnectionsPerIp: Number(values['per-ip']), maxConnections: Number(values.max) },
  });
  process.stdout.write(JSON.stringify({ url: http.url }) + '\n');
  // Stats on request (one line on stdin -> one JSON line out).
  createInterface({ input: process.stdin }).on('line', () =>
    process.stdout.write(JSON.stringify({ ...http.connections(), logLines: refusals.length }) + '\n'),
  );
  process.stdin.on('end', () => void http.close().then(() => process.exit(0)));
}

interface Probe {
  atMs: number;
  ms: number;
  ok: boolean;
  /** A new connection for this probe (like curl from a supervisor), or the kept-alive one (fetch). */
  fresh: boolean;
}

/** GET /health on a connection of its own. */
function freshHealth(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpGet(`${url}/health`, { agent: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('"ok"')));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

async function bench(): Promise<void> {
  const n = int('sockets', values.sockets, 1, 19_000);
  const addresses = int('addresses', values.addresses, 1, 250);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'scripts/bench-http-idle.ts',
      '--serve',
      '--per-ip',
      values['per-ip'],
      '--max',
      values.max,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const stopChild = (): void => {
    if (child.exitCode === null) child.kill('SIGTERM');
  };
  process.once('exit', stopChild);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => (stopChild(), process.exit(130)));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, number | string>> => {
    const r = await lines.next();
    if (r.done) throw new Error('the server process ended');
    return JSON.parse(r.value) as Record<string, number | string>;
  };
  const { url } = (await next()) as { url: string };
  const { port } = new URL(url);
  const serverStats = async () => {
    child.stdin!.write('\n');
    return next();
  };
  const openFiles = (): number => readdirSync(`/proc/${child.pid}/fd`).length;
  const filesBefore = openFiles();

  // /health from 127.0.0.1 every 200 ms, all along: in turn on a kept-alive connection and a new one.
  const probes: Probe[] = [];
  const t0 = Date.now();
  let probing = true;
  const prober = (async () => {
    for (let i = 0; probing; i++) {
      const start = Date.now();
      const fresh = i % 2 === 1;
      let ok: boolean;
      if (fresh) {
        ok = await freshHealth(url);
      } else {
        try {
          const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) });
          ok = res.status === 200 && ((await res.json()) as { status?: string }).status === 'ok';
        } catch {
          ok = false;
        }
      }
      probes.push({ atMs: start - t0, ms: Date.now() - start, ok, fresh });
      await new Promise((r) => setTimeout(r, 200));
    }
  })();

  const sockets: Socket[] = [];
  let connectErrors = 0;
  let closedAt: number[] = [];
  const opened: number[] = [];
  for (let i = 0; i < n; i += 250) {
    await Promise.all(
      Array.from({ length: Math.min(250, n - i) }, (_, k) => {
        const j = i + k;
        const localAddress = `127.0.1.${1 + (j % addresses)}`;
        return new Promise<void>((resolve) => {
          const s = connect({ host: '127.0.0.1', port: Number(port), localAddress });
          s.once('connect', () => {
            opened[j] = Date.now();
            s.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
            resolve();
          });
          s.on('error', () => {
            if (opened[j] === undefined) {
              connectErrors++;
              resolve();
            }
          });
          s.once('close', () => (closedAt[j] = Date.now()));
          s.resume();
          sockets.push(s);
        });
      }),
    );
  }
  const openedMs = Date.now() - t0;
  let peakFiles = openFiles();
  const peak = await serverStats();
  // Until everything is closed (or 60 s past the header timeout).
  const deadline = Date.now() + DEFAULT_SERVER_LIMITS.headersTimeoutMs + 60_000;
  while (closedAt.filter(Boolean).length < sockets.length && Date.now() < deadline) {
    peakFiles = Math.max(peakFiles, openFiles());
    await new Promise((r) => setTimeout(r, 250));
  }
  const doneMs = Date.now() - t0;
  probing = false;
  await prober;
  const end = await serverStats();
  const filesAfter = openFiles();
  for (const s of sockets) s.destroy();
  child.stdin!.end();

  // Lifetimes of the connections the server accepted (those it refused close within a few ms).
  const lives = opened
    .map((o, j) => (o !== undefined && closedAt[j] !== undefined ? closedAt[j] - o : undefined))
    .filter((x): x is number => x !== undefined)
    .sort((a, b) => a - b);
  const accepted = lives.filter((l) => l >= DEFAULT_SERVER_LIMITS.headersTimeoutMs - 50);
  const refusedFast = lives.length - accepted.length; // refused, or evicted before the timeout
  const lat = probes.map((p) => p.ms).sort((a, b) => a - b);
  const freshProbes = probes.filter((p) => p.fresh);
  const freshFailed = freshProbes.filter((p) => !p.ok).length;
  const q = (arr: number[], f: number): number =>
    arr[Math.min(arr.length - 1, Math.floor(arr.length * f))] ?? NaN;
  const failed = probes.filter((p) => !p.ok);
  closedAt = [];
  const out = {
    sockets: n,
    addresses,
    limits: {
      ...DEFAULT_SERVER_LIMITS,
      maxConnections: Number(values.max),
      maxConnectionsPerIp: Number(values['per-ip']),
    },
    openedMs,
    connectErrors,
    serverAtPeak: peak,
    serverAtEnd: end,
    openFiles: { before: filesBefore, peak: peakFiles, after: filesAfter },
    heldUntilHeaderTimeout: accepted.length,
    closedAtOnce: refusedFast,
    heldLifetimeMs: accepted.length ? { min: accepted[0], max: accepted.at(-1) } : undefined,
    allClosedAfterMs: doneMs,
    health: {
      probes: probes.length,
      failed: failed.length,
      p50Ms: q(lat, 0.5),
      p95Ms: q(lat, 0.95),
      maxMs: lat.at(-1),
    },
  };
  console.log(
    [
      `${n} half-header sockets from ${addresses} address(es), opened in ${openedMs} ms (${connectErrors} connect errors)`,
      `limits: headers ${DEFAULT_SERVER_LIMITS.headersTimeoutMs} ms, request ${DEFAULT_SERVER_LIMITS.requestTimeoutMs} ms, keep-alive ${DEFAULT_SERVER_LIMITS.keepAliveTimeoutMs} ms, max ${values.max} connections, ${values['per-ip']} per address`,
      `server: ${String(peak.open)} open at the peak; at the total cap ${String(end.evictedIdle)} idle ones closed to make room and ${String(end.refusedTotal)} new ones refused; ${String(end.refusedPerIp)} refused over the per-address cap (${String(end.logLines)} log lines)`,
      `server open files: ${filesBefore} before, ${peakFiles} at the peak, ${filesAfter} after`,
      `held until the header timeout: ${accepted.length} (lived ${out.heldLifetimeMs?.min ?? '-'}-${out.heldLifetimeMs?.max ?? '-'} ms); closed before it (refused or evicted): ${refusedFast}`,
      `all closed ${doneMs} ms after the start`,
      `/health: ${probes.length} probes (${freshProbes.length} on new connections), ${failed.length} failed (${freshFailed} of those on new connections), p50 ${out.health.p50Ms} ms, p95 ${out.health.p95Ms} ms, max ${String(out.health.maxMs)} ms`,
      JSON.stringify(out),
    ].join('\n'),
  );
}

(values.serve ? serve() : bench()).catch((err: unknown) => {
  process.stderr.write(`bench-http-idle: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
