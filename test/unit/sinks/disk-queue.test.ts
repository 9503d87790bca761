import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Sample } from '../../../collector/core/types.ts';
import { BufferWriteError, DiskQueue, type DiskQueueOptions } from '../../../collector/sinks/disk-queue.ts';
import { startFsyncCounter } from '../../support/fsync-counter.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-dq-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Batch `id` of `n` samples; the batch id is in every sample so order can be checked. */
function batch(id: number, n = 3): Sample[] {
  return Array.from({ length: n }, (_, i) => ({
    measurement: 'device',
    tags: { device: `d${id}` },
    fields: { reachable: 1, poll_ms: i },
    timeMs: id * 1000 + i,
  }));
}

const idOf = (b: readonly Sample[] | undefined): string | undefined => b?.[0]?.tags.device;

function queue(over: Partial<DiskQueueOptions> = {}, drops: number[] = []): DiskQueue {
  return new DiskQueue({ dir, maxBytes: 1 << 20, onDrop: (n) => drops.push(n), ...over });
}

/** Read everything out, acking each batch; returns the batch ids in order. */
function drain(q: DiskQueue): string[] {
  const out: string[] = [];
  for (let b = q.peek(); b; b = q.peek()) {
    out.push(idOf(b.samples) ?? '?');
    q.ack(b);
  }
  return out;
}

const segments = (): string[] => readdirSync(dir).filter((n) => n.startsWith('seg-'));

/** Count the fsyncs made while `fn` runs. */
async function countingSyncs<T>(fn: () => Promise<T>): Promise<{ result: T; syncs: number }> {
  const fsyncs = await startFsyncCounter();
  try {
    const result = await fn();
    return { result, syncs: fsyncs.count };
  } finally {
    fsyncs.stop();
  }
}

describe('DiskQueue', () => {
  it('is a FIFO across segments and deletes a segment once it is read', () => {
    const q = queue({ segmentBytes: 600 });
    for (let i = 1; i <= 6; i++) q.append(batch(i));
    expect(q.samples).toBe(18);
    expect(segments().length).toBeGreaterThan(1);
    expect(drain(q)).toEqual(['d1', 'd2', 'd3', 'd4', 'd5', 'd6']);
    expect(q.samples).toBe(0);
    expect(segments()).toEqual([]);
  });

  it('nack leaves the batch at the head; peek returns the same batch until it is acked', () => {
    const q = queue();
    q.append(batch(1));
    q.append(batch(2));
    const first = q.peek();
    expect(q.peek()).toBe(first);
    q.nack(first!);
    expect(idOf(q.peek()?.samples)).toBe('d1');
    expect(q.samples).toBe(6);
  });

  it('past maxBytes drops the oldest segments and counts every dropped sample exactly', () => {
    const drops: number[] = [];
    const q = queue({ maxBytes: 4096, segmentBytes: 512 }, drops);
    const appended = 60;
    for (let i = 1; i <= appended; i++) q.append(batch(i));
    expect(q.bytes).toBeLessThanOrEqual(4096);
    expect(q.dropped).toBeGreaterThan(0);
    expect(drops.reduce((a, b) => a + b, 0)).toBe(q.dropped);
    const left = drain(q);
    // What is left is the newest batches, in order, and nothing is lost without being counted.
    expect(left.at(-1)).toBe(`d${appended}`);
    const firstLeft = Number(left[0]?.slice(1));
    expect(left).toEqual(Array.from({ length: appended - firstLeft + 1 }, (_, i) => `d${firstLeft + i}`));
    expect(left.length * 3 + q.dropped).toBe(appended * 3);
  });

  it('a single batch larger than the bound is dropped and counted', () => {
    const drops: number[] = [];
    const q = queue({ maxBytes: 200 }, drops);
    q.append(batch(1, 50));
    expect(q.samples).toBe(0);
    expect(q.dropped).toBe(50);
    expect(drops).toEqual([50]);
  });

  it('resumes after a restart where it stopped: acked batches are not read again', () => {
    const q1 = queue({ segmentBytes: 10_000 });
    for (let i = 1; i <= 4; i++) q1.append(batch(i));
    const b = q1.peek()!;
    q1.ack(b);
    // The process dies here (no close: nothing to close).
    const q2 = queue({ segmentBytes: 10_000 });
    expect(q2.samples).toBe(9);
    expect(drain(q2)).toEqual(['d2', 'd3', 'd4']);
    expect(queue().samples).toBe(0);
  });

  it('a new segment after a restart never reuses the acked sequence number', () => {
    const q1 = queue();
    q1.append(batch(1));
    q1.append(batch(2));
    q1.ack(q1.peek()!); // ack file: "1 1"
    q1.ack(q1.peek()!); // segment 1 read to the end and deleted; the ack file stays
    const q2 = queue();
    q2.append(batch(3));
    q2.append(batch(4));
    expect(drain(queue())).toEqual(['d3', 'd4']);
  });

  it('skips and counts a torn last line, and never appends after it', () => {
    const q1 = queue();
    q1.append(batch(1));
    q1.append(batch(2));
    const [seg] = segments();
    // A crash in the middle of a write: half a line, no newline.
    appendFileSync(join(dir, seg!), JSON.stringify(batch(3)).slice(0, 40));

    const q2 = queue();
    expect(q2.corrupt).toBe(1);
    expect(q2.samples).toBe(6);
    q2.append(batch(4));
    expect(segments()).toHaveLength(2);

    const q3 = queue();
    expect(q3.corrupt).toBe(1);
    expect(drain(q3)).toEqual(['d1', 'd2', 'd4']);
    expect(q3.corrupt).toBe(1); // counted once, not again when the segment is read
  });

  it('a batch in flight when its segment is dropped is counted once: written on ack', () => {
    const drops: number[] = [];
    const q = queue({ maxBytes: 2000, segmentBytes: 300 }, drops);
    q.append(batch(1));
    const inFlight = q.peek()!;
    for (let i = 2; i <= 20; i++) q.append(batch(i));
    expect(q.dropped).toBeGreaterThan(0);
    const droppedBefore = q.dropped;
    q.ack(inFlight); // it was written after all: not dropped
    expect(q.dropped).toBe(droppedBefore);
    const left = drain(q);
    expect(left).not.toContain('d1');
    expect(3 + left.length * 3 + q.dropped).toBe(60);
  });

  it('a batch in flight when its segment is dropped is counted as dropped on nack', () => {
    const q = queue({ maxBytes: 2000, segmentBytes: 300 });
    q.append(batch(1));
    const inFlight = q.peek()!;
    for (let i = 2; i <= 20; i++) q.append(batch(i));
    q.nack(inFlight);
    const left = drain(q);
    expect(left).not.toContain('d1');
    expect(left.length * 3 + q.dropped).toBe(60);
  });

  it('appendGroup: one write and one fsync per group, resolved means on disk, groups kept in order', async () => {
    const q = queue();
    const { syncs } = await countingSyncs(async () => {
      const first = q.appendGroup([batch(1), batch(2), batch(3)]);
      const second = q.appendGroup([batch(4)]); // queued behind the first, not interleaved
      expect(q.samples).toBe(0); // counted once on disk
      await Promise.all([first, second]);
    });
    expect(syncs).toBe(2);
    expect(q.samples).toBe(12);
    expect(segments()).toHaveLength(1);
    expect(drain(queue())).toEqual(['d1', 'd2', 'd3', 'd4']); // what a restart finds
  });

  it('a group larger than a segment spans segments, an fsync each, and is read back in order', async () => {
    const q = queue({ segmentBytes: 600 });
    const { syncs } = await countingSyncs(() =>
      q.appendGroup(Array.from({ length: 8 }, (_, i) => batch(i + 1))),
    );
    expect(segments().length).toBeGreaterThan(1);
    expect(syncs).toBe(segments().length);
    await q.loadHead();
    expect(drain(q)).toEqual(['d1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7', 'd8']);
    expect(segments()).toEqual([]);
  });

  it('a segment read to its end while an append to it is in progress is kept, and the new batch is read', async () => {
    const q = queue();
    await q.appendGroup([batch(1)]);
    await q.loadHead();
    const first = q.peek()!;
    const appending = q.appendGroup([batch(2)]);
    await new Promise((r) => setImmediate(r)); // the append has started: its file is being written
    q.ack(first);
    await appending;
    await q.loadHead();
    expect(drain(q)).toEqual(['d2']);
    expect(queue().samples).toBe(0);
  });

  it('a group that cannot be written rejects with BufferWriteError and the samples lost; the queue keeps the rest', async () => {
    const q = queue();
    await q.appendGroup([batch(1)]);
    rmSync(dir, { recursive: true });
    writeFileSync(dir, 'not a directory');
    const err: unknown = await q.appendGroup([batch(2), batch(3, 5)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BufferWriteError);
    expect(err).toMatchObject({ lostSamples: 8, retryable: false });
    expect((err as Error).message).toMatch(/cannot write the disk buffer/);
    expect(q.samples).toBe(3);
    rmSync(dir);
  });

  it('the synchronous append is refused while a group is being written (it would overtake it)', async () => {
    const q = queue();
    const group = q.appendGroup([batch(1)]);
    expect(() => q.append(batch(2))).toThrow(/appendGroup/);
    await group;
    q.append(batch(3));
    expect(drain(q)).toEqual(['d1', 'd3']);
  });

  it('rejects a non-positive bound', () => {
    expect(() => queue({ maxBytes: 0 })).toThrow(/maxBytes/);
  });
});
