/**
 * Pushes each notification as a CAP 1.2 message to a configured HTTP endpoint (BPBD's CAP receiver): a
 * Notifier, so the Dispatcher retries and logs it like any other channel.
 *
 * Per incident it keeps the reference of the first message sent (the Alert) in memory, so an Update and
 * the restoration's AllClear reference it. After a restart that memory is gone; the restoration then
 * references the Alert recomputed from the notification (collector/feeds/cap.ts: an Alert's identifier
 * and sent time follow from the incident), which is the same message. A retried send of one notification
 * (the Dispatcher passes the same object again) POSTs the same bytes, so a receiver that already got it
 * sees a duplicate (same sender, identifier and sent), not a second alert.
 *
 * Errors as collector/notify/webhook.ts: network errors, timeouts, 5xx and 429 are retryable
 * (Retry-After honoured); other 4xx are not; a notification that cannot be encoded is not.
 */
import type { Clock } from '../core/clock.ts';
import { NotifyError, errorMessage } from '../core/errors.ts';
import { postNotification } from '../notify/http-post.ts';
import type { Secret } from '../core/secret.ts';
import type { Notification } from '../notify/notification.ts';
import type { Notifier } from '../notify/notifier.ts';
import { CAP_MEDIA_TYPE, capMessage, type CapMessage, type CapOptions, type CapRef } from './cap.ts';

export interface CapPushOptions {
  readonly name: string;
  readonly url: string;
  /** How messages are written (sender, scope, …); `prior` and `sentMs` are this notifier's to decide. */
  readonly cap: Omit<CapOptions, 'prior' | 'sentMs'>;
  /** The time of an Update (the other messages carry their event's time). */
  readonly clock: Clock;
  readonly headers?: Readonly<Record<string, Secret>> | undefined;
  readonly timeoutMs?: number | undefined;
  /** Default application/cap+xml; some receivers only accept application/xml. */
  readonly contentType?: typeof CAP_MEDIA_TYPE | 'application/xml' | undefined;
  /** Open incidents remembered at most (oldest forgotten first). Default 10 000. */
  readonly maxTracked?: number | undefined;
}

export class CapPushNotifier implements Notifier {
  readonly name: string;
  /** BPBD's picture shows a recovering outage as such (an Update), as the HTTP feed does. */
  readonly statusUpdates = true;
  readonly #opts: CapPushOptions;
  /** Incident id → its first message, for the references of what follows. */
  readonly #first = new Map<string, CapRef>();
  /** The message rendered for a notification object, so retries send the same bytes. */
  readonly #rendered = new WeakMap<Notification, CapMessage>();

  constructor(opts: CapPushOptions) {
    this.name = `cap:${opts.name}`;
    this.#opts = opts;
  }

  /** The first message remembered for an incident (for tests and the HTTP feed). */
  firstMessage(incidentId: string): CapRef | undefined {
    return this.#first.get(incidentId);
  }

  async send(n: Notification): Promise<void> {
    const msg = this.#render(n);
    await this.#post(msg.xml);
    this.#remember(n, msg);
  }

  #render(n: Notification): CapMessage {
    const cached = this.#rendered.get(n);
    if (cached) return cached;
    const first = this.#first.get(n.id);
    let msg: CapMessage;
    try {
      if (n.status === 'resolved') msg = capMessage(n, { ...this.#opts.cap, prior: first });
      // Recovering: an Update at the moment it answered again (capMessage's default), like the HTTP feed.
      else if (n.recovery) msg = capMessage(n, { ...this.#opts.cap, prior: first });
      else if (!first) msg = capMessage(n, this.#opts.cap);
      else msg = capMessage(n, { ...this.#opts.cap, prior: first, sentMs: this.#opts.clock.now() });
    } catch (err) {
      throw new NotifyError('cap_encode', `${this.name}: ${n.id}: ${errorMessage(err)}`, {
        retryable: false,
        cause: err,
      });
    }
    this.#rendered.set(n, msg);
    return msg;
  }

  #remember(n: Notification, msg: CapMessage): void {
    if (n.status === 'resolved') {
      this.#first.delete(n.id);
      return;
    }
    if (msg.msgType !== 'Alert' || this.#first.has(n.id)) return;
    this.#first.set(n.id, msg.ref);
    const max = this.#opts.maxTracked ?? 10_000;
    for (const id of this.#first.keys()) {
      if (this.#first.size <= max) break;
      this.#first.delete(id);
    }
  }

  async #post(xml: string): Promise<void> {
    await postNotification(
      { ...this.#opts, name: this.name, codePrefix: 'cap' },
      this.#opts.contentType ?? CAP_MEDIA_TYPE,
      xml,
    );
  }
}
