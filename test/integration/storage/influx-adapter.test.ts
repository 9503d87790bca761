/**
 * The 1.x adapter (collector/influx/v1.ts) on a real influxd: raw line protocol in through the influx
 * package's Pool, InfluxQL answers out chunk by chunk (chunked=true), and the report reader folding a
 * series that the server split across chunks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SinkError } from '../../../collector/core/errors.ts';
import { InfluxV1Client } from '../../../collector/influx/v1.ts';
import { readHistory } from '../../../collector/reports/history.ts';
import { startTestInfluxd, type TestServer } from '../../support/influx.ts';

const DB = 'adapter';
const T0 = Date.UTC(2026, 10, 1, 0, 0);
const BEATS = 25_000; // more than the reader's chunk (20,000 rows): the series comes in two parts
let influx: TestServer;
let client: InfluxV1Client;

beforeAll(async () => {
  influx = await startTestInfluxd();
  client = new InfluxV1Client({ url: influx.url, timeoutMs: 10_000 });
  await client.execute(`CREATE DATABASE "${DB}"`);
  const lines: string[] = [];
  for (let i = 0; i < BEATS; i++) lines.push(`monitor,component=collector polls=${i}i ${T0 + i * 10_000}`);
  for (let i = 0; i < lines.length; i += 5000)
    await client.write(lines.slice(i, i + 5000).join('\n'), { database: DB });
});
afterAll(async () => {
  client?.close();
  await influx?.dispose();
});

describe('InfluxV1Client on influxd', () => {
  it('streams an answer in chunks: every row arrives, in parts no larger than the chunk', async () => {
    let parts = 0;
    let rows = 0;
    let last = -1;
    for await (const s of client.series('SELECT "polls" FROM "monitor"', { database: DB, chunkSize: 1000 })) {
      parts++;
      expect(s.values?.length ?? 0).toBeLessThanOrEqual(1000);
      for (const v of s.values ?? []) {
        expect(Number(v[1])).toBe(last + 1); // in order, none lost or repeated at a chunk edge
        last = Number(v[1]);
        rows++;
      }
    }
    expect(rows).toBe(BEATS);
    expect(parts).toBeGreaterThanOrEqual(BEATS / 1000);
  });

  it('a reader that stops after the first chunk releases the answer; the client goes on', async () => {
    for await (const s of client.series('SELECT "polls" FROM "monitor"', { database: DB, chunkSize: 500 })) {
      expect(s.values).toHaveLength(500);
      break;
    }
    const counted: unknown[] = [];
    for await (const s of client.series('SELECT count("polls") FROM "monitor"', { database: DB }))
      counted.push(s.values?.[0]?.[1]);
    expect(counted).toEqual([BEATS]);
  });

  it('a query influxd refuses is a typed error that says not to retry', async () => {
    const failure = async (q: string): Promise<unknown> =>
      (async () => {
        for await (const _ of client.series(q, { database: DB })) void _;
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
    // Unparseable: influxd answers 400.
    const syntax = await failure('SELECT nonsense FROM');
    expect(syntax).toBeInstanceOf(SinkError);
    expect(syntax).toMatchObject({ code: 'http_400', retryable: false });
    // Parsed but refused: 200 with the statement's error in the (chunked) answer.
    const refused = await failure('SHOW RETENTION POLICIES ON "no_such_db"');
    expect(refused).toBeInstanceOf(SinkError);
    expect(refused).toMatchObject({ code: 'influxql', retryable: false });
    expect((refused as SinkError).message).toContain('database not found');
  });

  it('a line influxd cannot parse is a 400 with its reason, not retryable', async () => {
    const err: unknown = await client.write('monitor polls=', { database: DB }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SinkError);
    expect(err).toMatchObject({ code: 'http_400', retryable: false });
    expect((err as SinkError).message).toContain('unable to parse');
  });
});

describe('readHistory over a series split across chunks', () => {
  it('folds every part: 25,000 heartbeats are one unbroken watched interval', async () => {
    const fromMs = T0 + 60_000;
    const toMs = T0 + (BEATS - 6) * 10_000;
    const h = await readHistory({ url: influx.url, database: DB }, fromMs, toMs);
    expect(h.heartbeatMs).toBe(10_000);
    expect(h.watching).toEqual([{ startMs: fromMs, endMs: toMs }]);
  });
});
