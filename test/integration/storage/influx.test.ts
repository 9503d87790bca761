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
import { SCHEMA, deviceTags, type FieldType, type MeasurementSpec } from '../../../collector/sinks/schema.ts';
import { SampleWriter } from '../../../collector/sinks/writer.ts';
import {
  influxQuery,
  influxRows,
  startTestInfluxd,
  startTestVictoriaMetrics,
  vmExport,
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

  it('a point of every measurement, every tag and every field reads back with the schema types', async () => {
    const specs = SCHEMA as Record<string, MeasurementSpec>;
    const value: Record<FieldType, (i: number) => number | boolean | string> = {
      integer: (i) => 7 + i,
      float: (i) => 0.5 + i,
      string: (i) => `v${i}`,
      boolean: (i) => i % 2 === 0,
    };
    const samples: Sample[] = Object.entries(specs).map(([measurement, spec], m) => ({
      measurement,
      tags: Object.fromEntries(spec.tags.map((t) => [t, `${t}-val`])),
      fields: Object.fromEntries(Object.entries(spec.fields).map(([f, fs], i) => [f, value[fs.type](i)])),
      timeMs: T0 + m,
    }));
    const w = writer('full', join(dir, 'full'));
    await w.start();
    w.push(samples);
    await w.stop();
    expect(w.stats()).toMatchObject({ written: samples.length, dropped: 0, invalid: 0, buffered: 0 });

    for (const s of samples) {
      const spec = specs[s.measurement]!;
      const fieldTypes = (await influxQuery(influx.url, 'full', `SHOW FIELD KEYS FROM "${s.measurement}"`))[0]
        ?.values;
      expect(Object.fromEntries(fieldTypes ?? []), s.measurement).toEqual(
        Object.fromEntries(Object.entries(spec.fields).map(([f, fs]) => [f, fs.type])),
      );
      const tagKeys = (await influxQuery(influx.url, 'full', `SHOW TAG KEYS FROM "${s.measurement}"`))[0]
        ?.values;
      expect(new Set(tagKeys?.map((v) => String(v[0]))), s.measurement).toEqual(new Set(spec.tags));
      // Fields and tags apart: device_state has a tag and a field both called `state`.
      const q = (cols: string[], kind: string): string =>
        `SELECT ${cols.map((c) => `"${c}"::${kind}`).join(', ')} FROM "${s.measurement}"`;
      const [fieldRow] = await influxRows(influx.url, 'full', q(Object.keys(s.fields), 'field'));
      expect(fieldRow, s.measurement).toEqual({ time: s.timeMs, ...s.fields });
      const tagCols = Object.keys(s.tags);
      const [tagRow] = await influxRows(
        influx.url,
        'full',
        `SELECT ${tagCols.map((c) => `"${c}"::tag`).join(', ')}, "${Object.keys(s.fields)[0]}"::field FROM "${s.measurement}"`,
      );
      const tagValues = Object.values(tagRow ?? {}).slice(1, 1 + tagCols.length);
      expect(tagValues, s.measurement).toEqual(Object.values(s.tags));
    }
  });

  it('awkward tag and string values round-trip through influxd (our line protocol on /write)', async () => {
    const names = [
      'Banjar Tegal, Kuta',
      'Pura "Ulun Danu" = Bedugul',
      'C:\\netmon\\kantor-desa',
      'Kantor Desa Pelaga; Petang',
      'Sekolah Dasar Negeri 1 Mengwi (SDN 1)',
      'Pantai Kuta — Ni Ketut',
    ];
    const samples: Sample[] = names.map((name, i) => ({
      measurement: 'device',
      tags: { ...deviceTags(site, device), site_name: name },
      fields: { reachable: 0, poll_ms: 1, failure: `${name} \\ "x"` },
      timeMs: T0 + i,
    }));
    const w = writer('escape', join(dir, 'escape'));
    await w.start();
    // A trailing backslash has no line-protocol form in InfluxDB 1.x: rejected alone, with a reason.
    w.push([
      ...samples,
      { ...samples[0]!, tags: { ...samples[0]!.tags, site_name: 'Kantor\\' }, timeMs: T0 + 99 },
    ]);
    await w.stop();
    expect(w.stats()).toMatchObject({ written: names.length, invalid: 1, dropped: 0 });
    const rows = await influxRows(
      influx.url,
      'escape',
      'SELECT site_name, failure FROM device ORDER BY time',
    );
    expect(rows.map((r) => r.site_name)).toEqual(names);
    expect(rows.map((r) => r.failure)).toEqual(samples.map((s) => s.fields.failure));
  });

  it("influxd's own refusals: a missing database is not retried, a type conflict drops just those points", async () => {
    const missing = new InfluxV1Sink({ url: influx.url, database: 'never_created', timeoutMs: 2_000 });
    const err: unknown = await missing.write(points(1, T0)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ retryable: false, code: 'http_404' });
    expect(String((err as Error).message)).toContain('database not found');

    // Another writer stored poll_ms as an integer first (InfluxDB 1.x fixes a field's type per shard).
    const res = await fetch(`${influx.url}/query?q=${encodeURIComponent('CREATE DATABASE conflict')}`, {
      method: 'POST',
    });
    expect(res.ok).toBe(true);
    const put = await fetch(`${influx.url}/write?db=conflict&precision=ms`, {
      method: 'POST',
      body: `device,device=other poll_ms=5i ${T0}`,
    });
    expect(put.status).toBe(204);
    const w = writer('conflict', join(dir, 'conflict'));
    await w.start();
    const batch = points(10, T0 + 1000);
    // 3 of 10 carry poll_ms (float): refused; the other 7 have only integer fields and are stored.
    w.push(batch.map((p, i) => (i < 3 ? p : { ...p, fields: { reachable: 1 } })));
    await w.stop();
    expect(w.stats()).toMatchObject({ written: 7, dropped: 3, buffered: 0 });
    const stored = await influxRows(influx.url, 'conflict', `SELECT count(reachable) FROM device`);
    expect(stored[0]?.count).toBe(7);
  });

  it('an InfluxDB outage and a monitor restart during it lose no sample', async () => {
    const bufferDir = join(dir, 'outage');
    let w = writer('outage', bufferDir);
    await w.start();
    w.push(points(1000, T0));
    await waitFor(() => w.stats().written === 1000, { timeoutMs: 10_000 });

    await influx.stop(); // SIGTERM
    let buffered = 0;
    for (let i = 0; i < 10; i++) {
      w.push(points(300, T0 + 1_000_000 + i * 300_000));
      expect(w.stats().buffered).toBe((buffered += 300)); // rises: nothing is written, nothing lost
    }
    await waitFor(() => w.stats().failures > 0, { timeoutMs: 10_000 });
    // The monitor stops while the database is away: the samples stay on disk...
    await w.stop();
    expect(w.stats()).toMatchObject({ written: 1000, buffered: 3000, dropped: 0 });
    const firstWritten = w.stats().written;
    // ...and a new monitor resumes them and writes them once the database is back on the same port.
    w = writer('outage', bufferDir);
    expect(w.stats().buffered).toBe(3000);
    await w.start();
    w.push(points(500, T0 + 10_000_000));
    expect(w.stats().buffered).toBe(3500);
    await influx.restart();
    await waitFor(() => w.stats().buffered === 0, { timeoutMs: 20_000 });
    await w.stop();
    expect(w.stats()).toMatchObject({ written: 3500, dropped: 0, invalid: 0 });
    expect(firstWritten + w.stats().written).toBe(4500); // written == pushed
    expect(await count('outage')).toBe(4500); // each exactly once
  });

  it('influxd killed (-9): past the buffer bound the oldest samples are dropped and counted exactly', async () => {
    const w = writer('bounded', join(dir, 'bounded'), 256 * 1024);
    await w.start();
    w.push(points(500, T0 - 10_000_000));
    await waitFor(() => w.stats().written === 500, { timeoutMs: 10_000 });
    process.kill(influx.pid!, 'SIGKILL');
    let pushed = 500;
    for (let i = 0; i < 40; i++) {
      w.push(points(100, T0 + i * 100_000));
      pushed += 100;
      await waitFor(() => w.stats().failures > 0, { timeoutMs: 5_000 });
    }
    await waitFor(() => w.stats().dropped > 0, { timeoutMs: 5_000 });
    await influx.restart(); // the WAL of the killed influxd is replayed
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
    w.push([
      {
        measurement: 'wifi',
        tags: { ...deviceTags(site, device), index: '1', ssid: 'Badung Free WiFi', radio: '5GHz' },
        fields: { clients: 17 },
        timeMs: now,
      },
    ]);
    await w.stop();
    expect(w.stats()).toMatchObject({ written: 6, dropped: 0, buffered: 0 });
    const [poll] = await vmExport(vm.url, '{__name__="device_poll_ms"}');
    expect(poll?.metric).toMatchObject({ site: site.id, device: device.id, kecamatan: site.kecamatan });
    expect(poll?.values).toEqual([0.5, 1.5, 2.5, 3.5, 4.5]);
    expect(poll?.timestamps).toEqual([0, 1, 2, 3, 4].map((i) => now + i * 1000));
    const [clients] = await vmExport(vm.url, '{__name__="wifi_clients"}');
    expect(clients?.metric).toMatchObject({ ssid: 'Badung Free WiFi', radio: '5GHz', site_name: site.name });
    expect(clients?.values).toEqual([17]);
  });

  it('a stopped VictoriaMetrics is retryable: samples buffer and arrive after its restart', async () => {
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
      bufferDir: join(dir, 'vm-outage'),
      maxBufferBytes: 1 << 20,
      retry: { attempts: Infinity, baseMs: 100, maxMs: 400 },
    });
    await w.start();
    await vm.stop();
    const start = Date.now() - 400_000;
    w.push(
      points(250, start).map((s) => ({
        ...s,
        tags: { ...s.tags, device: 'vm-outage' },
        fields: { uptime_s: 1 },
      })),
    );
    await waitFor(() => w.stats().failures > 0, { timeoutMs: 10_000 });
    expect(w.stats().buffered).toBe(250);
    await vm.restart();
    await waitFor(() => w.stats().buffered === 0, { timeoutMs: 20_000 });
    await w.stop();
    expect(w.stats()).toMatchObject({ written: 250, dropped: 0 });
    const [uptime] = await vmExport(vm.url, '{__name__="device_uptime_s",device="vm-outage"}');
    expect(uptime?.values).toHaveLength(250);
  });
});
