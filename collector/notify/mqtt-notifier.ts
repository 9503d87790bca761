/**
 * Publishes each notification, as the same JSON the webhook POSTs (schema badung-netmon/alert/v1), to an MQTT
 * topic rendered from a template: `netmon/v1/alerts` (the default; the one topic the broker ACLs of
 * broker/topics.ts and the test Mosquitto let the collector account write) or e.g.
 * `netmon/v1/alerts/{severity}/{kecamatan}` for a broker whose ACL allows the subtopics.
 *
 * Two ways to reach a broker, chosen per channel:
 *  - `connection`: the notifier owns an MQTT.js client (a second importer of `mqtt` after
 *    collector/sources/mqtt, on purpose: an alert channel may go to another broker with another account, and
 *    its delivery should not depend on the telemetry client's state). It connects on the first send, reconnects
 *    on its own, and `close()` ends it.
 *  - `publish`: the runtime passes a function, e.g. over the collector's own connection; it must resolve once
 *    the broker has the message and throw otherwise (a NotifyError is passed on; anything else is retryable).
 *
 * Failures: not connected within the wait, a lost connection, a publish not acknowledged in time → retryable.
 * A broker that refuses the login (CONNACK 4/5, MQTT 5 134/135/138/140) or, with MQTT 5, the publish
 * (PUBACK 0x87 not authorized, 0x90 topic name invalid, 0x95 packet too large, 0x99 payload format invalid,
 * 0x9A/0x9B retain/QoS not supported) → not retryable. MQTT 3.1.1 has no negative PUBACK: a broker that
 * drops a publish its ACL denies (Mosquitto, the embedded broker) still acknowledges it, which is why the
 * default topic is the one the ACLs allow and why protocolVersion 5 is worth setting against Mosquitto.
 * QoS 1 is at-least-once: a PUBACK lost with the connection means the retry can deliver a second copy
 * (subscribers can tell by `id` + `status`).
 */
import mqtt, { type IClientPublishOptions, type MqttClient } from 'mqtt';
import { NotifyError, errorMessage } from '../core/errors.ts';
import type { Secret } from '../core/secret.ts';
import type { Notification } from './notification.ts';
import type { Notifier } from './notifier.ts';

export type MqttQos = 0 | 1 | 2;

/** Resolves once the broker has the message (PUBACK for QoS 1); throws otherwise. */
export type MqttPublish = (
  topic: string,
  payload: string,
  opts: { readonly qos: MqttQos; readonly retain: boolean },
) => Promise<void>;

export interface MqttConnectionOptions {
  /** mqtt://host:port or mqtts://host:port; credentials go in username/password, never in the URL. */
  readonly url: string;
  readonly username?: string | undefined;
  readonly password?: Secret | undefined;
  readonly clientId?: string | undefined;
  /** 4 (MQTT 3.1.1, default) or 5 (negative PUBACKs: an ACL refusal is seen, not silently dropped). */
  readonly protocolVersion?: 4 | 5 | undefined;
  /** Extra CA certificates (PEM) for mqtts. */
  readonly ca?: string | Buffer | undefined;
  /** How long a send waits for the connection before failing (retryable). Default 5 s. */
  readonly connectTimeoutMs?: number | undefined;
  /** Pause between reconnection attempts. Default 1 s. */
  readonly reconnectPeriodMs?: number | undefined;
}

interface CommonOptions {
  readonly name: string;
  /** Topic template; fields in braces, see TOPIC_FIELDS. Default 'netmon/v1/alerts'. */
  readonly topic?: string | undefined;
  /** Default 1. */
  readonly qos?: MqttQos | undefined;
  /**
   * Retained messages: a subscriber that connects later gets the last message of each topic. Worth it with a
   * per-incident topic ('…/{site}/{device}'), where that is the incident's current state. Default false.
   */
  readonly retain?: boolean | undefined;
  /** How long a publish may wait for its acknowledgement. Default 10 s. */
  readonly publishTimeoutMs?: number | undefined;
}

export type MqttNotifierOptions =
  | (CommonOptions & { readonly connection: MqttConnectionOptions; readonly publish?: undefined })
  | (CommonOptions & { readonly publish: MqttPublish; readonly connection?: undefined });

export const DEFAULT_ALERT_TOPIC = 'netmon/v1/alerts';
export const TOPIC_FIELDS = ['severity', 'status', 'kind', 'kecamatan', 'site', 'device'] as const;
type TopicField = (typeof TOPIC_FIELDS)[number];

/** CONNACK codes that say the login itself is refused: a reconnect will get the same answer. */
const LOGIN_REFUSED = new Set([4, 5, 134, 135, 138, 140]);
/** MQTT 5 PUBACK reason codes (§3.4.2.1) that the same publish will get again. */
const PUBLISH_REFUSED = new Set([0x87, 0x90, 0x95, 0x99, 0x9a, 0x9b]);

export class MqttNotifier implements Notifier {
  readonly name: string;
  readonly #topic: string;
  readonly #qos: MqttQos;
  readonly #retain: boolean;
  readonly #publishTimeoutMs: number;
  readonly #publish: MqttPublish;
  readonly #owned: OwnedClient | undefined;

  constructor(opts: MqttNotifierOptions) {
    this.name = `mqtt:${opts.name}`;
    this.#topic = opts.topic ?? DEFAULT_ALERT_TOPIC;
    const problem = topicTemplateProblem(this.#topic);
    if (problem) throw new Error(`${this.name}: topic '${this.#topic}': ${problem}`);
    this.#qos = opts.qos ?? 1;
    this.#retain = opts.retain ?? false;
    this.#publishTimeoutMs = opts.publishTimeoutMs ?? 10_000;
    if (opts.connection) {
      this.#owned = new OwnedClient(this.name, opts.connection);
      const owned = this.#owned;
      this.#publish = (topic, payload, o) => owned.publish(topic, payload, o);
    } else {
      this.#publish = opts.publish;
    }
  }

  async send(n: Notification): Promise<void> {
    const topic = renderTopic(this.#topic, n);
    const published = this.#publish(topic, JSON.stringify(n), { qos: this.#qos, retain: this.#retain });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new NotifyError(
              'mqtt_publish_timeout',
              `${this.name}: no acknowledgement for ${topic} within ${this.#publishTimeoutMs} ms`,
              { retryable: true },
            ),
          ),
        this.#publishTimeoutMs,
      );
    });
    // The publish may still settle after the timeout: its outcome no longer matters.
    published.catch(() => undefined);
    try {
      await Promise.race([published, timeout]);
    } catch (err) {
      if (err instanceof NotifyError) throw err;
      throw new NotifyError(
        'mqtt_publish_failed',
        `${this.name}: publish to ${topic}: ${errorMessage(err)}`,
        {
          retryable: true,
          cause: err,
        },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the owned client (nothing to do with an injected publish). Call after the dispatcher has stopped. */
  async close(): Promise<void> {
    await this.#owned?.close();
  }
}

/** The MQTT.js client of a `connection` channel: lazy, reconnecting, typed errors. */
class OwnedClient {
  readonly #name: string;
  readonly #o: MqttConnectionOptions;
  #client: MqttClient | undefined;
  #lastError: string | undefined;
  #refused: string | undefined;

  constructor(name: string, o: MqttConnectionOptions) {
    this.#name = name;
    this.#o = o;
  }

  async publish(topic: string, payload: string, o: { qos: MqttQos; retain: boolean }): Promise<void> {
    const client = await this.#ready();
    const opts: IClientPublishOptions = { qos: o.qos, retain: o.retain };
    if (this.#o.protocolVersion === 5)
      opts.properties = { contentType: 'application/json', payloadFormatIndicator: true };
    try {
      await client.publishAsync(topic, payload, opts);
    } catch (err) {
      const reason = (err as { code?: unknown }).code;
      const refused = typeof reason === 'number' && PUBLISH_REFUSED.has(reason);
      throw new NotifyError(
        refused ? 'mqtt_publish_refused' : 'mqtt_publish_failed',
        `${this.#name}: publish to ${topic}: ${errorMessage(err)}${refused ? ' (check the broker ACL for this account and topic)' : ''}`,
        { retryable: !refused, cause: err },
      );
    }
  }

  async close(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    if (c) await c.endAsync(!c.connected);
  }

  /** The connected client, or a NotifyError after the wait. */
  async #ready(): Promise<MqttClient> {
    if (this.#refused !== undefined) {
      // The client stopped after the refusal; the next notification tries a fresh login.
      const why = this.#refused;
      await this.close();
      this.#refused = undefined;
      throw new NotifyError('mqtt_refused', `${this.#name}: the broker refused the login: ${why}`, {
        retryable: false,
      });
    }
    const c = (this.#client ??= this.#connect());
    if (c.connected) return c;
    const waitMs = this.#o.connectTimeoutMs ?? 5_000;
    const outcome = await new Promise<'connected' | 'refused' | 'timeout'>((resolve) => {
      const finish = (r: 'connected' | 'refused' | 'timeout'): void => {
        clearTimeout(timer);
        c.off('connect', onConnect);
        c.off('error', onError);
        resolve(r);
      };
      const onConnect = (): void => finish('connected');
      const onError = (): void => {
        if (this.#refused !== undefined) finish('refused');
      };
      const timer = setTimeout(() => finish('timeout'), waitMs);
      c.on('connect', onConnect);
      c.on('error', onError);
    });
    if (outcome === 'connected') return c;
    if (outcome === 'refused') return this.#ready();
    throw new NotifyError(
      'mqtt_not_connected',
      `${this.#name}: not connected to ${this.#o.url} after ${waitMs} ms${this.#lastError ? ` (${this.#lastError})` : ''}`,
      { retryable: true },
    );
  }

  #connect(): MqttClient {
    const o = this.#o;
    const c = mqtt.connect(o.url, {
      username: o.username,
      password: o.password?.reveal(),
      clientId: o.clientId ?? `netmon-notify-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      protocolVersion: o.protocolVersion ?? 4,
      clean: true,
      connectTimeout: o.connectTimeoutMs ?? 5_000,
      reconnectPeriod: o.reconnectPeriodMs ?? 1_000,
      keepalive: 30,
      ca: o.ca,
    });
    // Listeners only record: never throw inside one.
    c.on('connect', () => {
      this.#lastError = undefined;
      this.#refused = undefined;
    });
    c.on('error', (err) => {
      this.#lastError = err.message;
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'number' && LOGIN_REFUSED.has(code)) this.#refused = err.message;
    });
    return c;
  }
}

/** Why a topic template cannot be used, or undefined. */
export function topicTemplateProblem(template: string): string | undefined {
  if (template.length === 0) return 'empty';
  if (/[+#]/.test(template))
    return "wildcards '+' and '#' are for subscriptions, not for a topic to publish to";
  if (template.startsWith('/') || template.endsWith('/') || template.includes('//'))
    return 'empty topic level (a leading, trailing or double /)';
  for (const m of template.matchAll(/\{([^}]*)\}/g)) {
    if (!(TOPIC_FIELDS as readonly string[]).includes(m[1] ?? ''))
      return `unknown field {${m[1] ?? ''}}; use ${TOPIC_FIELDS.map((f) => `{${f}}`).join(', ')}`;
  }
  if (/[{}]/.test(template.replace(/\{[a-z]+\}/g, ''))) return 'unbalanced { or }';
  return undefined;
}

/**
 * The topic for one notification: each {field} becomes one topic level, lower-cased, anything but
 * [a-z0-9._-] turned into '-' ('Kuta Selatan' → 'kuta-selatan'); a field the notification lacks (the site of
 * an area outage) is 'none'. Pure.
 */
export function renderTopic(template: string, n: Notification): string {
  const values: Record<TopicField, string | undefined> = {
    severity: n.severity,
    status: n.status,
    kind: n.kind,
    kecamatan: n.site?.kecamatan ?? n.area?.kecamatan,
    site: n.site?.id,
    device: n.device?.id,
  };
  return template.replace(/\{([a-z]+)\}/g, (_m, f: string) => topicLevel(values[f as TopicField]));
}

function topicLevel(v: string | undefined): string {
  const slug = (v ?? '')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug || 'none';
}
