/**
 * Printing a share (a percentage) honestly, for every place a report shows one (HTML/PDF, CSV, CLI):
 * rounding never turns "almost all" into "all" or "almost none" into "none". 986 of 987 sites is 99.9 %,
 * not 100 %; 99.9996 % availability is 99.999 %, not 100.000 %; one minute down in a month is never 0 %.
 * Pure: numbers in, strings out.
 */

/**
 * `p` (0–100) with `decimals` decimals, except that a value below 100 never prints as 100 (it prints as
 * the largest number below 100 with those decimals: 99.9, 99.99, ...) and a value above 0 never prints
 * as 0 (it prints as the smallest above 0: 0.1, 0.01, ...). Exactly 100 and exactly 0 print as they are.
 * Returns null for null, undefined or a non-finite number, so each renderer chooses its own dash.
 */
export function shareText(p: number | null | undefined, decimals: number): string | null {
  if (p === null || p === undefined || !Number.isFinite(p)) return null;
  const unit = 10 ** -decimals;
  const s = p.toFixed(decimals);
  const shown = Number(s);
  if (shown >= 100 && p < 100) return (100 - unit).toFixed(decimals);
  if (shown <= 0 && p > 0) return unit.toFixed(decimals);
  return s;
}

/** "part of whole" as a share, with shareText's guarantees; null when `whole` is 0. */
export function shareOf(part: number, whole: number): number | null {
  return whole > 0 ? (100 * part) / whole : null;
}
