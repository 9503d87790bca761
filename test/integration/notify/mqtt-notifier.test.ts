/**
 * MqttNotifier against real brokers: the embedded one (aedes, broker/embedded-broker.ts) with its accounts and
 * topic ACL, and Debian's Mosquitto (test/support/mosquitto.ts) for what MQTT 5 adds (a refused publish is
 * seen). Through the real Dispatcher: a broker that is not there yet is retried until it is; a refused login
 * is not retried.
 */
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Accounts, hashPassword, type Account } from '../../../broker/accounts.ts';
import { startEmbeddedBroker, type RunningBroker } from '../../../broker/embedded-broker.ts';
import type { Alert } from '../../../collector/alerting/alert.ts';
import { systemClock } from '../../../collector/core/clock.ts';
import { NotifyError } from '../../../collector/core/errors.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { Secret } from '../../../collector/core/secret.ts';
import { Dispatcher } from '../../../collector/notify/dispatcher.ts';
import {
  MqttNotifier,
  renderTopic,
  topicTemplateProblem,
  type MqttConnectionOptions,
  type MqttPublish,
} from '../../../collector/notify/mqtt-notifier.ts';
import { buildAreaNotification, buildNotification } from '../../../collector/notify/notification.ts';
import { testSite } from '../../support/fixtures.ts';
import { LINK, router, site, startedAt, alert as outage } from '../../support/outage-fixture.ts';
import { startMosquitto, type Mosquitto } from '../../support/mosquitto.ts';
import { freeTcpPort, waitFor } from '../../support/ports.ts';

const COLLECTOR = { user: 'netmon-collector', password: 'collector-secret-7781' };
const READER = { user: 'bpbd-reader', password: 'reader-secret-2290' };

const alert: Alert = { ...outage, affectedDevices: ['pkm-petang-1-ap1'] };
const firing = buildNotification(alert, site, router, LINK);
/** What a subscriber parses: the notification as JSON. */
const asJson = (x: unknown): unknown => JSON.parse(JSON.stringify(x));

const account = (username: string, password: string, role: Account['role']): Account => ({
  username,
  passwordHash: hashPassword(password, { N: 1024 }),
  role,
});
const accounts = new Accounts([
  account(COLLECTOR.user, COLLECTOR.password, 'collector'),
  account(READER.user, READER.password, 'subscriber'),
]);
const brokerLog = memoryLogger('warn');
const startBroker = (port = 0): Promise<RunningBroker> =>
  startEmbeddedBroker({ host: '127.0.0.1', port, accounts, log: brokerLog });

let broker: RunningBroker;
const notifiers: MqttNotifier[] = [];
const clients: MqttClient[] = [];
const brokers: RunningBroker[] = [];

beforeAll(async () => {
  broker = await startBroker();
  brokers.push(broker);
});
afterEach(async () => {
  await Promise.all(notifiers.splice(0).map((n) => n.close()));
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
});
afterAll(async () => {
  await Promise.all(brokers.map((b) => b.close()));
});

const notifier = (
  conn: Partial<MqttConnectionOptions> = {},
  over: { topic?: string; retain?: boolean; publishTimeoutMs?: number } = {},
): MqttNotifier => {
  const n = new MqttNotifier({
    name: 'bpbd',
    ...over,
    connection: {
      url: broker.url,
      username: COLLECTOR.user,
      password: new Secret(COLLECTOR.password),
      connectTimeoutMs: 2000,
      reconnectPeriodMs: 100,
      ...conn,
    },
  });
  notifiers.push(n);
  return n;
};

/** A subscriber that records what arrives on `filter`. */
async function subscriber(
  url: string,
  who: { user: string; password: string },
  filter: string,
  opts: mqtt.IClientOptions = {},
): Promise<{ got: { topic: string; json: unknown; packet: IPublishPacket }[] }> {
  const c = await mqtt.connectAsync(url, {
    username: who.user,
    password: who.password,
    reconnectPeriod: 0,
    ...opts,
  });
  clients.push(c);
  const got: { topic: string; json: unknown; packet: IPublishPacket }[] = [];
  c.on('message', (topic, payload, packet) =>
    got.push({ topic, json: JSON.parse(payload.toString()), packet }),
  );
  const granted = await c.subscribeAsync(filter, { qos: 1 });
  expect(granted[0]?.qos).toBe(1);
  return { got };
}

describe('MqttNotifier on the embedded broker', () => {
  it('publishes the notification JSON with QoS 1 to netmon/v1/alerts, connecting on the first send', async () => {
    const sub = await subscriber(broker.url, READER, 'netmon/v1/alerts');
    const before = broker.stats().connected;
    const n = notifier();
    expect(broker.stats().connected).toBe(before); // constructing touches no network
    await n.send(firing);
    await waitFor(() => sub.got.length === 1, { what: 'the alert at the subscriber' });
    const m = sub.got[0]!;
    expect(m.topic).toBe('netmon/v1/alerts');
    expect(m.packet.qos).toBe(1);
    expect(m.packet.retain).toBe(false);
    expect(m.json).toEqual(asJson(firing));
    expect(m.json).toMatchObject({
      schema: 'badung-netmon/alert/v1',
      status: 'firing',
      site: { name: 'Puskesmas Petang I', desa: 'Belok Sidan', kecamatan: 'Petang', category: 'puskesmas' },
      link: `${LINK}/sites/pkm-petang-1`,
    });
    const text = (m.json as { text: { id: string; en: string } }).text;
    expect(text.id).toContain('Puskesmas Petang I (Puskesmas, Belok Sidan, Kec. Petang)');
    expect(text.en).toContain('(community health centre, Belok Sidan, Petang district)');
    // The client stays for the next notification.
    await n.send(
      buildNotification({ ...alert, status: 'resolved', resolvedAt: startedAt + 60_000 }, site, router),
    );
    await waitFor(() => sub.got.length === 2);
    expect(sub.got[1]?.json).toMatchObject({ status: 'resolved' });
  });

  it('a broker not up yet: retryable, and the Dispatcher delivers once it is (exactly one message)', async () => {
    const port = await freeTcpPort();
    const n = notifier({ url: `mqtt://127.0.0.1:${port}`, connectTimeoutMs: 300 }, { retain: true });
    const err = await n.send(firing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotifyError);
    expect(err).toMatchObject({ retryable: true, code: 'mqtt_not_connected' });
    expect((err as Error).message).toContain('ECONNREFUSED');

    const log = memoryLogger();
    const d = new Dispatcher([n], systemClock, log, { attempts: 20, baseMs: 100, maxMs: 300 });
    d.dispatch(firing);
    await waitFor(() => log.records.some((r) => r.msg === 'notification retry'), { what: 'a retry' });
    const late = await startBroker(port);
    brokers.push(late);
    await d.stop();
    expect(d.stats()).toMatchObject({ sent: 1, failed: 0 });
    // Retained: a subscriber that comes now still gets it, once.
    const sub = await subscriber(late.url, READER, 'netmon/v1/alerts');
    await waitFor(() => sub.got.length === 1);
    expect(sub.got[0]?.packet.retain).toBe(true);
    expect(sub.got[0]?.json).toEqual(asJson(firing));
    await n.close();
    await late.close();
    brokers.splice(brokers.indexOf(late), 1);
  });

  it('the broker goes away: retryable', async () => {
    const own = await startBroker();
    brokers.push(own);
    const n = notifier({ url: own.url, connectTimeoutMs: 300 }, { publishTimeoutMs: 500 });
    await n.send(firing);
    await own.close();
    brokers.splice(brokers.indexOf(own), 1);
    // Whether the client has noticed yet (not connected) or not (no PUBACK in time), it is retryable.
    const err = await n.send(firing).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true });
    expect((err as NotifyError).code).toMatch(/^mqtt_(not_connected|publish_timeout|publish_failed)$/);
  });

  it('a refused login: not retried, the password not in the log; the next notification tries a fresh login', async () => {
    const n = notifier({ password: new Secret('not-the-password-5521') });
    const log = memoryLogger();
    const d = new Dispatcher([n], systemClock, log, { attempts: 4, baseMs: 10, maxMs: 50 });
    d.dispatch(firing);
    await d.stop();
    expect(d.stats()).toEqual({ sent: 0, failed: 1, retries: 0 });
    const logged = JSON.stringify(log.records);
    expect(logged).toContain('the broker refused the login');
    expect(logged).not.toContain('not-the-password-5521');
    await expect(n.send(firing)).rejects.toMatchObject({ retryable: false, code: 'mqtt_refused' });
  });
});

describe('MqttNotifier with an injected publish (the runtime reuses its own connection)', () => {
  it('renders the topic, passes QoS and retain, and types what the function throws', async () => {
    const calls: { topic: string; payload: string; qos: number; retain: boolean }[] = [];
    let fail: Error | undefined;
    const publish: MqttPublish = async (topic, payload, o) => {
      calls.push({ topic, payload, ...o });
      if (fail !== undefined) throw fail;
    };
    const n = new MqttNotifier({
      name: 'shared',
      publish,
      topic: 'netmon/v1/alerts/{severity}/{kecamatan}',
      qos: 1,
      retain: true,
    });
    await n.send(firing);
    expect(calls).toEqual([
      { topic: 'netmon/v1/alerts/critical/petang', payload: JSON.stringify(firing), qos: 1, retain: true },
    ]);
    fail = new Error('client disconnecting');
    await expect(n.send(firing)).rejects.toMatchObject({ retryable: true, code: 'mqtt_publish_failed' });
    fail = new NotifyError('mine', 'refused by policy', { retryable: false });
    await expect(n.send(firing)).rejects.toBe(fail);
  });

  it('a publish that never completes times out, retryable', async () => {
    const n = new MqttNotifier({
      name: 'stuck',
      publish: () => new Promise(() => undefined),
      publishTimeoutMs: 100,
    });
    await expect(n.send(firing)).rejects.toMatchObject({ retryable: true, code: 'mqtt_publish_timeout' });
  });
});

describe('topic templates (pure)', () => {
  it('one level per field, slugged; a field the notification lacks is "none"', () => {
    const kuta = testSite('sd-1', {
      name: 'SD 1',
      category: 'sd',
      kecamatan: 'Kuta Selatan',
      desa: 'Jimbaran',
    });
    const n = buildNotification({ ...alert, siteId: kuta.id, severity: 'medium' }, kuta, router);
    expect(renderTopic('netmon/v1/alerts/{severity}/{kecamatan}/{site}/{status}', n)).toBe(
      'netmon/v1/alerts/medium/kuta-selatan/sd-1/firing',
    );
    const area = buildAreaNotification({
      id: 'a1',
      status: 'firing',
      kecamatan: 'Abiansemal',
      startedAt,
      sites: [],
      totalSites: 10,
    });
    expect(renderTopic('netmon/v1/alerts/{kind}/{kecamatan}/{site}', area)).toBe(
      'netmon/v1/alerts/area_outage/abiansemal/none',
    );
  });

  it.each([
    ['netmon/v1/alerts/#', /wildcards/],
    ['netmon/v1/alerts/+/x', /wildcards/],
    ['netmon/v1/alerts/{sev}', /unknown field \{sev\}/],
    ['netmon//alerts', /empty topic level/],
    ['netmon/v1/{severity', /unbalanced/],
    ['', /empty/],
  ])('%s is refused', (t, why) => {
    expect(topicTemplateProblem(t)).toMatch(why);
    expect(() => new MqttNotifier({ name: 'x', topic: t, publish: async () => undefined })).toThrow(why);
  });
});

describe('MqttNotifier on Mosquitto', () => {
  let mosq: Mosquitto;
  beforeAll(async () => {
    mosq = await startMosquitto({ [COLLECTOR.user]: COLLECTOR.password }, COLLECTOR.user);
  });
  afterAll(async () => {
    await mosq?.stop();
  });

  it.each([4, 5] as const)('MQTT %i: delivered to netmon/v1/alerts', async (protocolVersion) => {
    const sub = await subscriber(mosq.url, COLLECTOR, 'netmon/v1/alerts', { protocolVersion });
    await notifier({ url: mosq.url, protocolVersion }).send(firing);
    await waitFor(() => sub.got.length === 1);
    expect(sub.got[0]?.json).toEqual(asJson(firing));
    if (protocolVersion === 5) expect(sub.got[0]?.packet.properties?.contentType).toBe('application/json');
  });

  it('MQTT 5: a topic the ACL refuses is a non-retryable error (PUBACK 0x87), not a silent loss', async () => {
    const n = notifier(
      { url: mosq.url, protocolVersion: 5 },
      { topic: 'netmon/v1/alerts/{severity}/{kecamatan}' },
    );
    const err = await n.send(firing).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: false, code: 'mqtt_publish_refused' });
    expect((err as Error).message).toContain('netmon/v1/alerts/critical/petang');
    expect((err as Error).message).toContain('Not authorized');
  });

  it('MQTT 3.1.1 cannot tell: the same refused publish is acknowledged (why the default topic is the allowed one)', async () => {
    const sub = await subscriber(mosq.url, COLLECTOR, 'netmon/v1/alerts/#');
    const n = notifier(
      { url: mosq.url, protocolVersion: 4 },
      { topic: 'netmon/v1/alerts/{severity}/{kecamatan}' },
    );
    await n.send(firing); // resolves: Mosquitto acknowledged and dropped it
    await notifier({ url: mosq.url }).send(firing); // the allowed topic, after it on the same broker
    await waitFor(() => sub.got.length >= 1);
    expect(sub.got.map((g) => g.topic)).toEqual(['netmon/v1/alerts']);
  });
});
