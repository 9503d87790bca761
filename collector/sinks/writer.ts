/**
 * SampleWriter: takes samples from the pipeline without ever blocking it, and gets them into the
 * database in batches — or, while the database is away, into the bounded on-disk buffer, from which they
 * are written, oldest first, once it is back.
 *
 *   push() ─► validate ─► memory (bounded) ─► flush every flushIntervalMs or batchSize ─► sink.write()
 *                │                 │                                                        │ retryable failure
 *                ▼                 └── spill while the sink is down or memory is full ──► DiskQueue ◄┘
 *          invalid: counted, logged                                     drains first when the sink is back
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
import { DiskQueue } from './disk-queue.ts';
import { PartialWriteError, type SampleSink } from './sink.ts';
import { partitionSamples } from './validate.ts';

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
}

const DEFAULT_RETRY: RetryPolicy = { attempts: Infinity, baseMs: 500, maxMs: 30_000 };

export class SampleWriter implements SampleWriterLike {
  readonly #o: SampleWriterOptions;
  readonly #disk: DiskQueue;
  readonly #maxMemory: number;
  #pending: Sample[] = [];
  #timer: TimerHandle | undefined;
  #flushing: Promise<void> | undefined;
  #running = false;
  /** The sink failed with a retryable error: no writes before #retryAt. */
  #down = false;
  #retryAt = 0;
  #attempt = 0;
  #stats = { written: 0, dropped: 0, invalid: 0, failures: 0 };
  #lastError: string | undefined;
  #invalidLogged = 0;

  constructor(opts: SampleWriterOptions) {
    if (!(opts.batchSize >= 1)) throw new RangeError('batchSize must be >= 1');
    if (!(opts.flushIntervalMs > 0)) throw new RangeError('flushIntervalMs must be > 0');
    this.#o = opts;
    this.#maxMemory = opts.maxMemorySamples ?? opts.batchSize * 20;
    this.#disk = new DiskQueue({
      dir: opts.bufferDir,
      maxBytes: opts.maxBufferBytes,
      onDrop: (n, reason) => {
        this.#stats.dropped += n;
        opts.log.warn('samples dropped', { samples: n, reason, droppedTotal: this.#stats.dropped });
      },
    });
    if (this.#disk.samples > 0) {
      opts.log.info('resuming buffered samples', { samples: this.#disk.samples, dir: opts.bufferDir });
    }
    if (this.#disk.corrupt > 0) {
      opts.log.warn('skipped unreadable buffer lines (torn write before a crash)', {
        lines: this.#disk.corrupt,
      });
    }
  }

  async start(): Promise<void> {
    this.#running = true;
    try {
      await this.#o.sink.start();
    } catch (err) {
      // The database may come later: start anyway, buffer, and keep trying.
      if (!isRetryable(err)) throw err;
      this.#markDown(err);
    }
    this.#arm();
  }

  push(samples: readonly Sample[]): void {
    if (samples.length === 0) return;
    const { valid, invalid } = partitionSamples(samples);
    if (invalid.length > 0) {
      this.#stats.invalid += invalid.length;
      // One line per invalid sample would flood the log when a device sends garbage every poll.
      if (this.#invalidLogged < 100) {
        this.#invalidLogged++;
        this.#o.log.warn('invalid sample dropped', {
          reason: invalid[0]?.reason,
          count: invalid.length,
          invalidTotal: this.#stats.invalid,
        });
      }
    }
    for (const s of valid) this.#pending.push(s);
    if (this.#pending.length > this.#maxMemory) this.#spill();
    if (this.#pending.length >= this.#o.batchSize && !this.#down) void this.flush();
  }

  stats(): WriterStats {
    return {
      ...this.#stats,
      buffered: this.#pending.length + this.#disk.samples,
      lastError: this.#lastError,
    };
  }

  /** Write what can be written now. Never throws; concurrent calls share one flush. */
  flush(): Promise<void> {
    this.#flushing ??= this.#flushLoop().finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  /** Stop the timer, write what the sink takes, keep the rest on disk for the next start. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#flushing;
    if (this.#down) this.#retryAt = 0; // one last try
    await this.flush();
    this.#spill();
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
      void this.flush().finally(() => this.#arm());
    }, this.#o.flushIntervalMs);
  }

  #spill(): void {
    while (this.#pending.length > 0) this.#disk.append(this.#pending.splice(0, this.#o.batchSize));
  }

  async #flushLoop(): Promise<void> {
    if (this.#down) {
      if (this.#o.clock.now() < this.#retryAt) {
        this.#spill(); // keep memory bounded and the samples safe while waiting
        return;
      }
    }
    // Oldest first: what waits on disk, then memory.
    for (let batch = this.#disk.peek(); batch; batch = this.#disk.peek()) {
      if (!(await this.#write(batch))) return;
      this.#disk.ack();
    }
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#o.batchSize);
      if (!(await this.#write(batch))) {
        this.#disk.append(batch);
        this.#spill();
        return;
      }
    }
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
        this.#stats.written += batch.length - err.droppedSamples;
        this.#stats.dropped += err.droppedSamples;
        this.#o.log.warn('database rejected part of a batch', {
          dropped: err.droppedSamples,
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
        code: err instanceof NetmonError ? err.code : undefined,
        error: errorMessage(err),
      });
      return true;
    }
  }

  #markDown(err: unknown): void {
    const delay = Math.max(
      backoffMs(this.#attempt, this.#o.retry ?? DEFAULT_RETRY),
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
}
