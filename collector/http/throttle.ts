/**
 * Sign-in throttling: wrong passwords slow down, per user name and per client address.
 *
 * Each key (`user:<name>`, `ip:<address>`) counts its failures. The first `freeFailures` (3) cost
 * nothing; after that every further attempt is refused until a delay has passed since the last failure,
 * 1 s after the 3rd, doubling with each further failure up to 5 min. A refused attempt is not checked,
 * so it neither counts nor helps: an attacker gets at most ~12 guesses an hour per name once the delay
 * has reached its cap. A success resets the user name's count (the address keeps its count, so one
 * address cannot guess across many names by signing in to its own account between guesses).
 *
 * While one attempt for a key is being checked (scrypt takes ~50 ms), another for the same key is
 * refused for 1 s: otherwise a burst sent in parallel would all be checked before the first failure
 * is counted.
 *
 * Pure: time is passed in. Memory is bounded: keys idle for `forgetAfterMs` are dropped, and past
 * `maxKeys` the oldest are dropped first.
 */
export interface ThrottlePolicy {
  readonly freeFailures: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A key with no failure for this long starts again from zero. */
  readonly forgetAfterMs: number;
  readonly maxKeys: number;
}

export const DEFAULT_THROTTLE: ThrottlePolicy = {
  freeFailures: 3,
  baseDelayMs: 1000,
  maxDelayMs: 5 * 60_000,
  forgetAfterMs: 60 * 60_000,
  maxKeys: 20_000,
};

export type ThrottleVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterMs: number; readonly key: string };

interface Entry {
  failures: number;
  lastFailureAt: number;
  inFlight: boolean;
}

export class LoginThrottle {
  readonly #policy: ThrottlePolicy;
  /** Insertion order is age order: a failure re-inserts its key at the end. */
  readonly #entries = new Map<string, Entry>();

  constructor(policy: Partial<ThrottlePolicy> = {}) {
    this.#policy = { ...DEFAULT_THROTTLE, ...policy };
  }

  /** The delay after `failures` failures: 0 up to freeFailures, then base doubling, capped. */
  delayAfter(failures: number): number {
    const p = this.#policy;
    if (failures < p.freeFailures) return 0;
    return Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** Math.min(30, failures - p.freeFailures));
  }

  /**
   * May an attempt for these keys be checked now? When it may, the keys are marked in flight until
   * `settle` is called with the outcome (always call it, also when the check throws).
   */
  begin(keys: readonly string[], nowMs: number): ThrottleVerdict {
    let worst: { retryAfterMs: number; key: string } | undefined;
    for (const key of keys) {
      const e = this.#live(key, nowMs);
      if (!e) continue;
      const wait = e.inFlight
        ? this.#policy.baseDelayMs
        : e.lastFailureAt + this.delayAfter(e.failures) - nowMs;
      if (wait > 0 && (!worst || wait > worst.retryAfterMs)) worst = { retryAfterMs: wait, key };
    }
    if (worst) return { allowed: false, ...worst };
    for (const key of keys) this.#entry(key, nowMs).inFlight = true;
    return { allowed: true };
  }

  /** The outcome of an attempt `begin` allowed. A success resets `resetOnSuccess` (the user name). */
  settle(
    keys: readonly string[],
    outcome: 'success' | 'failure' | 'error',
    nowMs: number,
    resetOnSuccess?: string,
  ): void {
    for (const key of keys) {
      const e = this.#entries.get(key);
      if (!e) continue;
      e.inFlight = false;
      if (outcome === 'failure') {
        e.failures++;
        e.lastFailureAt = nowMs;
        this.#entries.delete(key);
        this.#entries.set(key, e);
      } else if (e.failures === 0) this.#entries.delete(key);
    }
    if (outcome === 'success' && resetOnSuccess !== undefined) this.#entries.delete(resetOnSuccess);
  }

  /** Failures counted for a key now (0 when unknown or forgotten). */
  failures(key: string, nowMs: number): number {
    return this.#live(key, nowMs)?.failures ?? 0;
  }

  get size(): number {
    return this.#entries.size;
  }

  #live(key: string, nowMs: number): Entry | undefined {
    const e = this.#entries.get(key);
    if (e && !e.inFlight && nowMs - e.lastFailureAt >= this.#policy.forgetAfterMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return e;
  }

  #entry(key: string, nowMs: number): Entry {
    let e = this.#entries.get(key);
    if (!e) {
      e = { failures: 0, lastFailureAt: nowMs, inFlight: false };
      this.#entries.set(key, e);
      this.#evict();
    }
    return e;
  }

  #evict(): void {
    for (const [key, e] of this.#entries) {
      if (this.#entries.size <= this.#policy.maxKeys) return;
      if (!e.inFlight) this.#entries.delete(key);
    }
  }
}
