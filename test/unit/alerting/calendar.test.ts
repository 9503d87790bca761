/**
 * The maintenance calendar (collector/alerting/calendar.ts), pure: zone offsets, weekly windows in local
 * wall time (WITA across midnight; zones with daylight saving, including the skipped and the repeated
 * hour), one-off windows, merging, scopes, windows before silences, expiry, cover for the reports and the
 * next change. Every expected instant is written out as an ISO string with its offset, never computed
 * by the code under test. 2026-11-22 is a Sunday.
 */
import { describe, expect, it } from 'vitest';
import {
  type Interval,
  isOpen,
  MaintenanceCalendar,
  mergeIntervals,
  occurrences,
  zoneOffsetMs,
} from '../../../collector/alerting/calendar.ts';
import type {
  MaintenanceWindow,
  Schedule,
  ScopeTarget,
  Silence,
  Weekday,
} from '../../../collector/alerting/scope.ts';

const at = (iso: string): number => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad ISO time in the test: ${iso}`);
  return ms;
};
const iv = (start: string, end: string): Interval => ({ startMs: at(start), endMs: at(end) });
const MIN = 60_000;
const H = 3_600_000;
const DAY = 86_400_000;

const weekly = (over: Partial<Extract<Schedule, { kind: 'weekly' }>> = {}): Schedule => ({
  kind: 'weekly',
  at: '23:00',
  durationMs: 3 * H,
  timeZone: 'Asia/Makassar',
  ...over,
});

/** Sundays 23:00 WITA for 3 hours: runs past midnight into Monday 02:00. */
const sundayNight = weekly({ days: ['sun'] });

describe('zoneOffsetMs', () => {
  it.each([
    ['Asia/Makassar', '2026-01-15T12:00:00Z', 8 * H],
    ['Asia/Makassar', '2026-07-15T12:00:00Z', 8 * H],
    // Not on a whole second, and right at midnight WITA.
    ['Asia/Makassar', '2026-11-22T23:59:59.999+08:00', 8 * H],
    ['Asia/Makassar', '2026-11-23T00:00:00+08:00', 8 * H],
    ['UTC', '2026-06-01T00:00:00Z', 0],
    ['Asia/Kathmandu', '2026-01-01T00:00:00Z', 5 * H + 45 * MIN],
    ['Europe/Berlin', '2026-01-15T12:00:00Z', 1 * H],
    ['Europe/Berlin', '2026-07-15T12:00:00Z', 2 * H],
    // Berlin springs forward at 01:00 UTC on 2026-03-29 and falls back at 01:00 UTC on 2026-10-25.
    ['Europe/Berlin', '2026-03-29T00:59:59Z', 1 * H],
    ['Europe/Berlin', '2026-03-29T01:00:00Z', 2 * H],
    ['Europe/Berlin', '2026-10-25T00:59:59Z', 2 * H],
    ['Europe/Berlin', '2026-10-25T01:00:00Z', 1 * H],
    ['America/New_York', '2026-01-15T12:00:00Z', -5 * H],
    ['America/New_York', '2026-07-15T12:00:00Z', -4 * H],
    ['America/New_York', '1969-12-31T23:59:58.500Z', -5 * H],
  ])('%s at %s', (zone, iso, offset) => {
    expect(zoneOffsetMs(zone, at(iso))).toBe(offset);
  });
});

describe('weekly windows in WITA', () => {
  it.each([
    ['Sunday 22:59:59.999, just before it opens', '2026-11-22T22:59:59.999+08:00', false],
    ['Sunday 23:00, as it opens', '2026-11-22T23:00:00+08:00', true],
    ['Sunday 23:30', '2026-11-22T23:30:00+08:00', true],
    ['Monday 00:00, across midnight', '2026-11-23T00:00:00+08:00', true],
    ['Monday 01:30', '2026-11-23T01:30:00+08:00', true],
    ['Monday 01:59:59.999', '2026-11-23T01:59:59.999+08:00', true],
    ['Monday 02:00, closed', '2026-11-23T02:00:00+08:00', false],
    ['Saturday 23:30, the wrong day', '2026-11-21T23:30:00+08:00', false],
    ['Sunday 01:30, the morning before', '2026-11-22T01:30:00+08:00', false],
    ['Monday 23:30', '2026-11-23T23:30:00+08:00', false],
    ['the next Sunday 23:30', '2026-11-29T23:30:00+08:00', true],
    ['the next Monday 01:30', '2026-11-30T01:30:00+08:00', true],
  ])('Sundays 23:00-02:00: %s → %s', (_what, iso, open) => {
    expect(isOpen(sundayNight, at(iso))).toBe(open);
  });

  it('lists each occurrence in start order, across midnight, in UTC', () => {
    // From Monday 02:00, as the occurrence of 2026-11-15 closes.
    expect(
      occurrences(sundayNight, at('2026-11-16T02:00:00+08:00'), at('2026-12-07T00:00:00+08:00')),
    ).toEqual([
      iv('2026-11-22T15:00:00Z', '2026-11-22T18:00:00Z'),
      iv('2026-11-29T23:00:00+08:00', '2026-11-30T02:00:00+08:00'),
      iv('2026-12-06T23:00:00+08:00', '2026-12-07T02:00:00+08:00'),
    ]);
  });

  it('includes an occurrence that began before the range, unclipped, and treats the range as [from, to)', () => {
    const sunday = iv('2026-11-22T23:00:00+08:00', '2026-11-23T02:00:00+08:00');
    // From Monday 01:00: the Sunday occurrence is still running.
    expect(
      occurrences(sundayNight, at('2026-11-23T01:00:00+08:00'), at('2026-11-23T12:00:00+08:00')),
    ).toEqual([sunday]);
    // A range that ends exactly as it opens, or starts exactly as it closes, does not overlap it.
    expect(
      occurrences(sundayNight, at('2026-11-22T12:00:00+08:00'), at('2026-11-22T23:00:00+08:00')),
    ).toEqual([]);
    expect(
      occurrences(sundayNight, at('2026-11-23T02:00:00+08:00'), at('2026-11-23T12:00:00+08:00')),
    ).toEqual([]);
    expect(
      occurrences(sundayNight, at('2026-11-22T22:59:59.999+08:00'), at('2026-11-22T23:00:00.001+08:00')),
    ).toEqual([sunday]);
  });

  // One day each, 12:00-13:00 WITA; 2026-11-23 is a Monday.
  const week: [Weekday, string][] = [
    ['mon', '2026-11-23'],
    ['tue', '2026-11-24'],
    ['wed', '2026-11-25'],
    ['thu', '2026-11-26'],
    ['fri', '2026-11-27'],
    ['sat', '2026-11-28'],
    ['sun', '2026-11-29'],
  ];
  it.each(week)('a window on %s is open on %s only', (day, date) => {
    const s = weekly({ days: [day], at: '12:00', durationMs: H });
    for (const [, other] of week)
      expect(isOpen(s, at(`${other}T12:30:00+08:00`)), `${day} window at ${other} 12:30`).toBe(
        other === date,
      );
  });

  it('takes the day of the week from the local date, not the UTC one', () => {
    // Monday 06:00 WITA is Sunday 22:00 UTC.
    const s = weekly({ days: ['mon'], at: '06:00', durationMs: H });
    expect(isOpen(s, at('2026-11-23T06:30:00+08:00'))).toBe(true);
    expect(isOpen(s, at('2026-11-22T06:30:00+08:00'))).toBe(false);
    expect(occurrences(s, at('2026-11-20T00:00:00Z'), at('2026-11-25T00:00:00Z'))).toEqual([
      iv('2026-11-22T22:00:00Z', '2026-11-22T23:00:00Z'),
    ]);
  });

  it('several days', () => {
    const s = weekly({ days: ['fri', 'mon', 'wed'], at: '01:00', durationMs: 30 * MIN });
    expect(occurrences(s, at('2026-11-23T00:00:00+08:00'), at('2026-11-30T00:00:00+08:00'))).toEqual([
      iv('2026-11-23T01:00:00+08:00', '2026-11-23T01:30:00+08:00'),
      iv('2026-11-25T01:00:00+08:00', '2026-11-25T01:30:00+08:00'),
      iv('2026-11-27T01:00:00+08:00', '2026-11-27T01:30:00+08:00'),
    ]);
  });

  it.each([
    ['absent', undefined],
    ['empty', [] as Weekday[]],
  ])('days %s means every day', (_what, days) => {
    const s = weekly({ days, at: '02:15', durationMs: 45 * MIN });
    expect(occurrences(s, at('2026-11-23T00:00:00+08:00'), at('2026-11-30T00:00:00+08:00'))).toEqual(
      ['23', '24', '25', '26', '27', '28', '29'].map((d) =>
        iv(`2026-11-${d}T02:15:00+08:00`, `2026-11-${d}T03:00:00+08:00`),
      ),
    );
    expect(isOpen(s, at('2026-11-28T02:59:59+08:00'))).toBe(true);
    expect(isOpen(s, at('2026-11-28T03:00:00+08:00'))).toBe(false);
  });

  describe('fromMs and untilMs bound the recurrence (they apply to the starts)', () => {
    const bounded = weekly({
      at: '02:00',
      durationMs: 2 * H,
      fromMs: at('2026-11-10T02:00:00+08:00'),
      untilMs: at('2026-11-13T02:00:00+08:00'),
    });

    it('an occurrence starting exactly at fromMs counts; one starting exactly at untilMs does not', () => {
      expect(occurrences(bounded, at('2026-11-01T00:00:00+08:00'), at('2026-12-01T00:00:00+08:00'))).toEqual([
        iv('2026-11-10T02:00:00+08:00', '2026-11-10T04:00:00+08:00'),
        iv('2026-11-11T02:00:00+08:00', '2026-11-11T04:00:00+08:00'),
        iv('2026-11-12T02:00:00+08:00', '2026-11-12T04:00:00+08:00'),
      ]);
      expect(isOpen(bounded, at('2026-11-09T03:00:00+08:00'))).toBe(false);
      expect(isOpen(bounded, at('2026-11-10T03:00:00+08:00'))).toBe(true);
      expect(isOpen(bounded, at('2026-11-13T03:00:00+08:00'))).toBe(false);
    });

    it('an occurrence that started before fromMs is not open at fromMs', () => {
      const s = weekly({ at: '02:00', durationMs: 2 * H, fromMs: at('2026-11-10T03:00:00+08:00') });
      expect(isOpen(s, at('2026-11-10T03:30:00+08:00'))).toBe(false);
      expect(isOpen(s, at('2026-11-11T03:30:00+08:00'))).toBe(true);
    });

    it('an occurrence that started before untilMs runs its full length', () => {
      const s = weekly({ at: '02:00', durationMs: 2 * H, untilMs: at('2026-11-13T03:00:00+08:00') });
      expect(isOpen(s, at('2026-11-13T03:30:00+08:00'))).toBe(true);
      expect(isOpen(s, at('2026-11-14T02:30:00+08:00'))).toBe(false);
    });

    it('ranges entirely before or after the bounds are empty', () => {
      expect(occurrences(bounded, at('2026-10-01T00:00:00+08:00'), at('2026-11-09T00:00:00+08:00'))).toEqual(
        [],
      );
      expect(occurrences(bounded, at('2026-11-14T00:00:00+08:00'), at('2027-01-01T00:00:00+08:00'))).toEqual(
        [],
      );
    });
  });
});

describe('weekly windows in zones with daylight saving keep their local wall time', () => {
  it('New York, Sundays 09:00 for 1 h: 14:00 UTC in winter, 13:00 UTC in summer, both ways', () => {
    const s = weekly({ days: ['sun'], at: '09:00', durationMs: H, timeZone: 'America/New_York' });
    // Clocks go forward on 2026-03-08 and back on 2026-11-01, both Sundays.
    expect(
      occurrences(s, at('2026-03-01T00:00:00Z'), at('2026-03-16T00:00:00Z')).map((o) => o.startMs),
    ).toEqual([
      at('2026-03-01T09:00:00-05:00'),
      at('2026-03-08T09:00:00-04:00'),
      at('2026-03-15T09:00:00-04:00'),
    ]);
    expect(occurrences(s, at('2026-10-25T00:00:00Z'), at('2026-11-09T00:00:00Z'))).toEqual([
      iv('2026-10-25T13:00:00Z', '2026-10-25T14:00:00Z'),
      iv('2026-11-01T14:00:00Z', '2026-11-01T15:00:00Z'),
      iv('2026-11-08T14:00:00Z', '2026-11-08T15:00:00Z'),
    ]);
    // On the day of the change, the UTC instant the window had the week before is an hour late.
    expect(isOpen(s, at('2026-03-08T09:30:00-04:00'))).toBe(true);
    expect(isOpen(s, at('2026-03-08T14:30:00Z'))).toBe(false);
  });

  it('Berlin, daily 09:00 for 1 h, across the change on 2026-03-29', () => {
    const s = weekly({ at: '09:00', durationMs: H, timeZone: 'Europe/Berlin' });
    expect(isOpen(s, at('2026-03-28T09:30:00+01:00'))).toBe(true);
    expect(isOpen(s, at('2026-03-29T09:30:00+02:00'))).toBe(true);
    // 08:30 UTC was inside the window on Saturday (09:30 CET); on Sunday it is 10:30 CEST.
    expect(isOpen(s, at('2026-03-28T08:30:00Z'))).toBe(true);
    expect(isOpen(s, at('2026-03-29T08:30:00Z'))).toBe(false);
  });

  it('Berlin, Sundays 02:30: the same wall time before and after the change', () => {
    const s = weekly({ days: ['sun'], at: '02:30', durationMs: H, timeZone: 'Europe/Berlin' });
    const starts = occurrences(s, at('2026-03-15T00:00:00Z'), at('2026-04-13T00:00:00Z')).map(
      (o) => o.startMs,
    );
    expect(starts).toEqual([
      at('2026-03-15T02:30:00+01:00'),
      at('2026-03-22T02:30:00+01:00'),
      // 02:30 does not exist on 2026-03-29 (02:00 → 03:00): it opens at 03:30 new time (RFC 5545 §3.3.5).
      at('2026-03-29T03:30:00+02:00'),
      at('2026-04-05T02:30:00+02:00'),
      at('2026-04-12T02:30:00+02:00'),
    ]);
  });

  it.each([
    // Clocks jump 02:00 → 03:00: a time in the gap is read with the offset from before the gap, so it
    // becomes 03:30 new time on either side of UTC.
    ['America/New_York', '2026-03-08', '02:30', '2026-03-08T03:30:00-04:00'],
    ['Europe/Berlin', '2026-03-29', '02:30', '2026-03-29T03:30:00+02:00'],
    // Clocks go back: a time that happens twice is the first of the two (still summer time).
    ['America/New_York', '2026-11-01', '01:30', '2026-11-01T01:30:00-04:00'],
    ['Europe/Berlin', '2026-10-25', '02:30', '2026-10-25T02:30:00+02:00'],
    // Southern hemisphere: Sydney goes back on 2026-04-05.
    ['Australia/Sydney', '2026-03-29', '09:00', '2026-03-29T09:00:00+11:00'],
    ['Australia/Sydney', '2026-04-05', '09:00', '2026-04-05T09:00:00+10:00'],
    ['Australia/Sydney', '2026-04-05', '02:30', '2026-04-05T02:30:00+11:00'],
  ])('%s on %s at %s opens at %s', (timeZone, date, hhmm, expected) => {
    const s = weekly({ days: ['sun'], at: hhmm, durationMs: 30 * MIN, timeZone });
    const dayStart = at(`${date}T00:00:00Z`);
    expect(occurrences(s, dayStart - DAY, dayStart + 2 * DAY).map((o) => o.startMs)).toEqual([at(expected)]);
  });

  it('the duration is elapsed time: 3 h from 01:00 on the night New York falls back ends at 03:00 EST', () => {
    const s = weekly({ days: ['sun'], at: '01:00', durationMs: 3 * H, timeZone: 'America/New_York' });
    expect(occurrences(s, at('2026-10-31T12:00:00Z'), at('2026-11-02T00:00:00Z'))).toEqual([
      iv('2026-11-01T01:00:00-04:00', '2026-11-01T03:00:00-05:00'),
    ]);
  });
});

describe('one-off windows', () => {
  const once: Schedule = {
    kind: 'once',
    startMs: at('2026-12-01T22:00:00+08:00'),
    endMs: at('2026-12-02T02:00:00+08:00'),
  };

  it.each([
    ['2026-12-01T21:59:59.999+08:00', false],
    ['2026-12-01T22:00:00+08:00', true],
    ['2026-12-02T00:00:00+08:00', true],
    ['2026-12-02T01:59:59.999+08:00', true],
    ['2026-12-02T02:00:00+08:00', false],
  ])('[start, end): at %s open %s', (iso, open) => {
    expect(isOpen(once, at(iso))).toBe(open);
  });

  it('is one occurrence, unclipped, for any range that overlaps it', () => {
    const whole = iv('2026-12-01T22:00:00+08:00', '2026-12-02T02:00:00+08:00');
    expect(occurrences(once, at('2026-12-02T01:00:00+08:00'), at('2026-12-02T01:30:00+08:00'))).toEqual([
      whole,
    ]);
    expect(occurrences(once, at('2026-11-01T00:00:00+08:00'), at('2027-01-01T00:00:00+08:00'))).toEqual([
      whole,
    ]);
    expect(occurrences(once, at('2026-11-01T00:00:00+08:00'), at('2026-12-01T22:00:00+08:00'))).toEqual([]);
    expect(occurrences(once, at('2026-12-02T02:00:00+08:00'), at('2027-01-01T00:00:00+08:00'))).toEqual([]);
  });
});

describe('mergeIntervals', () => {
  const i = (startMs: number, endMs: number): Interval => ({ startMs, endMs });
  it.each([
    ['nothing', [], []],
    ['one', [i(1, 2)], [i(1, 2)]],
    ['apart, out of order', [i(5, 6), i(1, 2)], [i(1, 2), i(5, 6)]],
    ['one ms apart stay apart', [i(1, 2), i(3, 4)], [i(1, 2), i(3, 4)]],
    ['touching', [i(2, 3), i(0, 2)], [i(0, 3)]],
    ['overlapping', [i(0, 5), i(3, 8)], [i(0, 8)]],
    ['one inside another does not shorten it', [i(0, 10), i(2, 3), i(4, 5)], [i(0, 10)]],
    ['a chain', [i(6, 10), i(0, 2), i(5, 8), i(2, 3), i(20, 21)], [i(0, 3), i(5, 10), i(20, 21)]],
  ])('%s', (_what, input, expected) => {
    expect(mergeIntervals(input)).toEqual(expected);
  });

  it('leaves its input alone', () => {
    const input = Object.freeze([Object.freeze(i(5, 8)), Object.freeze(i(0, 6))]);
    expect(mergeIntervals(input)).toEqual([i(0, 8)]);
    expect(input).toEqual([i(5, 8), i(0, 6)]);
  });
});

describe('MaintenanceCalendar', () => {
  const pkm = {
    id: 'pkm-petang-1',
    category: 'puskesmas' as const,
    kecamatan: 'Petang',
    desa: 'Pelaga',
  };
  const sd = { id: 'sd-kuta-1', category: 'sd' as const, kecamatan: 'Kuta', desa: 'Kuta' };
  const sdPetang = { id: 'sd-petang-1', category: 'sd' as const, kecamatan: 'Petang', desa: 'Belok Sidan' };

  const window = (
    id: string,
    scope: MaintenanceWindow['scope'],
    schedule: Schedule = sundayNight,
  ): MaintenanceWindow => ({ id, name: `window ${id}`, scope, schedule, source: 'config' });
  const silence = (id: string, scope: Silence['scope'], starts: string, ends: string): Silence => ({
    id,
    scope,
    startsAt: at(starts),
    endsAt: at(ends),
    createdBy: 'ops-1',
    comment: 'PLN padam',
  });
  const insideSunday = at('2026-11-22T23:30:00+08:00');

  describe('scopes, through activeFor', () => {
    const cases: [string, MaintenanceWindow['scope'], ScopeTarget, boolean][] = [
      ['an empty scope covers every site', {}, { site: sd }, true],
      ['site listed', { sites: ['pkm-petang-1', 'x'] }, { site: pkm }, true],
      ['site not listed', { sites: ['pkm-petang-2'] }, { site: pkm }, false],
      ['category', { categories: ['sd'] }, { site: sd }, true],
      ['other category', { categories: ['sd'] }, { site: pkm }, false],
      ['kecamatan', { kecamatan: ['Petang'] }, { site: sdPetang }, true],
      ['other kecamatan', { kecamatan: ['Petang'] }, { site: sd }, false],
      ['desa', { desa: ['Pelaga'] }, { site: pkm }, true],
      ['other desa', { desa: ['Pelaga'] }, { site: sdPetang }, false],
      [
        'every named list must match',
        { kecamatan: ['Petang'], categories: ['sd'] },
        { site: sdPetang },
        true,
      ],
      [
        'one list not matching is enough to miss',
        { kecamatan: ['Petang'], categories: ['sd'] },
        { site: pkm },
        false,
      ],
      ['device listed', { devices: ['pkm-petang-1-r1'] }, { site: pkm, deviceId: 'pkm-petang-1-r1' }, true],
      ['other device', { devices: ['pkm-petang-1-r1'] }, { site: pkm, deviceId: 'pkm-petang-1-ap1' }, false],
      [
        'a device scope does not cover the site as a whole',
        { devices: ['pkm-petang-1-r1'] },
        { site: pkm },
        false,
      ],
      [
        'a site scope covers its devices',
        { sites: ['pkm-petang-1'] },
        { site: pkm, deviceId: 'pkm-petang-1-ap1' },
        true,
      ],
    ];
    it.each(cases)('%s', (_what, scope, target, covered) => {
      const cal = new MaintenanceCalendar([window('w', scope)]);
      expect(cal.activeFor(target, insideSunday)).toEqual(
        covered ? { kind: 'maintenance', window: window('w', scope) } : undefined,
      );
      // The same scope on a silence.
      const sil = silence('s', scope, '2026-11-22T23:00:00+08:00', '2026-11-23T00:00:00+08:00');
      const withSilence = new MaintenanceCalendar([], [sil]);
      expect(withSilence.activeFor(target, insideSunday)).toEqual(
        covered ? { kind: 'silence', silence: sil } : undefined,
      );
    });
  });

  it('a window covers only while it is open', () => {
    const cal = new MaintenanceCalendar([window('w', {})]);
    expect(cal.activeFor({ site: pkm }, at('2026-11-22T22:59:00+08:00'))).toBeUndefined();
    expect(cal.activeFor({ site: pkm }, at('2026-11-23T01:30:00+08:00'))).toMatchObject({
      kind: 'maintenance',
    });
    expect(cal.activeFor({ site: pkm }, at('2026-11-23T02:00:00+08:00'))).toBeUndefined();
  });

  it('windows take precedence over silences, and a silence covers what is left', () => {
    const sil = silence(
      's1',
      { kecamatan: ['Petang'] },
      '2026-11-22T20:00:00+08:00',
      '2026-11-23T04:00:00+08:00',
    );
    // The silence is added first, so precedence is not insertion order.
    const cal = new MaintenanceCalendar([], [sil]);
    cal.addWindow(window('w1', { sites: ['pkm-petang-1'] }));
    expect(cal.activeFor({ site: pkm }, insideSunday)).toMatchObject({
      kind: 'maintenance',
      window: { id: 'w1' },
    });
    // Other sites of the kecamatan: only the silence.
    expect(cal.activeFor({ site: sdPetang }, insideSunday)).toMatchObject({
      kind: 'silence',
      silence: { id: 's1' },
    });
    // After the window closes, before the silence ends.
    expect(cal.activeFor({ site: pkm }, at('2026-11-23T03:00:00+08:00'))).toMatchObject({
      kind: 'silence',
      silence: { id: 's1' },
    });
    expect(cal.activeFor({ site: pkm }, at('2026-11-23T04:00:00+08:00'))).toBeUndefined();
  });

  it('a silence is [startsAt, endsAt)', () => {
    const sil = silence('s1', {}, '2026-11-23T10:00:00+08:00', '2026-11-23T12:00:00+08:00');
    const cal = new MaintenanceCalendar([], [sil]);
    expect(cal.activeFor({ site: sd }, at('2026-11-23T09:59:59.999+08:00'))).toBeUndefined();
    expect(cal.activeFor({ site: sd }, at('2026-11-23T10:00:00+08:00'))).toEqual({
      kind: 'silence',
      silence: sil,
    });
    expect(cal.activeFor({ site: sd }, at('2026-11-23T11:59:59.999+08:00'))).toEqual({
      kind: 'silence',
      silence: sil,
    });
    expect(cal.activeFor({ site: sd }, at('2026-11-23T12:00:00+08:00'))).toBeUndefined();
  });

  it('adds, replaces and removes windows and silences', () => {
    const cal = new MaintenanceCalendar([window('w1', {}), window('w2', { sites: ['x'] })]);
    expect(cal.windows().map((w) => w.id)).toEqual(['w1', 'w2']);
    expect(cal.window('w2')?.scope).toEqual({ sites: ['x'] });
    cal.addWindow(window('w2', { sites: ['y'] }));
    expect(cal.windows()).toHaveLength(2);
    expect(cal.window('w2')?.scope).toEqual({ sites: ['y'] });
    expect(cal.removeWindow('w1')).toBe(true);
    expect(cal.removeWindow('w1')).toBe(false);
    expect(cal.window('w1')).toBeUndefined();
    expect(cal.activeFor({ site: pkm }, insideSunday)).toBeUndefined();

    cal.addSilence(silence('s1', {}, '2026-11-23T10:00:00+08:00', '2026-11-23T12:00:00+08:00'));
    expect(cal.silences().map((s) => s.id)).toEqual(['s1']);
    expect(cal.removeSilence('s1')).toBe(true);
    expect(cal.removeSilence('s1')).toBe(false);
    expect(cal.activeFor({ site: pkm }, at('2026-11-23T11:00:00+08:00'))).toBeUndefined();
  });

  it('expire forgets the silences that are over, and only those', () => {
    const cal = new MaintenanceCalendar(
      [window('w1', {})],
      [
        silence('past', {}, '2026-11-23T08:00:00+08:00', '2026-11-23T09:00:00+08:00'),
        silence('now', {}, '2026-11-23T10:00:00+08:00', '2026-11-23T12:00:00+08:00'),
        silence('later', {}, '2026-11-24T10:00:00+08:00', '2026-11-24T12:00:00+08:00'),
      ],
    );
    expect(cal.expire(at('2026-11-23T11:00:00+08:00'))).toEqual(['past']);
    expect(cal.silences().map((s) => s.id)).toEqual(['now', 'later']);
    expect(cal.expire(at('2026-11-23T11:59:59.999+08:00'))).toEqual([]);
    expect(cal.expire(at('2026-11-23T12:00:00+08:00'))).toEqual(['now']);
    expect(cal.silences().map((s) => s.id)).toEqual(['later']);
    // Windows are never expired.
    expect(cal.expire(at('2030-01-01T00:00:00Z'))).toEqual(['later']);
    expect(cal.windows().map((w) => w.id)).toEqual(['w1']);
  });

  describe('coveredIntervals', () => {
    const cal = new MaintenanceCalendar(
      [
        window('weekly', { kecamatan: ['Petang'] }),
        window(
          'router',
          { devices: ['pkm-petang-1-r1'] },
          { kind: 'once', startMs: at('2026-11-25T10:00:00+08:00'), endMs: at('2026-11-25T11:00:00+08:00') },
        ),
        window('kuta', { kecamatan: ['Kuta'] }, weekly({ at: '12:00', durationMs: H })),
      ],
      [
        // Overlaps the end of Sunday's window: one merged stretch 23:00-04:00.
        silence(
          's-overlap',
          { sites: ['pkm-petang-1'] },
          '2026-11-23T01:00:00+08:00',
          '2026-11-23T04:00:00+08:00',
        ),
        // Touches the router window: merged with it.
        silence('s-touch', {}, '2026-11-25T11:00:00+08:00', '2026-11-25T11:30:00+08:00'),
        // Outside every range asked below.
        silence('s-far', {}, '2027-03-01T00:00:00+08:00', '2027-03-02T00:00:00+08:00'),
      ],
    );

    it('merges the windows and silences that cover the target, in order', () => {
      expect(
        cal.coveredIntervals(
          { site: pkm, deviceId: 'pkm-petang-1-r1' },
          at('2026-11-22T00:00:00+08:00'),
          at('2026-12-01T00:00:00+08:00'),
        ),
      ).toEqual([
        iv('2026-11-22T23:00:00+08:00', '2026-11-23T04:00:00+08:00'),
        iv('2026-11-25T10:00:00+08:00', '2026-11-25T11:30:00+08:00'),
        iv('2026-11-29T23:00:00+08:00', '2026-11-30T02:00:00+08:00'),
      ]);
    });

    it('leaves out what covers another device or another site', () => {
      expect(
        cal.coveredIntervals({ site: pkm }, at('2026-11-22T00:00:00+08:00'), at('2026-11-27T00:00:00+08:00')),
      ).toEqual([
        iv('2026-11-22T23:00:00+08:00', '2026-11-23T04:00:00+08:00'),
        iv('2026-11-25T11:00:00+08:00', '2026-11-25T11:30:00+08:00'),
      ]);
      expect(
        cal.coveredIntervals(
          { site: sdPetang },
          at('2026-11-22T00:00:00+08:00'),
          at('2026-11-24T00:00:00+08:00'),
        ),
      ).toEqual([iv('2026-11-22T23:00:00+08:00', '2026-11-23T02:00:00+08:00')]);
    });

    it('clips to [from, to)', () => {
      expect(
        cal.coveredIntervals({ site: pkm }, at('2026-11-23T00:00:00+08:00'), at('2026-11-23T03:00:00+08:00')),
      ).toEqual([iv('2026-11-23T00:00:00+08:00', '2026-11-23T03:00:00+08:00')]);
      expect(
        cal.coveredIntervals({ site: sd }, at('2026-11-23T12:30:00+08:00'), at('2026-11-24T12:15:00+08:00')),
      ).toEqual([
        iv('2026-11-23T12:30:00+08:00', '2026-11-23T13:00:00+08:00'),
        iv('2026-11-24T12:00:00+08:00', '2026-11-24T12:15:00+08:00'),
      ]);
      // A range that touches a window without overlapping it.
      expect(
        cal.coveredIntervals(
          { site: sdPetang },
          at('2026-11-23T02:00:00+08:00'),
          at('2026-11-23T12:00:00+08:00'),
        ),
      ).toEqual([]);
    });
  });

  describe('nextChange', () => {
    const cal = new MaintenanceCalendar(
      [window('sunday', { kecamatan: ['Petang'] })],
      [silence('s1', {}, '2026-11-23T10:00:00+08:00', '2026-11-23T12:00:00+08:00')],
    );

    it.each([
      ['before the window: it opens', '2026-11-22T12:00:00+08:00', '2026-11-22T23:00:00+08:00'],
      [
        'exactly as it opens: it closes (strictly after now)',
        '2026-11-22T23:00:00+08:00',
        '2026-11-23T02:00:00+08:00',
      ],
      ['inside it, after midnight: it closes', '2026-11-23T01:30:00+08:00', '2026-11-23T02:00:00+08:00'],
      ['before the silence: it starts', '2026-11-23T02:00:00+08:00', '2026-11-23T10:00:00+08:00'],
      ['inside the silence: it ends', '2026-11-23T11:00:00+08:00', '2026-11-23T12:00:00+08:00'],
      ['after both: next Sunday', '2026-11-23T12:00:00+08:00', '2026-11-29T23:00:00+08:00'],
    ])('%s', (_what, now, expected) => {
      expect(cal.nextChange(at(now))).toBe(at(expected));
    });

    it('looks only as far as the horizon for windows', () => {
      const now = at('2026-11-23T12:00:00+08:00');
      expect(cal.nextChange(now, 6 * DAY)).toBeUndefined();
      expect(cal.nextChange(now, 7 * DAY)).toBe(at('2026-11-29T23:00:00+08:00'));
    });

    it('follows the local wall time across a daylight-saving change', () => {
      const berlin = new MaintenanceCalendar([
        window('b', {}, weekly({ days: ['sun'], at: '09:00', durationMs: H, timeZone: 'Europe/Berlin' })),
      ]);
      expect(berlin.nextChange(at('2026-03-22T12:00:00+01:00'))).toBe(at('2026-03-29T09:00:00+02:00'));
    });

    it('has nothing to say for an empty calendar, or one whose windows are over', () => {
      expect(new MaintenanceCalendar().nextChange(at('2026-11-23T00:00:00+08:00'))).toBeUndefined();
      const over = new MaintenanceCalendar(
        [
          window(
            'once',
            {},
            { kind: 'once', startMs: at('2026-11-01T00:00:00Z'), endMs: at('2026-11-02T00:00:00Z') },
          ),
        ],
        [silence('old', {}, '2026-11-03T00:00:00Z', '2026-11-04T00:00:00Z')],
      );
      expect(over.nextChange(at('2026-11-23T00:00:00+08:00'))).toBeUndefined();
      // Inside the one-off window: its end.
      expect(over.nextChange(at('2026-11-01T12:00:00Z'))).toBe(at('2026-11-02T00:00:00Z'));
    });
  });
});
