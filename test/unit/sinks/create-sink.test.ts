import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../../collector/core/secret.ts';
import type { Sample } from '../../../collector/core/types.ts';
import { createSink } from '../../../collector/sinks/create-sink.ts';
import { InfluxV1Sink } from '../../../collector/sinks/influx-v1.ts';
import { InfluxV2Sink } from '../../../collector/sinks/influx-v2.ts';

const sample: Sample = {
  measurement: 'wifi',
  tags: { ssid: 'Badung Free' },
  fields: { clients: 3 },
  timeMs: 5,
};

let server: Server;
let url: string;
const seen: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', headers: req.headers, body });
      const basic = Buffer.from(req.headers.authorization?.replace(/^Basic /, '') ?? '', 'base64').toString();
      res.writeHead(basic.endsWith(':wrong-pw') ? 401 : 204).end();
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

describe('createSink', () => {
  it('v1: /write?db=&rp=&precision=ms with Basic auth from the configured account', async () => {
    const sink = createSink({
      api: 'v1',
      url,
      database: 'netmon',
      username: 'collector',
      password: new Secret('s3cret-pw'),
      retentionPolicy: 'ninety_days',
      timeoutMs: 1000,
    });
    expect(sink).toBeInstanceOf(InfluxV1Sink);
    await sink.write([sample]);
    const req = seen.at(-1)!;
    expect(req.path).toBe('/write?db=netmon&precision=ms&rp=ninety_days');
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from('collector:s3cret-pw').toString('base64')}`);
    expect(req.body).toBe('wifi,ssid=Badung\\ Free clients=3i 5');
    expect(sink.name).not.toContain('s3cret');
    expect(inspect(sink)).not.toContain('s3cret');
  });

  it('v1 without an account sends no credentials at all', async () => {
    await createSink({ api: 'v1', url, database: 'netmon', timeoutMs: 1000 }).write([sample]);
    expect(seen.at(-1)?.headers.authorization).toBeUndefined();
  });

  it('v2: /api/v2/write?org=&bucket=&precision=ms with the token', async () => {
    const sink = createSink({
      api: 'v2',
      url,
      org: 'kominfo-badung',
      bucket: 'netmon',
      token: new Secret('t0ken-abc'),
      timeoutMs: 1000,
    });
    expect(sink).toBeInstanceOf(InfluxV2Sink);
    await sink.write([sample]);
    const req = seen.at(-1)!;
    expect(req.path).toBe('/api/v2/write?org=kominfo-badung&bucket=netmon&precision=ms');
    expect(req.headers.authorization).toBe('Token t0ken-abc');
    expect(req.body).toBe('wifi,ssid=Badung\\ Free clients=3i 5');
    expect(inspect(sink)).not.toContain('t0ken-abc');
  });

  it('a refused credential surfaces without the secret in the error', async () => {
    const sink = createSink({
      api: 'v1',
      url,
      database: 'netmon',
      username: 'collector',
      password: new Secret('wrong-pw'),
      timeoutMs: 1000,
    });
    const err: unknown = await sink.write([sample]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ retryable: false, code: 'http_401' });
    // The whole cause chain, as a logger that walks causes would see it: neither the password nor the
    // Authorization header that carries it.
    const seenByALogger = JSON.stringify(err) + String(err) + inspect(err, { depth: Infinity });
    expect(seenByALogger).not.toContain('wrong-pw');
    expect(seenByALogger).not.toContain(Buffer.from('collector:wrong-pw').toString('base64'));
  });

  it('rejects a URL that is not http(s)', () => {
    expect(() => createSink({ api: 'v1', url: 'ftp://x', database: 'd', timeoutMs: 1 })).toThrow(/http\(s\)/);
  });
});
