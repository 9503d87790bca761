/** The availability engine on a hand-made timeline whose figures are worked out below, second by second. */
import { describe, expect, it } from 'vitest';
import { siteFigures, sumFigures, watchingFrom } from '../../../collector/reports/availability.ts';

const S = 1000;

describe('siteFigures', () => {
  it('counts up, down, maintenance and unknown, with outages from the first failed poll', () => {
    const f = siteFigures(
      {
        initial: 'up',
        changes: [
          { timeMs: 100 * S, state: 'suspect' },
          { timeMs: 110 * S, state: 'down' },
          { timeMs: 200 * S, state: 'up' },
          { timeMs: 300 * S, state: 'down' },
          { timeMs: 380 * S, state: 'up' },
          { timeMs: 450 * S, state: 'down' }, // while the monitor was not watching
          { timeMs: 600 * S, state: 'up' },
          { timeMs: 700 * S, state: 'suspect' }, // a single failed poll: stays up
          { timeMs: 705 * S, state: 'up' },
        ],
        maintenance: [{ startMs: 320 * S, endMs: 360 * S }],
        clockBreaches: 1,
      },
      [
        { startMs: 0, endMs: 400 * S },
        { startMs: 500 * S, endMs: 1000 * S },
      ],
      0,
      1000 * S,
    );
    // up: 0-100, 200-300, 380-400, 600-1000 = 620 s; down: 100-200, 300-320, 360-380, 500-600 = 240 s
    expect(f).toMatchObject({
      periodMs: 1000 * S,
      upMs: 620 * S,
      downMs: 240 * S,
      maintenanceMs: 40 * S,
      unknownMs: 100 * S,
      outages: 3,
      longestOutageMs: 150 * S,
      mttrMs: 110 * S,
      clockBreaches: 1,
    });
    expect(f.availabilityPct).toBeCloseTo((620 / 860) * 100, 9);
  });

  it('a site down across the end of the range: the outage is open, not restored; an unknown router is unknown', () => {
    const f = siteFigures(
      { initial: 'down', changes: [], maintenance: [], clockBreaches: 0 },
      [{ startMs: 0, endMs: 100 * S }],
      0,
      100 * S,
    );
    expect(f).toMatchObject({ downMs: 100 * S, upMs: 0, outages: 1, mttrMs: null, availabilityPct: 0 });
    const never = siteFigures(
      { changes: [], maintenance: [], clockBreaches: 0 },
      [{ startMs: 0, endMs: 50 * S }],
      0,
      50 * S,
    );
    expect(never).toMatchObject({ unknownMs: 50 * S, availabilityPct: null, outages: 0 });
  });

  it('sums sites: times add up, availability is of the sum', () => {
    const a = siteFigures(
      { initial: 'up', changes: [{ timeMs: 50 * S, state: 'down' }], maintenance: [], clockBreaches: 0 },
      [{ startMs: 0, endMs: 100 * S }],
      0,
      100 * S,
    );
    const b = siteFigures(
      { initial: 'up', changes: [], maintenance: [], clockBreaches: 2 },
      [{ startMs: 0, endMs: 100 * S }],
      0,
      100 * S,
    );
    const s = sumFigures([a, b], 100 * S);
    expect(s).toMatchObject({
      upMs: 150 * S,
      downMs: 50 * S,
      outages: 1,
      clockBreaches: 2,
      availabilityPct: 75,
    });
  });
});

describe('watchingFrom', () => {
  it('joins heartbeats at most 1.5 periods apart and clips to the range', () => {
    const beats = [0, 10, 20, 30, 95, 105, 115].map((t) => t * S);
    expect(watchingFrom(beats, 10 * S, 5 * S, 110 * S)).toEqual([
      { startMs: 5 * S, endMs: 30 * S },
      { startMs: 95 * S, endMs: 110 * S },
    ]);
  });
});
