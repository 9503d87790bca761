/**
 * The report as CSV for spreadsheets: one row per site with its figures, headers in Bahasa Indonesia and
 * English, times in WITA (ISO 8601 with +08:00), durations in seconds, percentages with 3 decimals (never
 * rounded up to 100.000 nor down to 0.000: shares.ts).
 * RFC 4180: CRLF line ends, fields with a comma, quote or line break quoted.
 */
import type { AvailabilityReport, SiteRow } from './model.ts';
import { shareText } from './shares.ts';

const COLUMNS: readonly [string, (r: SiteRow) => string | number | null][] = [
  ['ID situs / site ID', (r) => r.siteId],
  ['Nama / name', (r) => r.name],
  ['Kategori / category', (r) => r.category],
  ['Kecamatan', (r) => r.kecamatan],
  ['Desa/Kelurahan', (r) => r.desa],
  ['Ketersediaan % / availability %', (r) => shareText(r.availabilityPct, 3)],
  ['Target %', (r) => r.targetPct.toFixed(1)],
  [
    'Memenuhi target / meets target',
    (r) => (r.meetsTarget === null ? null : r.meetsTarget ? 'ya/yes' : 'tidak/no'),
  ],
  ['Waktu putus (detik) / downtime (s)', (r) => Math.round(r.downMs / 1000)],
  ['Pemeliharaan (detik) / maintenance (s)', (r) => Math.round(r.maintenanceMs / 1000)],
  ['Tidak terpantau (detik) / unknown (s)', (r) => Math.round(r.unknownMs / 1000)],
  ['Tidak terpantau % periode / unknown % of period', (r) => shareText(r.unknownSharePct, 1)],
  ['Jumlah gangguan / outages', (r) => r.outages],
  // Whole: from the first failed poll to recovery, maintenance and unwatched time inside it included,
  // so it can exceed the downtime column (which leaves those out). The header says so.
  [
    'Gangguan terlama utuh, termasuk pemeliharaan/tidak terpantau (detik) / longest outage, whole, incl. maintenance/unknown (s)',
    (r) => Math.round(r.longestOutageMs / 1000),
  ],
  ['MTTR (detik) / MTTR (s)', (r) => (r.mttrMs === null ? null : Math.round(r.mttrMs / 1000))],
  ['Pelanggaran SLA / SLA clock breaches', (r) => r.clockBreaches],
];

function field(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderReportCsv(report: AvailabilityReport): string {
  const lines = [
    COLUMNS.map(([h]) => field(h)).join(','),
    ...report.sites.map((r) => COLUMNS.map(([, get]) => field(get(r))).join(',')),
  ];
  return `${lines.join('\r\n')}\r\n`;
}
