/**
 * The processes a benchmark starts (agent, exporter, worker), so that every one of them is stopped on the
 * way out: normal end, error, Ctrl-C or SIGTERM. stopAll() asks politely (SIGTERM) and insists (SIGKILL)
 * after a deadline; killAllNow() is the synchronous last resort for process.on('exit').
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { rmSync } from 'node:fs';
import { waitFor } from '../../test/support/ports.ts';

const TAIL_BYTES = 4096;

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Resolves when the process has exited, with a description of how. */
  readonly exited: Promise<string>;
  /** The last few KB of its stdout + stderr (when they are piped), for error messages. */
  tail(): string;
}

export class ChildSet {
  readonly #running = new Set<Child>();

  /** Start a process; it is tracked until it exits. Throws when it cannot be started at all. */
  async start(
    name: string,
    command: string,
    args: readonly string[],
    opts: SpawnOptions = {},
  ): Promise<Child> {
    const proc = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let tail = '';
    const keep = (chunk: Buffer): void => {
      tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    const pid = await new Promise<number>((resolve, reject) => {
      proc.once('spawn', () => resolve(proc.pid ?? 0));
      proc.once('error', (err) => reject(new Error(`${name}: cannot start ${command}: ${err.message}`)));
    });
    const exited = new Promise<string>((resolve) => {
      proc.once('exit', (code, signal) => {
        this.#running.delete(child);
        resolve(signal ? `killed by ${signal}` : `exited with code ${code}`);
      });
    });
    const child: Child = { name, proc, pid, exited, tail: () => tail };
    this.#running.add(child);
    return child;
  }

  get running(): number {
    return this.#running.size;
  }

  /** SIGTERM everything still running, SIGKILL what has not exited after `graceMs`, wait for all. */
  async stopAll(graceMs = 3000): Promise<void> {
    const all = [...this.#running];
    for (const c of all) c.proc.kill('SIGTERM');
    const timer = setTimeout(() => {
      for (const c of all) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    }, graceMs);
    try {
      await Promise.all(all.map((c) => c.exited));
    } finally {
      clearTimeout(timer);
    }
  }

  /** Synchronous: for process.on('exit'), where nothing can be awaited. */
  killAllNow(): void {
    for (const c of this.#running) c.proc.kill('SIGKILL');
  }
}

/**
 * A benchmark's way out: on exit, kill what `children` still runs and remove `dir`; on SIGINT or SIGTERM,
 * say so, run `cleanup` once (the polite stop), and exit 130 or 143.
 */
export function cleanUpOnExit(
  command: string,
  children: ChildSet,
  dir: string,
  cleanup: () => Promise<unknown>,
): void {
  process.on('exit', () => {
    children.killAllNow();
    rmSync(dir, { recursive: true, force: true });
  });
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      console.error(`\n${command}: ${sig}: stopping`);
      void cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
    });
}

/** Wait until `child`'s recent output matches `pattern`; fails at once if it exits. */
export function waitForLine(child: Child, pattern: RegExp, timeoutMs: number): Promise<void> {
  return waitFor(
    () => {
      if (child.proc.exitCode !== null) throw new Error(`${child.name} exited: ${child.tail()}`);
      return pattern.test(child.tail());
    },
    { timeoutMs, intervalMs: 200, what: `${child.name}: ${String(pattern)}` },
  ).then(() => undefined);
}

/** The command line (after `node`) of the fleet simulator on `inventory`, its control API at `control`. */
export function simulatorArgs(inventory: string, control: string, ...extra: string[]): string[] {
  return ['--import', 'tsx', 'simulator/main.ts', '--inventory', inventory, '--control', control, ...extra];
}
