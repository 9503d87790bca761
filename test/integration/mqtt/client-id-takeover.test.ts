/**
 * Issue #10, MQTT client-id takeover, against the embedded aedes broker with real mqtt clients: a device
 * logged in with its own account but another device's client id used to disconnect that device and fire
 * its Last Will (it flapped up -> suspect 12 times in 25 s, and nothing was logged). Now the id belongs to
 * the account that first used it: the intruder is refused (CONNACK 2) and logged, the holder stays.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Accounts, hashPassword, type Account } from '../../../broker/accounts.ts';
import {
  ClientIdBindings,
  startEmbeddedBroker,
  type RunningBroker,
} from '../../../broker/embedded-broker.ts';
import { deviceTopic } from '../../../broker/topics.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { LivenessEvent } from '../../../collector/liveness/mqtt-liveness.ts';
import { waitFor } from '../../support/ports.ts';

const device = (deviceId: string, siteId: string): Account => ({
  username: deviceId,
  passwordHash: hashPassword(`pw-${deviceId}`, { N: 1024 }),
  role: 'device',
  deviceId,
  siteId,
});

const VICTIM = 'kds-tibubeneng-env';
const INTRUDER = 'kcm-kuta-selatan-rtr';
const VICTIM_CLIENT_ID = `sim-${VICTIM}`;

let broker: RunningBroker;
const log = memoryLogger('info');
const events: LivenessEvent[] = [];
const clients: MqttClient[] = [];

beforeAll(async () => {
  broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    accounts: new Accounts([
      {
        username: 'netmon-collector',
        passwordHash: hashPassword('pw-netmon-collector', { N: 1024 }),
        role: 'collector',
      },
      device(VICTIM, 'kds-tibubeneng'),
      device(INTRUDER, 'kcm-kuta-selatan'),
    ]),
    log,
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
    keepalive: 30,
    ...opts,
  });
  clients.push(c);
  return c;
};

/** The CONNACK return code a login got (0: accepted). */
async function tryLogin(username: string, clientId: string): Promise<number> {
  try {
    const c = await login(username, { clientId });
    return c.connected ? 0 : -1;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

const victimEvents = (): string[] => events.filter((e) => e.deviceId === VICTIM).map((e) => e.kind);

describe('client id takeover', () => {
  it('refuses another account the id a device holds, logs it, and leaves the device connected', async () => {
    const collector = await login('netmon-collector');
    const seen: string[] = [];
    collector.on('message', (_t, p) => seen.push(p.toString()));
    await collector.subscribeAsync('netmon/v1/+/+/telemetry', { qos: 1 });
    const victim = await login(VICTIM, {
      clientId: VICTIM_CLIENT_ID,
      will: {
        topic: deviceTopic('kds-tibubeneng', VICTIM, 'status'),
        payload: Buffer.from('{"state":"offline","clean":false}'),
        qos: 1,
        retain: true,
      },
    });
    let victimClosed = 0;
    victim.on('close', () => victimClosed++);
    await waitFor(() => victimEvents().length === 1);

    // What the issue saw: the intruder logging in again and again with the victim's id.
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) codes.push(await tryLogin(INTRUDER, VICTIM_CLIENT_ID));
    expect(codes).toEqual(Array(12).fill(2)); // CONNACK 2: identifier rejected

    // The victim is still there and still heard: a round trip after the attempts.
    await victim.publishAsync(deviceTopic('kds-tibubeneng', VICTIM, 'telemetry'), '{"temperature_c":31}', {
      qos: 1,
    });
    await waitFor(() => seen.includes('{"temperature_c":31}'));
    expect(victim.connected).toBe(true);
    expect(victimClosed).toBe(0);
    expect(victimEvents()).toEqual(['connected']); // no Will, no flap

    const refused = log.records.filter((r) => r.msg === 'mqtt client id takeover refused');
    expect(refused).toHaveLength(12);
    expect(refused[0]).toMatchObject({
      level: 'warn',
      client: VICTIM_CLIENT_ID,
      username: INTRUDER,
      owner: VICTIM,
      ownerConnected: true,
    });
    expect(broker.stats()).toMatchObject({ refusedTakeovers: 12 });
  });

  it('keeps the id bound to its account while the device is away; the device itself gets back in', async () => {
    const victim = clients.find((c) => c.options.clientId === VICTIM_CLIENT_ID);
    await victim?.endAsync();
    await waitFor(() => victimEvents().length === 2);
    expect(await tryLogin(INTRUDER, VICTIM_CLIENT_ID)).toBe(2);
    expect(log.records.filter((r) => r.msg === 'mqtt client id takeover refused').at(-1)).toMatchObject({
      ownerConnected: false,
    });
    // Its own account may use it again, and may take over its own stale connection.
    expect(await tryLogin(VICTIM, VICTIM_CLIENT_ID)).toBe(0);
    expect(await tryLogin(VICTIM, VICTIM_CLIENT_ID)).toBe(0);
    // And the intruder is not locked out: with an id of its own it connects.
    expect(await tryLogin(INTRUDER, `sim-${INTRUDER}`)).toBe(0);
    expect(victimEvents().filter((k) => k === 'connected').length).toBeGreaterThanOrEqual(2);
  });
});

describe('ClientIdBindings', () => {
  it('binds an id to its first account and forgets only ids not connected once over its bound', () => {
    const b = new ClientIdBindings(2);
    const connected = new Set(['a']);
    const isConnected = (id: string) => connected.has(id);
    expect(b.claim('a', 'acct-1', isConnected)).toBeUndefined();
    expect(b.claim('a', 'acct-1', isConnected)).toBeUndefined(); // the owner again
    expect(b.claim('a', 'acct-2', isConnected)).toBe('acct-1');
    expect(b.claim('b', 'acct-2', isConnected)).toBeUndefined();
    expect(b.claim('c', 'acct-3', isConnected)).toBeUndefined(); // over the bound: 'b' (not connected) goes
    expect(b.size).toBe(2);
    expect(b.claim('a', 'acct-3', isConnected)).toBe('acct-1'); // connected: kept
    expect(b.claim('b', 'acct-3', isConnected)).toBe(undefined); // forgotten, so free again
  });
});
