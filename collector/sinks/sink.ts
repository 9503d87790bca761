/**
 * The one interface the writer sees for a time-series store. Implementations: influx-v1.ts (InfluxDB
 * 1.x API), influx-v2.ts (the /api/v2/write API: InfluxDB 2/3, Cloud, VictoriaMetrics).
 *
 * Lifecycle: construct (no I/O) ─► start() (reach the server, create the database if that is a thing)
 * ─► write(batch)* ─► close().
 *
 * write() takes samples that validateSample() accepted and either stores them all or throws SinkError:
 *   retryable  connection refused/reset, timeouts, 5xx, 429 (retryAfterMs when the server says)
 *   not        4xx: the data or the request is wrong; retrying the same bytes cannot help
 *   PartialWriteError: the server stored all but `droppedSamples` of the batch (InfluxDB 1.x field
 *   type conflicts) — the rest is written, do not resend.
 */
import type { Sample } from '../core/types.ts';
import { SinkError } from '../core/errors.ts';

export interface SampleSink {
  readonly name: string;
  start(): Promise<void>;
  write(batch: readonly Sample[]): Promise<void>;
  close(): Promise<void>;
}

/** The server stored the batch except `droppedSamples` points, which it rejected. Not retryable. */
export class PartialWriteError extends SinkError {
  readonly droppedSamples: number;
  constructor(message: string, droppedSamples: number, opts: { cause?: unknown } = {}) {
    super('partial_write', message, { retryable: false, cause: opts.cause });
    this.droppedSamples = droppedSamples;
  }
}

/** Network error codes after which the same request may well succeed later. */
const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export function isRetryableNetworkCode(code: unknown): boolean {
  return typeof code === 'string' && RETRYABLE_CODES.has(code);
}

/** 5xx, 429 and 408 may pass later; other 4xx will not. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/** A Retry-After header (seconds or an HTTP date) in ms, or undefined. */
export function parseRetryAfter(
  header: string | null | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  if (!header) return undefined;
  const secs = Number(header);
  if (Number.isFinite(secs) && secs >= 0) return Math.round(secs * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * InfluxDB 1.x answers HTTP 400 "partial write: ..." when it stored some points of a batch. It counts
 * the points it refused (field type conflicts, outside the retention policy) in "dropped=N", but not
 * the lines it could not parse: those it lists, one "unable to parse '<line>': <why>" each
 * (influxdb/models/points.go ParsePoints). The number of points the server did not store is the sum.
 */
export function partialWriteDropped(body: string): number | undefined {
  if (!body.includes('partial write')) return undefined;
  const m = /dropped=(\d+)/.exec(body);
  const unparsed = body.split('unable to parse ').length - 1;
  return (m ? Number(m[1]) : 0) + unparsed;
}

/** A SinkError for an HTTP answer that was not 2xx. */
export function httpSinkError(
  sink: string,
  status: number,
  body: string,
  retryAfterMs: number | undefined,
  cause?: unknown,
): SinkError {
  const text = body.trim().slice(0, 500);
  const dropped = status === 400 ? partialWriteDropped(body) : undefined;
  if (dropped !== undefined)
    return new PartialWriteError(`${sink}: HTTP ${status}: ${text}`, dropped, { cause });
  return new SinkError(`http_${status}`, `${sink}: HTTP ${status}${text ? `: ${text}` : ''}`, {
    retryable: isRetryableStatus(status),
    retryAfterMs,
    cause,
  });
}
