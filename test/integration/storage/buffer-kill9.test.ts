/**
 * The writer's disk buffer under kill -9: a process spills groups of batches (DiskQueue.appendGroup, one
 * fsync per group, off the event loop) and drains them (peek, ack without fsync) at full speed, and is
 * killed with SIGKILL in the middle of it, several times. Each new process on the same folder must find every
 * batch whose group had been reported on disk and not acknowledged, in order, without a hole, and none of
 * those acknowledged (nothing acknowledged is lost, nothing acknowledged is sent again).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiskQueue } from '../../../collector/sinks/disk-queue.ts';

const dir = mkdtempSync(join(tmpdir(), 'netmon-buffer-kill9-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bufferDir = join(dir, 'buffer');
const script = join(dir, 'spiller.mts');
const queueModule = new URL('../../../collector/sinks/disk-queue.ts', import.meta.url).pathname;

/** Ids go up across runs: each run starts after the highest id the previous runs could have written. */
writeFileSync(
  script,
  `import { DiskQueue } from ${JSON.stringify(queueModule)};
const q = new DiskQueue({ dir: ${JSON.stringify(bufferDir)}, maxBytes: 1 << 30, segmentBytes: 64 * 1024 });
let next = Number(process.argv[2]);
const batch = (id) => Array.from({ length: 20 }, (_, i) => ({
  measurement: 'device', tags: { device: 'd' + id }, fields: { reachable: 1, poll_ms: i }, timeMs: id * 100 + i,
}));
const say = (line) => process.stdout.write(line + '\\n');
// Spill: groups of 1-8 batches, one after the other, each reported once it has resolved (on disk).
const spill = async () => {
  for (;;) {
    const ids = Array.from({ length: 1 + Math.floor(Math.random() * 8) }, () => next++);
    await q.appendGroup(ids.map(batch));
    say('a ' + ids.join(' '));
  }
};
// Drain: the oldest batch, acknowledged and reported, as the writer does once the database answers.
const drain = async () => {
  for (;;) {
    await q.loadHead();
    const b = q.peek();
    if (b) {
      const id = b.samples[0].tags.device.slice(1);
      say('p ' + id); // about to acknowledge: a kill may come before or after the ack
      q.ack(b);
      say('k ' + id);
    }
    await new Promise((r) => setImmediate(r));
  }
};
void spill();
void drain();
`,
);

interface Run {
  appended: number[];
  acked: number[];
  /** The batch being acknowledged when the kill came, if any: it may or may not be read again. */
  acking: number | undefined;
}

async function runAndKill(firstId: number, lines: number): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, String(firstId)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const run: Run = { appended: [], acked: [], acking: undefined };
  let rest = '';
  let seen = 0;
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the spiller exited by itself (${code})`)));
    child.stdout.on('data', (b: Buffer) => {
      const parts = (rest + b.toString()).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        const [kind, ...ids] = line.split(' ');
        if (kind === 'a') run.appended.push(...ids.map(Number));
        else if (kind === 'p') run.acking = Number(ids[0]);
        else if (kind === 'k') {
          run.acked.push(Number(ids[0]));
          run.acking = undefined;
        }
        if (++seen === lines) resolve();
      }
    });
  });
  child.removeAllListeners('exit');
  // Every line the child wrote before it died is read (its stdout closes after that), then the files.
  const drained = new Promise((r) => child.stdout.once('close', r));
  child.kill('SIGKILL');
  await Promise.all([drained, new Promise((r) => child.once('exit', r))]);
  return run;
}

/** What a new process finds, read to the end and acknowledged (so the next run starts empty-handed). */
function readBack(): { ids: number[]; samples: number } {
  const q = new DiskQueue({ dir: bufferDir, maxBytes: 1 << 30, segmentBytes: 64 * 1024 });
  const samples = q.samples;
  const ids: number[] = [];
  for (let b = q.peek(); b; b = q.peek()) {
    ids.push(Number(b.samples[0]?.tags.device?.slice(1)));
    q.ack(b);
  }
  return { ids, samples };
}

describe('disk buffer under kill -9', () => {
  it('keeps every batch on disk and not acknowledged, in order, and none acknowledged', async () => {
    let firstId = 0;
    let leftover: number[] = [];
    for (let round = 0; round < 4; round++) {
      const run = await runAndKill(firstId, 300 + round * 150);
      expect(run.appended.length, 'the spiller reported appends').toBeGreaterThan(0);
      expect(run.acked.length, 'the spiller reported acks').toBeGreaterThan(0);
      const back = readBack();
      const found = new Set(back.ids);
      const acked = new Set(run.acked);
      for (const id of run.acked) expect(found.has(id), `acknowledged ${id} read again`).toBe(false);
      for (const id of run.appended)
        if (!acked.has(id) && id !== run.acking) expect(found.has(id), `appended ${id} lost`).toBe(true);
      // In order and without a hole: from the first not acknowledged on.
      const start = back.ids[0];
      if (start !== undefined)
        expect(back.ids).toEqual(Array.from({ length: back.ids.length }, (_, i) => start + i));
      expect(back.samples).toBe(back.ids.length * 20);
      // What the previous round left was read back then; this round never saw it.
      for (const id of leftover) expect(found.has(id)).toBe(false);
      leftover = back.ids;
      firstId = Math.max(firstId, ...run.appended, ...back.ids) + 1000;
    }
  }, 120_000);
});
