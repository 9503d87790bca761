/**
 * An AvailabilityReport for a period from an inventory and its history (history.ts): the engine's
 * figures per site (availability.ts), rolled up by category, kecamatan and desa, against the targets.
 */
import { CATEGORY_INFO } from '../core/categories.ts';
import { CATEGORIES, type Category, type Criticality, type Inventory } from '../core/types.ts';
import { groupRows, siteFigures, siteRow, sumFigures } from './availability.ts';
import type { History } from './history.ts';
import type { AvailabilityReport } from './model.ts';
import { shareOf } from './shares.ts';

/** Availability targets by the category's criticality (configurable per category: `reports.targets`). */
export const DEFAULT_TARGETS: Readonly<Record<Criticality, number>> = {
  critical: 99.5,
  high: 99.0,
  medium: 98.5,
  low: 98.0,
};

export function defaultTargets(): Record<Category, number> {
  return Object.fromEntries(
    CATEGORIES.map((c) => [c, DEFAULT_TARGETS[CATEGORY_INFO[c].criticality]]),
  ) as Record<Category, number>;
}

export interface ReportRequest {
  readonly fromMs: number;
  readonly toMs: number;
  readonly nowMs: number;
  readonly periodLabel: string;
  readonly targets: Readonly<Record<Category, number>>;
  readonly sites?: readonly string[] | undefined;
  readonly categories?: readonly string[] | undefined;
  readonly kecamatan?: readonly string[] | undefined;
}

export function buildReport(inventory: Inventory, history: History, req: ReportRequest): AvailabilityReport {
  const { fromMs, toMs } = req;
  // Nothing after now is known: the part of the period still to come is left out, not counted unknown.
  const endMs = Math.min(toMs, Math.max(fromMs, req.nowMs));
  const periodMs = endMs - fromMs;
  const chosen = inventory.sites.filter(
    (s) =>
      (!req.sites?.length || req.sites.includes(s.id)) &&
      (!req.categories?.length || req.categories.includes(s.category)) &&
      (!req.kecamatan?.length || req.kecamatan.includes(s.kecamatan)),
  );
  const rows = chosen.map((s) =>
    siteRow(
      s,
      siteFigures(
        history.sites.get(s.id) ?? { changes: [], maintenance: [], clockBreaches: 0 },
        history.watching,
        fromMs,
        endMs,
      ),
      req.targets[s.category],
    ),
  );
  const overall = sumFigures(rows, periodMs);
  const meeting = rows.filter((r) => r.meetsTarget === true).length;
  const catLabel = (c: string) => {
    const info = CATEGORY_INFO[c as Category] as (typeof CATEGORY_INFO)[Category] | undefined;
    return info ? `${info.id} / ${info.en}` : c;
  };
  return {
    fromMs,
    toMs: endMs,
    generatedAtMs: req.nowMs,
    periodLabel: req.periodLabel,
    filters: { sites: req.sites, categories: req.categories, kecamatan: req.kecamatan },
    // Nothing but unknown time (or no time at all): the monitor never watched this period.
    noData: rows.length > 0 && overall.upMs + overall.downMs + overall.maintenanceMs === 0,
    overall: {
      ...overall,
      sites: rows.length,
      sitesMeetingTarget: meeting,
      sitesMeetingTargetPct: shareOf(meeting, rows.length),
    },
    byCategory: groupRows(
      rows,
      (r) => r.category,
      catLabel,
      periodMs,
      (c) => req.targets[c as Category],
    ),
    byKecamatan: groupRows(
      rows,
      (r) => r.kecamatan,
      (k) => k,
      periodMs,
    ),
    byDesa: groupRows(
      rows,
      (r) => `${r.kecamatan} / ${r.desa}`,
      (k) => k,
      periodMs,
    ),
    sites: rows,
    worst: rows
      .filter((r) => r.availabilityPct !== null)
      .sort((a, b) => (a.availabilityPct ?? 0) - (b.availabilityPct ?? 0) || b.downMs - a.downMs)
      .slice(0, 20),
  };
}
