/**
 * InfluxDB 1.x API sink (InfluxDB 1.x, and anything else speaking /write + /query with databases).
 * The only file that imports the npm `influx` package.
 *
 * Field types come from SCHEMA: each measurement is declared to the client as an IMeasurementSchema, so
 * integer fields are sent with the `i` suffix and read back as integers. The client's own host
 * failover and retries are switched off (maxRetries 0, a backoff that never disables the host): the
 * SampleWriter does the buffering and retrying, and needs every failure to surface as a SinkError.
 */
import { FieldType as InfluxFieldType, InfluxDB, type IPoint, type ISchemaOptions } from 'influx';
import { SinkError, errorMessage } from '../core/errors.ts';
import type { Secret } from '../core/secret.ts';
import type { Sample } from '../core/types.ts';
import { SCHEMA, type FieldType, type MeasurementSpec } from './schema.ts';
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

const TYPE_MAP: Record<FieldType, InfluxFieldType> = {
  float: InfluxFieldType.FLOAT,
  integer: InfluxFieldType.INTEGER,
  string: InfluxFieldType.STRING,
  boolean: InfluxFieldType.BOOLEAN,
};

/** SCHEMA in the shape the `influx` package wants. Pure. */
export function influxSchemas(database: string): ISchemaOptions[] {
  return Object.entries(SCHEMA as Record<string, MeasurementSpec>).map(([measurement, spec]) => ({
    database,
    measurement,
    tags: [...spec.tags],
    fields: Object.fromEntries(Object.entries(spec.fields).map(([name, f]) => [name, TYPE_MAP[f.type]])),
  }));
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
      schema: influxSchemas(opts.database),
      pool: { maxRetries: 0, requestTimeout: opts.timeoutMs, backoff: noBackoff },
    });
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
    const points: IPoint[] = batch.map(toPoint);
    try {
      await this.#client.writePoints(points, {
        precision: 'ms',
        database: this.#opts.database,
        ...(this.#opts.retentionPolicy ? { retentionPolicy: this.#opts.retentionPolicy } : {}),
      });
    } catch (err) {
      throw this.#toSinkError(err, 'write');
    }
  }

  async close(): Promise<void> {
    // The client keeps no connections or timers of its own once the host is never disabled.
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

function toPoint(s: Sample): IPoint {
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.tags)) if (v !== '') tags[k] = v;
  return { measurement: s.measurement, tags, fields: { ...s.fields }, timestamp: s.timeMs };
}
