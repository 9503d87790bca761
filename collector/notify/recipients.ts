/**
 * One notification to several recipients, one request each (WhatsApp numbers): a retry of the whole
 * notification (the Dispatcher retries what throws retryable) goes only to those not reached yet, so
 * nobody gets it twice. A recipient refused for good (unknown number) is not tried again either; the
 * notification fails retryable while a retryable failure remains, otherwise for good.
 */
import { NotifyError, isRetryable } from '../core/errors.ts';

interface Progress {
  readonly done: Set<string>;
  /** Refused for good → the error. */
  readonly refused: Map<string, unknown>;
}

/** How many notifications' progress is kept at most (those that failed for good linger until then). */
const MAX_KEPT = 500;

export class RecipientFanOut {
  readonly #name: string;
  readonly #progress = new Map<string, Progress>();

  constructor(name: string) {
    this.#name = name;
  }

  async send(key: string, recipients: readonly string[], one: (r: string) => Promise<void>): Promise<void> {
    let p = this.#progress.get(key);
    if (!p) {
      p = { done: new Set(), refused: new Map() };
      this.#progress.set(key, p);
      while (this.#progress.size > MAX_KEPT) {
        const oldest = this.#progress.keys().next().value;
        if (oldest === undefined) break;
        this.#progress.delete(oldest);
      }
    }
    const retryable: { recipient: string; err: unknown }[] = [];
    for (const r of recipients) {
      if (p.done.has(r) || p.refused.has(r)) continue;
      try {
        await one(r);
        p.done.add(r);
      } catch (err) {
        if (!isRetryable(err)) p.refused.set(r, err);
        else retryable.push({ recipient: r, err });
      }
    }
    if (retryable.length === 0 && p.refused.size === 0) {
      this.#progress.delete(key);
      return;
    }
    // Refused for good, this time or an earlier one: they stay in the failure once the rest is through.
    const failures = [...retryable, ...[...p.refused].map(([recipient, err]) => ({ recipient, err }))];
    const after = Math.max(
      0,
      ...retryable.map((f) => (f.err instanceof NotifyError ? (f.err.retryAfterMs ?? 0) : 0)),
    );
    const what = failures
      .map((f) => `${maskNumber(f.recipient)}: ${f.err instanceof Error ? f.err.message : String(f.err)}`)
      .join('; ');
    const reached = p.done.size;
    if (retryable.length === 0) this.#progress.delete(key);
    throw new NotifyError(
      failures[0]?.err instanceof NotifyError ? failures[0].err.code : 'notify_failed',
      `${this.#name}: ${failures.length} of ${recipients.length} recipient(s) not reached (${reached} reached): ${what}`,
      { retryable: retryable.length > 0, retryAfterMs: after > 0 ? after : undefined },
    );
  }
}

/** A phone number as logs show it: the country code and the last 4 digits ("6281****7890"). */
export function maskNumber(n: string): string {
  const m = /^(\+?\d{4})(\d+)(\d{4})(@.*)?$/.exec(n);
  if (!m) return n;
  return `${m[1] ?? ''}${'*'.repeat((m[2] ?? '').length)}${m[3] ?? ''}${m[4] ?? ''}`;
}
