/**
 * The maintenance calendar (pure): weekly windows in local wall time (WITA, and a zone with daylight
 * saving), one-off windows, scopes, silences, merged cover for the reports, and the next change.
 * Expected instants are written out with their offsets, never computed by the code under test.
 */
import { describe, expect, it } from 'vitest';
import {
  isOpen,
  MaintenanceCalendar,
  mergeIntervals,
  occurrences,
  zoneOffsetMs,
} from '../../../collector/alerting/calendar.ts';
import type { MaintenanceWindow, Schedule, Silence } from '../../../collector/alerting/scope.ts';

const at = (iso: string) => Date.parse(iso);
const H = 3600_000;
const site = { id: 'pkm-petang-1', category: 'puskesmas' as const, kecamatan: 'Petang', desa: 'Belok Sidan' };
const other = { id: 'sd-kuta-1', category: 'sd' as const, kecamatan: 'Kuta', desa: 'Kuta' };

/** Sundays 23:00 WITA for 3 hours: across midnight into Monday. */
const sundayNight: Schedule = {
  kind: 'weekly',
  days: ['sun'],
  at: '23:00',
  durationMs: 3 * H,
  timeZone: 'Asia/Makassar',
};

describe('schedules', () => {
  it('Asia/Makassar is UTC+8 all year', () => {
    expect(zoneOffsetMs('Asia/Makassar', at('2026-01-15T12:00:00Z'))).toBe(8 * H);
    expect(zoneOffsetMs('Asia/Makassar', at('2026-07-15T12:00:00Z'))).toBe(8 * H);
  });

  it('a weekly window across midnight is open Sunday 23:30 and Monday 01:30 WITA, closed at 02:00 and on Saturday', () => {
    // 2026-11-22 is a Sunday.
    expect(isOpen(sundayNight, at('2026-11-22T23:30:00+08:00'))).toBe(true);
    expect(isOpen(sundayNight, at('2026-11-23T01:30:00+08:00'))).toBe(true);
    expect(isOpen(sundayNight, at('2026-11-23T02:00:00+08:00'))).toBe(false);
    expect(isOpen(sundayNight, at('2026-11-22T22:59:59+08:00'))).toBe(false);
    expect(isOpen(sundayNight, at('2026-11-21T23:30:00+08:00'))).toBe(false);
    expect(
      occurrences(sundayNight, at('2026-11-20T00:00:00+08:00'), at('2026-12-01T00:00:00+08:00')),
    ).toEqual([
      { startMs: at('2026-11-22T23:00:00+08:00'), endMs: at('2026-11-23T02:00:00+08:00') },
      { startMs: at('2026-11-29T23:00:00+08:00'), endMs: at('2026-11-30T02:00:00+08:00') },
    ]);
  });

  it('no days means every day; from/until bound the recurrence', () => {
    const daily: Schedule = {
      kind: 'weekly',
      at: '02:00',
      durationMs: H,
      timeZone: 'Asia/Makassar',
      fromMs: at('2026-11-10T00:00:00+08:00'),
      untilMs: at('2026-11-12T00:00:00+08:00'),
    };
    expect(occurrences(daily, at('2026-11-08T00:00:00+08:00'), at('2026-11-15T00:00:00+08:00'))).toEqual([
      { startMs: at('2026-11-10T02:00:00+08:00'), endMs: at('2026-11-10T03:00:00+08:00') },
      { startMs: at('2026-11-11T02:00:00+08:00'), endMs: at('2026-11-11T03:00:00+08:00') },
    ]);
  });

  it('a zone with daylight saving keeps the local time: 09:00 in New York is 14:00 UTC in winter, 13:00 in summer', () => {
    const ny: Schedule = {
      kind: 'weekly',
      days: ['mon'],
      at: '09:00',
      durationMs: H,
      timeZone: 'America/New_York',
    };
    // 2026-03-02 (EST) and 2026-03-09 (EDT, after the change on 2026-03-08).
    const occ = occurrences(ny, at('2026-03-01T00:00:00Z'), at('2026-03-10T00:00:00Z'));
    expect(occ.map((o) => new Date(o.startMs).toISOString())).toEqual([
      '2026-03-02T14:00:00.000Z',
      '2026-03-09T13:00:00.000Z',
    ]);
  });

  it('a one-off window is [start, end)', () => {
    const once: Schedule = { kind: 'once', startMs: 1000, endMs: 2000 };
    expect(isOpen(once, 999)).toBe(false);
    expect(isOpen(once, 1000)).toBe(true);
    expect(isOpen(once, 1999)).toBe(true);
    expect(isOpen(once, 2000)).toBe(false);
  });

  it('merges overlapping and touching intervals', () => {
    expect(
      mergeIntervals([
        { startMs: 5, endMs: 8 },
        { startMs: 0, endMs: 2 },
        { startMs: 2, endMs: 3 },
        { startMs: 6, endMs: 10 },
      ]),
    ).toEqual([
      { startMs: 0, endMs: 3 },
      { startMs: 5, endMs: 10 },
    ]);
  });
});

describe('MaintenanceCalendar', () => {
  const window = (id: string, scope: MaintenanceWindow['scope'], schedule: Schedule): MaintenanceWindow => ({
    id,
    name: id,
    scope,
    schedule,
    source: 'config',
  });
  const silence: Silence = {
    id: 'sil-1',
    scope: { kecamatan: ['Petang'] },
    startsAt: at('2026-11-23T10:00:00+08:00'),
    endsAt: at('2026-11-23T12:00:00+08:00'),
    createdBy: 'ops-1',
    comment: 'PLN padam',
  };

  it('matches scopes by site, category, kecamatan and device; windows before silences', () => {
    const cal = new MaintenanceCalendar(
      [
        window('petang', { kecamatan: ['Petang'] }, sundayNight),
        window(
          'pkm-router',
          { devices: ['pkm-petang-1-r1'] },
          { kind: 'once', startMs: 0, endMs: at('2030-01-01T00:00:00Z') },
        ),
      ],
      [silence],
    );
    const sunday = at('2026-11-22T23:30:00+08:00');
    expect(cal.activeFor({ site }, sunday)).toMatchObject({ kind: 'maintenance', window: { id: 'petang' } });
    expect(cal.activeFor({ site: other }, sunday)).toBeUndefined();
    // The device-scoped window covers that device only, not the site as a whole.
    const monday = at('2026-11-23T09:00:00+08:00');
    expect(cal.activeFor({ site }, monday)).toBeUndefined();
    expect(cal.activeFor({ site, deviceId: 'pkm-petang-1-r1' }, monday)).toMatchObject({
      window: { id: 'pkm-router' },
    });
    // Inside the silence; the device window still comes first for its device.
    const noon = at('2026-11-23T11:00:00+08:00');
    expect(cal.activeFor({ site }, noon)).toMatchObject({ kind: 'silence', silence: { id: 'sil-1' } });
    expect(cal.activeFor({ site, deviceId: 'pkm-petang-1-r1' }, noon)).toMatchObject({ kind: 'maintenance' });
  });

  it('forgets silences once over, and says when the cover next changes', () => {
    const cal = new MaintenanceCalendar(
      [window('petang', { kecamatan: ['Petang'] }, sundayNight)],
      [silence],
    );
    expect(cal.nextChange(at('2026-11-23T09:00:00+08:00'))).toBe(silence.startsAt);
    expect(cal.nextChange(at('2026-11-23T11:00:00+08:00'))).toBe(silence.endsAt);
    expect(cal.nextChange(at('2026-11-23T13:00:00+08:00'))).toBe(at('2026-11-29T23:00:00+08:00'));
    expect(cal.expire(at('2026-11-23T11:59:59+08:00'))).toEqual([]);
    expect(cal.expire(at('2026-11-23T12:00:00+08:00'))).toEqual(['sil-1']);
    expect(cal.silences()).toEqual([]);
  });

  it('covered intervals for a site: merged and clipped to the range', () => {
    const cal = new MaintenanceCalendar(
      [window('petang', { kecamatan: ['Petang'] }, sundayNight)],
      [{ ...silence, startsAt: at('2026-11-23T01:00:00+08:00'), endsAt: at('2026-11-23T04:00:00+08:00') }],
    );
    expect(
      cal.coveredIntervals({ site }, at('2026-11-22T23:30:00+08:00'), at('2026-11-23T12:00:00+08:00')),
    ).toEqual([{ startMs: at('2026-11-22T23:30:00+08:00'), endMs: at('2026-11-23T04:00:00+08:00') }]);
    expect(cal.coveredIntervals({ site: other }, 0, at('2027-01-01T00:00:00Z'))).toEqual([]);
  });
});
