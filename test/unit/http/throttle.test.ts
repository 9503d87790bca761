/** LoginThrottle on fake time (collector/http/throttle.ts): free failures, doubling delays, the cap, resets. */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { LoginThrottle } from '../../../collector/http/throttle.ts';

const keys = (user: string, ip = '127.0.0.1') => [`user:${user}`, `ip:${ip}`];

/** One attempt: refused (the ms to wait), or checked with `outcome`. */
function attempt(
  t: LoginThrottle,
  clock: FakeClock,
  user: string,
  outcome: 'success' | 'failure',
  ip?: string,
): number | 'checked' {
  const k = keys(user, ip);
  const v = t.begin(k, clock.now());
  if (!v.allowed) return v.retryAfterMs;
  t.settle(k, outcome, clock.now(), `user:${user}`);
  return 'checked';
}

describe('LoginThrottle', () => {
  it('the delay doubles from 1 s after the 3rd failure up to 5 min', () => {
    const t = new LoginThrottle();
    expect([0, 1, 2, 3, 4, 5, 10, 11, 12, 40].map((n) => t.delayAfter(n))).toEqual([
      0, 0, 0, 1000, 2000, 4000, 128_000, 256_000, 300_000, 300_000,
    ]);
  });

  it('refuses each attempt after 3 failures until its delay has passed', () => {
    const clock = new FakeClock();
    const t = new LoginThrottle();
    for (let i = 0; i < 3; i++) expect(attempt(t, clock, 'wayan', 'failure')).toBe('checked');
    expect(attempt(t, clock, 'wayan', 'success')).toBe(1000);
    clock.advance(999);
    expect(attempt(t, clock, 'wayan', 'success')).toBe(1);
    clock.advance(1);
    expect(attempt(t, clock, 'wayan', 'failure')).toBe('checked'); // 4th failure
    expect(attempt(t, clock, 'wayan', 'failure')).toBe(2000);
    clock.advance(2000);
    expect(attempt(t, clock, 'wayan', 'failure')).toBe('checked'); // 5th
    expect(attempt(t, clock, 'wayan', 'failure')).toBe(4000);
    expect(t.failures('user:wayan', clock.now())).toBe(5);
  });

  it('a success resets the name, not the address', () => {
    const clock = new FakeClock();
    const t = new LoginThrottle();
    for (let i = 0; i < 2; i++) attempt(t, clock, 'wayan', 'failure');
    expect(attempt(t, clock, 'wayan', 'success')).toBe('checked');
    expect(t.failures('user:wayan', clock.now())).toBe(0);
    expect(t.failures('ip:127.0.0.1', clock.now())).toBe(2);
    // the name starts again, from another address
    for (let i = 0; i < 3; i++) expect(attempt(t, clock, 'wayan', 'failure', '127.0.0.2')).toBe('checked');
    expect(attempt(t, clock, 'wayan', 'failure', '127.0.0.3')).toBe(1000);
  });

  it('throttles an address guessing across names', () => {
    const clock = new FakeClock();
    const t = new LoginThrottle();
    for (const u of ['a', 'b', 'c']) expect(attempt(t, clock, u, 'failure')).toBe('checked');
    expect(attempt(t, clock, 'd', 'success')).toBe(1000);
    expect(attempt(t, clock, 'd', 'success', '127.0.0.9')).toBe('checked');
  });

  it('refuses a second attempt for a key while the first is being checked', () => {
    const clock = new FakeClock();
    const t = new LoginThrottle();
    expect(t.begin(keys('wayan'), clock.now()).allowed).toBe(true);
    expect(t.begin(keys('wayan', '127.0.0.5'), clock.now())).toEqual({
      allowed: false,
      retryAfterMs: 1000,
      key: 'user:wayan',
    });
    t.settle(keys('wayan'), 'error', clock.now());
    expect(t.begin(keys('wayan', '127.0.0.5'), clock.now()).allowed).toBe(true);
  });

  it('forgets a key an hour after its last failure, and keeps at most maxKeys', () => {
    const clock = new FakeClock();
    const t = new LoginThrottle({ maxKeys: 10 });
    for (let i = 0; i < 5; i++) attempt(t, clock, 'wayan', 'failure');
    clock.advance(3600_000);
    expect(attempt(t, clock, 'wayan', 'failure')).toBe('checked');
    expect(t.failures('user:wayan', clock.now())).toBe(1);
    for (let i = 0; i < 50; i++) attempt(t, clock, `u${i}`, 'failure', `10.0.0.${i}`);
    expect(t.size).toBeLessThanOrEqual(10);
  });
});
