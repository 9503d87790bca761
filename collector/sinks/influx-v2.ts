/**
 * InfluxDB 2.x API sink: POST /api/v2/write (InfluxDB 2 and 3, InfluxDB Cloud, VictoriaMetrics...).
 * The only file that imports `@influxdata/influxdb-client`.
 *
 * The client's WriteApi has its own batching, retry buffer and timers; we do our own (SampleWriter), so
 * this sink does not use it: it sends each batch as one request through the client's transport (which
 * adds the token and the timeout) and turns every failure into a SinkError at once.
 */
import { HttpError, InfluxDB, RequestTimedOutError } from '@influxdata/influxdb-client';
import { SinkError, errorMessage } from '../core/errors.ts';
import type { Secret } from '../core/secret.ts';
import type { Sample } from '../core/types.ts';
import { encodeBatch } from './line-protocol.ts';
import { httpSinkError, isRetryableNetworkCode, parseRetryAfter, type SampleSink } from './sink.ts';

export interface InfluxV2Options {
  readonly url: string;
  readonly org: string;
  readonly bucket: string;
  readonly token: Secret;
  readonly timeoutMs: number;
  /** Gzip request bodies larger than this many bytes (default 64 KiB); 0 gzips every body. */
  readonly gzipThreshold?: number | undefined;
}

export class InfluxV2Sink implements SampleSink {
  readonly name: string;
  readonly #opts: InfluxV2Options;
  readonly #client: InfluxDB;
  readonly #writePath: string;

  constructor(opts: InfluxV2Options) {
    const url = new URL(opts.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new SinkError('config', `influx-v2: url must be http(s), got ${opts.url}`, { retryable: false });
    }
    this.#opts = opts;
    this.name = `influx-v2 ${url.host}/${opts.org}/${opts.bucket}`;
    this.#client = new InfluxDB({ url: opts.url, token: opts.token.reveal(), timeout: opts.timeoutMs });
    const q = new URLSearchParams({ org: opts.org, bucket: opts.bucket, precision: 'ms' });
    this.#writePath = `/api/v2/write?${q.toString()}`;
  }

  /** Check the server answers /ping. Buckets are not created here (InfluxDB 2 needs an org id and rights). */
  async start(): Promise<void> {
    try {
      await this.#client.transport.request('/ping', '', { method: 'GET' });
    } catch (err) {
      throw this.#toSinkError(err, 'start');
    }
  }

  async write(batch: readonly Sample[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      await this.#client.transport.request(this.#writePath, encodeBatch(batch), {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        gzipThreshold: this.#opts.gzipThreshold ?? 64 * 1024,
      });
    } catch (err) {
      throw this.#toSinkError(err, 'write');
    }
  }

  async close(): Promise<void> {
    // No WriteApi, so no buffers or retry timers to close.
  }

  #toSinkError(err: unknown, op: string): SinkError {
    if (err instanceof HttpError) {
      // HttpError.retryAfter() invents a delay when the server gave none; read the header itself.
      const header = err.headers?.['retry-after'];
      return httpSinkError(
        `${this.name} ${op}`,
        err.statusCode,
        err.body ?? err.message,
        parseRetryAfter(typeof header === 'string' ? header : undefined),
        err,
      );
    }
    if (err instanceof RequestTimedOutError) {
      return new SinkError('timeout', `${this.name} ${op}: timed out after ${this.#opts.timeoutMs} ms`, {
        retryable: true,
        cause: err,
      });
    }
    const code = (err as { code?: unknown }).code;
    const retryable = isRetryableNetworkCode(code);
    return new SinkError(
      typeof code === 'string' ? code.toLowerCase() : 'failed',
      `${this.name} ${op}: ${errorMessage(err)}`,
      {
        retryable,
        cause: err,
      },
    );
  }
}
