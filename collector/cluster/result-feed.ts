/**
 * The alerting side's two ports on NATS (issue #15), over nats15's bus (collector/cluster/nats.ts):
 *
 *   - the lease: JetStream KV `netmon_leader`/`alerting` as a LeaseKv (collector/cluster/leader.ts), every
 *     write a compare-and-set on the key's revision (JetStream's expected last subject sequence);
 *   - the results: the durable consumer `alerting` (consumeResults, collector/cluster/result-bus.ts) as a
 *     ProbeFeed for the Monitor's remote collection. Only the leader pulls: stop() ends the pull at once;
 *     a message that arrives after that is nak'ed (not acked), so the next leader gets it.
 */
import type { KV } from 'nats';
import type { Clock } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ProbeResult } from '../core/types.ts';
import { sleep } from '../core/retry.ts';
import { LEADER_KEY, decodeLease, encodeLease, type LeaseKv } from './leader.ts';
import type { ProbeFeed } from './remote-collection.ts';
import { consumeResults, type ConsumerSource, type ResultFeed } from './result-bus.ts';

/** JetStream's "wrong last sequence" (10071): the key was not at the revision the write expected. */
const JS_WRONG_LAST_SEQUENCE = 10071;

function isConflict(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number }; message?: string } | undefined;
  return (
    e?.api_error?.err_code === JS_WRONG_LAST_SEQUENCE ||
    /wrong last sequence|key exists/i.test(e?.message ?? '')
  );
}

/** The lease on a JetStream KV bucket, opened on first use (and again after a failure). */
export function natsLeaseKv(open: () => Promise<KV>, key = LEADER_KEY): LeaseKv {
  let bucket: Promise<KV> | undefined;
  const kv = (): Promise<KV> => {
    bucket ??= open().catch((err: unknown) => {
      bucket = undefined;
      throw err;
    });
    return bucket;
  };
  return {
    async read() {
      const e = await (await kv()).get(key);
      if (!e) return undefined;
      const deleted = e.operation === 'DEL' || e.operation === 'PURGE';
      return { revision: e.revision, record: deleted ? undefined : decodeLease(e.value) };
    },
    async write(w) {
      try {
        const bucketKv = await kv();
        const revision =
          w.op === 'create'
            ? await bucketKv.create(key, encodeLease(w.record))
            : await bucketKv.update(key, encodeLease(w.record), w.expectedRevision);
        return { kind: 'ok', revision };
      } catch (err) {
        if (isConflict(err)) return { kind: 'conflict' };
        return { kind: 'error', message: errorMessage(err) };
      }
    },
  };
}

/**
 * The results consumer as a ProbeFeed; a pull that cannot start is tried again every second, and a pull
 * that ends by itself (the client gave up on the consumer: a subscription error, the consumer deleted
 * under it) is started again: a leader that silently stopped reading results would page nothing.
 */
export class BusProbeFeed implements ProbeFeed {
  readonly #source: ConsumerSource;
  readonly #clock: Clock;
  readonly #log: Logger;
  #running = false;
  #feed: ResultFeed | undefined;
  #loop: Promise<void> | undefined;

  constructor(source: ConsumerSource, clock: Clock, log: Logger) {
    this.#source = source;
    this.#clock = clock;
    this.#log = log;
  }

  start(onProbe: (probe: ProbeResult) => void): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#pull(onProbe);
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await this.#end();
  }

  /** End the pull; a pull that already failed (NATS closed under it) is logged, not thrown. */
  async #end(): Promise<void> {
    const feed = this.#feed;
    this.#feed = undefined;
    try {
      await feed?.stop();
    } catch (err) {
      this.#log.warn('the results pull ended with an error', { error: errorMessage(err) });
    }
  }

  async #pull(onProbe: (probe: ProbeResult) => void): Promise<void> {
    while (this.#running && !this.#feed) {
      try {
        const feed = await consumeResults(this.#source, {
          log: this.#log,
          handler: (msg) => {
            // Stopped (deposed): not acked, so the next leader gets it.
            if (!this.#running) throw new Error('results feed stopped');
            onProbe(msg.probe);
          },
        });
        this.#feed = feed;
        void feed.ended.then((why) => this.#ended(feed, why, onProbe));
      } catch (err) {
        this.#log.warn('cannot pull the results; trying again', { error: errorMessage(err) });
        await sleep(this.#clock, 1000);
      }
    }
    // Stopped while the pull was starting.
    if (!this.#running) await this.#end();
  }

  /** A pull ended: if nobody stopped it, pull again. */
  #ended(feed: ResultFeed, why: unknown, onProbe: (probe: ProbeResult) => void): void {
    if (!this.#running || this.#feed !== feed) return;
    this.#log.warn('the results pull ended by itself; pulling again', {
      error: why === undefined ? undefined : errorMessage(why),
      handled: feed.stats().handled,
    });
    this.#feed = undefined;
    this.#loop = this.#pull(onProbe);
  }
}
