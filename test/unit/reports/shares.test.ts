/** Shares as printed: rounding never claims "all" for less than all, nor "none" for more than none. */
import { describe, expect, it } from 'vitest';
import { shareOf, shareText } from '../../../collector/reports/shares.ts';

describe('shareText', () => {
  it.each([
    [(100 * 986) / 987, 0, '99'],
    [(100 * 986) / 987, 1, '99.9'],
    [(100 * 986) / 987, 3, '99.899'],
    [99.99996, 3, '99.999'],
    [99.9996, 2, '99.99'],
    [100, 1, '100.0'],
    [100, 3, '100.000'],
    [87.234, 1, '87.2'],
    [87.25, 0, '87'],
    [0.0004, 3, '0.001'],
    [0.04, 1, '0.1'],
    [0, 1, '0.0'],
  ])('%d with %d decimals is %s', (p, d, want) => {
    expect(shareText(p, d)).toBe(want);
  });

  it('is null for nothing to show', () => {
    expect(shareText(null, 1)).toBeNull();
    expect(shareText(undefined, 1)).toBeNull();
    expect(shareText(Number.NaN, 1)).toBeNull();
  });

  it('never prints 100 for any count short of all, at one decimal, up to 100,000 sites', () => {
    for (const whole of [987, 9_999, 100_000])
      expect(shareText(shareOf(whole - 1, whole), 1), `${whole - 1} of ${whole}`).toBe('99.9');
  });
});

describe('shareOf', () => {
  it('is the share in %, null of nothing', () => {
    expect(shareOf(1, 4)).toBe(25);
    expect(shareOf(0, 0)).toBeNull();
  });
});
