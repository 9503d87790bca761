/**
 * POSTs each notification as JSON. Network errors, timeouts, 5xx and 429 are retryable (Retry-After is
 * honoured); other 4xx are not (the receiver rejected the message; sending it again will not help).
 */
import { NotifyError, errorMessage } from '../core/errors.ts';
import type { Secret } from '../core/secret.ts';
import type { Notification } from './notification.ts';
import type { Notifier } from './notifier.ts';

export interface WebhookOptions {
  readonly name: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, Secret>> | undefined;
  readonly timeoutMs?: number | undefined;
}

export class WebhookNotifier implements Notifier {
  readonly name: string;
  readonly #opts: WebhookOptions;

  constructor(opts: WebhookOptions) {
    this.name = `webhook:${opts.name}`;
    this.#opts = opts;
  }

  async send(n: Notification): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const [k, v] of Object.entries(this.#opts.headers ?? {})) headers[k] = v.reveal();
    let res: Response;
    try {
      res = await fetch(this.#opts.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(n),
        signal: AbortSignal.timeout(this.#opts.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new NotifyError('webhook_unreachable', `${this.name}: ${errorMessage(err)}`, {
        retryable: true,
        cause: err,
      });
    }
    // Drain the body so the connection can be reused.
    const body = await res.text().catch(() => '');
    if (res.ok) return;
    const retryable = res.status >= 500 || res.status === 429;
    const retryAfterS = Number(res.headers.get('retry-after'));
    throw new NotifyError('webhook_status', `${this.name}: HTTP ${res.status} ${body.slice(0, 200)}`, {
      retryable,
      retryAfterMs: Number.isFinite(retryAfterS) && retryAfterS > 0 ? retryAfterS * 1000 : undefined,
    });
  }
}
