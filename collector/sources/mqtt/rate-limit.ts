/**
 * A token bucket per key (here: per device), so one device cannot flood the collector and the database
 * (issue #10: 50,000 messages in 5 s from one device were all accepted and written). Each key may send
 * `burst` messages at once and `perSecond` on average; what is over is refused. Pure: time is passed in.
 */
export interface RatePolicy {
  /** Messages per second a key may keep up. */
  readonly perSecond: number;
  /** Messages a key may send at once after being quiet (the bucket's size). */
  readonly burst: number;
}

/** 10 messages a second with bursts of 50: a device publishing once a minute never comes near it. */
export const DEFAULT_RATE_POLICY: RatePolicy = { perSecond: 10, burst: 50 };

export class TokenBuckets {
  readonly #policy: RatePolicy;
  readonly #buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(policy: RatePolicy) {
    if (!(policy.perSecond > 0) || !(policy.burst >= 1))
      throw new RangeError(`rate limit: perSecond must be > 0 and burst >= 1, got ${JSON.stringify(policy)}`);
    this.#policy = policy;
  }

  /** True (and one token spent) when `key` may send now; false when its bucket is empty. */
  take(key: string, nowMs: number): boolean {
    const { perSecond, burst } = this.#policy;
    const b = this.#buckets.get(key);
    if (!b) {
      this.#buckets.set(key, { tokens: burst - 1, atMs: nowMs });
      return true;
    }
    // A clock stepping back refills nothing (and takes nothing away).
    const elapsed = Math.max(0, nowMs - b.atMs);
    b.tokens = Math.min(burst, b.tokens + (elapsed * perSecond) / 1000);
    b.atMs = Math.max(b.atMs, nowMs);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
