/**
 * Probe results from the collectors to alerting over the JetStream stream NETMON_RESULTS: at least once,
 * de-duplicated, and a gap in a collector's `seq` would show a loss.
 *
 * ResultPublisher (collector side): each ProbeResult gets the collector's next seq and joins an ordered
 * queue; a pump publishes the head of the queue (up to `window` messages at once, sent in order on the one
 * connection, so the stream stores them in order) to `netmon.results.<collector>` with Nats-Msg-Id
 * `<deviceId>:<timeMs>:<source>`, and drops a message from the queue only once JetStream acked it. A
 * publish that fails (NATS away, a stream leader being elected, an ack lost) is sent again, in queue
 * order, after a growing pause; a message stored before its ack was lost is dropped by JetStream as a
 * duplicate (the Msg-Id within the 2-minute window). The queue is bounded: past `maxQueue`, new results
 * are counted as dropped (and logged once per episode) instead of growing the heap without end.
 *
 * consumeResults (alerting side): pulls the durable consumer `alerting`, decodes each message, calls the
 * handler and acks after it returns; a message that does not decode is counted, logged and terminated
 * (never redelivered, never a crash); a handler that throws gets the message redelivered later.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ProbeResult } from '../core/types.ts';
import { decodeResult, encodeResult, resultMsgId, resultSubject, type ResultMessage } from './subjects.ts';

/** JetStream publish, as the publisher needs it (collector/cluster/nats.ts implements it). */
export interface StreamPublish {
  /** Resolves once JetStream acked; rejects on a timeout or an error (the caller retries). */
  publish(subject: string, data: Uint8Array, msgId: string): Promise<{ readonly duplicate: boolean }>;
}

export interface PublisherOptions {
  readonly bus: StreamPublish;
  readonly clock: Clock;
  readonly log: Logger;
  /** This collector's member id. */
  readonly collector: string;
  readonly startedAtMs: number;
  /** Subject to publish to; default `netmon.results.<collector>` (an edge: `netmon.edge.<domain>.<collector>`). */
  readonly subject?: string | undefined;
  /** Results held while NATS is away; more are dropped and counted. Default 100,000 (~30 MB). */
  readonly maxQueue?: number | undefined;
  /** Messages in flight at once. Default 64. */
  readonly window?: number | undefined;
  /** First pause before a retry, doubling up to maxRetryMs. Defaults 100 ms and 2 s. */
  readonly retryMs?: number | undefined;
  readonly maxRetryMs?: number | undefined;
}

export interface PublisherStats {
  /** Results given to publish() (the last seq). */
  readonly seq: number;
  readonly acked: number;
  /** Acks that said JetStream had it already (a retry of a message stored before). */
  readonly duplicates: number;
  readonly queued: number;
  readonly dropped: number;
  readonly retries: number;
  readonly lastError?: string | undefined;
}

interface Pending {
  readonly subject: string;
  readonly msgId: string;
  readonly data: Uint8Array;
}

export class ResultPublisher {
  readonly #o: PublisherOptions;
  readonly #subject: string;
  #queue: Pending[] = [];
  #seq = 0;
  #acked = 0;
  #duplicates = 0;
  #dropped = 0;
  #retries = 0;
  #lastError: string | undefined;
  #pumping: Promise<void> | undefined;
  #pauseMs = 0;
  #pauseTimer: { timer: TimerHandle; wake: () => void } | undefined;
  #dropping = false;
  #closed = false;
  readonly #drained: (() => void)[] = [];

  constructor(opts: PublisherOptions) {
    this.#o = opts;
    this.#subject = opts.subject ?? resultSubject(opts.collector);
  }

  /** Queue one result for the stream (never blocks, never throws). */
  publish(probe: ProbeResult): void {
    if (this.#closed) return;
    const max = this.#o.maxQueue ?? 100_000;
    this.#seq++;
    if (this.#queue.length >= max) {
      this.#dropped++;
      if (!this.#dropping) {
        this.#dropping = true;
        this.#o.log.error('result queue full: results are dropped until NATS takes them again', {
          maxQueue: max,
          lastError: this.#lastError,
        });
      }
      return;
    }
    const msg: ResultMessage = {
      v: 1,
      collector: this.#o.collector,
      seq: this.#seq,
      startedAtMs: this.#o.startedAtMs,
      probe,
    };
    this.#queue.push({ subject: this.#subject, msgId: resultMsgId(probe), data: encodeResult(msg) });
    this.#kick();
  }

  /** One pump at a time; one that ends with results queued meanwhile is followed by the next. */
  #kick(): void {
    if (this.#pumping || this.#closed) return;
    this.#pumping = this.#pump().finally(() => {
      this.#pumping = undefined;
      if (this.#queue.length > 0 && !this.#closed) this.#kick();
      else for (const done of this.#drained.splice(0)) done();
    });
  }

  /** Resolves true once every result queued so far is acked, false after `timeoutMs` with some left. */
  async flush(timeoutMs: number): Promise<boolean> {
    if (this.#queue.length === 0) return true;
    // A retry pause is cut short: a flush wants the queue out now if NATS is back.
    this.#pauseTimer?.wake();
    let timer: TimerHandle | undefined;
    const drained = new Promise<boolean>((resolve) => this.#drained.push(() => resolve(true)));
    const late = new Promise<boolean>((resolve) => {
      timer = this.#o.clock.setTimeout(() => resolve(false), timeoutMs);
    });
    const ok = await Promise.race([drained, late]);
    if (timer) this.#o.clock.clearTimeout(timer);
    return ok;
  }

  /** Flush for up to `timeoutMs`, then stop; what is left is counted as dropped and logged. */
  async close(timeoutMs: number): Promise<void> {
    const ok = await this.flush(timeoutMs);
    this.#closed = true;
    if (!ok) {
      const left = this.#queue.length;
      this.#dropped += left;
      this.#queue = [];
      this.#pauseTimer?.wake();
      this.#o.log.error('results not acked at stop are lost', { results: left, lastError: this.#lastError });
    }
    await this.#pumping;
  }

  stats(): PublisherStats {
    return {
      seq: this.#seq,
      acked: this.#acked,
      duplicates: this.#duplicates,
      queued: this.#queue.length,
      dropped: this.#dropped,
      retries: this.#retries,
      lastError: this.#lastError,
    };
  }

  async #pump(): Promise<void> {
    const window = this.#o.window ?? 64;
    while (this.#queue.length > 0 && !this.#closed) {
      const batch = this.#queue.slice(0, window);
      const sent = await Promise.allSettled(
        batch.map(async (m) => this.#o.bus.publish(m.subject, m.data, m.msgId)),
      );
      const acked = new Set<Pending>();
      let failure: unknown;
      sent.forEach((r, i) => {
        const m = batch[i];
        if (!m) return;
        if (r.status === 'fulfilled') {
          acked.add(m);
          if (r.value.duplicate) this.#duplicates++;
        } else failure ??= r.reason;
      });
      this.#acked += acked.size;
      if (acked.size > 0) this.#queue = this.#queue.filter((m) => !acked.has(m));
      if (failure === undefined) {
        if (this.#pauseMs > 0 || this.#dropping)
          this.#o.log.info('results go through again', {
            queued: this.#queue.length,
            dropped: this.#dropped,
          });
        this.#pauseMs = 0;
        this.#dropping = false;
        continue;
      }
      this.#retries++;
      const first = this.#pauseMs === 0;
      this.#lastError = errorMessage(failure);
      this.#pauseMs = Math.min(
        this.#o.maxRetryMs ?? 2000,
        first ? (this.#o.retryMs ?? 100) : this.#pauseMs * 2,
      );
      if (first)
        this.#o.log.warn('publishing results failed; retrying in order', {
          error: this.#lastError,
          queued: this.#queue.length,
        });
      await this.#pause(this.#pauseMs);
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        if (this.#pauseTimer) this.#o.clock.clearTimeout(this.#pauseTimer.timer);
        this.#pauseTimer = undefined;
        resolve();
      };
      this.#pauseTimer = { timer: this.#o.clock.setTimeout(wake, ms), wake };
    });
  }
}

// ---- the alerting side -----------------------------------------------------------------------------------

/** One message of the durable consumer, as consumeResults needs it (collector/cluster/nats.ts). */
export interface BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** How many times it was delivered (1: first). */
  readonly deliveries: number;
  ack(): void;
  /** Redeliver later. */
  nak(delayMs: number): void;
  /** Never redeliver (a message that cannot be read). */
  term(): void;
}

/** A pull running: stop() ends it; `ended` settles when it ends, stopped or by itself (with its error). */
export interface RunningPull {
  stop(): Promise<void>;
  /** Resolves when the pull ends, with its error if it failed; never rejects. */
  readonly ended: Promise<unknown>;
}

/** A pull of the durable consumer: calls `onMessage` for each message, one at a time, in stream order. */
export interface ConsumerSource {
  consume(onMessage: (m: BusMessage) => Promise<void>): Promise<RunningPull>;
}

export interface ResultFeedStats {
  readonly handled: number;
  readonly bad: number;
  readonly failed: number;
}

export interface ResultFeed {
  stats(): ResultFeedStats;
  stop(): Promise<void>;
  /** Resolves when the pull ends (stopped, or by itself: its error); never rejects. */
  readonly ended: Promise<unknown>;
}

/**
 * Pull results from the durable consumer and hand each to `handler`; ack after it returns. A bad message
 * is counted, logged (the first few in full, then every 100th) and terminated; a handler that throws has
 * its message redelivered after `retryMs`.
 */
export async function consumeResults(
  source: ConsumerSource,
  opts: {
    readonly log: Logger;
    readonly handler: (msg: ResultMessage) => void | Promise<void>;
    readonly retryMs?: number | undefined;
  },
): Promise<ResultFeed> {
  const stats = { handled: 0, bad: 0, failed: 0 };
  const running = await source.consume(async (m) => {
    const d = decodeResult(m.data);
    if (!d.ok) {
      stats.bad++;
      if (stats.bad <= 5 || stats.bad % 100 === 0)
        opts.log.warn('bad result message skipped', { subject: m.subject, error: d.error, bad: stats.bad });
      m.term();
      return;
    }
    try {
      await opts.handler(d.value);
      stats.handled++;
      m.ack();
    } catch (err) {
      stats.failed++;
      opts.log.error('result handler failed; the message comes again', {
        subject: m.subject,
        seq: d.value.seq,
        error: errorMessage(err),
      });
      m.nak(opts.retryMs ?? 1000);
    }
  });
  return { stats: () => ({ ...stats }), stop: () => running.stop(), ended: running.ended };
}
