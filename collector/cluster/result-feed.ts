/**
 * The alerting side's NATS adapter (issue #15), the one file of the alerting role that imports `nats`:
 *
 *   - the lease: JetStream KV `netmon_leader`/`alerting` as a LeaseKv (collector/cluster/leader.ts);
 *   - the results: pull the durable consumer `alerting` on NETMON_RESULTS, hand each probe result to the
 *     Monitor's remote collection, ack after it is applied (NatsResultFeed, a ProbeFeed);
 *   - probe requests: core NATS `netmon.probe.<deviceId>` { delayMs } to the collectors.
 *
 * Minimal by intent: the result bus (publisher, decoding, the consumer helper) is nats15's
 * collector/cluster/result-bus.ts and subjects.ts; this file uses the design's names and should give way to
 * those once they are merged. Only the leader pulls: stop() ends the pull at once, and a message taken
 * but not acked is redelivered (after ack_wait) to the next leader, whose ProbeGate drops what it saw.
 */
import {
  AckPolicy,
  DeliverPolicy,
  connect,
  nanos,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
  type KV,
  type NatsConnection,
} from 'nats';
import { z } from 'zod';
import type { Clock } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ProbeResult } from '../core/types.ts';
import { sleep } from '../core/retry.ts';
import { LEADER_BUCKET, LEADER_KEY, decodeLease, encodeLease, type LeaseKv } from './leader.ts';
import type { ProbeFeed } from './remote-collection.ts';

export const RESULTS_STREAM = 'NETMON_RESULTS';
export const ALERTING_CONSUMER = 'alerting';
export const PROBE_PREFIX = 'netmon.probe.';

const probeSchema = z.object({
  deviceId: z.string().min(1),
  timeMs: z.number().int().nonnegative(),
  ok: z.boolean(),
  durationMs: z.number().nonnegative(),
  source: z.enum(['snmp', 'mqtt', 'ping']),
  failure: z
    .object({
      reason: z.enum(['timeout', 'refused', 'auth', 'decode', 'agent_error', 'internal']),
      message: z.string(),
    })
    .optional(),
});
const messageSchema = z.object({ v: z.literal(1), collector: z.string(), seq: z.number(), probe: probeSchema });

/** A result message's probe, or why it is not one. */
export function decodeProbe(data: Uint8Array): { ok: true; probe: ProbeResult } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  const r = messageSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    return { ok: false, error: `${issue?.path.join('.') || '(top)'}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, probe: r.data.probe };
}

/** The consumer exists (created when missing: the alerting side may start before any collector). */
async function ensureConsumer(jsm: JetStreamManager, replicas: number): Promise<void> {
  try {
    await jsm.streams.info(RESULTS_STREAM);
  } catch {
    await jsm.streams.add({
      name: RESULTS_STREAM,
      subjects: ['netmon.results.>'],
      num_replicas: replicas,
      duplicate_window: nanos(120_000),
    });
  }
  try {
    await jsm.consumers.info(RESULTS_STREAM, ALERTING_CONSUMER);
  } catch {
    await jsm.consumers.add(RESULTS_STREAM, {
      durable_name: ALERTING_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      // A message taken by a leader that died comes again to the next one after this.
      ack_wait: nanos(10_000),
      max_ack_pending: 20_000,
    });
  }
}

export interface NatsResultFeedOptions {
  readonly nc: NatsConnection;
  readonly clock: Clock;
  readonly log: Logger;
  /** Replicas of the stream if this side creates it: min(3, NATS servers). */
  readonly replicas: number;
}

/** The ProbeFeed over the durable consumer; restarts its pull after an error, every second. */
export class NatsResultFeed implements ProbeFeed {
  readonly #o: NatsResultFeedOptions;
  #running = false;
  #messages: ConsumerMessages | undefined;
  #loop: Promise<void> | undefined;
  #bad = 0;

  constructor(opts: NatsResultFeedOptions) {
    this.#o = opts;
  }

  start(onProbe: (probe: ProbeResult) => void): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run(onProbe);
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#messages?.stop();
    await this.#loop;
  }

  async #run(onProbe: (probe: ProbeResult) => void): Promise<void> {
    const { nc, log, clock, replicas } = this.#o;
    while (this.#running) {
      try {
        await ensureConsumer(await nc.jetstreamManager(), replicas);
        const consumer = await nc.jetstream().consumers.get(RESULTS_STREAM, ALERTING_CONSUMER);
        if (!this.#running) return;
        const messages = await consumer.consume({ max_messages: 512 });
        this.#messages = messages;
        if (!this.#running) messages.stop();
        for await (const m of messages) {
          // Stopped (deposed): leave the rest unacked for the next leader.
          if (!this.#running) break;
          this.#handle(m, onProbe);
        }
      } catch (err) {
        if (!this.#running) return;
        log.warn('results pull failed; pulling again', { error: errorMessage(err) });
      }
      if (this.#running) await sleep(clock, 1000);
    }
  }

  #handle(m: JsMsg, onProbe: (probe: ProbeResult) => void): void {
    const d = decodeProbe(m.data);
    if (!d.ok) {
      this.#bad++;
      if (this.#bad <= 5 || this.#bad % 100 === 0)
        this.#o.log.warn('bad result message skipped', { subject: m.subject, error: d.error, bad: this.#bad });
      m.term();
      return;
    }
    onProbe(d.probe);
    m.ack();
  }
}

/** Ask the owning collector for a probe of `deviceId` (core NATS: lost if no collector listens). */
export function natsProbeRequester(nc: NatsConnection): (deviceId: string, delayMs: number) => void {
  const utf8 = new TextEncoder();
  return (deviceId, delayMs) => nc.publish(`${PROBE_PREFIX}${deviceId}`, utf8.encode(JSON.stringify({ delayMs })));
}

/** JetStream's "wrong last sequence" (10071): the key was not at the revision the write expected. */
const JS_WRONG_LAST_SEQUENCE = 10071;

function isConflict(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number }; message?: string } | undefined;
  return (
    e?.api_error?.err_code === JS_WRONG_LAST_SEQUENCE ||
    /wrong last sequence|key exists/i.test(e?.message ?? '')
  );
}

/** The lease on a JetStream KV bucket (opened on first use, again after a failure). */
export function natsLeaseKv(bucket: () => Promise<KV>, key = LEADER_KEY): LeaseKv {
  return {
    async read() {
      const kv = await bucket();
      const e = await kv.get(key);
      if (!e) return undefined;
      const deleted = e.operation === 'DEL' || e.operation === 'PURGE';
      return { revision: e.revision, record: deleted ? undefined : decodeLease(e.value) };
    },
    async write(w) {
      try {
        const kv = await bucket();
        const revision =
          w.op === 'create'
            ? await kv.create(key, encodeLease(w.record))
            : await kv.update(key, encodeLease(w.record), w.expectedRevision);
        return { kind: 'ok', revision };
      } catch (err) {
        if (isConflict(err)) return { kind: 'conflict' };
        return { kind: 'error', message: errorMessage(err) };
      }
    },
  };
}


export interface AlertingNats {
  readonly lease: LeaseKv;
  /** A new feed of the results consumer (one per term). */
  feed(): NatsResultFeed;
  readonly requestProbe: (deviceId: string, delayMs: number) => void;
  close(): Promise<void>;
}

/**
 * Connect to the cluster's NATS servers (reconnecting for ever: a NATS node that dies is not this
 * process's death) and build the lease, feed and probe-request ports on the connection.
 */
export async function connectAlertingNats(opts: {
  readonly servers: readonly string[];
  readonly name: string;
  readonly clock: Clock;
  readonly log: Logger;
}): Promise<AlertingNats> {
  const { clock, log } = opts;
  const nc = await connect({
    servers: [...opts.servers],
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
  });
  const replicas = Math.min(3, opts.servers.length);
  let bucket: Promise<KV> | undefined;
  const openBucket = (): Promise<KV> => {
    bucket ??= nc
      .jetstream()
      .views.kv(LEADER_BUCKET, { history: 1, replicas })
      .catch((err: unknown) => {
        bucket = undefined;
        throw err;
      });
    return bucket;
  };
  return {
    lease: natsLeaseKv(openBucket),
    feed: () => new NatsResultFeed({ nc, clock, log: log.child({ component: 'results' }), replicas }),
    requestProbe: natsProbeRequester(nc),
    close: () => nc.drain(),
  };
}
