import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { SinkError } from '../../../collector/core/errors.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { Sample } from '../../../collector/core/types.ts';
import { PartialWriteError, type SampleSink } from '../../../collector/sinks/sink.ts';
import { SampleWriter, type SampleWriterOptions } from '../../../collector/sinks/writer.ts';
import { startFsyncCounter } from '../../support/fsync-counter.ts';

/** A sink whose behaviour the test sets: 'ok', a retryable outage, or an error thrown per call. */
class FakeSink implements SampleSink {
  readonly name = 'fake';
  readonly written: Sample[] = [];
  attempts = 0;
  fail: (() => Error) | undefined;
  startError: Error | undefined;
  closed = false;
  async start(): Promise<void> {
    if (this.startError) throw this.startError;
  }
  async write(batch: readonly Sample[]): Promise<void> {
    this.attempts++;
    await Promise.resolve();
    if (this.fail) throw this.fail();
    this.written.push(...batch);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

const down = (): Error =>
  new SinkError('econnrefused', 'connect ECONNREFUSED 127.0.0.1:8086', { retryable: true });

let dir: string;
let seq = 0;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-writer-unit-'));
  seq = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** `n` valid device samples with increasing timestamps (the order they were pushed in). */
function samples(n: number): Sample[] {
  return Array.from({ length: n }, () => ({
    measurement: 'device',
    tags: { device: 'r1' },
    fields: { reachable: 1, poll_ms: 1.5 },
    timeMs: ++seq,
  }));
}

function setup(over: Partial<SampleWriterOptions> = {}) {
  const clock = new FakeClock();
  const sink = new FakeSink();
  const log = memoryLogger('debug');
  const opts: SampleWriterOptions = {
    sink,
    clock,
    log,
    batchSize: 10,
    flushIntervalMs: 1000,
    bufferDir: join(dir, 'buffer'),
    maxBufferBytes: 1 << 20,
    retry: { attempts: Infinity, baseMs: 1000, maxMs: 4000 },
    random: () => 1,
    ...over,
  };
  const w = new SampleWriter(opts);
  /** Let pending promise chains (the fake sink's writes) run, and the disk buffer's writes finish. */
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    await w.whenIdle();
  };
  /** Advance fake time tick by tick, letting each flush finish. */
  const run = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t += 1000) {
      clock.advance(Math.min(1000, ms - t));
      await settle();
    }
  };
  return { w, sink, clock, log, opts, settle, run };
}

const times = (s: readonly Sample[]): number[] => s.map((x) => x.timeMs);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe('SampleWriter', () => {
  it('writes a batch as soon as batchSize is reached and the rest every flushIntervalMs', async () => {
    const { w, sink, settle, run } = setup();
    await w.start();
    w.push(samples(25));
    await settle();
    expect(sink.written).toHaveLength(20);
    expect(w.stats()).toMatchObject({ written: 20, buffered: 5 });
    await run(1000);
    expect(times(sink.written)).toEqual(range(25));
    expect(w.stats()).toMatchObject({ written: 25, buffered: 0, dropped: 0, failures: 0 });
    await w.stop();
  });

  it('a retryable failure buffers to disk, backs off, then drains disk first and memory after, in order', async () => {
    const { w, sink, run, settle, opts } = setup();
    await w.start();
    sink.fail = down;
    w.push(samples(10));
    await settle();
    expect(sink.attempts).toBe(1);
    expect(w.stats()).toMatchObject({ written: 0, buffered: 10, failures: 1 });
    expect(w.stats().lastError).toMatch(/ECONNREFUSED/);
    expect(readdirSync(opts.bufferDir).some((f) => f.startsWith('seg-'))).toBe(true);

    // While down: pushes only buffer, and attempts follow the backoff (not one per push or per tick).
    for (let i = 0; i < 10; i++) {
      w.push(samples(10));
      await run(1000);
    }
    expect(w.stats().buffered).toBe(110);
    // random() = 1: delays of 1, 2, 4, 4 s (maxMs) → attempts at t = 0, 1, 3, 7 s.
    expect(sink.attempts).toBe(4);

    sink.fail = undefined;
    w.push(samples(5));
    await run(5000);
    expect(times(sink.written)).toEqual(range(115)); // each exactly once, oldest first
    expect(w.stats()).toMatchObject({ written: 115, buffered: 0, dropped: 0 });
    await w.stop();
  });

  it('honours a Retry-After longer than the backoff', async () => {
    const { w, sink, run, settle } = setup();
    await w.start();
    sink.fail = () => new SinkError('http_429', 'HTTP 429', { retryable: true, retryAfterMs: 30_000 });
    w.push(samples(10));
    await settle();
    expect(sink.attempts).toBe(1);
    await run(29_000);
    expect(sink.attempts).toBe(1);
    sink.fail = undefined;
    await run(2000);
    expect(sink.written).toHaveLength(10);
    await w.stop();
  });

  it('a non-retryable rejection drops that batch (counted, logged with the reason) and the next goes on', async () => {
    const { w, sink, settle, log } = setup();
    await w.start();
    sink.fail = () => new SinkError('http_400', 'HTTP 400: unable to parse', { retryable: false });
    w.push(samples(10));
    await settle();
    sink.fail = undefined;
    w.push(samples(10));
    await settle();
    expect(sink.attempts).toBe(2);
    expect(times(sink.written)).toEqual(range(20).slice(10));
    expect(w.stats()).toMatchObject({ written: 10, dropped: 10, buffered: 0, failures: 1 });
    const rec = log.records.find((r) => r.level === 'error');
    expect(rec).toMatchObject({ samples: 10, code: 'http_400', error: 'HTTP 400: unable to parse' });
    await w.stop();
  });

  it('a partial write counts the rejected points as dropped and the rest as written, without resending', async () => {
    const { w, sink, settle } = setup();
    await w.start();
    sink.fail = () => new PartialWriteError('partial write: field type conflict dropped=3', 3);
    w.push(samples(10));
    await settle();
    sink.fail = undefined;
    await settle();
    expect(sink.attempts).toBe(1);
    expect(w.stats()).toMatchObject({ written: 7, dropped: 3, buffered: 0 });
    await w.stop();
  });

  it('invalid samples are counted and logged with the reason; the valid ones in the same push are written', async () => {
    const { w, sink, settle, log } = setup();
    await w.start();
    const [a, b] = samples(2);
    w.push([a!, { ...b!, fields: { reachable: 'yes' } }, { ...a!, measurement: 'nope' }]);
    await w.stop();
    await settle();
    expect(sink.written).toEqual([a]);
    expect(w.stats()).toMatchObject({ written: 1, invalid: 2, dropped: 0 });
    const rec = log.records.find((r) => r.msg === 'invalid samples dropped');
    expect(rec).toMatchObject({ samples: 2, invalidTotal: 2 });
    expect(String(rec?.reason)).toMatch(/device\.reachable: expected integer/);
  });

  it('invalid samples every poll: a burst of log lines, then one summary a minute, every sample counted', async () => {
    const { w, run, log } = setup();
    await w.start();
    const bad = { ...samples(1)[0]!, fields: { reachable: 0.5 } };
    for (let i = 0; i < 200; i++) {
      w.push([bad]);
      if (i % 10 === 9) await run(1000);
    }
    await w.stop();
    const lines = log.records.filter((r) => r.msg === 'invalid samples dropped');
    expect(lines.length).toBeLessThan(30);
    const logged = lines.reduce((n, r) => n + Number(r.samples), 0);
    expect(logged).toBe(200);
    expect(w.stats().invalid).toBe(200);
  });

  it('stop() writes what it can and persists the rest; the next writer resumes it', async () => {
    const first = setup();
    await first.w.start();
    first.sink.fail = down;
    first.w.push(samples(37));
    await first.w.stop();
    expect(first.w.stats()).toMatchObject({ written: 0, buffered: 37 });
    expect(first.sink.closed).toBe(true);
    first.w.push(samples(3)); // after stop: straight to disk, not lost in memory

    const second = setup();
    expect(second.w.stats().buffered).toBe(40);
    expect(second.log.records.some((r) => r.msg === 'resuming buffered samples')).toBe(true);
    await second.w.start();
    await second.run(1000);
    expect(times(second.sink.written)).toEqual(range(40));
    expect(second.w.stats()).toMatchObject({ written: 40, buffered: 0 });
    await second.w.stop();
    expect(setup().w.stats().buffered).toBe(0);
  });

  it('stop() writes for at most stopTimeoutMs; the backlog left stays on disk', async () => {
    const { w, sink, clock, settle } = setup({ stopTimeoutMs: 5000 });
    await w.start();
    sink.fail = down;
    w.push(samples(200));
    await settle();
    sink.fail = undefined;
    // A slow database: every write takes 1 s.
    const write = sink.write.bind(sink);
    sink.write = async (batch) => {
      clock.advance(1000);
      await write(batch);
    };
    await w.stop();
    expect(w.stats()).toMatchObject({ written: 50, buffered: 150 });
    expect(times(sink.written)).toEqual(range(50));
  });

  it('memory is bounded: past maxMemorySamples, samples spill to disk and are still written in order', async () => {
    const { w, sink, run, settle } = setup({ maxMemorySamples: 30, batchSize: 10 });
    // Not started: nothing is written, so memory would grow without the bound.
    for (let i = 0; i < 10; i++) w.push(samples(10));
    expect(w.stats().buffered).toBe(100);
    await settle(); // the spill is asynchronous
    // Only the overflow went to disk, whole batches, oldest first; the newest 30 stay in memory.
    expect(w.stats()).toMatchObject({ buffered: 100, onDisk: 70 });
    expect(readdirSync(join(dir, 'buffer')).some((f) => f.startsWith('seg-'))).toBe(true);
    await w.start();
    await run(1000);
    expect(times(sink.written)).toEqual(range(100));
    await w.stop();
  });

  it('congested while more than twice its memory bound waits for the disk; not once the spill caught up', async () => {
    const { w, settle } = setup({ maxMemorySamples: 30, batchSize: 10 });
    // Not started (nothing written): 70 samples in one go, the overflow on its way to disk.
    w.push(samples(70));
    expect(w.congested()).toBe(true); // 70 in memory > 2 x 30: polls would be held (scheduler/admission.ts)
    await settle();
    expect(w.stats()).toMatchObject({ buffered: 70, onDisk: 40 });
    expect(w.congested()).toBe(false); // 30 in memory: at its bound, not past it
    w.push(samples(30));
    expect(w.congested()).toBe(false); // 60: spilling, within twice the bound
    await settle();
    await w.stop();
  });

  it('while the sink is down, what a flush tick spills goes to disk as one group: one fsync', async () => {
    const { w, sink, settle, run } = setup();
    await w.start();
    sink.fail = down;
    w.push(samples(10));
    await settle();
    w.push(samples(35)); // 3 full batches and 5 more, in memory until the next tick
    const fsyncs = await startFsyncCounter();
    try {
      await run(1000);
    } finally {
      fsyncs.stop();
    }
    expect(fsyncs.count).toBe(1);
    expect(w.stats()).toMatchObject({ buffered: 45, onDisk: 45 });
    sink.fail = undefined;
    await run(5000);
    expect(times(sink.written)).toEqual(range(45));
    await w.stop();
  });

  it('a slow sink: memory keeps the newest samples, the overflow waits on disk, all written once in order', async () => {
    const { w, sink } = setup({ maxMemorySamples: 30, batchSize: 10 });
    await w.start();
    // Every write waits until the test lets it finish: the database is slow, not down.
    const gates: (() => void)[] = [];
    const write = sink.write.bind(sink);
    sink.write = async (batch) => {
      await new Promise<void>((r) => gates.push(r));
      await write(batch);
    };
    w.push(samples(10)); // a full batch: its write starts and hangs
    await vi.waitFor(() => expect(gates).toHaveLength(1));
    w.push(samples(50)); // 50 in memory, bound 30: the oldest 20 spill (the disk write is asynchronous)
    await vi.waitFor(() => expect(w.stats().onDisk).toBe(20));
    expect(w.stats()).toMatchObject({ written: 0, buffered: 60, failures: 0 });
    while (w.stats().written < 60) {
      const before = w.stats().written;
      gates.shift()?.();
      await vi.waitFor(() => expect(w.stats().written).toBeGreaterThan(before));
    }
    expect(times(sink.written)).toEqual(range(60));
    expect(w.stats()).toMatchObject({ written: 60, buffered: 0, dropped: 0, onDisk: 0 });
    await w.stop();
  });

  it('the disk bound drops the oldest samples, counted exactly, and logs the counts', async () => {
    const { w, sink, run, log } = setup({ maxBufferBytes: 8 * 1024 });
    await w.start();
    sink.fail = down;
    for (let i = 0; i < 40; i++) {
      w.push(samples(10));
      await run(1000);
    }
    expect(w.stats().dropped).toBeGreaterThan(0);
    sink.fail = undefined;
    await run(5000);
    const s = w.stats();
    expect(s.buffered).toBe(0);
    expect(s.written + s.dropped).toBe(400);
    expect(sink.written).toHaveLength(s.written);
    expect(times(sink.written)).toEqual(range(400).slice(400 - s.written)); // the newest survive
    const drops = log.records.filter((r) => r.msg === 'samples dropped');
    expect(drops.reduce((n, r) => n + Number(r.samples), 0)).toBe(s.dropped);
    await w.stop();
  });

  it('a disk buffer that cannot be written: push does not throw, the samples are counted as dropped', async () => {
    const { w, sink, settle, log } = setup();
    await w.start();
    sink.fail = down;
    w.push(samples(10));
    await settle();
    rmSync(join(dir, 'buffer'), { recursive: true });
    writeFileSync(join(dir, 'buffer'), 'not a directory');
    expect(() => w.push(samples(10))).not.toThrow();
    await w.stop();
    expect(w.stats().dropped).toBeGreaterThanOrEqual(10);
    expect(log.records.some((r) => r.msg === 'samples dropped: cannot write the disk buffer')).toBe(true);
  });

  it('starts while the database is away (retryable) but not with a wrong configuration', async () => {
    const a = setup();
    a.sink.startError = down();
    await expect(a.w.start()).resolves.toBeUndefined();
    a.w.push(samples(10));
    await a.settle();
    expect(a.w.stats().buffered).toBe(10);
    await a.w.stop();

    const b = setup();
    b.sink.startError = new SinkError('http_401', 'HTTP 401: authorization failed', { retryable: false });
    await expect(b.w.start()).rejects.toThrow(/401/);
  });

  it('rejects nonsense options', () => {
    expect(() => setup({ batchSize: 0 })).toThrow(/batchSize/);
    expect(() => setup({ flushIntervalMs: 0 })).toThrow(/flushIntervalMs/);
    expect(() => setup({ maxMemorySamples: 5 })).toThrow(/maxMemorySamples/);
  });
});
