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
  /** up / (up + down) x 100; null when nothing was observed. */
  readonly availabilityPct: number | null;
  readonly outages: number;
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
  readonly overall: AvailabilityFigures & { readonly sites: number; readonly sitesMeetingTarget: number };
  readonly byCategory: readonly GroupRow[];
  readonly byKecamatan: readonly GroupRow[];
  readonly byDesa: readonly GroupRow[];
  /** Every site, in inventory order. */
  readonly sites: readonly SiteRow[];
  /** The lowest availability first (at most 20). */
  readonly worst: readonly SiteRow[];
}
