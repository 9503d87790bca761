/**
 * Sends every notification to every channel, each on its own with retries, and logs each delivery and
 * each final failure (the log of every notification sent). It never throws into the pipeline: alerting
 * goes on while a channel is down. `stop()` waits for deliveries in flight.
 */
import type { Clock } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { retry, type RetryPolicy } from '../core/retry.ts';
import type { Notification } from './notification.ts';
import type { Notifier } from './notifier.ts';

export interface DispatchStats {
  sent: number;
  failed: number;
  retries: number;
}

/** Where deliveries are recorded (collector/store/incident-store.ts), so a restart does not repeat them. */
export interface SentLedger {
  wasSent(incidentId: string, channel: string, kind: string): boolean;
  markSent(incidentId: string, channel: string, kind: string, timeMs: number): boolean;
}

export class Dispatcher {
  readonly #notifiers: readonly Notifier[];
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #policy: RetryPolicy;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #stats: DispatchStats = { sent: 0, failed: 0, retries: 0 };

  readonly #ledger: SentLedger | undefined;

  constructor(
    notifiers: readonly Notifier[],
    clock: Clock,
    log: Logger,
    policy?: RetryPolicy,
    ledger?: SentLedger,
  ) {
    this.#ledger = ledger;
    this.#notifiers = notifiers;
    this.#clock = clock;
    this.#log = log;
    this.#policy = policy ?? { attempts: 6, baseMs: 1_000, maxMs: 60_000 };
  }

  /**
   * Send `n` to every channel, or only to the channels named in `only` (routing). Unknown names are
   * logged: a contact pointing at a channel that is not configured must not pass in silence.
   */
  dispatch(n: Notification, only?: readonly string[]): void {
    const targets = only ? this.#notifiers.filter((x) => x.always || only.includes(x.name)) : this.#notifiers;
    if (only) {
      const missing = only.filter((name) => !this.#notifiers.some((x) => x.name === name));
      if (missing.length)
        this.#log.error('notification routed to unknown channels', { alert: n.id, missing });
      if (!targets.some((x) => !x.always))
        this.#log.warn('notification has no channel', { alert: n.id, kind: n.kind });
    }
    for (const notifier of targets) {
      const p = this.#deliver(notifier, n);
      this.#inFlight.add(p);
      void p.finally(() => this.#inFlight.delete(p));
    }
  }

  stats(): DispatchStats {
    return { ...this.#stats };
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }

  async #deliver(notifier: Notifier, n: Notification): Promise<void> {
    // Already delivered before a restart: at most once per incident, channel and event.
    const kind = ledgerKind(n);
    if (this.#ledger?.wasSent(n.id, notifier.name, kind)) {
      this.#log.info('notification already sent', { channel: notifier.name, alert: n.id, status: n.status });
      return;
    }
    try {
      await retry(
        () => notifier.send(n),
        this.#clock,
        this.#policy,
        (err, attempt, delayMs) => {
          this.#stats.retries++;
          this.#log.warn('notification retry', {
            channel: notifier.name,
            alert: n.id,
            attempt: attempt + 1,
            delayMs,
            error: errorMessage(err),
          });
        },
      );
      this.#stats.sent++;
      this.#ledger?.markSent(n.id, notifier.name, kind, this.#clock.now());
      this.#log.info('notification sent', { channel: notifier.name, alert: n.id, status: n.status });
    } catch (err) {
      this.#stats.failed++;
      this.#log.error('notification failed', {
        channel: notifier.name,
        alert: n.id,
        status: n.status,
        error: errorMessage(err),
      });
    }
  }
}

/**
 * What the ledger records a delivery as: firing, resolved, flapping, escalation:<level>, or
 * recovering:<since> (one per time the device came back while the incident stayed open).
 */
export function ledgerKind(n: Notification): string {
  if (n.escalation) return `escalation:${n.escalation.level}`;
  if (n.recovery && n.status === 'firing') return `recovering:${n.recovery.since}`;
  return n.kind === 'flapping' ? 'flapping' : n.status;
}
