/**
 * Issue #10, the validation gaps on the MQTT side, with the embedded aedes broker, real mqtt clients and
 * the collector's MqttSource (its writer records what would go to InfluxDB; time is a FakeClock so the
 * rate limit's arithmetic is exact):
 *   - a `ts` outside [receive time - 30 d, receive time + 5 min] is dropped, the reason names the bound;
 *   - `__proto__`, `constructor` and `prototype` keys never reach a sample;
 *   - one device flooding is held to its token bucket (burst 50, then 10/s), the rest counted and logged
 *     once, naming the device; another device is not affected.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Accounts, hashPassword, type Account } from '../../../broker/accounts.ts';
import { startEmbeddedBroker, type RunningBroker } from '../../../broker/embedded-broker.ts';
import { deviceTopic } from '../../../broker/topics.ts';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { Secret } from '../../../collector/core/secret.ts';
import type { Inventory, Sample } from '../../../collector/core/types.ts';
import type { SampleWriterLike, WriterStats } from '../../../collector/pipeline.ts';
import { MqttSource } from '../../../collector/sources/mqtt/mqtt-source.ts';
import { testDevice, testSite } from '../../support/fixtures.ts';
import { waitFor } from '../../support/ports.ts';

const T0 = Date.UTC(2026, 11, 3, 4, 0);
const SITE = 'kds-tibubeneng';
const FLOODER = 'kds-tibubeneng-env';
const QUIET = 'kds-tibubeneng-rtr';

class RecordingWriter implements SampleWriterLike {
  readonly samples: Sample[] = [];
  push(samples: readonly Sample[]): void {
    this.samples.push(...samples);
  }
  start(): Promise<void> {
    return Promise.resolve();
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
  stats(): WriterStats {
    return { written: this.samples.length, buffered: 0, dropped: 0, invalid: 0, failures: 0 };
  }
}

const account = (id: string): Account => ({
  username: id,
  passwordHash: hashPassword(`pw-${id}`, { N: 1024 }),
  role: 'device',
  deviceId: id,
  siteId: SITE,
});
const inventory: Inventory = {
  sites: [testSite(SITE)],
  devices: [
    testDevice(QUIET, SITE, 'router'),
    { ...testDevice(FLOODER, SITE, 'ap'), role: 'sensor', parent: QUIET },
  ],
};

let broker: RunningBroker;
let source: MqttSource;
const clock = new FakeClock(T0);
const log = memoryLogger('info');
const writer = new RecordingWriter();
const clients: MqttClient[] = [];

beforeAll(async () => {
  broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    accounts: new Accounts([
      {
        username: 'netmon-collector',
        passwordHash: hashPassword('collector-pw', { N: 1024 }),
        role: 'collector',
      },
      account(FLOODER),
      account(QUIET),
    ]),
    log: log.child({ component: 'broker' }),
  });
  source = new MqttSource({
    url: broker.url,
    username: 'netmon-collector',
    password: new Secret('collector-pw'),
    inventory,
    clock,
    log,
    writer,
    onLiveness: () => undefined,
    embedded: broker,
    // The defaults, spelled out: what the test's numbers rest on.
    rateLimit: { perSecond: 10, burst: 50 },
    timestampWindow: { maxAgeMs: 30 * 86_400_000, maxAheadMs: 5 * 60_000 },
  });
  await source.start();
});
afterAll(async () => {
  for (const c of clients) c.end(true);
  await source?.stop();
  await broker?.close();
});

const device = async (id: string): Promise<MqttClient> => {
  const c = await mqtt.connectAsync(broker.url, { username: id, password: `pw-${id}`, reconnectPeriod: 0 });
  clients.push(c);
  return c;
};
const telemetry = (id: string) => deviceTopic(SITE, id, 'telemetry');
const samplesOf = (id: string) => writer.samples.filter((s) => s.tags.device === id);
const dropped = () => log.records.filter((r) => r.msg === 'mqtt message dropped');

describe('telemetry timestamps', () => {
  it('drops a ts far in the future or older than the raw retention, naming the bound; keeps one inside', async () => {
    const c = await device(QUIET);
    const before = source.stats().received;
    const payloads = [
      { ts: 9e15, cpu_pct: 1 }, // the issue's: year 287,000
      { ts: T0 + 6 * 60_000, cpu_pct: 2 }, // 6 min ahead
      { ts: T0 - 31 * 86_400_000, cpu_pct: 3 }, // 31 days old
      { ts: (T0 - 3_600_000) * 1000, cpu_pct: 4 }, // microseconds by mistake
      { ts: T0 - 86_400_000, cpu_pct: 5 }, // a day old: buffered on the device, fine
      { ts: T0 + 60_000, cpu_pct: 6 }, // a minute ahead: clock drift, fine
    ];
    for (const p of payloads) await c.publishAsync(telemetry(QUIET), JSON.stringify(p), { qos: 1 });
    await waitFor(() => source.stats().received - before === payloads.length);
    expect(samplesOf(QUIET).map((s) => [s.fields.cpu_pct, s.timeMs])).toEqual([
      [5, T0 - 86_400_000],
      [6, T0 + 60_000],
    ]);
    const reasons = dropped().map((r) => String(r.reason));
    expect(reasons).toHaveLength(4);
    expect(reasons[0]).toMatch(
      /^ts 9000000000000000 is more than 5 min after the receive time \(2026-12-03T04:00:00\.000Z\)/,
    );
    expect(reasons[1]).toMatch(/is more than 5 min after the receive time/);
    expect(reasons[2]).toMatch(/is older than 30 d before the receive time .*raw retention/);
    expect(reasons[3]).toMatch(/not microseconds/);
    expect(source.stats().invalid.bad_payload).toBe(4);
  });
});

describe('prototype keys', () => {
  it('never lets __proto__, constructor or prototype reach a sample', async () => {
    const c = await device(QUIET);
    const n = samplesOf(QUIET).length;
    await c.publishAsync(
      telemetry(QUIET),
      '{"cpu_pct":7,"__proto__":{"mem_pct":99,"polluted":1},"constructor":{"prototype":{"x":1}},"prototype":3}',
      { qos: 1 },
    );
    await waitFor(() => samplesOf(QUIET).length === n + 1);
    const s = samplesOf(QUIET).at(-1);
    expect(Object.getOwnPropertyNames(s?.fields)).toEqual(['cpu_pct']);
    expect(Object.getPrototypeOf(s?.fields)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('per-device rate limit', () => {
  it('holds a flooding device to its bucket, counts and logs the rest once, and spares the others', async () => {
    const flooder = await device(FLOODER);
    const quiet = await device(QUIET);
    const before = { received: source.stats().received, quiet: samplesOf(QUIET).length };
    // 2,000 messages while the (fake) clock stands still: the burst of 50 passes, nothing refills.
    const FLOOD = 2_000;
    for (let i = 0; i < FLOOD; i++) flooder.publish(telemetry(FLOODER), `{"temperature_c":${20 + (i % 10)}}`);
    await flooder.publishAsync(telemetry(FLOODER), '{"temperature_c":30}', { qos: 1 });
    await waitFor(() => source.stats().received - before.received === FLOOD + 1, {
      timeoutMs: 30_000,
      what: () => `the flood to arrive (${source.stats().received - before.received})`,
    });
    expect(samplesOf(FLOODER)).toHaveLength(50);
    expect(source.stats().rateLimited).toBe(FLOOD + 1 - 50);
    // The other device at the same site is not affected.
    await quiet.publishAsync(telemetry(QUIET), '{"cpu_pct":8}', { qos: 1 });
    await waitFor(() => samplesOf(QUIET).length === before.quiet + 1);
    before.received++; // the quiet device's message: count only the flooder's from here
    // One line (not 1,951), naming the device.
    const lines = log.records.filter((r) => r.msg === 'mqtt messages dropped: rate limit');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'warn',
      device: FLOODER,
      dropped: 1,
      limit: '10/s, bursts of 50',
    });

    // A second later 10 more may pass; a minute later the log line says how many went meanwhile.
    clock.advance(1_000);
    for (let i = 0; i < 20; i++)
      await flooder.publishAsync(telemetry(FLOODER), '{"temperature_c":25}', { qos: 1 });
    await waitFor(() => source.stats().received - before.received === FLOOD + 1 + 20, {
      what: () => `the second burst (${source.stats().received - before.received})`,
    });
    expect(samplesOf(FLOODER)).toHaveLength(60);
    clock.advance(60_000);
    // The bucket is full again (50): 61 messages, 50 pass, 11 do not.
    for (let i = 0; i < 60; i++) flooder.publish(telemetry(FLOODER), '{"temperature_c":27}');
    await flooder.publishAsync(telemetry(FLOODER), '{"temperature_c":28}', { qos: 1 });
    await waitFor(() => source.stats().received - before.received === FLOOD + 1 + 20 + 61, {
      what: () => `the third burst (${source.stats().received - before.received})`,
    });
    expect(samplesOf(FLOODER)).toHaveLength(110);
    expect(source.stats().rateLimited).toBe(1951 + 10 + 11);
    const all = log.records.filter((r) => r.msg === 'mqtt messages dropped: rate limit');
    expect(all).toHaveLength(2);
    // The 1,950 after the first line, the 10 of the second burst, and this one.
    expect(all[1]).toMatchObject({ device: FLOODER, dropped: 1950 + 10 + 1 });
  });
});
