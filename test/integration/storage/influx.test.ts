/**
 * The writer and both sinks against real servers: what is written reads back with the documented schema,
 * and an InfluxDB outage (and a monitor restart during it) loses no sample; past the buffer bound the
 * drops are counted exactly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { Secret } from '../../../collector/core/secret.ts';
import type { Sample } from '../../../collector/core/types.ts';
import { normalise } from '../../../collector/normalise/normalise.ts';
import { InfluxV1Sink } from '../../../collector/sinks/influx-v1.ts';
import { InfluxV2Sink } from '../../../collector/sinks/influx-v2.ts';
import { SCHEMA, deviceTags, type MeasurementSpec } from '../../../collector/sinks/schema.ts';
import { SampleWriter } from '../../../collector/sinks/writer.ts';
import {
  influxQuery,
  startTestInfluxd,
  startTestVictoriaMetrics,
  type TestServer,
} from '../../support/influx.ts';
import { smallInventory } from '../../support/fixtures.ts';
import { waitFor } from '../../support/ports.ts';

const inv = smallInventory();
const site = inv.sites[0]!;
const device = inv.devices[0]!;
const T0 = Date.UTC(2026, 10, 1, 0, 0);
let influx: TestServer;
let dir: string;

beforeAll(async () => {
  influx = await startTestInfluxd();
  dir = mkdtempSync(join(tmpdir(), 'netmon-writer-'));
});
afterAll(async () => {
  await influx?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function writer(db: string, bufferDir: string, maxBufferBytes = 64 << 20): SampleWriter {
  return new SampleWriter({
    sink: new InfluxV1Sink({ url: influx.url, database: db, timeoutMs: 2_000 }),
    clock: systemClock,
    log: memoryLogger('warn'),
    batchSize: 500,
    flushIntervalMs: 50,
    bufferDir,
    maxBufferBytes,
    retry: { attempts: Infinity, baseMs: 100, maxMs: 400 },
  });
}

/** `n` device points one second apart from `start` (distinct times: none overwrites another). */
function points(n: number, start: number): Sample[] {
  return Array.from({ length: n }, (_, i) => ({
    measurement: 'device',
    tags: deviceTags(site, device),
    fields: { reachable: 1, poll_ms: i + 0.5, uptime_s: i },
    timeMs: start + i * 1000,
  }));
}

async function count(db: string): Promise<number> {
  const s = await influxQuery(influx.url, db, 'SELECT count(poll_ms) FROM device');
  return Number(s[0]?.values[0]?.[1] ?? 0);
}

describe('InfluxDB 1.x (real influxd)', () => {
  it('every measurement reads back with the documented tags and field types', async () => {
    const w = writer('schema', join(dir, 'schema'));
    await w.start();
    const prev = {
      deviceId: device.id,
      timeMs: T0,
      sysUpTimeCs: 100,
      interfaces: [
        {
          ifIndex: 1,
          name: 'ether1',
          counterBits: 64 as const,
          operStatus: 1,
          speedBps: 1e9,
          inOctets: 0n,
          outOctets: 0n,
          inUcastPkts: 0n,
          outUcastPkts: 0n,
          inErrors: 0n,
          outErrors: 0n,
          inDiscards: 0n,
          outDiscards: 0n,
        },
      ],
      wifi: [{ index: '1', ssid: 'Badung-Free-WiFi', radio: 'ng', clients: 4 }],
    };
    const cur = {
      ...prev,
      timeMs: T0 + 30_000,
      sysUpTimeCs: 3100,
      interfaces: [
        {
          ...prev.interfaces[0]!,
          inOctets: 3_000_000n,
          outOctets: 600_000n,
          inUcastPkts: 3000n,
          outUcastPkts: 600n,
          inErrors: 3n,
          outErrors: 0n,
        },
      ],
    };
    const samples: Sample[] = [
      ...normalise(prev, cur, { site, device }).samples.map((s) =>
        s.measurement === 'device' ? { ...s, fields: { ...s.fields, poll_ms: 12.5 } } : s,
      ),
      {
        measurement: 'device',
        tags: deviceTags(site, device),
        fields: { reachable: 0, poll_ms: 2000.5, failure: 'timeout' },
        timeMs: T0 + 60_000,
      },
      {
        measurement: 'device_state',
        tags: { ...deviceTags(site, device), state: 'down' },
        fields: { state: 'down', previous: 'up', state_code: 0, cause: 'timeout' },
        timeMs: T0 + 60_000,
      },
      {
        measurement: 'monitor',
        tags: { component: 'collector' },
        fields: { polls: 10, poll_failures: 1, written: 9, buffered: 0, dropped: 0, invalid: 0 },
        timeMs: T0 + 60_000,
      },
    ];
    w.push(samples);
    await waitFor(() => w.stats().written === samples.length, { timeoutMs: 10_000 });
    await w.stop();

    const specs = SCHEMA as Record<string, MeasurementSpec>;
    for (const m of ['interface', 'wifi', 'device', 'device_state', 'monitor']) {
      const spec = specs[m]!;
      const fields = new Map(
        (await influxQuery(influx.url, 'schema', `SHOW FIELD KEYS FROM "${m}"`))[0]?.values.map((v) => [
          String(v[0]),
          String(v[1]),
        ]),
      );
      const written = new Set(
        samples.filter((s) => s.measurement === m).flatMap((s) => Object.keys(s.fields)),
      );
      for (const f of written) expect(fields.get(f), `${m}.${f}`).toBe(spec.fields[f]!.type);
      const tags = (await influxQuery(influx.url, 'schema', `SHOW TAG KEYS FROM "${m}"`))[0]?.values.map(
        (v) => String(v[0]),
      );
      const used = new Set(samples.filter((s) => s.measurement === m).flatMap((s) => Object.keys(s.tags)));
      expect(new Set(tags)).toEqual(used);
      for (const t of used) expect(spec.tags).toContain(t);
    }
    const rate = await influxQuery(
      influx.url,
      'schema',
      `SELECT in_bps, in_pps, in_errors_ps FROM interface WHERE device = '${device.id}'`,
    );
    expect(rate[0]?.values[0]?.slice(1)).toEqual([800_000, 100, 0.1]);
  });

  it('an InfluxDB outage and a monitor restart during it lose no sample', async () => {
    const bufferDir = join(dir, 'outage');
    let w = writer('outage', bufferDir);
    await w.start();
    w.push(points(1000, T0));
    await waitFor(() => w.stats().written === 1000, { timeoutMs: 10_000 });

    await influx.stop();
    for (let i = 0; i < 10; i++) w.push(points(300, T0 + 1_000_000 + i * 300_000));
    await waitFor(() => w.stats().failures > 0 && w.stats().buffered === 3000, { timeoutMs: 10_000 });
    // The monitor stops while the database is away: the samples stay on disk...
    await w.stop();
    expect(w.stats().buffered).toBe(3000);
    // ...and a new monitor resumes them and writes them once the database is back.
    w = writer('outage', bufferDir);
    await w.start();
    w.push(points(500, T0 + 10_000_000));
    expect(w.stats().buffered).toBe(3500);
    await influx.restart();
    await waitFor(() => w.stats().buffered === 0, { timeoutMs: 20_000 });
    expect(w.stats()).toMatchObject({ written: 3500, dropped: 0, invalid: 0 });
    await w.stop();
    expect(await count('outage')).toBe(4500);
  });

  it('past the buffer bound the oldest samples are dropped and counted exactly', async () => {
    const w = writer('bounded', join(dir, 'bounded'), 256 * 1024);
    await w.start();
    await influx.stop();
    let pushed = 0;
    for (let i = 0; i < 40; i++) {
      w.push(points(100, T0 + i * 100_000));
      pushed += 100;
      await waitFor(() => w.stats().failures > 0, { timeoutMs: 5_000 });
    }
    await waitFor(() => w.stats().dropped > 0, { timeoutMs: 5_000 });
    await influx.restart();
    await waitFor(() => w.stats().buffered === 0, { timeoutMs: 20_000 });
    const s = w.stats();
    await w.stop();
    expect(s.dropped).toBeGreaterThan(0);
    expect(s.written + s.dropped).toBe(pushed);
    expect(await count('bounded')).toBe(s.written);
  });
});

describe('the 2.x write API (real VictoriaMetrics)', () => {
  let vm: TestServer;
  beforeAll(async () => {
    vm = await startTestVictoriaMetrics();
  });
  afterAll(async () => {
    await vm?.dispose();
  });

  it('writes through /api/v2/write and the values read back', async () => {
    const w = new SampleWriter({
      sink: new InfluxV2Sink({
        url: vm.url,
        org: 'kominfo-badung',
        bucket: 'netmon',
        token: new Secret('unused'),
        timeoutMs: 2_000,
      }),
      clock: systemClock,
      log: memoryLogger('warn'),
      batchSize: 100,
      flushIntervalMs: 50,
      bufferDir: join(dir, 'vm'),
      maxBufferBytes: 1 << 20,
    });
    await w.start();
    const now = Date.now() - 60_000;
    w.push(points(5, now));
    await waitFor(() => w.stats().written === 5, { timeoutMs: 10_000 });
    await w.stop();
    const exported = await waitFor(
      async () => {
        const res = await fetch(
          `${vm.url}/api/v1/export?match[]=${encodeURIComponent('{__name__="device_poll_ms"}')}`,
        );
        const text = await res.text();
        return text.includes('"values"') ? text : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const row = JSON.parse(exported.trim().split('\n')[0] ?? '{}') as {
      metric: Record<string, string>;
      values: number[];
      timestamps: number[];
    };
    expect(row.metric).toMatchObject({ site: site.id, device: device.id, kecamatan: site.kecamatan });
    expect(row.values).toEqual([0.5, 1.5, 2.5, 3.5, 4.5]);
    expect(row.timestamps).toEqual([0, 1, 2, 3, 4].map((i) => now + i * 1000));
  });
});
