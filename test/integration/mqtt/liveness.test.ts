/**
 * The collector's MQTT source on its own, against the embedded aedes broker and against Debian's Mosquitto,
 * with the same cases: which liveness events a device's connection yields, and how soon. The embedded broker
 * reports from its connection events; with Mosquitto the source reads the status topic and the Will.
 *
 *   clean goodbye                        → clean_disconnect, and never a loss
 *   socket dropped                       → will, within keepalive x 1.5 + 2 s
 *   uplink dead (socket open, silent)    → keepalive_lapsed (embedded) within the same bound; will (Mosquitto)
 *                                          later: Mosquitto 2.0.11 checks keepalives coarsely (measured 5.3-6.0 s
 *                                          at keepalive 2 s, 12 s at keepalive 4 s), so its bound is 3 x keepalive + 2 s
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Accounts, hashPassword } from '../../../broker/accounts.ts';
import { startEmbeddedBroker, type RunningBroker } from '../../../broker/embedded-broker.ts';
import { deviceTopic } from '../../../broker/topics.ts';
import { systemClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { Secret } from '../../../collector/core/secret.ts';
import type { Device, Inventory, Sample } from '../../../collector/core/types.ts';
import type { LivenessEvent } from '../../../collector/liveness/mqtt-liveness.ts';
import type { SampleWriterLike } from '../../../collector/pipeline.ts';
import { MqttSource } from '../../../collector/sources/mqtt/mqtt-source.ts';
import { testDevice, testSite } from '../../support/fixtures.ts';
import { startMosquitto, type Mosquitto } from '../../support/mosquitto.ts';
import { startBlackhole, type Blackhole } from '../../support/mqtt-blackhole.ts';
import { waitFor } from '../../support/ports.ts';

const KEEPALIVE_S = 2;
const BOUND_MS = (KEEPALIVE_S * 1.5 + 2) * 1000;
const COLLECTOR = { user: 'netmon-collector', password: 'collector-secret' };
const pw = (id: string): string => `pw-${id}`;

const identity = (id: string) => ({
  username: id,
  passwordHash: hashPassword(pw(id), { N: 1024 }),
  keepaliveS: KEEPALIVE_S,
});
const router: Device = { ...testDevice('bjr-1-r1', 'bjr-1', 'router'), mqtt: identity('bjr-1-r1') };
const ap: Device = { ...testDevice('bjr-1-ap1', 'bjr-1', 'ap'), mqtt: identity('bjr-1-ap1') };
const sensor: Device = {
  id: 'bjr-1-env',
  siteId: 'bjr-1',
  role: 'sensor',
  host: '',
  port: 0,
  profile: 'generic',
  parent: router.id,
  mqtt: identity('bjr-1-env'),
};
const inventory: Inventory = { sites: [testSite('bjr-1')], devices: [router, ap, sensor] };

class RecordingWriter implements SampleWriterLike {
  readonly samples: Sample[] = [];
  push(s: readonly Sample[]): void {
    this.samples.push(...s);
  }
  start(): Promise<void> {
    return Promise.resolve();
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
  stats() {
    return { written: this.samples.length, buffered: 0, dropped: 0, invalid: 0, failures: 0 };
  }
}

describe.each(['embedded', 'mosquitto'] as const)('MQTT liveness through the %s broker', (kind) => {
  let broker: RunningBroker | undefined;
  let mosq: Mosquitto | undefined;
  let source: MqttSource;
  let url: string;
  const events: (LivenessEvent & { at: number })[] = [];
  const clients: MqttClient[] = [];
  const relays: Blackhole[] = [];

  beforeAll(async () => {
    if (kind === 'embedded') {
      broker = await startEmbeddedBroker({
        host: '127.0.0.1',
        port: 0,
        accounts: Accounts.fromInventory(inventory, [
          {
            username: COLLECTOR.user,
            passwordHash: hashPassword(COLLECTOR.password, { N: 1024 }),
            role: 'collector',
          },
        ]),
        log: memoryLogger('warn'),
      });
      url = broker.url;
    } else {
      const users: Record<string, string> = { [COLLECTOR.user]: COLLECTOR.password };
      for (const d of inventory.devices) users[d.id] = pw(d.id);
      mosq = await startMosquitto(users, COLLECTOR.user);
      url = mosq.url;
    }
    source = new MqttSource({
      url,
      username: COLLECTOR.user,
      password: new Secret(COLLECTOR.password),
      inventory,
      clock: systemClock,
      log: memoryLogger('warn'),
      writer: new RecordingWriter(),
      onLiveness: (ev) => events.push({ ...ev, at: Date.now() }),
      embedded: broker,
    });
    await source.start();
  });

  afterAll(async () => {
    for (const c of clients) c.end(true);
    for (const r of relays) await r.close();
    await source?.stop();
    await broker?.close();
    await mosq?.stop();
  });

  async function deviceClient(d: Device, via = url): Promise<MqttClient> {
    const status = deviceTopic(d.siteId, d.id, 'status');
    const c = await mqtt.connectAsync(via, {
      username: d.id,
      password: pw(d.id),
      keepalive: KEEPALIVE_S,
      reconnectPeriod: 0,
      clientId: `${d.id}-${Math.random().toString(16).slice(2, 8)}`,
      will: {
        topic: status,
        payload: Buffer.from('{"state":"offline","clean":false}'),
        qos: 1,
        retain: true,
      },
    });
    c.on('error', () => undefined); // the black hole makes the client's own keepalive fail
    clients.push(c);
    await c.publishAsync(status, '{"state":"online"}', { qos: 1, retain: true });
    return c;
  }

  const eventsOf = (d: Device) => events.filter((e) => e.deviceId === d.id).map((e) => e.kind);
  const next = (d: Device, k: LivenessEvent['kind'], after: number) =>
    waitFor(() => events.find((e) => e.deviceId === d.id && e.kind === k && e.at >= after), {
      timeoutMs: BOUND_MS + 2000,
      what: `${k} of ${d.id}`,
    });

  it('a device that says goodbye yields clean_disconnect and never a loss', async () => {
    const t0 = Date.now();
    const c = await deviceClient(ap);
    await next(ap, 'connected', t0);
    await c.publishAsync(deviceTopic(ap.siteId, ap.id, 'status'), '{"state":"offline","clean":true}', {
      qos: 1,
      retain: true,
    });
    await c.endAsync();
    await next(ap, 'clean_disconnect', t0);
    // A loss of the AP would come before the sensor's, which is made later through the same broker.
    const s = await deviceClient(sensor);
    const t1 = Date.now();
    s.stream.destroy();
    await next(sensor, 'will', t1);
    expect(eventsOf(ap)).toEqual(['connected', 'clean_disconnect']);
  });

  it('a dropped socket yields the will within keepalive x 1.5 + 2 s', async () => {
    const c = await deviceClient(router);
    await next(router, 'connected', Date.now() - 1000);
    const t0 = Date.now();
    c.stream.destroy();
    const ev = await next(router, 'will', t0);
    expect(ev.at - t0).toBeLessThan(BOUND_MS);
  });

  it('a silent connection (uplink dead, socket open) is noticed by the keepalive', async () => {
    const relay = await startBlackhole(url);
    relays.push(relay);
    const t0 = Date.now();
    await deviceClient(sensor, relay.url);
    await next(sensor, 'connected', t0);
    const frozenAt = Date.now();
    relay.freeze();
    const want = kind === 'embedded' ? 'keepalive_lapsed' : 'will';
    const ev = await waitFor(
      () => events.find((e) => e.deviceId === sensor.id && e.kind === want && e.at >= frozenAt),
      { timeoutMs: (KEEPALIVE_S * 3 + 4) * 1000, what: `${want} of ${sensor.id}` },
    );
    const took = ev.at - frozenAt;
    // No sooner than the keepalive allows (nothing closed the socket; the last packet was at most one
    // keepalive before the freeze), no later than the bound.
    expect(took).toBeGreaterThan(KEEPALIVE_S * 1000 * 0.5 - 100);
    expect(took).toBeLessThan(kind === 'embedded' ? BOUND_MS : (KEEPALIVE_S * 3 + 2) * 1000);
  });
});
