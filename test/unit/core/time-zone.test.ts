import { describe, expect, it } from 'vitest';
import {
  formatWita,
  isoWita,
  isoWitaMinute,
  isoWitaOrNull,
  isoWitaSeconds,
  WITA_OFFSET_MS,
  WITA_TIME_ZONE,
  witaDayRange,
  witaHourOfDay,
  witaLocalMinute,
  witaMinuteToIso,
  witaMonth,
  witaMonthRange,
} from '../../../collector/core/time-zone.ts';

// 2026-12-31T16:59:59.900Z is 2027-01-01 00:59:59.900 in Bali: a year, month and day boundary in one.
const NEW_YEAR = Date.UTC(2026, 11, 31, 16, 59, 59, 900);

describe('core/time-zone (WITA, UTC+8, no DST)', () => {
  it('agrees with the IANA zone it names, winter and summer', () => {
    for (const ms of [Date.UTC(2026, 0, 15, 12), Date.UTC(2026, 6, 15, 12)]) {
      const wall = new Intl.DateTimeFormat('sv-SE', {
        timeZone: WITA_TIME_ZONE,
        dateStyle: 'short',
        timeStyle: 'medium',
      }).format(ms);
      expect(wall.replace(' ', 'T')).toBe(new Date(ms + WITA_OFFSET_MS).toISOString().slice(0, 19));
    }
  });

  it.each([
    [isoWita, '2027-01-01T00:59:59.900+08:00'],
    [isoWitaSeconds, '2027-01-01T00:59:59+08:00'],
    [isoWitaMinute, '2027-01-01T00:59:00+08:00'],
    [formatWita, '00:59 WITA, 01-01-2027'],
    [witaLocalMinute, '2027-01-01T00:59'],
    [witaMonth, '2027-01'],
  ] as const)('%o writes the new year in Bali', (fn, want) => {
    expect(fn(NEW_YEAR)).toBe(want);
  });

  it('ISO forms parse back to the instant (to their precision)', () => {
    expect(Date.parse(isoWita(NEW_YEAR))).toBe(NEW_YEAR);
    expect(Date.parse(isoWitaSeconds(NEW_YEAR))).toBe(NEW_YEAR - 900);
    expect(Date.parse(isoWitaMinute(NEW_YEAR))).toBe(NEW_YEAR - 59_900);
  });

  it('refuses a non-time instead of writing "Invalid Date"', () => {
    expect(() => isoWita(Number.NaN)).toThrow(RangeError);
    expect(() => isoWitaSeconds(Number.POSITIVE_INFINITY)).toThrow(/not a time/);
    expect(isoWitaOrNull(undefined)).toBeNull();
    expect(isoWitaOrNull(null)).toBeNull();
    expect(isoWitaOrNull(0)).toBe('1970-01-01T08:00:00.000+08:00');
  });

  it.each([
    ['2026-10', '2026-09-30T16:00:00.000Z', '2026-10-31T16:00:00.000Z'],
    ['2026-12', '2026-11-30T16:00:00.000Z', '2026-12-31T16:00:00.000Z'],
    ['2028-02', '2028-01-31T16:00:00.000Z', '2028-02-29T16:00:00.000Z'],
  ])('month %s runs from WITA midnight to WITA midnight', (month, from, to) => {
    const r = witaMonthRange(month);
    expect(new Date(r.fromMs).toISOString()).toBe(from);
    expect(new Date(r.toMs).toISOString()).toBe(to);
  });

  it.each(['2026-13', '2026-1', 'October', ''])('witaMonthRange(%j) says how to write a month', (bad) => {
    expect(() => witaMonthRange(bad)).toThrow(/write YYYY-MM/);
  });

  it('a WITA day runs from 00:00 to 24:00 Bali time', () => {
    expect(witaDayRange(NEW_YEAR)).toEqual({
      fromMs: Date.UTC(2026, 11, 31, 16),
      toMs: Date.UTC(2027, 0, 1, 16),
    });
    // 15:59:59.999Z is still the previous day in Bali; 16:00Z starts the next one.
    expect(witaDayRange(Date.UTC(2026, 11, 31, 15, 59, 59, 999)).fromMs).toBe(Date.UTC(2026, 11, 30, 16));
    expect(witaHourOfDay(Date.UTC(2026, 11, 31, 4, 30))).toBe(12.5);
  });

  it.each([
    ['2026-12-03T14:05', '2026-12-03T14:05:00+08:00'],
    ['2026-12-03T14:05:30', undefined],
    ['2026-12-03 14:05', undefined],
    ['', undefined],
  ])('witaMinuteToIso(%j) is %j', (wall, want) => {
    expect(witaMinuteToIso(wall)).toBe(want);
  });
});
