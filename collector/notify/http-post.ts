/**
 * One POST of a notification to an HTTP receiver (webhooks, CAP receivers, WhatsApp), with the retry rules
 * every such channel shares: network errors, timeouts, 5xx and 429 are retryable (Retry-After honoured);
 * other 4xx are not. Header values are secrets, revealed only here. A channel whose API says more in its
 * body (an error code meaning "rate limited" in a 400, a failure in a 200) passes `judge`.
 */
import { NotifyError, errorMessage } from '../core/errors.ts';
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
    throw new NotifyError(`${target.codePrefix}_unreachable`, `${target.name}: ${errorMessage(err)}`, {
      retryable: true,
      cause: err,
    });
  }
  // Drain the body so the connection can be reused.
  const text = await res.text().catch(() => '');
  const retryAfterS = Number(res.headers.get('retry-after'));
  const retryAfterMs = Number.isFinite(retryAfterS) && retryAfterS > 0 ? retryAfterS * 1000 : undefined;
  const judged = target.judge?.(res.status, text);
  if (judged)
    throw new NotifyError(
      `${target.codePrefix}_${res.ok ? 'refused' : 'status'}`,
      `${target.name}: HTTP ${res.status} ${judged.message}`,
      { retryable: judged.retryable, retryAfterMs: judged.retryable ? retryAfterMs : undefined },
    );
  if (res.ok) return { status: res.status, body: text };
  throw new NotifyError(
    `${target.codePrefix}_status`,
    `${target.name}: HTTP ${res.status} ${text.slice(0, 200)}`,
    {
      retryable: res.status >= 500 || res.status === 429,
      retryAfterMs,
    },
  );
}
