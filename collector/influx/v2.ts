/**
 * The InfluxDB 2.x HTTP API (/api/v2/write, /ping; InfluxDB 2 and 3, InfluxDB Cloud, VictoriaMetrics...):
 * the only file that imports `@influxdata/influxdb-client`, and the only one that speaks this API.
 *
 * Writes go through the client's transport (it adds the token, the timeout and gzip), one request per
 * batch, not through its WriteApi: WriteApi has its own batching, retry buffer and timers, and the
 * SampleWriter already does that on disk; here every failure must come back at once as a SinkError that
 * says whether to retry (core/http-failure.ts).
 */
import { HttpError, InfluxDB, RequestTimedOutError } from '@influxdata/influxdb-client';
import { SinkError } from '../core/errors.ts';
import type { Secret } from '../core/secret.ts';
import { httpSinkError, networkSinkError, serverUrl } from '../sinks/sink.ts';

export interface InfluxV2Connection {
  readonly url: string;
  readonly token: Secret;
  readonly timeoutMs: number;
  /** Gzip request bodies larger than this many bytes (default 64 KiB); 0 gzips every body. */
  readonly gzipThreshold?: number | undefined;
}

export class InfluxV2Client {
  /** "influx-v2 host:port", for messages. */
  readonly name: string;
  readonly #client: InfluxDB;
  readonly #timeoutMs: number;
  readonly #gzipThreshold: number;

  /** No I/O. Throws SinkError (not retryable) for a URL that is not http(s). */
  constructor(conn: InfluxV2Connection, name = 'influx-v2') {
    const url = serverUrl(name, conn.url);
    this.name = `${name} ${url.host}`;
    this.#timeoutMs = conn.timeoutMs;
    this.#gzipThreshold = conn.gzipThreshold ?? 64 * 1024;
    this.#client = new InfluxDB({ url: conn.url, token: conn.token.reveal(), timeout: conn.timeoutMs });
  }

  /** GET /ping: the server answers. */
  async ping(): Promise<void> {
    try {
      await this.#client.transport.request('/ping', '', { method: 'GET' });
    } catch (err) {
      throw this.#failure('ping', err);
    }
  }

  /** POST ready line protocol (ms timestamps) to /api/v2/write. */
  async write(lines: string, target: { org: string; bucket: string }): Promise<void> {
    const q = new URLSearchParams({ org: target.org, bucket: target.bucket, precision: 'ms' });
    try {
      await this.#client.transport.request(`/api/v2/write?${q.toString()}`, lines, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        gzipThreshold: this.#gzipThreshold,
      });
    } catch (err) {
      throw this.#failure('write', err);
    }
  }

  #failure(op: string, err: unknown): SinkError {
    const what = `${this.name} ${op}`;
    if (err instanceof HttpError) {
      // HttpError.retryAfter() invents a delay when the server gave none; read the header itself.
      const h = err.headers?.['retry-after'];
      return httpSinkError(what, err.statusCode, err.body ?? err.message, Array.isArray(h) ? h[0] : h, err);
    }
    if (err instanceof RequestTimedOutError) {
      return new SinkError('timeout', `${what}: no answer within ${this.#timeoutMs} ms`, {
        retryable: true,
        cause: err,
      });
    }
    return networkSinkError(what, err, this.#timeoutMs);
  }
}
