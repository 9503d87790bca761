/**
 * Waiting for a test server to start, and saying clearly when it did not: which server, why (it exited,
 * with its code; or it did not answer by the deadline), and the tail of its output. A file's beforeAll
 * that fails prints this, so a setup failure on CI names its cause instead of "0 failed, 21 skipped".
 */
import type { ChildProcess } from 'node:child_process';

const TAIL_LINES = 20;

/** The last lines of a server's output, or a note that it printed nothing. */
export function logTail(output: string, lines = TAIL_LINES): string {
  const text = output.trim();
  if (text === '') return '(no output)';
  return text.split('\n').slice(-lines).join('\n');
}

export class TestServerStartError extends Error {
  readonly server: string;
  constructor(server: string, reason: string, output: string, opts: { cause?: unknown } = {}) {
    super(
      `${server} did not start: ${reason}\n--- last output of ${server} ---\n${logTail(output)}`,
      opts.cause === undefined ? undefined : { cause: opts.cause },
    );
    this.name = 'TestServerStartError';
    this.server = server;
  }
}

/** Keeps the last `maxChars` of a child's stdout and stderr. */
export function captureOutput(child: ChildProcess, maxChars = 8000): () => string {
  let out = '';
  const keep = (b: Buffer): void => {
    out = (out + b.toString('utf8')).slice(-maxChars);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => out;
}

/**
 * Poll `ready` until it is true. Fails at once when the process exits (naming its exit code or signal),
 * and at the deadline when it never answers; both with the server's name and its output's tail.
 */
export async function waitForServer(
  server: string,
  child: ChildProcess,
  ready: () => Promise<boolean>,
  opts: { timeoutMs: number; intervalMs?: number; output: () => string },
): Promise<void> {
  let spawnError: Error | undefined;
  const onError = (err: Error): void => {
    spawnError = err;
  };
  child.once('error', onError);
  try {
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      if (spawnError)
        throw new TestServerStartError(server, `cannot run it: ${spawnError.message}`, opts.output());
      if (child.exitCode !== null || child.signalCode !== null) {
        const how = child.signalCode ? `signal ${child.signalCode}` : `exit code ${String(child.exitCode)}`;
        throw new TestServerStartError(server, `it exited before it was ready (${how})`, opts.output());
      }
      if (await ready()) return;
      if (Date.now() > deadline)
        throw new TestServerStartError(
          server,
          `it did not answer within ${opts.timeoutMs} ms`,
          opts.output(),
        );
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
    }
  } finally {
    child.removeListener('error', onError);
  }
}
