/**
 * SampleWriter: takes samples from the pipeline without ever blocking it, and gets them into the
 * database in batches — or, while the database is away, into the bounded on-disk buffer, from which they
 * are written, oldest first, once it is back.
 *
 *   push() ─► validate ─► memory (bounded) ─► flush every flushIntervalMs or batchSize ─► sink.write()
 *                │                 │                                                        │ retryable failure
 *                ▼                 └── spill while the sink is down, or the overflow ────► DiskQueue ◄┘
 *          invalid: counted, logged    past the memory bound (group commit, async)   drains first when back
 *
 * Spilling is cheap and off the event loop (issue #14: a writer that falls behind must not get slower per
 * sample, nor stall the polls sharing its event loop): while the sink is slow, memory keeps the newest
 * maxMemorySamples and only the oldest overflow goes to disk, a batch at a time; the batches handed over
 * while the previous group is being written go to disk together, in one write and one fsync
 * (DiskQueue.appendGroup, on libuv's thread pool). While the sink is down, everything in memory goes to
 * disk at every flush tick, so a crash then loses at most one flush interval of samples.
 * Memory past twice its bound (the spill itself falls behind) is congestion(): polls are held until the
 * disk has caught up (scheduler/admission.ts, which also holds them while the event loop is full).
 *
 * Order: oldest first (disk, then what is on its way to disk, then memory), except a batch whose write
 * failed while newer samples were already being spilled: it is written after them.
 *
 * Accounting: every pushed sample ends up counted exactly once as written, invalid or dropped (buffer
 * bound, or a non-retryable rejection by the server), or is still buffered. Nothing is silent.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { errorMessage, isRetryable, NetmonError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { backoffMs, type RetryPolicy } from '../core/retry.ts';
import type { Sample } from '../core/types.ts';
import type { SampleWriterLike, WriterStats } from '../pipeline.ts';
import { BufferWriteError, DiskQueue, type QueuedBatch } from './disk-queue.ts';
import { PartialWriteError, type SampleSink } from './sink.ts';
import { validateSample } from './validate.ts';

export interface SampleWriterOptions {
  readonly sink: SampleSink;
  readonly clock: Clock;
  readonly log: Logger;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly bufferDir: string;
  readonly maxBufferBytes: number;
  /** Samples held in memory before they spill to disk (default 20 batches). */
  readonly maxMemorySamples?: number | undefined;
  /** Backoff between attempts to reach a sink that is down. */
  readonly retry?: RetryPolicy | undefined;
  /** stop() writes for at most this long (default 10 s); what is left stays on disk for the next start. */
  readonly stopTimeoutMs?: number | undefined;
  /** Jitter source for the backoff (tests pin it). */
  readonly random?: (() => number) | undefined;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: Infinity, baseMs: 500, maxMs: 30_000 };

/** Invalid samples: the first few are logged one by one, then one summary per interval. */
const INVALID_LOG_BURST = 20;
const INVALID_LOG_INTERVAL_MS = 60_000;

export class SampleWriter implements SampleWriterLike {
  readonly #o: SampleWriterOptions;
  readonly #disk: DiskQueue;
  readonly #maxMemory: number;
  #pending: Sample[] = [];
  /** Samples taken from #pending and being written right now (still counted as buffered). */
  #inFlight = 0;
  /** Batches taken from memory for the disk buffer, oldest first, waiting for the next group commit. */
  #spillQueue: Sample[][] = [];
  /** Samples in #spillQueue and in the group being written to disk (still counted as buffered). */
  #spilling = 0;
  #spillTask: Promise<void> | undefined;
  #timer: TimerHandle | undefined;
  #flushing: Promise<void> | undefined;
  #running = false;
  #stopped = false;
  /** Set by stop(): flushing ends at this time, the rest is kept on disk. */
  #stopBy: number | undefined;
  /** The sink failed with a retryable error: no writes before #retryAt. */
  #down = false;
  #retryAt = 0;
  #attempt = 0;
  #stats = { written: 0, dropped: 0, invalid: 0, failures: 0 };
  #lastError: string | undefined;
  #invalidLogged = 0;
  #invalidUnlogged = 0;
  #invalidLastLogAt = -Infinity;
  #invalidLastReason = '';

  constructor(opts: SampleWriterOptions) {
    if (!(opts.batchSize >= 1)) throw new RangeError('SampleWriter: batchSize must be >= 1');
    if (!(opts.flushIntervalMs > 0)) throw new RangeError('SampleWriter: flushIntervalMs must be > 0');
    if (opts.maxMemorySamples !== undefined && !(opts.maxMemorySamples >= opts.batchSize)) {
      throw new RangeError('SampleWriter: maxMemorySamples must be >= batchSize');
    }
    this.#o = opts;
    this.#maxMemory = opts.maxMemorySamples ?? opts.batchSize * 20;
    this.#disk = new DiskQueue({
      dir: opts.bufferDir,
      maxBytes: opts.maxBufferBytes,
      onDrop: (n, reason) => {
        this.#stats.dropped += n;
        opts.log.warn('samples dropped', {
          samples: n,
          reason,
          droppedTotal: this.#stats.dropped,
          bufferedSamples: this.#disk.samples,
          bufferedBytes: this.#disk.bytes,
        });
      },
    });
    if (this.#disk.samples > 0) {
      opts.log.info('resuming buffered samples', { samples: this.#disk.samples, dir: opts.bufferDir });
    }
    if (this.#disk.corrupt > 0) {
      opts.log.warn('skipped unreadable buffer lines (torn write before a crash)', {
        lines: this.#disk.corrupt,
        dir: opts.bufferDir,
      });
    }
  }

  /** Reach the sink; if it is away (a retryable error) start anyway: samples buffer until it is back. */
  async start(): Promise<void> {
    try {
      await this.#o.sink.start();
    } catch (err) {
      if (!isRetryable(err)) throw err;
      this.#markDown(err);
    }
    this.#running = true;
    this.#stopped = false;
    this.#arm();
  }

  push(samples: readonly Sample[]): void {
    if (samples.length === 0) return;
    // Validated straight into the buffer: no valid/invalid arrays per push (one push per device poll).
    let invalid = 0;
    let firstReason = '';
    for (const sample of samples) {
      const v = validateSample(sample);
      if (v.ok) {
        this.#pending.push(sample);
      } else if (invalid++ === 0) {
        firstReason = v.reason;
      }
    }
    if (invalid > 0) this.#countInvalid(invalid, firstReason);
    if (this.#stopped) {
      // After stop(): straight to disk, before push() returns (nothing is left to write it later).
      if (this.#spillTask || this.#flushing) this.#spillAll();
      else this.#spillNow();
      return;
    }
    if (this.#pending.length > this.#maxMemory) this.#spillOverflow();
    if (this.#running && this.#pending.length >= this.#o.batchSize && !this.#down) void this.#flush(false);
  }

  /**
   * More samples in memory, neither written nor on disk, than twice the memory bound: the spill to disk
   * does not keep up (a slow disk, or an event loop too busy to feed it). Polls are held meanwhile
   * (scheduler/admission.ts), which bounds the writer's memory whatever the database does.
   */
  congested(): boolean {
    return this.#pending.length + this.#inFlight + this.#spilling > 2 * this.#maxMemory;
  }

  stats(): WriterStats {
    return {
      ...this.#stats,
      buffered: this.#pending.length + this.#inFlight + this.#spilling + this.#disk.samples,
      onDisk: this.#disk.samples,
      lastError: this.#lastError,
    };
  }

  /** Resolves once no flush and no spill to disk is in progress (for tests and benchmarks). */
  async whenIdle(): Promise<void> {
    while (this.#flushing || this.#spillTask) await (this.#flushing ?? this.#spillTask);
  }

  /** Write what can be written now. Never rejects; concurrent calls share one flush. */
  flush(): Promise<void> {
    return this.#flush(true);
  }

  /** `all`: also the last, partial batch (timer, stop); otherwise full batches only (batchSize reached). */
  #flush(all: boolean): Promise<void> {
    this.#flushing ??= this.#flushLoop(all)
      .catch((err: unknown) => {
        // The disk buffer failed under us (deleted, unreadable): say so; the next tick tries again.
        this.#lastError = errorMessage(err);
        this.#o.log.error('flush failed', { error: errorMessage(err), dir: this.#o.bufferDir });
      })
      .finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  /** Stop the timer, write what the sink takes, keep the rest on disk for the next start. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#stopped = true;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stopBy = this.#o.clock.now() + (this.#o.stopTimeoutMs ?? 10_000);
    await this.#flushing;
    this.#retryAt = 0; // one last try, even while the sink is down
    await this.flush();
    this.#stopBy = undefined;
    this.#spillAll();
    await this.#spillDone();
    this.#logInvalidSummary(true);
    if (this.#disk.samples > 0) {
      this.#o.log.warn('samples kept on disk for the next start', {
        samples: this.#disk.samples,
        dir: this.#o.bufferDir,
      });
    }
    await this.#o.sink.close();
  }

  #arm(): void {
    if (!this.#running) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#logInvalidSummary(false);
      void this.flush().finally(() => this.#arm());
    }, this.#o.flushIntervalMs);
  }

  /** Everything in memory on its way to disk, in order, a batch per line. */
  #spillAll(): void {
    while (this.#pending.length > 0) this.#queueSpill(this.#pending.splice(0, this.#o.batchSize));
    this.#startSpill();
  }

  /** Memory over its bound: the oldest samples, whole batches, on their way to disk; the newest stay. */
  #spillOverflow(): void {
    while (this.#pending.length > this.#maxMemory) {
      this.#queueSpill(this.#pending.splice(0, this.#o.batchSize));
    }
    this.#startSpill();
  }

  #queueSpill(batch: Sample[]): void {
    this.#spillQueue.push(batch);
    this.#spilling += batch.length;
  }

  /**
   * One group commit at a time (#spillTask: the group being written); what is queued meanwhile goes in
   * the next group, started as soon as this one is on disk.
   */
  #startSpill(): void {
    if (this.#spillTask || this.#spillQueue.length === 0) return;
    const group = this.#spillQueue;
    this.#spillQueue = [];
    this.#spillTask = this.#spillGroup(group).finally(() => {
      this.#spillTask = undefined;
      this.#startSpill();
    });
  }

  async #spillGroup(group: readonly Sample[][]): Promise<void> {
    const samples = group.reduce((n, b) => n + b.length, 0);
    try {
      await this.#disk.appendGroup(group);
    } catch (err) {
      this.#diskFailed(err instanceof BufferWriteError ? err.lostSamples : samples, err);
    } finally {
      this.#spilling -= samples;
    }
  }

  /** Until everything handed to the disk buffer is on disk (or counted as dropped). */
  async #spillDone(): Promise<void> {
    while (this.#spillTask) await this.#spillTask;
  }

  /** Synchronously, for push() after stop(): the process may exit right after. */
  #spillNow(): void {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#o.batchSize);
      try {
        this.#disk.append(batch);
      } catch (err) {
        this.#diskFailed(batch.length, err);
      }
    }
  }

  /** Disk full or not writable: these samples cannot be kept. Count them; push() never throws. */
  #diskFailed(samples: number, err: unknown): void {
    this.#stats.dropped += samples;
    this.#lastError = errorMessage(err);
    this.#o.log.error('samples dropped: cannot write the disk buffer', {
      samples,
      droppedTotal: this.#stats.dropped,
      dir: this.#o.bufferDir,
      error: errorMessage(err),
    });
  }

  async #flushLoop(all: boolean): Promise<void> {
    if (this.#down && this.#o.clock.now() < this.#retryAt) {
      this.#spillAll(); // keep memory bounded and the samples safe while waiting
      return;
    }
    while (!this.#pastStop()) {
      const queued = await this.#oldestOnDisk();
      if (queued) {
        if (!(await this.#write(queued.samples))) {
          this.#disk.nack(queued);
          this.#spillAll();
          return;
        }
        this.#disk.ack(queued);
        continue;
      }
      if (this.#pending.length < (all ? 1 : this.#o.batchSize)) return;
      const batch = this.#pending.splice(0, this.#o.batchSize);
      this.#inFlight = batch.length;
      const done = await this.#write(batch);
      this.#inFlight = 0;
      if (!done) {
        // Ahead of what memory still holds; behind a group that was already being spilled, if any.
        this.#spillQueue.unshift(batch);
        this.#spilling += batch.length;
        this.#spillAll();
        return;
      }
    }
  }

  /**
   * Oldest first: what waits on disk, then what is on its way there (waited for only when the disk has
   * nothing else: a group being fsync'd does not hold up the batches before it, and the writer waits for
   * one group, not until spilling stops, which it may not while the sink is slow), then memory.
   */
  async #oldestOnDisk(): Promise<QueuedBatch | undefined> {
    for (;;) {
      await this.#disk.loadHead();
      const queued = this.#disk.peek();
      if (queued || !this.#spillTask) return queued;
      await this.#spillTask;
    }
  }

  #pastStop(): boolean {
    return this.#stopBy !== undefined && this.#o.clock.now() >= this.#stopBy;
  }

  /** true when the batch is done with (written, or rejected for good); false when it must wait. */
  async #write(batch: readonly Sample[]): Promise<boolean> {
    try {
      await this.#o.sink.write(batch);
      this.#stats.written += batch.length;
      if (this.#down) {
        this.#o.log.info('database reachable again', {
          sink: this.#o.sink.name,
          buffered: this.stats().buffered,
        });
      }
      this.#down = false;
      this.#attempt = 0;
      return true;
    } catch (err) {
      this.#stats.failures++;
      this.#lastError = errorMessage(err);
      if (err instanceof PartialWriteError) {
        const dropped = Math.min(batch.length, err.droppedSamples);
        this.#stats.written += batch.length - dropped;
        this.#stats.dropped += dropped;
        this.#o.log.warn('database rejected part of a batch; those samples dropped', {
          samples: dropped,
          droppedTotal: this.#stats.dropped,
          error: err.message,
        });
        return true;
      }
      if (isRetryable(err)) {
        this.#markDown(err);
        return false;
      }
      this.#stats.dropped += batch.length;
      this.#o.log.error('database rejected a batch; dropped (retrying cannot help)', {
        samples: batch.length,
        droppedTotal: this.#stats.dropped,
        code: err instanceof NetmonError ? err.code : undefined,
        error: errorMessage(err),
      });
      return true;
    }
  }

  #markDown(err: unknown): void {
    const delay = Math.max(
      backoffMs(this.#attempt, this.#o.retry ?? DEFAULT_RETRY, this.#o.random),
      err instanceof NetmonError ? (err.retryAfterMs ?? 0) : 0,
    );
    if (!this.#down) {
      this.#o.log.warn('database unreachable; buffering samples on disk', {
        sink: this.#o.sink.name,
        error: errorMessage(err),
      });
    }
    this.#down = true;
    this.#attempt++;
    this.#retryAt = this.#o.clock.now() + delay;
    this.#lastError = errorMessage(err);
  }

  /** A device sending garbage every poll must not flood the log: a burst, then a summary a minute. */
  #countInvalid(n: number, reason: string): void {
    this.#stats.invalid += n;
    this.#invalidLastReason = reason;
    if (this.#invalidLogged < INVALID_LOG_BURST) {
      this.#invalidLogged++;
      this.#o.log.warn('invalid samples dropped', { samples: n, reason, invalidTotal: this.#stats.invalid });
      this.#invalidLastLogAt = this.#o.clock.now();
    } else {
      this.#invalidUnlogged += n;
      this.#logInvalidSummary(false);
    }
  }

  #logInvalidSummary(force: boolean): void {
    if (this.#invalidUnlogged === 0) return;
    const now = this.#o.clock.now();
    if (!force && now - this.#invalidLastLogAt < INVALID_LOG_INTERVAL_MS) return;
    this.#o.log.warn('invalid samples dropped', {
      samples: this.#invalidUnlogged,
      lastReason: this.#invalidLastReason,
      invalidTotal: this.#stats.invalid,
    });
    this.#invalidUnlogged = 0;
    this.#invalidLastLogAt = now;
  }
}
