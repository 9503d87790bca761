import { describe, expect, it } from 'vitest';
import type { Inventory } from '../../../collector/core/types.ts';
import type { SiteHistory } from '../../../collector/reports/availability.ts';
import type { History } from '../../../collector/reports/history.ts';
import { DAY_MS, rebaseHistory, statusAvailability } from '../../../collector/status/availability.ts';
import { testDevice, testSite } from '../../support/fixtures.ts';

const NOW = Date.parse('2026-12-03T06:00:00Z');
const HOUR = 3600_000;

const inventory: Inventory = {
  sites: [
    testSite('kuta-1', { kecamatan: 'Kuta' }),
    testSite('kuta-2', { kecamatan: 'Kuta' }),
    testSite('petang-1', { kecamatan: 'Petang' }),
  ],
  devices: [
    testDevice('kuta-1-r', 'kuta-1', 'router'),
    testDevice('kuta-2-r', 'kuta-2', 'router'),
    testDevice('petang-1-r', 'petang-1', 'router'),
  ],
};

/** Watched the whole 90 days; kuta-1 down a whole day 60 days ago, kuta-2 down 12 h 10 days ago. */
function history(): History {
  const from = NOW - 90 * DAY_MS;
  const sites = new Map<string, SiteHistory>([
    [
      'kuta-1',
      {
        initial: 'up',
        changes: [
          { timeMs: NOW - 60 * DAY_MS, state: 'down' },
          { timeMs: NOW - 59 * DAY_MS, state: 'up' },
        ],
        maintenance: [],
        clockBreaches: 0,
      },
    ],
    [
      'kuta-2',
      {
        initial: 'up',
        changes: [
          { timeMs: NOW - 10 * DAY_MS, state: 'down' },
          { timeMs: NOW - 10 * DAY_MS + 12 * HOUR, state: 'up' },
        ],
        maintenance: [],
        clockBreaches: 0,
      },
    ],
    ['petang-1', { initial: 'up', changes: [], maintenance: [], clockBreaches: 0 }],
  ]);
  return { watching: [{ startMs: from, endMs: NOW }], sites, heartbeatMs: 10_000 };
}

describe('status availability (the reports engine over 30 and 90 days)', () => {
  const av = statusAvailability(inventory, history(), NOW);

  it('90 days count both outages; 30 days only the recent one', () => {
    const kuta = av.byKecamatan.get('Kuta');
    // 90 days x 2 sites = 180 site-days; 1.5 down.
    expect(kuta?.d90.pct).toBeCloseTo((1 - 1.5 / 180) * 100, 6);
    // 30 days x 2 sites = 60 site-days; 0.5 down.
    expect(kuta?.d30.pct).toBeCloseTo((1 - 0.5 / 60) * 100, 6);
    expect(av.byKecamatan.get('Petang')?.d30.pct).toBe(100);
    expect(av.overall.d90.pct).toBeCloseTo((1 - 1.5 / 270) * 100, 6);
    expect(kuta?.d30.fromMs).toBe(NOW - 30 * DAY_MS);
    expect(av.computedAtMs).toBe(NOW);
  });

  it('re-basing keeps the state at the new start: a site down across it is down from there', () => {
    const h: SiteHistory = {
      initial: 'up',
      changes: [
        { timeMs: 100, state: 'down' },
        { timeMs: 300, state: 'up' },
      ],
      maintenance: [
        { startMs: 0, endMs: 150 },
        { startMs: 250, endMs: 260 },
      ],
      clockBreaches: 1,
    };
    expect(rebaseHistory(h, 200)).toEqual({
      initial: 'down',
      changes: [{ timeMs: 300, state: 'up' }],
      maintenance: [{ startMs: 250, endMs: 260 }],
      clockBreaches: 1,
    });
  });

  it('nothing watched: no figure rather than 100 %', () => {
    const empty = statusAvailability(inventory, { ...history(), watching: [] }, NOW);
    expect(empty.byKecamatan.get('Kuta')?.d30.pct).toBeNull();
    expect(empty.overall.d90.pct).toBeNull();
  });
});
