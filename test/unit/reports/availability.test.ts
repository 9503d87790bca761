/** The availability engine on a hand-made timeline whose figures are worked out below, second by second. */
import { describe, expect, it } from 'vitest';
import {
  siteFigures,
  sumFigures,
  watchingFrom,
  type SiteHistory,
} from '../../../collector/reports/availability.ts';
import type { History } from '../../../collector/reports/history.ts';
import { buildReport, defaultTargets } from '../../../collector/reports/report.ts';
import { shareText } from '../../../collector/reports/shares.ts';
import { syntheticInventory } from '../../../simulator/synthetic-inventory.ts';

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
      unknownSharePct: 0,
    });
  });

  it('gives unknown time as a share of the time there was to watch: every site, the whole period', () => {
    const watched = [{ startMs: 0, endMs: 75 * S }];
    const one = siteFigures(
      { initial: 'up', changes: [], maintenance: [], clockBreaches: 0 },
      watched,
      0,
      100 * S,
    );
    expect(one).toMatchObject({ unknownMs: 25 * S, unknownSharePct: 25 });
    // 987 sites each unknown a quarter of the time: the sum is 987 quarters, the share still 25 %.
    const all = sumFigures(
      Array.from({ length: 987 }, () => one),
      100 * S,
    );
    expect(all.unknownMs).toBe(987 * 25 * S);
    expect(all.unknownSharePct).toBeCloseTo(25, 9);
  });

  it('the longest outage is whole (a silence inside it included), so it can exceed the downtime', () => {
    // Down from 100 s to 234 s; a maintenance window (or silence) from 150 s to 207 s: 77 s counted down.
    const f = siteFigures(
      {
        initial: 'up',
        changes: [
          { timeMs: 100 * S, state: 'down' },
          { timeMs: 234 * S, state: 'up' },
        ],
        maintenance: [{ startMs: 150 * S, endMs: 207 * S }],
        clockBreaches: 0,
      },
      [{ startMs: 0, endMs: 300 * S }],
      0,
      300 * S,
    );
    expect(f).toMatchObject({ downMs: 77 * S, maintenanceMs: 57 * S, longestOutageMs: 134 * S, outages: 1 });
  });
});

describe('buildReport', () => {
  const inventory = syntheticInventory({ sites: 987, port: 1161, seed: 3 });
  const FROM = 1_000_000 * S;
  const TO = FROM + 2.5 * 86_400 * S;
  const req = { fromMs: FROM, toMs: TO, nowMs: TO + S, periodLabel: 'test', targets: defaultTargets() };
  const upAll = (): Map<string, SiteHistory> =>
    new Map(
      inventory.sites.map((s) => [s.id, { initial: 'up', changes: [], maintenance: [], clockBreaches: 0 }]),
    );

  it('986 of 987 meeting target is 99.9 %, never 100 %', () => {
    const sites = upAll();
    const first = inventory.sites[0]!;
    sites.set(first.id, {
      initial: 'up',
      changes: [
        { timeMs: FROM + 3600 * S, state: 'down' },
        { timeMs: FROM + 7200 * S, state: 'up' },
      ],
      maintenance: [],
      clockBreaches: 0,
    });
    const history: History = { watching: [{ startMs: FROM, endMs: TO }], sites, heartbeatMs: 60 * S };
    const r = buildReport(inventory, history, req);
    expect(r.noData).toBe(false);
    expect(r.overall).toMatchObject({ sites: 987, sitesMeetingTarget: 986 });
    expect(shareText(r.overall.sitesMeetingTargetPct, 1)).toBe('99.9');
    expect(shareText(r.overall.availabilityPct, 3)).not.toBe('100.000');
    const cat = r.byCategory.find((g) => g.key === first.category)!;
    expect(cat.sitesMeetingTargetPct).toBeCloseTo((100 * (cat.sites - 1)) / cat.sites, 9);
  });

  it('a period the monitor never watched is noData, every site unknown, not "0 meet target"', () => {
    const history: History = { watching: [], sites: upAll(), heartbeatMs: 60 * S };
    const r = buildReport(inventory, history, req);
    expect(r.noData).toBe(true);
    expect(r.overall).toMatchObject({ sitesMeetingTarget: 0, availabilityPct: null, unknownSharePct: 100 });
    // A period that has not begun is no data either.
    expect(buildReport(inventory, history, { ...req, nowMs: FROM - S }).noData).toBe(true);
  });

  it('unknown half the time: the mean per site and the share read next to the 2.5-day period', () => {
    const history: History = {
      watching: [{ startMs: FROM, endMs: FROM + 1.25 * 86_400 * S }],
      sites: upAll(),
      heartbeatMs: 60 * S,
    };
    const r = buildReport(inventory, history, req);
    expect(r.noData).toBe(false);
    expect(r.overall.unknownMs / r.overall.sites).toBe(1.25 * 86_400 * S);
    expect(r.overall.unknownSharePct).toBeCloseTo(50, 9);
    for (const g of r.byKecamatan) expect(g.unknownSharePct).toBeCloseTo(50, 9);
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
