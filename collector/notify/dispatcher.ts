/**
 * Sends every notification to every channel, each on its own with retries, and logs each delivery and
 * each final failure (the log of every notification sent). It never throws into the pipeline: alerting
 * goes on while a channel is down. `stop()` waits for deliveries in flight.
 *
 * In a cluster (issue #15) the ledger can `claim` a delivery before it is sent: the claim commits in
 * PostgreSQL under the alerting leader's term (fenced), so a deposed leader's claim is refused and its page
 * is not sent. `halt()` is the deposition itself: nothing more is sent from that moment, not even a retry.
 */
import type { Clock } from '../core/clock.ts';
import { NotifyError, errorMessage } from '../core/errors.ts';
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
  /**
   * Record the delivery as claimed by this store's term once every earlier write is durable; false when
   * it was already sent or claimed by this term, or when the store refuses (a newer term exists).
   * Absent (SQLite before #15): wasSent alone decides.
   */
  claim?(incidentId: string, channel: string, kind: string, timeMs: number): Promise<boolean>;
  /**
   * The incident, when the ledger holds it. A notification about one it does not hold (an area incident,
   * kept in memory by collector/alerting/area.ts) is sent without the ledger: there is no row to claim.
   */
  get?(incidentId: string): unknown;
}

/** A delivery stopped because the dispatcher was halted (deposed): not retried, not counted as failed. */
class HaltedError extends NotifyError {
  constructor() {
    super('halted', 'dispatcher halted (no longer the alerting leader)', { retryable: false });
  }
}

export class Dispatcher {
  readonly #notifiers: readonly Notifier[];
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #policy: RetryPolicy;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #stats: DispatchStats = { sent: 0, failed: 0, retries: 0 };

  readonly #ledger: SentLedger | undefined;
  #halted = false;

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

  /** Waits for deliveries in flight; once halted, for none (a delivery in a retry's wait sends nothing). */
  async stop(): Promise<void> {
    if (this.#halted) return;
    await Promise.allSettled([...this.#inFlight]);
  }

  /**
   * Send nothing more, from now: new notifications are dropped (logged), deliveries waiting for a claim
   * or a retry give up. A delivery already inside a channel's request finishes (it cannot be recalled).
   */
  halt(): void {
    this.#halted = true;
  }

  get halted(): boolean {
    return this.#halted;
  }

  async #deliver(notifier: Notifier, n: Notification): Promise<void> {
    // Already delivered before a restart: at most once per incident, channel and event.
    const kind = ledgerKind(n);
    const what = { channel: notifier.name, alert: n.id, status: n.status };
    if (this.#halted) {
      this.#log.warn('notification not sent: dispatcher halted', what);
      return;
    }
    if (this.#ledger?.wasSent(n.id, notifier.name, kind)) {
      this.#log.info('notification already sent', what);
      return;
    }
    if (!(await this.#claim(notifier, n, kind))) return;
    try {
      await retry(
        () => (this.#halted ? Promise.reject(new HaltedError()) : notifier.send(n)),
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
    } catch (err) {
      if (err instanceof HaltedError) {
        this.#log.warn('notification not sent: dispatcher halted', what);
        return;
      }
      this.#stats.failed++;
      this.#log.error('notification failed', {
        channel: notifier.name,
        alert: n.id,
        status: n.status,
        error: errorMessage(err),
      });
      return;
    }
    this.#stats.sent++;
    try {
      if (this.#tracked(n.id)) this.#ledger?.markSent(n.id, notifier.name, kind, this.#clock.now());
    } catch (err) {
      // A store deposed meanwhile: the claim of this term stands, a newer leader may send it once more.
      this.#log.warn('notification sent but not recorded as sent', { ...what, error: errorMessage(err) });
    }
    this.#log.info('notification sent', { channel: notifier.name, alert: n.id, status: n.status });
  }

  /** Whether the ledger holds the incident (a ledger that cannot tell is taken to hold every one). */
  #tracked(incidentId: string): boolean {
    const ledger = this.#ledger;
    return !!ledger && (!ledger.get || ledger.get(incidentId) !== undefined);
  }

  /** The ledger's claim, when it has one: a refusal (or a store that cannot answer) means not sent. */
  async #claim(notifier: Notifier, n: Notification, kind: string): Promise<boolean> {
    const ledger = this.#ledger;
    if (!ledger?.claim || !this.#tracked(n.id)) return true;
    const what = { channel: notifier.name, alert: n.id, status: n.status, kind };
    let claimed: boolean;
    try {
      claimed = await ledger.claim(n.id, notifier.name, kind, this.#clock.now());
    } catch (err) {
      this.#log.error('notification not sent: claim failed', { ...what, error: errorMessage(err) });
      return false;
    }
    if (!claimed) {
      this.#log.warn('notification not sent: claim refused (already sent, or a newer leader)', what);
      return false;
    }
    // Deposed while the claim committed: the claim is this term's, so a newer leader may claim it again.
    if (this.#halted) {
      this.#log.warn('notification not sent: dispatcher halted', what);
      return false;
    }
    return true;
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
