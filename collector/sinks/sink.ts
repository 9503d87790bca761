/**
 * The one interface the writer sees for a time-series store. Implementations: influx-v1.ts (InfluxDB
 * 1.x API), influx-v2.ts (the /api/v2/write API: InfluxDB 2/3, Cloud, VictoriaMetrics), each over its
 * adapter in collector/influx/ (the only files that speak InfluxDB's HTTP API).
 *
 * Lifecycle: construct (no I/O) ─► start() (reach the server, create the database if that is a thing)
 * ─► write(batch)* ─► close().
 *
 * write() takes samples that validateSample() accepted and either stores them all or throws SinkError:
 *   retryable  connection refused/reset, timeouts, 5xx, 429, 408 (retryAfterMs when the server says;
 *              core/http-failure.ts is the one classifier)
 *   not        4xx: the data or the request is wrong; retrying the same bytes cannot help
 *   PartialWriteError: the server stored all but `droppedSamples` of the batch (InfluxDB 1.x field
 *   type conflicts) — the rest is written, do not resend.
 */
import type { Sample } from '../core/types.ts';
import { SinkError } from '../core/errors.ts';
import { classifyHttpStatus, classifyNetworkError } from '../core/http-failure.ts';

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

/**
 * A SinkError for an HTTP answer that was not 2xx, classified by the one classifier
 * (core/http-failure.ts): 408, 429 and 5xx retryable (after Retry-After when given), other 4xx not.
 */
export function httpSinkError(
  sink: string,
  status: number,
  body: string,
  retryAfter: string | undefined,
  cause?: unknown,
): SinkError {
  const text = body.trim().slice(0, 500);
  const dropped = status === 400 ? partialWriteDropped(body) : undefined;
  if (dropped !== undefined)
    return new PartialWriteError(`${sink}: HTTP ${status}: ${text}`, dropped, { cause });
  const verdict = classifyHttpStatus(status, retryAfter);
  return new SinkError(`http_${status}`, `${sink}: HTTP ${status}${text ? `: ${text}` : ''}`, {
    retryable: verdict.retryable,
    retryAfterMs: verdict.retryAfterMs,
    cause,
  });
}

/** A SinkError for a request that got no answer (refused, reset, timed out...). */
export function networkSinkError(what: string, err: unknown, timeoutMs: number): SinkError {
  const failure = classifyNetworkError(err);
  const why = failure.code === 'timeout' ? `no answer within ${timeoutMs} ms` : failure.message;
  return new SinkError(failure.code, `${what}: ${why}`, { retryable: failure.retryable, cause: err });
}

/** A server's http(s) URL from the config, or a SinkError `config` (not retryable) that names `what`. */
export function serverUrl(what: string, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (err) {
    throw new SinkError('config', `${what}: url is not a URL: ${raw}`, { retryable: false, cause: err });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SinkError('config', `${what}: url must be http(s), got ${raw}`, { retryable: false });
  }
  return url;
}
