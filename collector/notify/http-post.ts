/**
 * One POST of a notification to an HTTP receiver (webhooks, CAP receivers, WhatsApp), with the retry rules
 * every such channel shares, from the one HTTP failure classifier (core/http-failure.ts, as the InfluxDB
 * sinks): network errors, timeouts, 408, 429 and 5xx are retryable (Retry-After honoured, in seconds or
 * as an HTTP date); other 4xx are not. Header values are secrets, revealed only here. A channel whose API says more in its
 * body (an error code meaning "rate limited" in a 400, a failure in a 200) passes `judge`.
 */
import { NotifyError } from '../core/errors.ts';
import { classifyHttpStatus, classifyNetworkError, parseRetryAfter } from '../core/http-failure.ts';
import type { Secret } from '../core/secret.ts';

export interface PostTarget {
  /** The channel's name, in errors. */
  readonly name: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, Secret>> | undefined;
  readonly timeoutMs?: number | undefined;
  /** Prefix of the error codes: `<prefix>_unreachable`, `<prefix>_status`, `<prefix>_refused`. */
  readonly codePrefix: string;
  /**
   * Reads the answer: a failure to report (its text and whether a retry can help), or undefined to keep the
   * status rules. Called for every answer, 2xx included.
   */
  readonly judge?:
    | ((
        status: number,
        body: string,
      ) => { readonly message: string; readonly retryable: boolean } | undefined)
    | undefined;
}

export interface PostAnswer {
  readonly status: number;
  readonly body: string;
}

export async function postNotification(
  target: PostTarget,
  contentType: string,
  body: string,
): Promise<PostAnswer> {
  const headers: Record<string, string> = { 'content-type': contentType };
  for (const [k, v] of Object.entries(target.headers ?? {})) headers[k] = v.reveal();
  let res: Response;
  try {
    res = await fetch(target.url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(target.timeoutMs ?? 10_000),
    });
  } catch (err) {
    // No answer: refused, reset, DNS, timed out. A receiver that is away may be back later.
    const failure = classifyNetworkError(err);
    const why =
      failure.code === 'timeout' ? `no answer within ${target.timeoutMs ?? 10_000} ms` : failure.message;
    throw new NotifyError(`${target.codePrefix}_unreachable`, `${target.name}: ${why}`, {
      retryable: true,
      cause: err,
    });
  }
  // Drain the body so the connection can be reused.
  const text = await res.text().catch(() => '');
  const retryAfter = res.headers.get('retry-after');
  const judged = target.judge?.(res.status, text);
  if (judged)
    throw new NotifyError(
      `${target.codePrefix}_${res.ok ? 'refused' : 'status'}`,
      `${target.name}: HTTP ${res.status} ${judged.message}`,
      {
        retryable: judged.retryable,
        retryAfterMs: judged.retryable ? parseRetryAfter(retryAfter) : undefined,
      },
    );
  if (res.ok) return { status: res.status, body: text };
  const verdict = classifyHttpStatus(res.status, retryAfter);
  throw new NotifyError(
    `${target.codePrefix}_status`,
    `${target.name}: HTTP ${res.status} ${text.slice(0, 200)}`,
    verdict,
  );
}
