/** A test server that fails to start says which one, why, and the tail of its output. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { captureOutput, logTail, TestServerStartError, waitForServer } from '../../support/server-start.ts';

describe('waitForServer', () => {
  it('fails at once when the server exits, with its name, exit code and last output', async () => {
    const child = spawn(
      'sh',
      ['-c', 'for i in 1 2 3 4 5; do echo "line $i"; done; echo "bind: address in use" >&2; exit 3'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const output = captureOutput(child);
    const started = Date.now();
    const err = await waitForServer('fakesrv on 127.0.0.1:1', child, () => Promise.resolve(false), {
      timeoutMs: 20_000,
      output,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TestServerStartError);
    const msg = (err as Error).message;
    expect(msg).toMatch(
      /^fakesrv on 127\.0\.0\.1:1 did not start: it exited before it was ready \(exit code 3\)/,
    );
    expect(msg).toContain('--- last output of fakesrv on 127.0.0.1:1 ---');
    expect(msg).toContain('bind: address in use');
    expect(msg).toContain('line 5');
    // It did not wait for the deadline.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('fails at the deadline when the server never answers, then the caller kills it', async () => {
    const child = spawn('sh', ['-c', 'echo "starting up"; exec sleep 30'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = captureOutput(child);
    try {
      await expect(
        waitForServer('slowsrv', child, () => Promise.resolve(false), {
          timeoutMs: 300,
          intervalMs: 20,
          output,
        }),
      ).rejects.toThrow(
        /slowsrv did not start: it did not answer within 300 ms\n--- last output of slowsrv ---\nstarting up/,
      );
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('names a binary that cannot run', async () => {
    const child = spawn('/nonexistent/netmon-server', [], { stdio: ['ignore', 'pipe', 'pipe'] });
    await expect(
      waitForServer('ghost', child, () => Promise.resolve(false), { timeoutMs: 5000, output: () => '' }),
    ).rejects.toThrow(/ghost did not start: (cannot run it: .*ENOENT|it exited before it was ready)/);
  });

  it('returns once the server answers', async () => {
    const child = spawn('sh', ['-c', 'exec sleep 30'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let calls = 0;
    try {
      await waitForServer('oksrv', child, () => Promise.resolve(++calls >= 3), {
        timeoutMs: 5000,
        intervalMs: 10,
        output: captureOutput(child),
      });
      expect(calls).toBe(3);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('logTail', () => {
  it('keeps the last lines and says when there was no output', () => {
    const many = Array.from({ length: 50 }, (_, i) => `l${i}`).join('\n');
    expect(logTail(many, 3)).toBe('l47\nl48\nl49');
    expect(logTail('  \n')).toBe('(no output)');
  });
});
