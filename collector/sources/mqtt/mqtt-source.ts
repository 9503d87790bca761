/**
 * The collector's MQTT side (the only file that imports `mqtt`): one client, logged in with the collector's
 * service account, on the embedded broker or an external one (Mosquitto) alike.
 *
 *   netmon/v1/<site>/<device>/telemetry ─► validate ─► `telemetry` samples ─► the same SampleWriter as SNMP
 *   netmon/v1/<site>/<device>/status    ─► validate ─► liveness events ─► Monitor (suspect, probe, grace)
 *   (embedded broker: its connection events instead of the status topic; keepalive lapses told apart)
 *   Monitor transitions and alerts      ─► netmon/v1/state/device/<id>, state/site/<id> (retained), alerts
 *
 * A bad message (unknown topic or device, bad JSON, wrong types, too big, a `ts` outside the accepted window
 * around the receive time) is counted by reason, logged with the topic, and dropped; the client and
 * everything else carry on.
 *
 * In a cluster (issue #15; README: MQTT in the cluster) the same class plays two parts on an external broker:
 *
 *   collector member  `topics: 'telemetry'`, `shareGroup: 'netmon'`: MQTT 5, one shared subscription
 *                     `$share/netmon/netmon/v1/+/+/telemetry`, so the broker hands each message to exactly
 *                     one collector, whose own writer takes its samples; no status, so no liveness here
 *   alerting leader   `topics: 'status'`: the status topics alone (retained "online", the Will "offline"),
 *                     liveness events to the leader's Monitor, as the one process feeds its own
 *
 * Each device gets a token bucket (rate-limit.ts; default 10 msg/s, bursts of 50), checked before anything
 * is parsed: what is over it is dropped and counted (`rateLimited`, the `mqtt_rate_limited` field of the
 * monitor measurement), with at most one log line per device a minute naming it. An offline status (a
 * device's Will) is never dropped for this: it is how an external broker tells the device went away.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Clock, TimerHandle } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { Secret } from '../../core/secret.ts';
import type { Device, Inventory, Sample, Site } from '../../core/types.ts';
import type { LivenessEvent, LivenessKind } from '../../liveness/mqtt-liveness.ts';
import type { SampleWriterLike } from '../../pipeline.ts';
import { deviceTags } from '../../sinks/schema.ts';
import {
  DEFAULT_TIMESTAMP_WINDOW,
  parsePayload,
  statusSchema,
  telemetrySchema,
  timestampProblem,
  type TimestampWindow,
} from '../../../broker/payloads.ts';
import { DEFAULT_RATE_POLICY, TokenBuckets, type RatePolicy } from './rate-limit.ts';
import {
  ALERTS_TOPIC,
  PREFIX,
  deviceStateTopic,
  parseDeviceTopic,
  siteStateTopic,
} from '../../../broker/topics.ts';

export type { LivenessEvent, LivenessKind } from '../../liveness/mqtt-liveness.ts';

/** Where device liveness comes from when the broker can tell it first-hand (the embedded one). */
export interface LivenessFeed {
  onDeviceLiveness(listener: (ev: LivenessEvent) => void): () => void;
}

export interface MqttSourceOptions {
  readonly url: string;
  readonly username: string;
  readonly password: Secret;
  readonly inventory: Inventory;
  readonly clock: Clock;
  readonly log: Logger;
  readonly writer: SampleWriterLike;
  readonly onLiveness: (ev: LivenessEvent) => void;
  /**
   * The embedded broker (RunningBroker): liveness from its connection events, and status messages are only
   * validated. Absent (an external broker): liveness from the status topic and the devices' Last Will.
   */
  readonly embedded?: LivenessFeed | undefined;
  /** Per-device message budget; DEFAULT_RATE_POLICY (10/s, bursts of 50) when absent. */
  readonly rateLimit?: RatePolicy | undefined;
  /** How far a telemetry `ts` may be from the receive time; 30 d back, 5 min ahead when absent. */
  readonly timestampWindow?: TimestampWindow | undefined;
  /**
   * Which device topics this client reads: both (one process, the default), telemetry alone (a cluster's
   * collector member) or status alone (a cluster's alerting leader, which judges liveness).
   */
  readonly topics?: MqttTopics | undefined;
  /**
   * Read telemetry through the MQTT 5 shared subscription `$share/<group>/...` (MQTT 5 §4.8.2): the broker
   * gives each message to one member of the group. Absent: a plain subscription (every message to us).
   */
  readonly shareGroup?: string | undefined;
  /** A word in the client id, so the broker's log tells the parts apart. Default `collector`. */
  readonly clientLabel?: string | undefined;
}

export type MqttTopics = 'all' | 'telemetry' | 'status';

/** The subscriptions of a client: what it reads, shared or not. Pure. */
export function subscriptionFilters(topics: MqttTopics, shareGroup?: string): string[] {
  const telemetry = `${PREFIX}/+/+/telemetry`;
  const filters: string[] = [];
  if (topics !== 'status') filters.push(shareGroup ? `$share/${shareGroup}/${telemetry}` : telemetry);
  if (topics !== 'telemetry') filters.push(`${PREFIX}/+/+/status`);
  return filters;
}

export interface MqttSourceStats {
  received: number;
  telemetry: number;
  status: number;
  invalid: Record<string, number>;
  /** Messages dropped by the per-device rate limit, since start. */
  rateLimited: number;
}

/** At most one "rate limit" line per device this often. */
const RATE_LOG_EVERY_MS = 60_000;
/** How long stop() waits for a clean end (messages in flight acknowledged) before it closes the connection. */
const END_GRACE_MS = 2_000;

export class MqttSource {
  readonly #o: MqttSourceOptions;
  readonly #devices = new Map<string, { device: Device; site: Site }>();
  #client: MqttClient | undefined;
  #unfeed: (() => void) | undefined;
  readonly #stats: MqttSourceStats = { received: 0, telemetry: 0, status: 0, invalid: {}, rateLimited: 0 };
  readonly #rate: RatePolicy;
  readonly #buckets: TokenBuckets;
  readonly #window: TimestampWindow;
  /** Per device: when its last rate-limit line was logged, and drops since. */
  readonly #limitedLog = new Map<string, { atMs: number; dropped: number }>();

  constructor(opts: MqttSourceOptions) {
    this.#o = opts;
    this.#rate = opts.rateLimit ?? DEFAULT_RATE_POLICY;
    this.#buckets = new TokenBuckets(this.#rate);
    this.#window = opts.timestampWindow ?? DEFAULT_TIMESTAMP_WINDOW;
    const sites = new Map(opts.inventory.sites.map((s) => [s.id, s]));
    for (const d of opts.inventory.devices) {
      const site = sites.get(d.siteId);
      if (site) this.#devices.set(d.id, { device: d, site });
    }
  }

  stats(): MqttSourceStats {
    return { ...this.#stats, invalid: { ...this.#stats.invalid } };
  }

  /**
   * Connect (retrying while the broker is unreachable) and subscribe. Rejects when the broker refuses the
   * login or a subscription; resolves without subscribing when stop() came first.
   */
  async start(): Promise<void> {
    const topics = this.#o.topics ?? 'all';
    if (topics !== 'telemetry')
      this.#unfeed = this.#o.embedded?.onDeviceLiveness((ev) => {
        if (this.#devices.has(ev.deviceId)) this.#liveness(ev);
      });
    const label = this.#o.clientLabel ?? 'collector';
    const client = mqtt.connect(this.#o.url, {
      username: this.#o.username,
      password: this.#o.password.reveal(),
      clientId: `netmon-${label}-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      // Shared subscriptions are MQTT 5 (§4.8.2); Mosquitto 2 has them.
      protocolVersion: this.#o.shareGroup ? 5 : 4,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      keepalive: 30,
    });
    this.#client = client;
    client.on('message', (topic, payload) => this.#onMessage(topic, payload));
    client.on('error', (err) => this.#o.log.warn('mqtt client error', { error: err.message }));
    client.on('reconnect', () => this.#o.log.info('mqtt reconnecting', { url: this.#o.url }));
    await connected(client);
    if (this.#client !== client) return; // stopped while connecting
    const filters = subscriptionFilters(topics, this.#o.shareGroup);
    const granted = await client.subscribeAsync(filters, { qos: 1 });
    // SUBACK 0x80 and up (MQTT 5 §3.9.3): refused, e.g. an ACL, or a broker without shared subscriptions.
    const refused = granted.filter((g) => g.qos >= 0x80).map((g) => `${g.topic} (reason ${g.qos})`);
    if (refused.length > 0)
      throw new MqttSubscribeError(`the broker at ${this.#o.url} refused: ${refused.join(', ')}`);
    this.#o.log.info('mqtt source subscribed', { url: this.#o.url, filters });
  }

  async stop(): Promise<void> {
    this.#unfeed?.();
    this.#unfeed = undefined;
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    // A clean end waits for its messages in flight to be acknowledged; a broker that is gone or stuck
    // would hold the monitor's stop for ever: after END_GRACE_MS the connection is closed regardless.
    let timer: TimerHandle | undefined;
    const graceOver = new Promise<'late'>((resolve) => {
      timer = this.#o.clock.setTimeout(() => resolve('late'), END_GRACE_MS);
    });
    const how = await Promise.race([client.endAsync().then(() => 'clean' as const), graceOver]);
    if (timer) this.#o.clock.clearTimeout(timer);
    if (how === 'late') {
      this.#o.log.warn('mqtt client did not end cleanly in time: closing its connection', {
        graceMs: END_GRACE_MS,
      });
      await client.endAsync(true);
    }
  }

  /** Current state of a device (and its site) for other systems: retained. */
  publishState(deviceId: string, state: string, siteState: Record<string, unknown>, timeMs: number): void {
    const entry = this.#devices.get(deviceId);
    if (!entry || !this.#client) return;
    const { device, site } = entry;
    const ts = new Date(timeMs).toISOString();
    this.#client.publish(
      deviceStateTopic(device.id),
      JSON.stringify({ device: device.id, site: site.id, role: device.role, state, since: ts }),
      { retain: true, qos: 1 },
    );
    this.publishSiteState(site.id, siteState, timeMs);
  }

  /** The site's state topic alone: a change with no device transition (a recovery confirmed, maintenance). */
  publishSiteState(siteId: string, siteState: Record<string, unknown>, timeMs: number): void {
    const site = this.#o.inventory.sites.find((s) => s.id === siteId);
    if (!site || !this.#client) return;
    this.#client.publish(
      siteStateTopic(site.id),
      JSON.stringify({
        site: site.id,
        name: site.name,
        kecamatan: site.kecamatan,
        desa: site.desa,
        ...siteState,
        since: new Date(timeMs).toISOString(),
      }),
      { retain: true, qos: 1 },
    );
  }

  publishAlert(alert: unknown): void {
    this.#client?.publish(ALERTS_TOPIC, JSON.stringify(alert), { qos: 1 });
  }

  #invalid(kind: string, topic: string, reason: string): void {
    this.#stats.invalid[kind] = (this.#stats.invalid[kind] ?? 0) + 1;
    this.#o.log.warn('mqtt message dropped', { topic, kind, reason });
  }

  #onMessage(topic: string, payload: Buffer): void {
    this.#stats.received++;
    try {
      const t = parseDeviceTopic(topic);
      if (!t) return this.#invalid('unknown_topic', topic, 'not netmon/v1/<site>/<device>/telemetry|status');
      const entry = this.#devices.get(t.device);
      if (!entry || entry.site.id !== t.site)
        return this.#invalid(
          'unknown_device',
          topic,
          `no device '${t.device}' at site '${t.site}' in the inventory`,
        );
      const now = this.#o.clock.now();
      if (!this.#buckets.take(t.device, now) && !(t.kind === 'status' && isOffline(payload)))
        return this.#rateLimited(t.device, topic, now);
      if (t.kind === 'telemetry') {
        const p = parsePayload(telemetrySchema, payload);
        if (!p.ok) return this.#invalid('bad_payload', topic, p.reason);
        const { ts, ...fields } = p.value;
        if (Object.keys(fields).length === 0)
          return this.#invalid('bad_payload', topic, 'no metrics in the payload');
        const late = ts === undefined ? undefined : timestampProblem(ts, now, this.#window);
        if (late) return this.#invalid('bad_payload', topic, late);
        const sample: Sample = {
          measurement: 'telemetry',
          tags: deviceTags(entry.site, entry.device),
          fields,
          timeMs: ts ?? now,
        };
        this.#stats.telemetry++;
        this.#o.writer.push([sample]);
        return;
      }
      const p = parsePayload(statusSchema, payload);
      if (!p.ok) return this.#invalid('bad_payload', topic, p.reason);
      this.#stats.status++;
      // The embedded broker tells liveness first-hand; a telemetry-only member (a cluster's collector)
      // never judges it: the alerting leader does.
      if (this.#o.embedded || this.#o.topics === 'telemetry') return;
      // An external broker cannot tell a lapsed keepalive from a dropped socket: both publish the Will.
      const kind: LivenessKind =
        p.value.state === 'online' ? 'connected' : p.value.clean ? 'clean_disconnect' : 'will';
      this.#liveness({ deviceId: t.device, kind, timeMs: now });
    } catch (err) {
      this.#invalid('internal', topic, errorMessage(err));
    }
  }

  #rateLimited(deviceId: string, topic: string, now: number): void {
    this.#stats.rateLimited++;
    const entry = this.#limitedLog.get(deviceId);
    if (entry && now - entry.atMs < RATE_LOG_EVERY_MS) {
      entry.dropped++;
      return;
    }
    this.#o.log.warn('mqtt messages dropped: rate limit', {
      device: deviceId,
      topic,
      /** This one and those dropped since the device's previous line (at most one a minute). */
      dropped: (entry?.dropped ?? 0) + 1,
      limit: `${this.#rate.perSecond}/s, bursts of ${this.#rate.burst}`,
    });
    this.#limitedLog.set(deviceId, { atMs: now, dropped: 0 });
  }

  #liveness(ev: LivenessEvent): void {
    try {
      this.#o.onLiveness(ev);
    } catch (err) {
      this.#o.log.error('mqtt liveness handler failed', { device: ev.deviceId, error: errorMessage(err) });
    }
  }
}

/** The broker refused a subscription the source needs (not retryable: its ACL or its features). */
export class MqttSubscribeError extends Error {
  override readonly name = 'MqttSubscribeError';
}

/** Resolves on the first CONNACK; rejects on a refused login (the client is ended), or on an end first. */
function connected(client: MqttClient): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      client.off('connect', onConnect);
      client.off('error', onError);
      client.off('end', onEnd);
    };
    const onConnect = (): void => (done(), resolve());
    const onError = (err: Error): void => {
      done();
      client.end(true);
      reject(err);
    };
    // stop() before the first connection: nothing to wait for.
    const onEnd = (): void => (done(), resolve());
    client.on('connect', onConnect);
    client.on('error', onError);
    client.on('end', onEnd);
  });
}

/** An offline status (a Will, or a goodbye): let through even when the device is over its rate. */
function isOffline(payload: Buffer): boolean {
  const p = parsePayload(statusSchema, payload);
  return p.ok && p.value.state === 'offline';
}
