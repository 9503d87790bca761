/**
 * One POST of a notification to an HTTP receiver (webhooks, CAP receivers), with the retry rules every such
 * channel shares: network errors, timeouts, 5xx and 429 are retryable (Retry-After honoured); other 4xx are
 * not. Header values are secrets, revealed only here.
 */
import { NotifyError, errorMessage } from '../core/errors.ts';
import type { Secret } from '../core/secret.ts';

export interface PostTarget {
  /** The channel's name, in errors. */
  readonly name: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, Secret>> | undefined;
  readonly timeoutMs?: number | undefined;
  /** Prefix of the error codes: `<prefix>_unreachable`, `<prefix>_status`. */
  readonly codePrefix: string;
}

export async function postNotification(target: PostTarget, contentType: string, body: string): Promise<void> {
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
  if (res.ok) return;
  const retryAfterS = Number(res.headers.get('retry-after'));
  throw new NotifyError(
    `${target.codePrefix}_status`,
    `${target.name}: HTTP ${res.status} ${text.slice(0, 200)}`,
    {
      retryable: res.status >= 500 || res.status === 429,
      retryAfterMs: Number.isFinite(retryAfterS) && retryAfterS > 0 ? retryAfterS * 1000 : undefined,
    },
  );
}
