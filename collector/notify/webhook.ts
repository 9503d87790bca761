/**
 * POSTs each notification as JSON. Network errors, timeouts, 5xx and 429 are retryable (Retry-After is
 * honoured); other 4xx are not (the receiver rejected the message; sending it again will not help).
 */
import { postNotification } from './http-post.ts';
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
    await postNotification(
      { ...this.#opts, name: this.name, codePrefix: 'webhook' },
      'application/json',
      JSON.stringify(n),
    );
  }
}
