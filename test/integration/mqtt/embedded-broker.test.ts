/**
 * What only the embedded broker does (the cases both brokers share are in liveness.test.ts and mqtt.test.ts):
 * its own payload size limit, and liveness from its connection events even for a device that sets no Will
 * and says nothing on its status topic.
 */
import { connect } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Accounts, hashPassword, type Account } from '../../../broker/accounts.ts';
import { startEmbeddedBroker, type RunningBroker } from '../../../broker/embedded-broker.ts';
import { deviceTopic } from '../../../broker/topics.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { LivenessEvent } from '../../../collector/liveness/mqtt-liveness.ts';
import { waitFor } from '../../support/ports.ts';

const account = (username: string, role: Account['role'], deviceId?: string): Account => ({
  username,
  passwordHash: hashPassword(`pw-${username}`, { N: 1024 }),
  role,
  deviceId,
  siteId: deviceId ? 'bjr-1' : undefined,
});

let broker: RunningBroker;
const log = memoryLogger('info');
const events: LivenessEvent[] = [];
const clients: MqttClient[] = [];

beforeAll(async () => {
  broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    accounts: new Accounts([
      account('netmon-collector', 'collector'),
      account('bjr-1-r1', 'device', 'bjr-1-r1'),
      account('bjr-1-env', 'device', 'bjr-1-env'),
    ]),
    log,
    maxPayloadBytes: 1024,
  });
  broker.onDeviceLiveness((ev) => events.push(ev));
});
afterAll(async () => {
  for (const c of clients) c.end(true);
  await broker?.close();
});

const login = async (username: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> => {
  const c = await mqtt.connectAsync(broker.url, {
    username,
    password: `pw-${username}`,
    reconnectPeriod: 0,
    ...opts,
  });
  clients.push(c);
  return c;
};

describe('embedded broker', () => {
  it('drops a publish over its size limit, counts and logs it, and keeps the client', async () => {
    const collector = await login('netmon-collector');
    const got: number[] = [];
    collector.on('message', (_t, p) => got.push(p.length));
    await collector.subscribeAsync('netmon/v1/+/+/telemetry', { qos: 1 });
    const dev = await login('bjr-1-r1');
    const topic = deviceTopic('bjr-1', 'bjr-1-r1', 'telemetry');
    await dev.publishAsync(topic, Buffer.alloc(2000, 0x20), { qos: 1 });
    await dev.publishAsync(topic, '{"cpu_pct":3}', { qos: 1 });
    // In order from one client: once the small one is here, the big one would have been too.
    await waitFor(() => got.length === 1);
    expect(got).toEqual([13]);
    expect(broker.stats().deniedPublishes).toBe(1);
    expect(log.records.find((r) => r.msg === 'mqtt publish refused')).toMatchObject({
      username: 'bjr-1-r1',
      reason: "payload of 2000 bytes exceeds the broker's limit of 1024",
    });
    expect(dev.connected).toBe(true);
  });

  it('tells connection events apart without any Will or status message', async () => {
    const first = await login('bjr-1-env', { keepalive: 30 });
    const second = await login('bjr-1-env', { keepalive: 30 }); // the same device twice: one connection
    await waitFor(() => events.some((e) => e.deviceId === 'bjr-1-env'));
    await second.endAsync(); // one of two goes: the device is still there
    await first.endAsync(); // the last one says DISCONNECT
    await waitFor(() => events.filter((e) => e.deviceId === 'bjr-1-env').length === 2);
    const third = await login('bjr-1-env', { keepalive: 30 });
    await waitFor(() => events.filter((e) => e.deviceId === 'bjr-1-env').length === 3);
    third.stream.destroy(); // no Will set: the broker still knows the socket dropped
    await waitFor(() => events.filter((e) => e.deviceId === 'bjr-1-env').length === 4);
    expect(events.filter((e) => e.deviceId === 'bjr-1-env').map((e) => e.kind)).toEqual([
      'connected',
      'clean_disconnect',
      'connected',
      'will',
    ]);
    // The collector is no device: its connection is nobody's liveness.
    expect(events.every((e) => e.deviceId.startsWith('bjr-1-'))).toBe(true);
  });

  it('a listener that comes late hears first of the devices connected now', async () => {
    await login('bjr-1-env', { keepalive: 30 });
    await waitFor(() => events.filter((e) => e.deviceId === 'bjr-1-env').length === 5);
    const late: LivenessEvent[] = [];
    const off = broker.onDeviceLiveness((ev) => late.push(ev));
    off();
    // bjr-1-r1 from the first test and bjr-1-env.
    expect(late.map((e) => [e.deviceId, e.kind]).sort()).toEqual([
      ['bjr-1-env', 'connected'],
      ['bjr-1-r1', 'connected'],
    ]);
  });

  it('closes with a connection open that never finished its CONNECT (no aedes client holds it)', async () => {
    const own = await startEmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      accounts: new Accounts([account('bjr-1-r1', 'device', 'bjr-1-r1')]),
      log: memoryLogger('error'),
    });
    const silent = connect(Number(new URL(own.url).port), '127.0.0.1');
    await new Promise<void>((r) => silent.once('connect', () => r()));
    const device = await mqtt.connectAsync(own.url, {
      username: 'bjr-1-r1',
      password: 'pw-bjr-1-r1',
      reconnectPeriod: 0,
    });
    const ended = new Promise<void>((r) => silent.once('close', () => r()));
    // Before: the server's close waited for the silent socket as long as its peer kept it open.
    await own.close();
    await ended;
    await waitFor(() => !device.connected);
    device.end(true);
  });
});
