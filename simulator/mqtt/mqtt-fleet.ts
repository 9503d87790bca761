/**
 * The simulator's MQTT devices: every inventory device with an `mqtt` account connects to the broker, says
 * `online` (retained) with a Last Will of `offline`, and publishes telemetry every `intervalMs` (telemetry.ts):
 * routers from the simulated SNMP values (uptime, Wi-Fi clients, traffic), sensors a temperature and a supply
 * voltage that follow the time of day. A device can be dropped abruptly (socket destroyed: the broker sends its
 * Will), disconnected cleanly (it says goodbye first), and restored. Cutting a site or a device in the
 * fleet drops its MQTT devices too.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { systemClock, type Clock, type TimerHandle } from '../../collector/core/clock.ts';
import type { Logger } from '../../collector/core/log.ts';
import type { Device, Inventory } from '../../collector/core/types.ts';
import type { FleetSimulator } from '../fleet.ts';
import { routerTelemetry, sensorTelemetry } from './telemetry.ts';

export interface MqttFleetOptions {
  readonly url: string;
  readonly inventory: Inventory;
  readonly passwordFor: (deviceId: string) => string;
  readonly sim?: FleetSimulator | undefined;
  readonly intervalMs?: number | undefined;
  readonly log: Logger;
  /** Timers and the telemetry's time; the system clock unless a test drives it. */
  readonly clock?: Clock | undefined;
}

interface SimDevice {
  readonly device: Device;
  client?: MqttClient | undefined;
  /** The next telemetry (the first at a random offset, so the fleet does not publish in one burst). */
  timer?: TimerHandle | undefined;
  state: 'connected' | 'dropped' | 'disconnected' | 'connecting';
}

const statusTopic = (d: Device): string => `netmon/v1/${d.siteId}/${d.id}/status`;
const telemetryTopic = (d: Device): string => `netmon/v1/${d.siteId}/${d.id}/telemetry`;

export class MqttFleet {
  readonly #o: MqttFleetOptions;
  readonly #clock: Clock;
  readonly #devices = new Map<string, SimDevice>();

  constructor(opts: MqttFleetOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
    for (const d of opts.inventory.devices)
      if (d.mqtt) this.#devices.set(d.id, { device: d, state: 'disconnected' });
  }

  get size(): number {
    return this.#devices.size;
  }

  start(): void {
    for (const id of this.#devices.keys()) this.#connect(id);
  }

  /** The simulator stops: every device goes away at once, without waiting on a broker that may be gone. */
  stop(): Promise<void> {
    for (const d of this.#devices.values()) {
      this.#halt(d);
      d.client?.end(true);
      d.client = undefined;
      d.state = 'disconnected';
    }
    return Promise.resolve();
  }

  status(): Record<string, number> {
    const out: Record<string, number> = { connected: 0, dropped: 0, disconnected: 0, connecting: 0 };
    for (const d of this.#devices.values()) out[d.state] = (out[d.state] ?? 0) + 1;
    return out;
  }

  has(id: string): boolean {
    return this.#devices.has(id);
  }

  /** The device's MQTT connection now; undefined when it has no MQTT account. */
  stateOf(id: string): SimDevice['state'] | undefined {
    return this.#devices.get(id)?.state;
  }

  /** What the device would publish now (the control API shows it for MQTT-only devices). */
  telemetryOf(id: string): Record<string, unknown> {
    return this.#telemetry(this.#get(id).device);
  }

  /** The device vanishes (power, cable): no goodbye, the broker publishes its Will. */
  drop(id: string): void {
    const d = this.#get(id);
    this.#halt(d);
    d.client?.stream.destroy();
    d.client?.end(true);
    d.client = undefined;
    d.state = 'dropped';
  }

  /** A planned shutdown: `offline` with clean: true, then DISCONNECT (no Will). */
  async disconnect(id: string): Promise<void> {
    const d = this.#get(id);
    this.#halt(d);
    const c = d.client;
    d.client = undefined;
    d.state = 'disconnected';
    if (c?.connected) {
      await c.publishAsync(statusTopic(d.device), JSON.stringify({ state: 'offline', clean: true }), {
        qos: 1,
        retain: true,
      });
      await c.endAsync();
    } else c?.end(true);
  }

  restore(id: string): void {
    const d = this.#get(id);
    if (d.state === 'dropped' || d.state === 'disconnected') this.#connect(id);
  }

  /** A site lost power: its MQTT devices drop. */
  cutSite(siteId: string): void {
    for (const d of this.#devices.values())
      if (d.device.siteId === siteId && d.state !== 'dropped') this.drop(d.device.id);
  }

  restoreSite(siteId: string): void {
    for (const d of this.#devices.values()) if (d.device.siteId === siteId) this.restore(d.device.id);
  }

  #get(id: string): SimDevice {
    const d = this.#devices.get(id);
    if (!d) throw new Error(`device ${id} has no MQTT account`);
    return d;
  }

  /** No timer of the device is left: a stopped simulator exits at once, a dropped device publishes nothing. */
  #halt(d: SimDevice): void {
    if (d.timer) this.#clock.clearTimeout(d.timer);
    d.timer = undefined;
  }

  #connect(id: string): void {
    const d = this.#get(id);
    const dev = d.device;
    d.state = 'connecting';
    const client = mqtt.connect(this.#o.url, {
      username: dev.mqtt?.username,
      password: this.#o.passwordFor(dev.id),
      clientId: `sim-${dev.id}`,
      keepalive: dev.mqtt?.keepaliveS ?? 30,
      reconnectPeriod: 2000,
      will: {
        topic: statusTopic(dev),
        payload: Buffer.from(JSON.stringify({ state: 'offline', clean: false })),
        qos: 1,
        retain: true,
      },
    });
    d.client = client;
    client.on('connect', () => {
      if (d.client !== client) return;
      d.state = 'connected';
      client.publish(statusTopic(dev), JSON.stringify({ state: 'online' }), { qos: 1, retain: true });
      this.#halt(d);
      const every = this.#o.intervalMs ?? 30_000;
      const publish = (): void => {
        d.timer = this.#clock.setTimeout(publish, every);
        void client
          .publishAsync(telemetryTopic(dev), JSON.stringify(this.#telemetry(dev)), { qos: 0 })
          .catch(() => undefined);
      };
      d.timer = this.#clock.setTimeout(publish, Math.floor(Math.random() * Math.min(every, 5000)));
    });
    client.on('error', (err) =>
      this.#o.log.debug('simulated mqtt device error', { device: dev.id, error: err.message }),
    );
  }

  #telemetry(dev: Device): Record<string, unknown> {
    const now = this.#clock.now();
    if (dev.role === 'sensor' || !this.#o.sim || this.#o.sim.isMqttOnly(dev.id))
      return sensorTelemetry(dev.id, now, process.uptime());
    return routerTelemetry(dev.id, this.#o.sim.valuesAt(dev.id, now), now);
  }
}
