/**
 * One report, from the database to the bytes a planner gets: the CLI (scripts/report.ts) and the HTTP API
 * (GET /api/v1/reports/availability) both call this. Filters are checked against the inventory first, so a
 * misspelt kecamatan is an error that says which exist, not an empty report; a period the monitor never
 * watched is ReportNoDataError, not a report of 0 sites meeting target.
 */
import { isoWitaSeconds, witaMonthRange } from '../core/time-zone.ts';
import { CATEGORIES, type Category, type Inventory } from '../core/types.ts';
import { readHistory, type InfluxSource } from './history.ts';
import type { AvailabilityReport } from './model.ts';
import { renderReportCsv } from './render-csv.ts';
import { buildReport } from './report.ts';

export const REPORT_FORMATS = ['csv', 'html', 'pdf', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportQuery {
  /** YYYY-MM (WITA), or a range with fromMs/toMs. */
  readonly month?: string | undefined;
  readonly fromMs?: number | undefined;
  readonly toMs?: number | undefined;
  readonly sites?: readonly string[] | undefined;
  readonly categories?: readonly string[] | undefined;
  readonly kecamatan?: readonly string[] | undefined;
}

/** A request the inventory cannot answer (unknown site, category, kecamatan; bad period). */
export class ReportRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportRequestError';
  }
}

/**
 * Nothing was observed in the period (the monitor wrote no heartbeat in it, or the period has not begun):
 * a report of it would read "0 of 987 meet target". The CLI exits 3, the API answers 404. The report is
 * attached for callers that want to show it anyway (its `noData` is true).
 */
export class ReportNoDataError extends Error {
  readonly report: AvailabilityReport;
  constructor(report: AvailabilityReport, database: string) {
    super(
      `tidak ada data untuk periode ${report.periodLabel} / no data for the period ${report.periodLabel}: ` +
        `the monitor wrote no heartbeat to InfluxDB database '${database}' between ${isoWitaSeconds(report.fromMs)} ` +
        `and ${isoWitaSeconds(Math.max(report.fromMs, report.toMs))} (was it running then, and writing to this database?)`,
    );
    this.name = 'ReportNoDataError';
    this.report = report;
  }
}

export function checkQuery(
  inventory: Inventory,
  q: ReportQuery,
): { fromMs: number; toMs: number; label: string } {
  const unknown = (what: string, given: readonly string[] | undefined, known: readonly string[]) => {
    const bad = (given ?? []).filter((g) => !known.includes(g));
    if (bad.length > 0)
      throw new ReportRequestError(
        `unknown ${what} ${bad.map((b) => `'${b}'`).join(', ')}; known: ${[...new Set(known)].sort().slice(0, 30).join(', ')}`,
      );
  };
  unknown(
    'site',
    q.sites,
    inventory.sites.map((s) => s.id),
  );
  unknown('category', q.categories, CATEGORIES);
  unknown(
    'kecamatan',
    q.kecamatan,
    inventory.sites.map((s) => s.kecamatan),
  );
  if (q.month !== undefined) {
    if (q.fromMs !== undefined || q.toMs !== undefined)
      throw new ReportRequestError('give either a month or a from/to range, not both');
    try {
      return { ...witaMonthRange(q.month), label: q.month };
    } catch (err) {
      throw new ReportRequestError((err as Error).message);
    }
  }
  if (q.fromMs === undefined || q.toMs === undefined || q.toMs <= q.fromMs)
    throw new ReportRequestError('give a month (YYYY-MM) or a range whose end is after its start');
  return {
    fromMs: q.fromMs,
    toMs: q.toMs,
    label: `${isoWitaSeconds(q.fromMs)} .. ${isoWitaSeconds(q.toMs)}`,
  };
}

export async function generateReport(
  src: InfluxSource,
  inventory: Inventory,
  q: ReportQuery,
  opts: { nowMs: number; targets: Readonly<Record<Category, number>> },
): Promise<AvailabilityReport> {
  const { fromMs, toMs, label } = checkQuery(inventory, q);
  const history = await readHistory(src, fromMs, Math.min(toMs, opts.nowMs));
  const report = buildReport(inventory, history, {
    fromMs,
    toMs,
    nowMs: opts.nowMs,
    periodLabel: label,
    targets: opts.targets,
    sites: q.sites,
    categories: q.categories,
    kecamatan: q.kecamatan,
  });
  if (report.noData) throw new ReportNoDataError(report, src.database);
  return report;
}

export interface RenderedReport {
  readonly body: Buffer;
  readonly contentType: string;
  readonly extension: string;
}

export async function renderReport(
  report: AvailabilityReport,
  format: ReportFormat,
): Promise<RenderedReport> {
  switch (format) {
    case 'csv':
      return {
        body: Buffer.from(renderReportCsv(report)),
        contentType: 'text/csv; charset=utf-8',
        extension: 'csv',
      };
    case 'json':
      return {
        body: Buffer.from(`${JSON.stringify(report, null, 2)}\n`),
        contentType: 'application/json',
        extension: 'json',
      };
    case 'html': {
      const { renderReportHtml } = await import('./render-html.ts');
      return {
        body: Buffer.from(renderReportHtml(report)),
        contentType: 'text/html; charset=utf-8',
        extension: 'html',
      };
    }
    case 'pdf': {
      const { renderReportHtml } = await import('./render-html.ts');
      const { renderPdf } = await import('./pdf.ts');
      return {
        body: await renderPdf(renderReportHtml(report)),
        contentType: 'application/pdf',
        extension: 'pdf',
      };
    }
  }
}
