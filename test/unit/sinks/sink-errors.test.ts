/**
 * How each sink classifies failures (retry or not). influxd cannot answer 503, 429 or hang on cue, so a
 * loopback HTTP server does; what influxd itself answers is in test/integration/storage.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SinkError } from '../../../collector/core/errors.ts';
import { Secret } from '../../../collector/core/secret.ts';
import type { Sample } from '../../../collector/core/types.ts';
import { InfluxV1Sink } from '../../../collector/sinks/influx-v1.ts';
import { InfluxV2Sink } from '../../../collector/sinks/influx-v2.ts';
import {
  PartialWriteError,
  httpSinkError,
  partialWriteDropped,
  type SampleSink,
} from '../../../collector/sinks/sink.ts';
import { freeTcpPort } from '../../support/ports.ts';

describe('retry classification (pure)', () => {
  it.each([
    [500, true],
    [502, true],
    [503, true],
    [429, true],
    [408, true],
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [413, false],
  ])('HTTP %i retryable: %s', (status, retryable) => {
    const e = httpSinkError('s', status, 'body', undefined);
    expect(e.retryable).toBe(retryable);
    expect(e.code).toBe(`http_${status}`);
    expect(e.message).toContain(`HTTP ${status}: body`);
  });

  it('a Retry-After of a retryable answer becomes retryAfterMs; a 4xx gets none', () => {
    expect(httpSinkError('s', 503, '', '7').retryAfterMs).toBe(7000);
    expect(httpSinkError('s', 400, '', '7').retryAfterMs).toBeUndefined();
  });

  it('InfluxDB 1.x partial writes: refused points plus unparseable lines', () => {
    expect(partialWriteDropped('{"error":"partial write: field type conflict: ... dropped=3"}')).toBe(3);
    expect(
      partialWriteDropped(
        '{"error":"partial write: unable to parse \'a b\': x\\nunable to parse \'c d\': y dropped=1"}',
      ),
    ).toBe(3);
    expect(partialWriteDropped('{"error":"database not found"}')).toBeUndefined();
    const long = `partial write: ${'x'.repeat(2000)} dropped=7`;
    const e = httpSinkError('s', 400, long, undefined);
    expect(e).toBeInstanceOf(PartialWriteError);
    expect((e as PartialWriteError).droppedSamples).toBe(7); // counted from the whole body, not the excerpt
    expect(e.retryable).toBe(false);
  });
});

const sample: Sample = { measurement: 'monitor', tags: { component: 'x' }, fields: { polls: 1 }, timeMs: 1 };

// A loaded CI machine can take over a second to answer on loopback: only the timeout case uses a short timeout.
const LONG_MS = 15_000;
const SHORT_MS = 300;

describe.each<[string, (url: string, timeoutMs?: number) => SampleSink]>([
  ['influx-v1', (url, timeoutMs = LONG_MS) => new InfluxV1Sink({ url, database: 'netmon', timeoutMs })],
  [
    'influx-v2',
    (url, timeoutMs = LONG_MS) =>
      new InfluxV2Sink({ url, org: 'o', bucket: 'b', token: new Secret('t0ken'), timeoutMs }),
  ],
])('%s against a loopback server', (_name, make) => {
  let server: Server;
  let url: string;
  let answer: (res: ServerResponse) => void = (res) => res.writeHead(204).end();
  let lastBody = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        lastBody = body;
        answer(res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const failure = async (timeoutMs?: number): Promise<SinkError> => {
    const err: unknown = await make(url, timeoutMs)
      .write([sample])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(SinkError);
    return err as SinkError;
  };

  it('sends the batch as line protocol with the integer suffix', async () => {
    answer = (res) => res.writeHead(204).end();
    await make(url).write([sample]);
    expect(lastBody).toBe('monitor,component=x polls=1i 1');
  });

  it('503 with Retry-After is retryable after that long', async () => {
    answer = (res) => res.writeHead(503, { 'retry-after': '7' }).end('overloaded');
    const e = await failure();
    expect(e).toMatchObject({ retryable: true, retryAfterMs: 7000, code: 'http_503' });
  });

  it('429 is retryable', async () => {
    answer = (res) => res.writeHead(429).end();
    expect((await failure()).retryable).toBe(true);
  });

  it('401 is not retryable and says so', async () => {
    answer = (res) => res.writeHead(401).end('{"error":"authorization failed"}');
    const e = await failure();
    expect(e).toMatchObject({ retryable: false, code: 'http_401' });
    expect(e.message).toContain('authorization failed');
    expect(e.message).not.toContain('t0ken');
  });

  it('no answer within timeoutMs is retryable', async () => {
    answer = () => undefined; // accept, never respond
    const e = await failure(SHORT_MS);
    expect(e.retryable).toBe(true);
    expect(e.code).toBe('timeout');
  });

  it('connection refused is retryable', async () => {
    const port = await freeTcpPort();
    const err: unknown = await make(`http://127.0.0.1:${port}`)
      .write([sample])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(SinkError);
    expect((err as SinkError).retryable).toBe(true);
  });
});
