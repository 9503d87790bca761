/**
 * Retry with exponential backoff, on an injected clock. Only errors that say they are retryable
 * (NetmonError.retryable) are retried; a server's retryAfterMs is honoured when longer than the backoff.
 */
import type { Clock } from './clock.ts';
import { NetmonError } from './errors.ts';

export interface RetryPolicy {
  readonly attempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
}

export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** attempt);
  // "Equal jitter": half fixed, half random, so retries from many callers spread out.
  return exp / 2 + random() * (exp / 2);
}

export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  clock: Clock,
  policy: RetryPolicy,
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const retryable = err instanceof NetmonError && err.retryable;
      if (!retryable || attempt + 1 >= policy.attempts) throw err;
      const delay = Math.max(backoffMs(attempt, policy), err.retryAfterMs ?? 0);
      onRetry?.(err, attempt, delay);
      await sleep(clock, delay);
    }
  }
}
