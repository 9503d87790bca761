/**
 * How busy a site is at a given moment, by category: a weekly profile in Bali time (WITA, UTC+8) with one
 * knot per hour and straight lines between knots. Straight lines integrate in closed form, so a counter
 * (the integral of a rate since boot) is exact and cheap at any time: a whole number of weeks plus a
 * prefix sum plus one partial hour. Pure and table-driven.
 */
import { WITA_OFFSET_HOURS } from '../collector/core/time-zone.ts';
import type { Category } from '../collector/core/types.ts';

export const HOUR_S = 3600;
export const WEEK_S = 7 * 24 * HOUR_S;
/** Bali keeps WITA, UTC+8, all year (collector/core/time-zone.ts). */
const WITA_OFFSET_S = WITA_OFFSET_HOURS * HOUR_S;
/** Monday 1970-01-05 00:00 WITA, as Unix seconds: the weeks are counted from here. */
const WEEK_ANCHOR_S = 4 * 86_400 - WITA_OFFSET_S;

type Day = readonly number[]; // 24 hourly levels in [0, 1]

const flat = (v: number): Day => Array.from({ length: 24 }, () => v);
function day(points: Readonly<Record<number, number>>, base: number): Day {
  return Array.from({ length: 24 }, (_, h) => points[h] ?? base);
}

// Schools: lessons 07:00-13:00 Monday-Saturday (Saturday shorter); quiet at night and on Sunday.
const SCHOOL = day(
  { 6: 0.15, 7: 0.6, 8: 0.95, 9: 0.95, 10: 1, 11: 0.95, 12: 0.85, 13: 0.55, 14: 0.3, 15: 0.15, 16: 0.1 },
  0.04,
);
const SCHOOL_SAT = day({ 7: 0.35, 8: 0.5, 9: 0.5, 10: 0.45, 11: 0.3, 12: 0.1 }, 0.04);
// Banjar halls and neighbourhood offices: people gather after work; busiest 19:00-21:00, every day.
const BANJAR = day(
  {
    6: 0.12,
    7: 0.15,
    8: 0.15,
    9: 0.2,
    10: 0.2,
    11: 0.22,
    12: 0.25,
    13: 0.25,
    14: 0.28,
    15: 0.35,
    16: 0.4,
    17: 0.55,
    18: 0.8,
    19: 1,
    20: 1,
    21: 0.85,
    22: 0.5,
    23: 0.2,
  },
  0.05,
);
const BANJAR_WEEKEND = BANJAR.map((v, h) => (h >= 9 && h <= 17 ? Math.min(1, v + 0.15) : v));
// Tourist sites: daytime visitors, a sunset peak at the beaches, more at weekends.
const TOURIST = day(
  {
    7: 0.2,
    8: 0.45,
    9: 0.75,
    10: 0.9,
    11: 1,
    12: 1,
    13: 1,
    14: 0.95,
    15: 0.95,
    16: 0.9,
    17: 0.95,
    18: 0.7,
    19: 0.4,
    20: 0.2,
    21: 0.1,
  },
  0.05,
);
const TOURIST_WEEKEND = TOURIST.map((v) => Math.min(1, v * 1.15));
// Government offices: 08:00-16:00 Monday-Friday. The district office keeps a 24-hour floor.
const OFFICE = day(
  { 7: 0.3, 8: 0.9, 9: 1, 10: 1, 11: 0.95, 12: 0.7, 13: 0.85, 14: 0.85, 15: 0.5, 16: 0.2, 17: 0.08 },
  0.04,
);
const CAMAT = OFFICE.map((v) => Math.max(v, 0.1));
// Health centres: outpatient mornings; the puskesmas also has a 24-hour emergency service.
const PUSKESMAS = day(
  { 7: 0.5, 8: 1, 9: 1, 10: 1, 11: 1, 12: 0.9, 13: 0.7, 14: 0.35, 15: 0.25, 16: 0.2, 17: 0.18, 18: 0.15 },
  0.1,
);
const PUSKESMAS_SAT = day({ 7: 0.3, 8: 0.6, 9: 0.6, 10: 0.6, 11: 0.5, 12: 0.3 }, 0.1);
const PUSTU = day({ 7: 0.3, 8: 0.9, 9: 1, 10: 1, 11: 0.9, 12: 0.7, 13: 0.4, 14: 0.1 }, 0.04);
const PUSTU_SAT = day({ 8: 0.5, 9: 0.5, 10: 0.5, 11: 0.3 }, 0.04);

/** Monday..Sunday. */
const WEEKS: Readonly<Record<Category, readonly Day[]>> = {
  sd: [SCHOOL, SCHOOL, SCHOOL, SCHOOL, SCHOOL, SCHOOL_SAT, flat(0.04)],
  smp: [SCHOOL, SCHOOL, SCHOOL, SCHOOL, SCHOOL, SCHOOL_SAT, flat(0.04)],
  banjar: [BANJAR, BANJAR, BANJAR, BANJAR, BANJAR, BANJAR_WEEKEND, BANJAR_WEEKEND],
  lingkungan: [BANJAR, BANJAR, BANJAR, BANJAR, BANJAR, BANJAR_WEEKEND, BANJAR_WEEKEND],
  obyek_wisata: [TOURIST, TOURIST, TOURIST, TOURIST, TOURIST, TOURIST_WEEKEND, TOURIST_WEEKEND],
  kantor_camat: [CAMAT, CAMAT, CAMAT, CAMAT, CAMAT, flat(0.1), flat(0.1)],
  kantor_desa: [OFFICE, OFFICE, OFFICE, OFFICE, OFFICE, flat(0.04), flat(0.04)],
  kantor_lurah: [OFFICE, OFFICE, OFFICE, OFFICE, OFFICE, flat(0.04), flat(0.04)],
  puskesmas: [PUSKESMAS, PUSKESMAS, PUSKESMAS, PUSKESMAS, PUSKESMAS, PUSKESMAS_SAT, flat(0.1)],
  pustu: [PUSTU, PUSTU, PUSTU, PUSTU, PUSTU, PUSTU_SAT, flat(0.04)],
};

/** The lowest level any profile reaches: jitter added to a level must stay below it to keep rates positive. */
export const MIN_LEVEL = 0.04;

interface Profile {
  /** 169 knots: level at the start of each hour of the week, the last equal to the first (it wraps). */
  readonly knots: Float64Array;
  /** prefix[k] = integral of the level from the start of the week to hour k, in level-seconds. */
  readonly prefix: Float64Array;
}

function buildProfile(days: readonly Day[]): Profile {
  const knots = new Float64Array(169);
  days.forEach((d, di) => d.forEach((v, h) => (knots[di * 24 + h] = v)));
  knots[168] = knots[0] ?? 0;
  const prefix = new Float64Array(169);
  for (let k = 0; k < 168; k++)
    prefix[k + 1] = (prefix[k] ?? 0) + (((knots[k] ?? 0) + (knots[k + 1] ?? 0)) / 2) * HOUR_S;
  return { knots, prefix };
}

const PROFILES = Object.fromEntries(
  Object.entries(WEEKS).map(([c, days]) => [c, buildProfile(days)]),
) as Readonly<Record<Category, Profile>>;

/** Seconds since the start of the WITA week containing `tS`, and which week it is. */
function weekPosition(tS: number): { week: number; s: number } {
  const rel = tS - WEEK_ANCHOR_S;
  const week = Math.floor(rel / WEEK_S);
  return { week, s: rel - week * WEEK_S };
}

/** The activity level (0..1) of a category at Unix time `tS` seconds. */
export function activityLevel(category: Category, tS: number): number {
  const p = PROFILES[category];
  const { s } = weekPosition(tS);
  const k = Math.min(167, Math.floor(s / HOUR_S));
  const x = (s - k * HOUR_S) / HOUR_S;
  const a = p.knots[k] ?? 0;
  const b = p.knots[k + 1] ?? 0;
  return a + (b - a) * x;
}

/** Integral of the level from the start of the week to `s` seconds into it. */
function integralInWeek(p: Profile, s: number): number {
  const k = Math.min(167, Math.floor(s / HOUR_S));
  const x = s - k * HOUR_S;
  const a = p.knots[k] ?? 0;
  const b = p.knots[k + 1] ?? 0;
  return (p.prefix[k] ?? 0) + a * x + ((b - a) * x * x) / (2 * HOUR_S);
}

/** Integral of the activity level over [t0S, t1S], in level-seconds (t1S >= t0S). */
export function activityIntegral(category: Category, t0S: number, t1S: number): number {
  const p = PROFILES[category];
  const a = weekPosition(t0S);
  const b = weekPosition(t1S);
  const weekTotal = p.prefix[168] ?? 0;
  return (b.week - a.week) * weekTotal + integralInWeek(p, b.s) - integralInWeek(p, a.s);
}

/** Mean level over a whole week: the ratio of a week's traffic to a week at full rate. */
export function weeklyMean(category: Category): number {
  return (PROFILES[category].prefix[168] ?? 0) / WEEK_S;
}
