/**
 * The one HTTP failure classifier, for every client that talks to a server it does not own: the InfluxDB
 * sinks and queries (collector/influx/) and the notifiers (collector/notify/http-post.ts). It answers the
 * question a retrier asks — may the same request pass later, and when?
 *
 *   408, 429, 5xx              retryable; Retry-After honoured (RFC 9110 §10.2.3: delay-seconds or an
 *                              HTTP-date)
 *   other 4xx (and 1xx, 3xx)   not: the request itself is wrong, resending the same bytes cannot help
 *   no answer                  refused, reset, unreachable, DNS not answering, timed out: retryable
 *
 * Pure: it takes a status, a header and `now`, or an error value, and returns a verdict.
 */

export interface HttpVerdict {
  readonly retryable: boolean;
  /** How long the server asked to wait (only for a retryable answer that said). */
  readonly retryAfterMs: number | undefined;
}

/** 5xx, 429 (RFC 6585 §4) and 408 (RFC 9110 §15.5.9) may pass later; other statuses will not. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/**
 * A Retry-After header in ms: delay-seconds ("120", and "0.5" from lenient servers) or an HTTP-date
 * ("Wed, 21 Oct 2026 07:28:10 GMT", measured from `nowMs`; a date in the past is 0). Anything else is
 * undefined: the caller's own backoff applies.
 */
export function parseRetryAfter(
  header: string | null | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  if (header === null || header === undefined) return undefined;
  const text = header.trim();
  if (text === '') return undefined;
  const secs = Number(text);
  if (Number.isFinite(secs)) return secs >= 0 ? Math.round(secs * 1000) : undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** The verdict on an HTTP answer that was not 2xx. */
export function classifyHttpStatus(
  status: number,
  retryAfter: string | null | undefined,
  nowMs: number = Date.now(),
): HttpVerdict {
  const retryable = isRetryableStatus(status);
  return { retryable, retryAfterMs: retryable ? parseRetryAfter(retryAfter, nowMs) : undefined };
}

/** Network error codes (Node's and undici's) after which the same request may well succeed later. */
const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

export function isRetryableNetworkCode(code: unknown): boolean {
  return typeof code === 'string' && RETRYABLE_CODES.has(code);
}

export interface NetworkFailure {
  /** Lower-case error code for a typed error: `timeout`, `econnrefused`, ... or `failed`. */
  readonly code: string;
  readonly retryable: boolean;
  /** What went wrong, from the innermost error that says (undici wraps it in "fetch failed"). */
  readonly message: string;
}

/**
 * The verdict on a request that got no answer: a timeout (AbortSignal.timeout's TimeoutError, an aborted
 * request), a network error code on the error or its cause (node:http puts it on the error, fetch on
 * `cause`), or undici's bare "fetch failed" TypeError. Unknown failures are not retryable.
 */
export function classifyNetworkError(err: unknown): NetworkFailure {
  const e = err as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown } | null;
  const cause = e?.cause as { code?: unknown; message?: unknown } | null | undefined;
  const message =
    typeof cause?.message === 'string' && cause.message !== ''
      ? cause.message
      : typeof e?.message === 'string'
        ? e.message
        : String(err);
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.code === 'ABORT_ERR') {
    return { code: 'timeout', retryable: true, message };
  }
  const code =
    typeof e?.code === 'string' ? e.code : typeof cause?.code === 'string' ? cause.code : undefined;
  const retryable = isRetryableNetworkCode(code) || err instanceof TypeError; // undici: "fetch failed"
  return { code: code?.toLowerCase() ?? 'failed', retryable, message };
}
