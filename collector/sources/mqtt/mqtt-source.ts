/**
 * The collector's MQTT side (the only file that imports `mqtt`): one client, logged in with the collector's
 * service account, on the embedded broker or an external one (Mosquitto) alike.
 *
 *   netmon/v1/<site>/<device>/telemetry ─► validate ─► `telemetry` samples ─► the same SampleWriter as SNMP
 *   netmon/v1/<site>/<device>/status    ─► validate ─► liveness events ─► Monitor (suspect, probe, grace)
 *   (embedded broker: its connection events instead of the status topic; keepalive lapses told apart)
 *   Monitor transitions and alerts      ─► netmon/v1/state/device/<id>, state/site/<id> (retained), alerts
 *
 * A bad message (unknown topic or device, bad JSON, wrong types, too big) is counted by reason, logged with
 * the topic, and dropped; the client and everything else carry on.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Clock } from '../../core/clock.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { Secret } from '../../core/secret.ts';
import type { Device, Inventory, Sample, Site } from '../../core/types.ts';
import type { LivenessEvent, LivenessKind } from '../../liveness/mqtt-liveness.ts';
import type { SampleWriterLike } from '../../pipeline.ts';
import { deviceTags } from '../../sinks/schema.ts';
import { parsePayload, statusSchema, telemetrySchema } from '../../../broker/payloads.ts';
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
}

export interface MqttSourceStats {
  received: number;
  telemetry: number;
  status: number;
  invalid: Record<string, number>;
}

export class MqttSource {
  readonly #o: MqttSourceOptions;
  readonly #devices = new Map<string, { device: Device; site: Site }>();
  #client: MqttClient | undefined;
  #unfeed: (() => void) | undefined;
  readonly #stats: MqttSourceStats = { received: 0, telemetry: 0, status: 0, invalid: {} };

  constructor(opts: MqttSourceOptions) {
    this.#o = opts;
    const sites = new Map(opts.inventory.sites.map((s) => [s.id, s]));
    for (const d of opts.inventory.devices) {
      const site = sites.get(d.siteId);
      if (site) this.#devices.set(d.id, { device: d, site });
    }
  }

  stats(): MqttSourceStats {
    return { ...this.#stats, invalid: { ...this.#stats.invalid } };
  }

  async start(): Promise<void> {
    this.#unfeed = this.#o.embedded?.onDeviceLiveness((ev) => {
      if (this.#devices.has(ev.deviceId)) this.#liveness(ev);
    });
    const client = await mqtt.connectAsync(this.#o.url, {
      username: this.#o.username,
      password: this.#o.password.reveal(),
      clientId: `netmon-collector-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      keepalive: 30,
    });
    this.#client = client;
    client.on('message', (topic, payload) => this.#onMessage(topic, payload));
    client.on('error', (err) => this.#o.log.warn('mqtt client error', { error: err.message }));
    client.on('reconnect', () => this.#o.log.info('mqtt reconnecting', { url: this.#o.url }));
    await client.subscribeAsync([`${PREFIX}/+/+/telemetry`, `${PREFIX}/+/+/status`], { qos: 1 });
    this.#o.log.info('mqtt source subscribed', { url: this.#o.url });
  }

  async stop(): Promise<void> {
    this.#unfeed?.();
    this.#unfeed = undefined;
    await this.#client?.endAsync();
    this.#client = undefined;
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
      if (t.kind === 'telemetry') {
        const p = parsePayload(telemetrySchema, payload);
        if (!p.ok) return this.#invalid('bad_payload', topic, p.reason);
        const { ts, ...fields } = p.value;
        if (Object.keys(fields).length === 0)
          return this.#invalid('bad_payload', topic, 'no metrics in the payload');
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
      if (this.#o.embedded) return;
      // An external broker cannot tell a lapsed keepalive from a dropped socket: both publish the Will.
      const kind: LivenessKind =
        p.value.state === 'online' ? 'connected' : p.value.clean ? 'clean_disconnect' : 'will';
      this.#liveness({ deviceId: t.device, kind, timeMs: now });
    } catch (err) {
      this.#invalid('internal', topic, errorMessage(err));
    }
  }

  #liveness(ev: LivenessEvent): void {
    try {
      this.#o.onLiveness(ev);
    } catch (err) {
      this.#o.log.error('mqtt liveness handler failed', { device: ev.deviceId, error: errorMessage(err) });
    }
  }
}
