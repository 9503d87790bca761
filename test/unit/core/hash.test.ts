import { describe, expect, it } from 'vitest';
import { between, hash32, hashString, unit } from '../../../collector/core/hash.ts';
import { phaseOf } from '../../../collector/scheduler/scheduler.ts';

// Outputs recorded before the two copies (scheduler.ts, simulator/hash.ts) became collector/core/hash.ts:
// the scheduler's poll phases and the simulator's seeded fleet depend on them never changing.
describe('core/hash', () => {
  it.each([
    ['dev-1', 3164737418, 3876802738],
    ['dev-2', 1780606548, 2920364388],
    ['site-0042-ap-1', 1804098297, 271697289],
    ['', 3192004061, 1984635],
    ['é☃', 3787195346, 1472414068],
  ])('hash32(%j) and hash32(id, 7, "ab") keep their values', (id, one, three) => {
    expect(hash32(id)).toBe(one);
    expect(hash32(id, 7, 'ab')).toBe(three);
  });

  it.each([
    ['dev-1', 8797.028129920363],
    ['dev-2', 33341.28486458212],
    ['site-0042-ap-1', 13722.371170297265],
    ['', 40135.331307537854],
    ['x'.repeat(300), 1616.8228816241026],
    ['é☃', 56702.817413024604],
  ])('the scheduler phase of %j over 60 s stays %d ms', (id, phase) => {
    expect(phaseOf(id, 60_000)).toBe(phase);
    expect(hashString(id)).toBe(Math.floor((phase / 60_000) * 0x100000000));
  });

  it('separates parts: ("ab","c") differs from ("a","bc"), and one part differs from hashString', () => {
    expect(hash32('ab', 'c')).not.toBe(hash32('a', 'bc'));
    expect(hash32('dev-1')).not.toBe(hashString('dev-1'));
  });

  it('unit and between keep their values and ranges', () => {
    expect(unit(1, 'dev-1')).toBe(0.3087529153563082);
    expect(between(3, 9, 'dev-1', 'c')).toBe(8.020937036722898);
    for (let i = 0; i < 1000; i++) {
      const u = unit('u', i);
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
    }
  });
});
