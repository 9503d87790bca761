/**
 * The per-device token bucket (collector/sources/mqtt/rate-limit.ts) and the telemetry timestamp window
 * (broker/payloads.ts): pure, table-tested. The broker-and-collector side is in
 * test/integration/mqtt/telemetry-limits.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TIMESTAMP_WINDOW,
  parsePayload,
  statusSchema,
  telemetrySchema,
  timestampProblem,
} from '../../../broker/payloads.ts';
import { DEFAULT_RATE_POLICY, TokenBuckets } from '../../../collector/sources/mqtt/rate-limit.ts';

const T0 = Date.UTC(2026, 11, 3, 4, 0);

/** How many of `n` messages at `atMs` pass. */
const burst = (b: TokenBuckets, key: string, n: number, atMs: number): number =>
  Array.from({ length: n }, () => b.take(key, atMs)).filter(Boolean).length;

describe('TokenBuckets', () => {
  it('lets a burst through, then the rate, per key', () => {
    const b = new TokenBuckets({ perSecond: 10, burst: 50 });
    expect(burst(b, 'a', 100, T0)).toBe(50);
    expect(burst(b, 'b', 3, T0)).toBe(3); // another device has its own bucket
    expect(burst(b, 'a', 100, T0 + 100)).toBe(1); // 100 ms: one token
    expect(burst(b, 'a', 100, T0 + 1_100)).toBe(10); // one more second: ten
    expect(burst(b, 'a', 100, T0 + 3_600_000)).toBe(50); // long quiet: never more than the burst
  });

  it('keeps a steady sender under the rate whole, and refills nothing when the clock steps back', () => {
    const b = new TokenBuckets({ perSecond: 2, burst: 1 });
    let passed = 0;
    for (let t = 0; t < 10_000; t += 500) passed += Number(b.take('s', T0 + t)); // 2/s exactly
    expect(passed).toBe(20);
    expect(b.take('s', T0 + 9_500)).toBe(false); // spent at 9,500
    expect(b.take('s', T0)).toBe(false); // stepped back 9.5 s: no refill
    expect(b.take('s', T0 + 10_000)).toBe(true); // 500 ms after the latest time seen
  });

  it('refuses a policy that would let nothing through, and defaults to 10/s, bursts of 50', () => {
    expect(() => new TokenBuckets({ perSecond: 0, burst: 5 })).toThrow(/perSecond must be > 0/);
    expect(() => new TokenBuckets({ perSecond: 1, burst: 0 })).toThrow(/burst >= 1/);
    const d = new TokenBuckets(DEFAULT_RATE_POLICY);
    expect(burst(d, 'x', 1_000, T0)).toBe(50);
    expect(burst(d, 'x', 1_000, T0 + 5_000)).toBe(50);
  });
});

describe('timestampProblem', () => {
  const w = DEFAULT_TIMESTAMP_WINDOW;
  it.each<[string, number, RegExp | undefined]>([
    ['now', T0, undefined],
    ['30 days old exactly', T0 - 30 * 86_400_000, undefined],
    ['5 minutes ahead exactly', T0 + 5 * 60_000, undefined],
    [
      '30 days and 1 ms old',
      T0 - 30 * 86_400_000 - 1,
      /older than 30 d before the receive time \(2026-12-03T04:00:00\.000Z\)/,
    ],
    [
      '5 minutes and 1 ms ahead',
      T0 + 5 * 60_000 + 1,
      /\(2026-12-03T04:05:00\.001Z\) is more than 5 min after/,
    ],
    ['9e15 (the issue)', 9e15, /^ts 9000000000000000 is more than 5 min after the receive time/],
    ['seconds, not ms', Math.floor(T0 / 1000), /is older than 30 d/],
  ])('%s', (_name, ts, want) => {
    const got = timestampProblem(ts, T0, w);
    if (want) expect(got).toMatch(want);
    else expect(got).toBeUndefined();
  });
});

describe('prototype keys in payloads', () => {
  it('drops __proto__, constructor and prototype at any depth, so a strict schema still reads the rest', () => {
    const t = parsePayload(
      telemetrySchema,
      Buffer.from('{"cpu_pct":3,"__proto__":{"mem_pct":9},"constructor":1}'),
    );
    expect(t).toEqual({ ok: true, value: { cpu_pct: 3 } });
    // statusSchema is strict: a __proto__ key used to make it refuse the whole status (a Will, even).
    const s = parsePayload(
      statusSchema,
      Buffer.from('{"state":"offline","__proto__":{"clean":true},"prototype":0}'),
    );
    expect(s).toEqual({ ok: true, value: { state: 'offline' } });
  });
});
