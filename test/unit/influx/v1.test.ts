/**
 * The 1.x adapter's deadline and request shape against a loopback HTTP server that answers on cue
 * (influxd cannot stall mid-answer or trickle chunks on demand; what influxd itself does is in
 * test/integration/storage/influx-adapter.test.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SinkError } from '../../../collector/core/errors.ts';
import { Secret } from '../../../collector/core/secret.ts';
import { InfluxV1Client } from '../../../collector/influx/v1.ts';
import { startLoopbackHttp, type LoopbackHttp } from '../../support/loopback-http.ts';

let server: LoopbackHttp;
let url: string;
let answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
const seen: { method: string; url: string; auth: string | undefined }[] = [];

beforeAll(async () => {
  server = await startLoopbackHttp((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization });
      answer(req, res);
    });
  });
  url = server.url;
});
afterAll(() => server.close());

const chunk = (i: number): string =>
  `${JSON.stringify({ results: [{ statement_id: 0, series: [{ name: 'monitor', columns: ['time', 'polls'], values: [[i, i]], partial: true }] }] })}\n`;

async function drain(client: InfluxV1Client): Promise<number[]> {
  const out: number[] = [];
  for await (const s of client.series('SELECT "polls" FROM "monitor"', { database: 'netmon' }))
    for (const v of s.values ?? []) out.push(Number(v[1]));
  return out;
}

describe('InfluxV1Client', () => {
  it('asks for a chunked answer in ms, with Basic auth built from the account', async () => {
    seen.length = 0;
    answer = (_req, res) => res.writeHead(200).end(chunk(1));
    const client = new InfluxV1Client({
      url: `${url}/influx/`,
      username: 'netmon',
      password: new Secret('s3cret'),
      timeoutMs: 1_000,
    });
    expect(await drain(client)).toEqual([1]);
    client.close();
    const sent = new URL(seen[0]!.url, url);
    expect(sent.pathname).toBe('/influx/query');
    expect(Object.fromEntries(sent.searchParams)).toMatchObject({
      db: 'netmon',
      epoch: 'ms',
      chunked: 'true',
      chunk_size: '20000',
    });
    expect(seen[0]!.auth).toBe(`Basic ${Buffer.from('netmon:s3cret').toString('base64')}`);
  });

  it('an answer that trickles in for longer than timeoutMs in all, but never stalls, is read whole', async () => {
    answer = (_req, res) => {
      res.writeHead(200);
      let i = 0;
      const next = (): void => {
        if (i === 6) return void res.end();
        res.write(chunk(i++));
        setTimeout(next, 250);
      };
      next();
    };
    // Gaps of 250 ms against a deadline of 1 s: room for a busy CI machine's scheduling delays.
    const client = new InfluxV1Client({ url, timeoutMs: 1_000 });
    expect(await drain(client)).toEqual([0, 1, 2, 3, 4, 5]); // ~1.5 s in all
    client.close();
  });

  it('an answer that stalls after its first chunk is a retryable timeout', async () => {
    answer = (_req, res) => {
      res.writeHead(200);
      res.write(chunk(0)); // then nothing, connection open
    };
    const client = new InfluxV1Client({ url, timeoutMs: 200 });
    const err: unknown = await drain(client).then(
      () => undefined,
      (e: unknown) => e,
    );
    client.close();
    expect(err).toBeInstanceOf(SinkError);
    expect(err).toMatchObject({ code: 'timeout', retryable: true });
    expect((err as SinkError).message).toContain('no data within 200 ms');
  });

  it('a slow consumer is not taken for a slow server', async () => {
    answer = (_req, res) => res.writeHead(200).end(chunk(0) + chunk(1));
    const client = new InfluxV1Client({ url, timeoutMs: 400 });
    const got: number[] = [];
    for await (const s of client.series('SELECT 1', { database: 'netmon' })) {
      got.push(Number(s.values?.[0]?.[1]));
      await new Promise((r) => setTimeout(r, 1_000)); // far longer than timeoutMs, between two chunks
    }
    client.close();
    expect(got).toEqual([0, 1]);
  });

  it('a refusal inside a chunk (results[].error) stops the stream with a typed error', async () => {
    answer = (_req, res) =>
      res
        .writeHead(200)
        .end(
          chunk(0) +
            `${JSON.stringify({ results: [{ statement_id: 0, error: 'max-select-point limit exceeded' }] })}\n`,
        );
    const client = new InfluxV1Client({ url, timeoutMs: 1_000 });
    const err: unknown = await drain(client).then(
      () => undefined,
      (e: unknown) => e,
    );
    client.close();
    expect(err).toMatchObject({ code: 'influxql', retryable: false });
    expect((err as SinkError).message).toContain('max-select-point limit exceeded');
  });
});
