/**
 * Run a server binary as a plain child process (no systemd), loopback only, and wait until it answers.
 * Shared by influxd.ts and victoria-metrics.ts; only scripts and tests use it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

/** A started server. `restart()` and `start()` keep the port and the data directory. */
export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number | undefined;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** SIGKILL, as a crash or `kill -9` would: no clean shutdown. Resolves once the process has exited. */
  kill9(): Promise<void>;
  /** Start it again after stop() or kill9() (no-op while it runs). */
  start(): Promise<void>;
}

export class ServerStartError extends Error {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ServerStartError';
  }
}

/** Fail early, naming the binary and the Debian package that provides it. */
export function requireBinary(path: string, debPackage: string): void {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new ServerStartError(
      `${path} not found or not executable: install the Debian package '${debPackage}' (sudo apt-get install ${debPackage})`,
    );
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago, outside the kernel's ephemeral range (free-port.ts). */
export { freeLoopbackPort } from './free-port.ts';

export interface ProcessSpec {
  /** For messages: "influxd", "victoria-metrics". */
  readonly name: string;
  readonly binary: string;
  readonly args: readonly string[];
  readonly port: number;
  /** Path that answers 2xx when the server is ready, e.g. "/ping" or "/health". */
  readonly readyPath: string;
  /** Ready when this resolves true instead of `readyPath` answering (servers that do not speak HTTP). */
  readonly ready?: (() => Promise<boolean>) | undefined;
  /** Run as this user and group (PostgreSQL refuses to run as root). */
  readonly uid?: number | undefined;
  readonly gid?: number | undefined;
  readonly startTimeoutMs: number;
  readonly stopTimeoutMs?: number;
  /** The signal of a clean stop (default SIGTERM; PostgreSQL's fast shutdown is SIGINT). */
  readonly stopSignal?: NodeJS.Signals | undefined;
}

const TAIL_BYTES = 4096;

/** Start the process and wait for its ready path; restart() re-runs the same command line. */
export async function startProcess(spec: ProcessSpec): Promise<RunningServer> {
  const url = `http://127.0.0.1:${spec.port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = async (): Promise<void> => {
    let tail = '';
    let exitInfo: string | undefined;
    const proc = spawn(spec.binary, [...spec.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(spec.uid === undefined ? {} : { uid: spec.uid }),
      ...(spec.gid === undefined ? {} : { gid: spec.gid }),
    });
    child = proc;
    const keep = (chunk: Buffer): void => {
      tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    exited = new Promise<void>((resolve) => {
      proc.once('exit', (code, signal) => {
        exitInfo = signal ? `signal ${signal}` : `exit code ${String(code)}`;
        resolve();
      });
      proc.once('error', (err) => {
        exitInfo = `spawn error: ${err.message}`;
        resolve();
      });
    });
    const deadline = Date.now() + spec.startTimeoutMs;
    for (;;) {
      if (exitInfo !== undefined) {
        throw new ServerStartError(
          `${spec.name} exited before it was ready (${exitInfo}); output:\n${tail.trim()}`,
        );
      }
      if (await (spec.ready ? spec.ready() : answers(`${url}${spec.readyPath}`))) return;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new ServerStartError(
          `${spec.name} did not answer ${url}${spec.readyPath} within ${spec.startTimeoutMs} ms; output:\n${tail.trim()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(spec.stopSignal ?? 'SIGTERM');
    const timeoutMs = spec.stopTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        proc.kill('SIGKILL');
        resolve();
      }, timeoutMs);
    });
    await Promise.race([exited, killed]);
    clearTimeout(timer);
    await exited;
  };

  const running = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;
  const kill9 = async (): Promise<void> => {
    if (!running()) return;
    child?.kill('SIGKILL');
    await exited;
  };

  await launch();
  return {
    url,
    port: spec.port,
    get pid() {
      return child?.pid;
    },
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    kill9,
    start: async () => {
      if (!running()) await launch();
    },
  };
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}
