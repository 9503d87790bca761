/**
 * The uptime report as data: what the availability engine (availability.ts) computes from state
 * transitions and what the renderers (CSV, HTML, PDF) print. Times are ms since 1970 (UTC); renderers show
 * them in WITA (UTC+8). Availability = up / (up + down): time in maintenance and time the monitor was not
 * watching ("unknown") count neither way and are shown apart.
 */
import type { Category } from '../core/types.ts';

export interface AvailabilityFigures {
  /** Length of the period asked for. */
  readonly periodMs: number;
  readonly upMs: number;
  readonly downMs: number;
  readonly maintenanceMs: number;
  /** The monitor was not watching (collector down, data gap): neither up nor down. */
  readonly unknownMs: number;
  /**
   * unknownMs as a share of the time there was to watch (the period x the number of sites), so a sum over
   * 987 sites reads next to the period; null for an empty period.
   */
  readonly unknownSharePct: number | null;
  /** up / (up + down) x 100; null when nothing was observed. */
  readonly availabilityPct: number | null;
  readonly outages: number;
  /**
   * The longest outage from its first failed poll to the router answering again, wall clock: time in
   * maintenance or while the monitor was not watching is inside it, so it can exceed downMs.
   */
  readonly longestOutageMs: number;
  /** Mean time to restore: mean length of the outages that ended in the period; null when none. */
  readonly mttrMs: number | null;
  /** Incidents whose acknowledgement clock ran out in the period. */
  readonly clockBreaches: number;
}

export interface SiteRow extends AvailabilityFigures {
  readonly siteId: string;
  readonly name: string;
  readonly category: Category;
  readonly kecamatan: string;
  readonly desa: string;
  readonly targetPct: number;
  /** null when availability is null. */
  readonly meetsTarget: boolean | null;
}

export interface GroupRow extends AvailabilityFigures {
  /** The category, kecamatan or desa. */
  readonly key: string;
  /** Bilingual label (categories: "Puskesmas / community health centre"). */
  readonly label: string;
  readonly sites: number;
  /** Sites of the group that met their target. */
  readonly sitesMeetingTarget: number;
  /** sitesMeetingTarget / sites x 100, unrounded (renderers print it with shares.ts). */
  readonly sitesMeetingTargetPct: number | null;
  /** The group's target (a category's); undefined for kecamatan and desa. */
  readonly targetPct?: number | undefined;
}

export interface AvailabilityReport {
  readonly fromMs: number;
  readonly toMs: number;
  readonly generatedAtMs: number;
  /** e.g. "2026-10" for a month; otherwise the range. */
  readonly periodLabel: string;
  readonly filters: {
    readonly sites?: readonly string[] | undefined;
    readonly categories?: readonly string[] | undefined;
    readonly kecamatan?: readonly string[] | undefined;
  };
  /**
   * True when nothing at all was observed in the period: no heartbeat of the monitor, so every site is
   * unknown the whole time. Such a report is not "0 of 987 meet target": the CLI exits non-zero and the
   * API answers 404 (generate.ts: ReportNoDataError).
   */
  readonly noData: boolean;
  readonly overall: AvailabilityFigures & {
    readonly sites: number;
    readonly sitesMeetingTarget: number;
    readonly sitesMeetingTargetPct: number | null;
  };
  readonly byCategory: readonly GroupRow[];
  readonly byKecamatan: readonly GroupRow[];
  readonly byDesa: readonly GroupRow[];
  /** Every site, in inventory order. */
  readonly sites: readonly SiteRow[];
  /** The lowest availability first (at most 20). */
  readonly worst: readonly SiteRow[];
}
