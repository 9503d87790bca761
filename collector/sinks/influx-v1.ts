/**
 * InfluxDB 1.x API sink (InfluxDB 1.x, and anything else speaking /write + /query with databases).
 * The only file that imports the npm `influx` package.
 *
 * start() uses the `influx` client to create the database (it quotes the name and speaks /query).
 * write() does not use the client: its tag escaper leaves backslashes alone, so a tag value ending in
 * "\" escapes the comma after it and influxd refuses the line (the storage integration test shows it).
 * Batches go out as our own line protocol (line-protocol.ts: the escaping InfluxDB documents, integer
 * fields with the `i` suffix from SCHEMA), the same bytes the 2.x sink sends, in one POST /write.
 * No retries here: the SampleWriter buffers and retries, and needs every failure as a SinkError.
 */
import { InfluxDB } from 'influx';
import { SinkError, errorMessage } from '../core/errors.ts';
import type { Secret } from '../core/secret.ts';
import type { Sample } from '../core/types.ts';
import { encodeBatch } from './line-protocol.ts';
import { httpSinkError, isRetryableNetworkCode, parseRetryAfter, type SampleSink } from './sink.ts';

export interface InfluxV1Options {
  /** e.g. http://127.0.0.1:8086 */
  readonly url: string;
  readonly database: string;
  readonly username?: string | undefined;
  readonly password?: Secret | undefined;
  readonly retentionPolicy?: string | undefined;
  readonly timeoutMs: number;
}

/** A backoff that never takes the (only) host out of the client's pool: we retry ourselves. */
interface BackoffStrategy {
  getDelay(): number;
  next(): BackoffStrategy;
  reset(): BackoffStrategy;
}
const noBackoff: BackoffStrategy = {
  getDelay: () => 0,
  next: () => noBackoff,
  reset: () => noBackoff,
};

export class InfluxV1Sink implements SampleSink {
  readonly name: string;
  readonly #opts: InfluxV1Options;
  readonly #client: InfluxDB;
  readonly #writeUrl: string;
  readonly #headers: Record<string, string>;

  constructor(opts: InfluxV1Options) {
    const url = new URL(opts.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new SinkError('config', `influx-v1: url must be http(s), got ${opts.url}`, { retryable: false });
    }
    this.#opts = opts;
    this.name = `influx-v1 ${url.host}/${opts.database}`;
    this.#client = new InfluxDB({
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      protocol: url.protocol === 'https:' ? 'https' : 'http',
      ...(url.pathname !== '/' ? { path: url.pathname } : {}),
      database: opts.database,
      ...(opts.username !== undefined ? { username: opts.username } : {}),
      ...(opts.password !== undefined ? { password: opts.password.reveal() } : {}),
      pool: { maxRetries: 0, requestTimeout: opts.timeoutMs, backoff: noBackoff },
    });
    const write = new URL(`${url.pathname.replace(/\/$/, '')}/write`, url);
    write.search = new URLSearchParams({
      db: opts.database,
      precision: 'ms',
      ...(opts.retentionPolicy ? { rp: opts.retentionPolicy } : {}),
    }).toString();
    this.#writeUrl = write.toString();
    this.#headers = { 'content-type': 'text/plain; charset=utf-8' };
    if (opts.username !== undefined) {
      const basic = Buffer.from(`${opts.username}:${opts.password?.reveal() ?? ''}`).toString('base64');
      this.#headers.authorization = `Basic ${basic}`;
    }
  }

  /** Create the database when it is missing (CREATE DATABASE is idempotent in InfluxDB 1.x). */
  async start(): Promise<void> {
    try {
      const names = await this.#client.getDatabaseNames();
      if (!names.includes(this.#opts.database)) await this.#client.createDatabase(this.#opts.database);
    } catch (err) {
      throw this.#toSinkError(err, 'start');
    }
  }

  async write(batch: readonly Sample[]): Promise<void> {
    if (batch.length === 0) return;
    let res: Response;
    try {
      res = await fetch(this.#writeUrl, {
        method: 'POST',
        headers: this.#headers,
        body: encodeBatch(batch),
        signal: AbortSignal.timeout(this.#opts.timeoutMs),
      });
    } catch (err) {
      throw this.#fetchError(err);
    }
    const body = await res.text().catch(() => '');
    if (res.status === 204 || res.ok) return;
    throw httpSinkError(
      `${this.name} write`,
      res.status,
      body,
      parseRetryAfter(res.headers.get('retry-after')),
    );
  }

  async close(): Promise<void> {
    // The client keeps no connections or timers of its own once the host is never disabled.
  }

  /** fetch() failed before an answer: refused, reset, timed out... all may pass later. */
  #fetchError(err: unknown): SinkError {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
      return new SinkError('timeout', `${this.name} write: no answer within ${this.#opts.timeoutMs} ms`, {
        retryable: true,
        cause: err,
      });
    }
    const code = (err as { cause?: { code?: unknown } }).cause?.code;
    const retryable = isRetryableNetworkCode(code) || err instanceof TypeError; // undici: "fetch failed"
    const why = err instanceof Error && err.cause instanceof Error ? err.cause.message : errorMessage(err);
    return new SinkError(
      typeof code === 'string' ? code.toLowerCase() : 'failed',
      `${this.name} write: ${why}`,
      {
        retryable,
        cause: err,
      },
    );
  }

  #toSinkError(err: unknown, op: string): SinkError {
    if (err instanceof SinkError) return err;
    const e = err as { code?: unknown; res?: { statusCode?: number; headers?: Record<string, unknown> } };
    const status = e.res?.statusCode;
    if (typeof status === 'number') {
      // RequestError: the body is in the message ("A 400 Bad Request error occurred: {...}").
      const retryAfter = e.res?.headers?.['retry-after'];
      return httpSinkError(
        `${this.name} ${op}`,
        status,
        errorMessage(err),
        parseRetryAfter(typeof retryAfter === 'string' ? retryAfter : undefined),
        err,
      );
    }
    // The client's ServiceNotAvailableError (not exported): a 5xx ("Internal Server Error") or
    // "Request timed out". Its name property says "Error", its constructor says what it is.
    const ctor = err instanceof Error ? err.constructor.name : '';
    const retryable = isRetryableNetworkCode(e.code) || ctor === 'ServiceNotAvailableError';
    const code = typeof e.code === 'string' ? e.code.toLowerCase() : retryable ? 'unavailable' : 'failed';
    return new SinkError(code, `${this.name} ${op}: ${errorMessage(err)}`, { retryable, cause: err });
  }
}
