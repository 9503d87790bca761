/**
 * The one file of the collector's cluster side that imports `nats` (core NATS, JetStream, KV): the
 * connection, the idempotent set-up of the stream, its consumer and the members bucket, and the small ports
 * the rest of collector/cluster/ is written against (MembersStore, StreamPublish, ConsumerSource, probe
 * requests), so those are tested with fakes and this adapter against real nats-server nodes.
 *
 * Reconnection is the client's: it tries every server of the list (and those the cluster advertises) for
 * ever, 250 ms apart; publishes made meanwhile time out after PUBLISH_TIMEOUT_MS and the publisher retries
 * them. Set-up at start is idempotent: a stream, consumer or bucket that exists is used as it is, and two
 * members creating one at the same moment both succeed.
 *
 * Edges (issue #15, README "Edge collectors"): an edge collector connects to its kecamatan's leaf node,
 * which has its own JetStream domain. Its results go to the stream NETMON_EDGE_<DOMAIN> in that domain
 * (the leaf's own store: it keeps taking them while the uplink is cut); its heartbeats go to the members
 * bucket in the hub's domain (`hubDomain`, through the leaf link: they fail during a cut, so the hub sees
 * the edge go silent). A hub member sets NETMON_RESULTS to *source* every configured edge stream across
 * domains (`external.api = $JS.<domain>.API`): JetStream copies what the edge kept, in order, when the
 * link returns, from where it left off.
 */
import {
  AckPolicy,
  connect,
  DeliverPolicy,
  DiscardPolicy,
  Events,
  nanos,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type KV,
  type NatsConnection,
} from 'nats';
import { NetmonError, errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { MemberEvent, MembersStore } from './membership.ts';
import type { BusMessage, ConsumerSource, StreamPublish } from './result-bus.ts';
import {
  ALERTING_CONSUMER,
  MEMBERS_BUCKET,
  PROBE_SUBJECTS,
  RESULTS_DUPLICATE_WINDOW_MS,
  RESULTS_MAX_AGE_MS,
  RESULTS_STREAM,
  RESULTS_SUBJECTS,
  domainApi,
  edgeResultSubject,
  edgeStream,
  edgeSubjects,
  encodeProbeRequest,
  probeSubject,
  type ProbeKind,
} from './subjects.ts';

/** A JetStream publish or API call not answered within this is failed (and retried by its caller). */
export const PUBLISH_TIMEOUT_MS = 2000;

/** NATS could not be reached or refused a set-up call. Retryable: the servers may come back. */
export class BusError extends NetmonError {}

export interface BusOptions {
  readonly servers: readonly string[];
  /** Connection name the servers show (`netmon-<member>`). */
  readonly name: string;
  readonly log: Logger;
  /** JetStream domain of this member's leaf node (an edge collector); absent: a hub member. */
  readonly domain?: string | undefined;
  /** The hub's JetStream domain, where an edge member finds the members bucket (required with domain). */
  readonly hubDomain?: string | undefined;
  /** Edge domains NETMON_RESULTS sources (a hub member sets the sources; an edge member ignores it). */
  readonly edgeDomains?: readonly string[] | undefined;
  /** This member's id (the edge subject names it). */
  readonly node?: string | undefined;
}

/** A connected bus: the ports over one NATS connection. */
export interface Bus {
  readonly connection: NatsConnection;
  readonly js: JetStreamClient;
  /** Stream replicas used: min(3, servers in the cluster). */
  readonly replicas: number;
  readonly publisher: StreamPublish;
  /** The subject this member's results go to (an edge: its leaf stream's); undefined: the default. */
  readonly resultSubject?: string | undefined;
  members(): Promise<MembersStore>;
  /** The durable consumer `alerting`, for the alerting leader. */
  consumer(): ConsumerSource;
  /** Every probe request (`netmon.probe.<deviceId>`) to `onRequest`. */
  subscribeProbes(onRequest: (subject: string, data: Uint8Array) => void): { stop(): void };
  /** Ask the owner of a device for a probe (core NATS: at most once; the alerting side asks again). */
  requestProbe(deviceId: string, delayMs: number, kind?: ProbeKind): void;
  /** Flush and close (subscriptions drained). */
  close(): Promise<void>;
}

export async function connectBus(opts: BusOptions): Promise<Bus> {
  const { log } = opts;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: [...opts.servers],
      name: opts.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      reconnectJitter: 100,
      timeout: PUBLISH_TIMEOUT_MS,
      pingInterval: 5000,
    });
  } catch (err) {
    throw new BusError(
      'nats_connect',
      `cannot reach NATS at ${opts.servers.join(', ')}: ${errorMessage(err)}`,
      {
        retryable: true,
        cause: err,
      },
    );
  }
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === Events.Disconnect || s.type === Events.Reconnect || s.type === Events.Error)
        log.info(`nats ${s.type}`, { data: typeof s.data === 'string' ? s.data : JSON.stringify(s.data) });
    }
  })().catch(() => undefined);
  try {
    const edge = opts.domain;
    if (edge !== undefined && (opts.hubDomain === undefined || opts.node === undefined))
      throw new BusError('nats_setup', 'an edge member (domain) needs hubDomain and node', {
        retryable: false,
      });
    const replicas = clusterSize(nc, opts.servers.length);
    if (edge === undefined) {
      const jsm = await nc.jetstreamManager({ timeout: PUBLISH_TIMEOUT_MS });
      await retrying(
        'the results stream',
        () => ensureResults(jsm, replicas, opts.edgeDomains ?? [], log),
        log,
      );
    } else {
      // The leaf's own JetStream: it answers while the uplink is cut.
      const jsm = await nc.jetstreamManager({ timeout: PUBLISH_TIMEOUT_MS, domain: edge });
      await retrying('the edge stream', () => ensureEdgeStream(jsm, edge, log), log);
    }
    // Members and the lease live in the hub's domain; a hub member reaches it as the default domain.
    const js = nc.jetstream({
      timeout: PUBLISH_TIMEOUT_MS,
      domain: edge === undefined ? undefined : opts.hubDomain,
    });
    const results = edge ? nc.jetstream({ timeout: PUBLISH_TIMEOUT_MS, domain: edge }) : js;
    return {
      connection: nc,
      js,
      replicas,
      resultSubject: edge && opts.node ? edgeResultSubject(edge, opts.node) : undefined,
      publisher: {
        publish: async (subject, data, msgId) => {
          const ack = await results.publish(subject, data, { msgID: msgId, timeout: PUBLISH_TIMEOUT_MS });
          return { duplicate: ack.duplicate };
        },
      },
      members: async () =>
        membersStore(
          await retrying('the members bucket', () => openBucket(js, MEMBERS_BUCKET, replicas, log), log),
          log,
        ),
      consumer: () => consumerSource(js),
      subscribeProbes: (onRequest) => {
        const sub = nc.subscribe(PROBE_SUBJECTS, {
          callback: (err, msg) => {
            if (err) log.warn('probe subscription error', { error: errorMessage(err) });
            else onRequest(msg.subject, msg.data);
          },
        });
        return { stop: () => sub.unsubscribe() };
      },
      requestProbe: (deviceId, delayMs, kind) =>
        nc.publish(probeSubject(deviceId), encodeProbeRequest(kind ? { delayMs, kind } : { delayMs })),
      close: async () => {
        if (!nc.isClosed()) await nc.drain();
      },
    };
  } catch (err) {
    await nc.close();
    throw new BusError('nats_setup', `cannot set up JetStream: ${errorMessage(err)}`, {
      retryable: true,
      cause: err,
    });
  }
}

/** How long set-up calls are retried at start (a cluster just started elects its JetStream leaders first). */
const SETUP_DEADLINE_MS = 30_000;

/** `fn` again, 500 ms apart, until it succeeds or SETUP_DEADLINE_MS has passed (then its last error). */
async function retrying<T>(what: string, fn: () => Promise<T>, log: Logger): Promise<T> {
  const deadline = Date.now() + SETUP_DEADLINE_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      if (attempt === 1) log.warn(`setting up ${what} failed; retrying`, { error: errorMessage(err) });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/**
 * Servers in the cluster this connection is in: INFO's connect_urls (each server's client URL once), or the
 * servers configured when more (right after a cluster starts, its routes and so that list are still forming).
 */
function clusterSize(nc: NatsConnection, configured: number): number {
  const info = nc.info;
  if (!info?.cluster) return 1;
  return Math.min(3, Math.max(1, info.connect_urls?.length ?? 1, configured));
}

const notFound = (err: unknown): boolean => /not found/i.test(errorMessage(err));

/** The stream of an edge in its leaf's domain: one replica (the leaf is one server), kept like the hub's. */
async function ensureEdgeStream(jsm: JetStreamManager, domain: string, log: Logger): Promise<void> {
  const name = edgeStream(domain);
  try {
    await jsm.streams.info(name);
  } catch (err) {
    if (!notFound(err)) throw err;
    await jsm.streams.add({
      name,
      subjects: [edgeSubjects(domain)],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      num_replicas: 1,
      duplicate_window: nanos(RESULTS_DUPLICATE_WINDOW_MS),
      max_age: nanos(RESULTS_MAX_AGE_MS),
    });
    log.info('edge results stream created', { stream: name, domain });
  }
}

/** NETMON_RESULTS sources every edge stream (across domains); a source it lacks is added, none removed. */
async function ensureEdgeSources(
  jsm: JetStreamManager,
  domains: readonly string[],
  log: Logger,
): Promise<void> {
  if (domains.length === 0) return;
  const info = await jsm.streams.info(RESULTS_STREAM);
  const have = info.config.sources ?? [];
  const missing = domains.filter((d) => !have.some((src) => src.name === edgeStream(d)));
  if (missing.length === 0) return;
  await jsm.streams.update(RESULTS_STREAM, {
    ...info.config,
    sources: [
      ...have,
      ...missing.map((d) => ({ name: edgeStream(d), external: { api: domainApi(d), deliver: '' } })),
    ],
  });
  log.info('results stream sources the edges', { edges: missing });
}

/** The results stream and the alerting consumer, created when absent and used as they are when present. */
async function ensureResults(
  jsm: JetStreamManager,
  replicas: number,
  edgeDomains: readonly string[],
  log: Logger,
): Promise<void> {
  await ensureResultsStream(jsm, replicas, log);
  await ensureEdgeSources(jsm, edgeDomains, log);
}

async function ensureResultsStream(jsm: JetStreamManager, replicas: number, log: Logger): Promise<void> {
  try {
    await jsm.streams.info(RESULTS_STREAM);
    await ensureReplicas(jsm, RESULTS_STREAM, replicas, log);
  } catch (err) {
    if (!notFound(err)) throw err;
    try {
      await jsm.streams.add({
        name: RESULTS_STREAM,
        subjects: [RESULTS_SUBJECTS],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        num_replicas: replicas,
        duplicate_window: nanos(RESULTS_DUPLICATE_WINDOW_MS),
        max_age: nanos(RESULTS_MAX_AGE_MS),
      });
      log.info('results stream created', { stream: RESULTS_STREAM, replicas });
    } catch (addErr) {
      // Another member created it a moment before (with its own view of the cluster): use that one.
      await jsm.streams.info(RESULTS_STREAM).catch(() => {
        throw addErr;
      });
    }
  }
  try {
    await jsm.consumers.info(RESULTS_STREAM, ALERTING_CONSUMER);
  } catch (err) {
    if (!notFound(err)) throw err;
    try {
      await jsm.consumers.add(RESULTS_STREAM, {
        durable_name: ALERTING_CONSUMER,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(30_000),
        max_ack_pending: 10_000,
      });
    } catch (addErr) {
      await jsm.consumers.info(RESULTS_STREAM, ALERTING_CONSUMER).catch(() => {
        throw addErr;
      });
    }
  }
}

/**
 * A KV bucket (created when absent, bound as it is when present): history 1, keys kept a day at most; one
 * made with fewer replicas than the cluster has is raised (ensureReplicas).
 */
export async function openBucket(
  js: JetStreamClient,
  name: string,
  replicas: number,
  log: Logger,
): Promise<KV> {
  const kv = await js.views.kv(name, { history: 1, replicas, ttl: 24 * 3_600_000 });
  await ensureReplicas(await js.jetstreamManager(), `KV_${name}`, replicas, log);
  return kv;
}

/**
 * A stream present with fewer replicas than the cluster has (made by a start on one server, or by a tool
 * that created it first with the default of one) is a single point of failure: the node holding it dies
 * and nobody can read it. It is raised to `replicas` (JetStream copies it to the new peers), with a warning;
 * a raise the server refuses is logged and the stream used as it is.
 */
export async function ensureReplicas(
  jsm: JetStreamManager,
  stream: string,
  replicas: number,
  log: Logger,
): Promise<void> {
  const info = await jsm.streams.info(stream);
  const had = info.config.num_replicas;
  if (had >= replicas) return;
  try {
    await jsm.streams.update(stream, { ...info.config, num_replicas: replicas });
    log.warn('stream had fewer replicas than the cluster has: raised', { stream, from: had, to: replicas });
  } catch (err) {
    // An update whose answer was lost (a loaded server) may have gone through: read it back.
    const now = await jsm.streams.info(stream).catch(() => undefined);
    if (now && now.config.num_replicas >= replicas) {
      log.warn('stream had fewer replicas than the cluster has: raised', { stream, from: had, to: replicas });
      return;
    }
    log.error('stream has fewer replicas than the cluster has and could not be raised', {
      stream,
      replicas: had,
      wanted: replicas,
      error: errorMessage(err),
    });
  }
}

function membersStore(kv: KV, log: Logger): MembersStore {
  return {
    put: (key, value) => kv.put(key, value),
    delete: (key) => kv.delete(key),
    watch: async (onEvent) => {
      // Values stored before the watch began are the bucket's current values (membership.ts: `initial`).
      const startedMs = Date.now();
      let ready: () => void = () => undefined;
      const initialised = new Promise<void>((resolve) => (ready = resolve));
      const iter = await kv.watch({ key: '>', initializedFn: () => ready() });
      void (async () => {
        for await (const e of iter) {
          const createdMs = e.created.getTime();
          const event: MemberEvent = {
            key: e.key,
            op: e.operation,
            value: e.value,
            createdMs,
            initial: createdMs < startedMs,
            revision: e.revision,
          };
          onEvent(event);
        }
      })().catch((err: unknown) => log.error('members watch ended', { error: errorMessage(err) }));
      // An empty bucket may never say it is initialised: a start is not held up longer than a request.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([initialised, new Promise((r) => (timer = setTimeout(r, PUBLISH_TIMEOUT_MS)))]);
      clearTimeout(timer);
      return { stop: () => iter.stop() };
    },
  };
}

/**
 * How long one pull request waits on the server. The client expects heartbeats every half of it and
 * pulls again after two missed: at the client's default (30 s), the leader read nothing for 41 s after
 * kill -9 of the nats-server leading the results stream (test/e2e/alerting-failover.test.ts, run twice),
 * at 5 s for 10-14 s. Idle, it costs one request every 5 s.
 */
const PULL_EXPIRES_MS = 5000;

function consumerSource(js: JetStreamClient): ConsumerSource {
  return {
    consume: async (onMessage) => {
      const consumer = await js.consumers.get(RESULTS_STREAM, ALERTING_CONSUMER);
      const messages = await consumer.consume({ max_messages: 256, expires: PULL_EXPIRES_MS });
      const done = (async () => {
        for await (const m of messages) {
          const msg: BusMessage = {
            subject: m.subject,
            data: m.data,
            deliveries: m.info.redeliveryCount,
            ack: () => m.ack(),
            nak: (delayMs) => m.nak(delayMs),
            term: () => m.term(),
          };
          await onMessage(msg);
        }
      })();
      return {
        stop: async () => {
          messages.stop();
          await done;
        },
        ended: done.then(
          () => undefined,
          (err: unknown) => err,
        ),
      };
    },
  };
}
