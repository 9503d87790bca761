/**
 * The report as one printable HTML page (A4, for the planners and the Bupati; pdf.ts prints it with
 * Chromium): a summary, bar charts per kecamatan and per category, tables, the worst sites. Bahasa
 * Indonesia first with English alongside; times in WITA (UTC+8). Self-contained: inline CSS and SVG, no
 * script, no external resource, so it prints the same offline. Every text that comes from the data is
 * escaped (site names hold & < > ").
 */
import { formatWita } from '../core/time-zone.ts';
import { CATEGORY_INFO } from '../core/categories.ts';
import type { Category } from '../core/types.ts';
import type { AvailabilityFigures, AvailabilityReport, GroupRow, SiteRow } from './model.ts';
import { shareOf, shareText } from './shares.ts';

/** Bars that meet their target (or have none). Tests look for this colour in the printed page. */
export const BAR_COLOUR = '#1f6fb2';
/** Bars below their target. */
export const BAR_BELOW_TARGET_COLOUR = '#e8590c';
const TARGET_COLOUR = '#8b0000';

const MONTHS_ID = [
  'Januari',
  'Februari',
  'Maret',
  'April',
  'Mei',
  'Juni',
  'Juli',
  'Agustus',
  'September',
  'Oktober',
  'November',
  'Desember',
] as const;
const MONTHS_EN = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** "Ketersediaan / <span>Availability</span>": Indonesian first, English muted. Both escaped. */
function bi(id: string, en: string): string {
  return `${escapeHtml(id)} / <span class="en" lang="en">${escapeHtml(en)}</span>`;
}

/** "99.52%"; never "100.00%" for less than 100 nor "0.00%" for more than 0 (shares.ts); "–" for none. */
export function formatPct(p: number | null | undefined, decimals = 2): string {
  const s = shareText(p, decimals);
  return s === null ? '–' : `${s}%`;
}

/** { id: "1 hari 3 j 12 m", en: "1 d 3 h 12 min" }; under a minute but not zero: "< 1 m". */
export function durationParts(ms: number): { id: string; en: string } {
  const totalMin = Math.max(0, Math.round(ms / 60_000));
  if (totalMin === 0) return ms > 0 ? { id: '< 1 m', en: '< 1 min' } : { id: '0 m', en: '0 min' };
  const d = Math.floor(totalMin / 1440);
  const h = Math.floor((totalMin % 1440) / 60);
  const m = totalMin % 60;
  const parts = [
    [d, `${d} hari`, `${d} d`],
    [h, `${h} j`, `${h} h`],
    [m, `${m} m`, `${m} min`],
  ] as const;
  const shown = parts.filter(([n]) => n > 0);
  return { id: shown.map(([, id]) => id).join(' '), en: shown.map(([, , en]) => en).join(' ') };
}

/** "3 j 12 m / 3 h 12 min"; "–" for null. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '–';
  const p = durationParts(ms);
  return `${p.id} / ${p.en}`;
}

/** A table cell: the Indonesian duration over the English one, so the columns stay narrow. */
function durationCell(ms: number | null): string {
  if (ms === null) return '<td class="num">–</td>';
  const p = durationParts(ms);
  return `<td class="num">${escapeHtml(p.id)}<br><span class="en" lang="en">${escapeHtml(p.en)}</span></td>`;
}

/** "2026-10" → "Oktober 2026 / October 2026"; any other label as it is. */
export function formatPeriodLabel(label: string): string {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(label);
  if (!m) return label;
  const i = Number(m[2]) - 1;
  return `${MONTHS_ID[i] ?? ''} ${m[1]} / ${MONTHS_EN[i] ?? ''} ${m[1]}`;
}

function categoryName(key: string): string {
  const info = CATEGORY_INFO[key as Category] as (typeof CATEGORY_INFO)[Category] | undefined;
  return info ? `${info.id} / ${info.en}` : key;
}

// ---------------------------------------------------------------------------------------------------
// Charts

export interface ChartScale {
  /** Left end of the axis, in %: the bars start here, so 97–100% still differ visibly. */
  readonly minPct: number;
  readonly stepPct: number;
  readonly ticks: readonly number[];
}

/**
 * The axis runs from below the lowest value (or target) to 100%: the floor of the lowest, less 1, rounded
 * down to the tick step, so every bar above 0% has some length and the axis says where it starts.
 */
export function chartScale(values: readonly (number | null | undefined)[]): ChartScale {
  const seen = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const lowest = Math.max(0, Math.min(100, ...seen));
  let min = Math.max(0, Math.floor(lowest) - 1);
  const span = 100 - min;
  const stepPct = span <= 2 ? 0.5 : span <= 5 ? 1 : span <= 10 ? 2 : span <= 25 ? 5 : span <= 50 ? 10 : 20;
  min = Math.max(0, Math.floor(min / stepPct) * stepPct);
  const ticks: number[] = [];
  for (let t = min; t <= 100 + 1e-9; t += stepPct) ticks.push(Math.round(t * 10) / 10);
  return { minPct: min, stepPct, ticks };
}

interface Bar {
  readonly key: string;
  readonly line1: string;
  readonly line2?: string | undefined;
  readonly pct: number | null;
  readonly targetPct?: number | undefined;
}

const CHART = { width: 680, labelW: 210, plotW: 400, rowH: 22, barH: 13, top: 4, axisH: 32 } as const;

/** A horizontal bar chart as inline SVG. Bar widths are exact (the tests measure them). */
export function barChartSvg(bars: readonly Bar[], title: string): string {
  const scale = chartScale(bars.flatMap((b) => [b.pct, b.targetPct]));
  const x0 = CHART.labelW;
  const xOf = (pct: number) =>
    x0 + (CHART.plotW * (Math.min(100, Math.max(scale.minPct, pct)) - scale.minPct)) / (100 - scale.minPct);
  const plotH = bars.length * CHART.rowH;
  const height = CHART.top + plotH + CHART.axisH;
  const out: string[] = [];
  out.push(
    `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${CHART.width} ${height}" width="${CHART.width}" height="${height}" role="img" aria-label="${escapeHtml(title)}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">`,
  );
  for (const t of scale.ticks) {
    const x = xOf(t).toFixed(2);
    out.push(
      `<line x1="${x}" y1="${CHART.top}" x2="${x}" y2="${CHART.top + plotH}" stroke="#d0d0d0" stroke-width="0.6"/>`,
      `<text x="${x}" y="${CHART.top + plotH + 12}" font-size="9" text-anchor="middle" fill="#333">${formatTick(t)}%</text>`,
    );
  }
  bars.forEach((b, i) => {
    const y = CHART.top + i * CHART.rowH;
    const barY = y + (CHART.rowH - CHART.barH) / 2;
    const midY = y + CHART.rowH / 2;
    if (b.line2 === undefined) {
      out.push(
        `<text x="${x0 - 6}" y="${midY + 3.5}" font-size="10" text-anchor="end" fill="#111">${escapeHtml(b.line1)}</text>`,
      );
    } else {
      out.push(
        `<text x="${x0 - 6}" y="${midY - 1.5}" font-size="9.5" text-anchor="end" fill="#111">${escapeHtml(b.line1)}</text>`,
        `<text x="${x0 - 6}" y="${midY + 8}" font-size="8" text-anchor="end" fill="#666">${escapeHtml(b.line2)}</text>`,
      );
    }
    if (b.pct === null) {
      out.push(`<text class="value" x="${x0 + 4}" y="${midY + 3.5}" font-size="10" fill="#333">–</text>`);
    } else {
      const w = xOf(b.pct) - x0;
      const below = b.targetPct !== undefined && b.pct < b.targetPct;
      // The label goes right of the bar, and right of the target mark when that is further.
      const labelX = Math.max(x0 + w, b.targetPct === undefined ? 0 : xOf(b.targetPct) + 1) + 4;
      out.push(
        `<rect class="bar" data-key="${escapeHtml(b.key)}" data-pct="${b.pct}" x="${x0}" y="${barY}" width="${w.toFixed(2)}" height="${CHART.barH}" fill="${below ? BAR_BELOW_TARGET_COLOUR : BAR_COLOUR}"/>`,
        `<text class="value" x="${labelX.toFixed(2)}" y="${midY + 3.5}" font-size="10" fill="#111">${formatPct(b.pct)}</text>`,
      );
    }
    if (b.targetPct !== undefined) {
      const tx = xOf(b.targetPct).toFixed(2);
      out.push(
        `<line class="target" x1="${tx}" y1="${barY - 3}" x2="${tx}" y2="${barY + CHART.barH + 3}" stroke="${TARGET_COLOUR}" stroke-width="2"/>`,
      );
    }
  });
  out.push(
    `<line x1="${x0}" y1="${CHART.top}" x2="${x0}" y2="${CHART.top + plotH}" stroke="#333" stroke-width="1"/>`,
    `<text x="${x0}" y="${CHART.top + plotH + 27}" font-size="8.5" fill="#555">Sumbu mulai dari ${formatTick(scale.minPct)}% / axis starts at ${formatTick(scale.minPct)}%</text>`,
    '</svg>',
  );
  return out.join('\n');
}

function formatTick(t: number): string {
  return Number.isInteger(t) ? String(t) : t.toFixed(1);
}

function groupBars(rows: readonly GroupRow[], split: boolean): Bar[] {
  return rows.map((r) => {
    const [line1, ...rest] = split ? r.label.split(' / ') : [r.label];
    return {
      key: r.key,
      line1: line1 ?? r.key,
      line2: rest.length > 0 ? rest.join(' / ') : undefined,
      pct: r.availabilityPct,
      targetPct: r.targetPct,
    };
  });
}

// ---------------------------------------------------------------------------------------------------
// Page

function summary(report: AvailabilityReport): string {
  const o = report.overall;
  const share = o.sites > 0 ? ` (${formatPct(shareOf(o.sitesMeetingTarget, o.sites), 1)})` : '';
  const item = (label: string, value: string, cls = '') =>
    `<div class="fig${cls}"><div class="k">${label}</div><div class="v">${value}</div></div>`;
  const dur = (ms: number | null) => {
    if (ms === null) return '–';
    const p = durationParts(ms);
    return `${escapeHtml(p.id)} / <span class="en" lang="en">${escapeHtml(p.en)}</span>`;
  };
  const noData = report.noData
    ? `<p class="nodata">${bi(
        'Tidak ada data untuk periode ini: monitor tidak memantau (tidak ada detak jantung monitor di InfluxDB).',
        'No data for this period: the monitor was not watching (no heartbeat of the monitor in InfluxDB).',
      )}</p>\n`
    : '';
  return `${noData}<div class="summary">
${item(bi('Ketersediaan keseluruhan', 'Overall availability'), formatPct(o.availabilityPct), ' big')}
${item(bi('Situs memenuhi target', 'Sites meeting target'), report.noData ? '–' : `${o.sitesMeetingTarget} dari/<span class="en" lang="en">of</span> ${o.sites}${share}`, ' big')}
${item(bi('Jumlah gangguan', 'Outages'), String(o.outages))}
${item(LONGEST_HEAD, dur(o.longestOutageMs))}
${item(bi('Rata-rata waktu pemulihan', 'Mean time to restore (MTTR)'), dur(o.mttrMs))}
${item(bi('Total waktu putus (semua situs)', 'Total downtime (all sites)'), dur(o.downMs))}
${item(bi('Waktu pemeliharaan (semua situs)', 'Maintenance time (all sites)'), dur(o.maintenanceMs))}
${item(bi('Tidak terpantau, rata-rata per situs', 'Unknown, mean per site (monitor not watching)'), unknownPerSite(o, o.sites))}
${item(bi('Batas waktu penanganan terlewati', 'Response-clock breaches'), String(o.clockBreaches))}
</div>`;
}

function filtersText(f: AvailabilityReport['filters']): string {
  const parts: string[] = [];
  if (f.categories?.length)
    parts.push(
      `${bi('Kategori', 'Category')}: ${f.categories.map((c) => escapeHtml(categoryName(c))).join('; ')}`,
    );
  if (f.kecamatan?.length) parts.push(`Kecamatan: ${f.kecamatan.map(escapeHtml).join(', ')}`);
  if (f.sites?.length) parts.push(`${bi('Situs', 'Sites')}: ${f.sites.map(escapeHtml).join(', ')}`);
  return parts.length > 0 ? parts.join(' · ') : bi('semua situs', 'all sites');
}

/**
 * Time not watched, per site: a group's sum over its sites would read "2807 d" next to a 2.5-day
 * period. The mean per site, with its share of the period: "2 j 50 m / 2 h 50 min (4.7%)".
 */
function unknownPerSite(f: AvailabilityFigures, sites: number): string {
  if (sites <= 0) return '–';
  const p = durationParts(f.unknownMs / sites);
  const share = f.unknownSharePct === null ? '' : ` (${formatPct(f.unknownSharePct, 1)})`;
  return `${escapeHtml(p.id)} / <span class="en" lang="en">${escapeHtml(p.en)}</span>${share}`;
}

/** The figures every group table shows after its own first columns (times summed over the group's sites). */
function figureCells(f: AvailabilityFigures, sites: number): string {
  return [
    `<td class="num">${f.outages}</td>`,
    durationCell(f.downMs),
    durationCell(f.longestOutageMs),
    durationCell(f.mttrMs),
    durationCell(f.maintenanceMs),
    `<td class="num">${unknownPerSite(f, sites).replace(' / ', '<br>')}</td>`,
  ].join('');
}

/** The longest outage is whole (first failed poll to recovery): the note under the summary says why. */
const LONGEST_HEAD = bi('Gangguan terlama (utuh)', 'Longest outage (whole)');

const FIGURE_HEADS = [
  bi('Gangguan', 'Outages'),
  bi('Waktu putus', 'Downtime'),
  LONGEST_HEAD,
  'MTTR',
  bi('Pemeliharaan', 'Maintenance'),
  bi('Tidak terpantau, rata-rata per situs', 'Unknown, mean per site'),
];

function thead(heads: readonly string[]): string {
  return `<thead><tr>${heads.map((h) => `<th>${h}</th>`).join('')}</tr></thead>`;
}

function availabilityCell(pct: number | null, targetPct: number | undefined): string {
  const below = pct !== null && targetPct !== undefined && pct < targetPct;
  return `<td class="num${below ? ' below' : ''}">${formatPct(pct)}</td>`;
}

/** "Puskesmas / community health centre" as two lines, the English muted. */
function labelCell(label: string): string {
  const [id, ...en] = label.split(' / ');
  return en.length > 0
    ? `${escapeHtml(id ?? '')}<br><span class="en" lang="en">${escapeHtml(en.join(' / '))}</span>`
    : escapeHtml(label);
}

function categoryTable(rows: readonly GroupRow[]): string {
  const body = rows
    .map(
      (r) =>
        `<tr><td class="name">${labelCell(r.label)}</td><td class="num">${r.sites}</td><td class="num">${formatPct(r.targetPct)}</td>${availabilityCell(r.availabilityPct, r.targetPct)}<td class="num">${r.sitesMeetingTarget}/${r.sites}</td>${figureCells(r, r.sites)}</tr>`,
    )
    .join('\n');
  return `<table class="data">${thead([bi('Kategori', 'Category'), bi('Situs', 'Sites'), 'Target', bi('Ketersediaan', 'Availability'), bi('Memenuhi target', 'Meeting target'), ...FIGURE_HEADS])}<tbody>${body}</tbody></table>`;
}

function kecamatanTable(rows: readonly GroupRow[]): string {
  const body = rows
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.label)}</td><td class="num">${r.sites}</td>${availabilityCell(r.availabilityPct, r.targetPct)}<td class="num">${r.sitesMeetingTarget}/${r.sites}</td>${figureCells(r, r.sites)}</tr>`,
    )
    .join('\n');
  return `<table class="data">${thead(['Kecamatan', bi('Situs', 'Sites'), bi('Ketersediaan', 'Availability'), bi('Memenuhi target', 'Meeting target'), ...FIGURE_HEADS])}<tbody>${body}</tbody></table>`;
}

function worstTable(rows: readonly SiteRow[]): string {
  if (rows.length === 0) return `<p class="note">${bi('Tidak ada data.', 'No data.')}</p>`;
  const body = rows
    .map(
      (r, i) =>
        `<tr><td class="num">${i + 1}</td><td class="name">${escapeHtml(r.name)}<br><span class="id">${escapeHtml(r.siteId)}</span></td><td>${labelCell(categoryName(r.category))}</td><td>${escapeHtml(r.kecamatan)}<br><span class="id">${escapeHtml(r.desa)}</span></td>${availabilityCell(r.availabilityPct, r.targetPct)}<td class="num">${formatPct(r.targetPct)}</td><td class="num">${r.outages}</td>${durationCell(r.downMs)}${durationCell(r.longestOutageMs)}<td class="num">${r.clockBreaches}</td></tr>`,
    )
    .join('\n');
  return `<table class="data worst">${thead(['No.', bi('Situs', 'Site'), bi('Kategori', 'Category'), bi('Kecamatan / desa', 'District / village'), bi('Ketersediaan', 'Availability'), 'Target', bi('Gangguan', 'Outages'), bi('Waktu putus', 'Downtime'), LONGEST_HEAD, bi('Batas waktu terlewati', 'Clock breaches')])}<tbody>${body}</tbody></table>`;
}

const CSS = `
@page { size: A4; margin: 14mm 12mm 16mm 12mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 9pt; color: #111; background: #fff; }
h1 { font-size: 15pt; margin: 0 0 2mm; line-height: 1.25; }
h1 .en { display: block; font-size: 12pt; }
h2 { font-size: 11pt; margin: 4mm 0 1.5mm; padding-bottom: 1mm; border-bottom: 1px solid #999; break-after: avoid; page-break-after: avoid; }
.en { color: #555; }
.meta { margin: 0 0 3mm; border-collapse: collapse; }
.meta th { text-align: left; font-weight: normal; color: #333; padding: 0.5mm 4mm 0.5mm 0; vertical-align: top; }
.meta td { padding: 0.5mm 0; }
.summary { display: grid; grid-template-columns: repeat(3, 1fr); gap: 2mm; margin: 2mm 0; }
.fig { border: 1px solid #bbb; border-radius: 1.5mm; padding: 1.5mm 2mm; break-inside: avoid; }
.fig .k { font-size: 7.5pt; color: #333; }
.fig .v { font-size: 10pt; font-weight: bold; margin-top: 0.8mm; }
.fig.big .v { font-size: 13pt; }
.chart { width: 100%; height: auto; display: block; break-inside: avoid; }
.legend { font-size: 7.5pt; color: #333; margin: 1mm 0 0; }
.sw { display: inline-block; width: 3mm; height: 2.2mm; vertical-align: middle; margin: 0 1mm 0 3mm; }
.sw.tgt { width: 0.7mm; height: 3.5mm; }
table.data { width: 100%; border-collapse: collapse; font-size: 7pt; margin-top: 1mm; }
table.data th { background: #e9e9e9; text-align: left; vertical-align: bottom; padding: 1mm; border: 1px solid #bbb; font-weight: bold; }
table.data td { padding: 0.8mm 1mm; border: 1px solid #ccc; vertical-align: top; }
table.data tr { break-inside: avoid; page-break-inside: avoid; }
td.num { text-align: right; white-space: nowrap; }
td.name { min-width: 30mm; }
td.below { color: #b02a00; font-weight: bold; }
.id { color: #666; font-size: 6.5pt; }
.note { font-size: 7.5pt; color: #444; }
.nodata { font-size: 11pt; font-weight: bold; color: #111; border: 2px solid #b02a00; padding: 2mm; margin: 2mm 0; }
`;

export function renderReportHtml(report: AvailabilityReport): string {
  const title = 'Laporan Ketersediaan Jaringan Wi-Fi Publik Kabupaten Badung';
  const titleEn = 'Badung Public Wi-Fi Availability Report';
  const period = formatPeriodLabel(report.periodLabel);
  const legend = (withTarget: boolean) =>
    `<p class="legend"><span class="sw" style="background:${BAR_COLOUR}"></span>${withTarget ? bi('memenuhi target', 'meets target') : bi('ketersediaan', 'availability')}${
      withTarget
        ? `<span class="sw" style="background:${BAR_BELOW_TARGET_COLOUR}"></span>${bi('di bawah target', 'below target')}<span class="sw tgt" style="background:${TARGET_COLOUR}"></span>${bi('target kategori', 'category target')}`
        : ''
    }</p>`;
  return `<!DOCTYPE html>
<html lang="id">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)} / ${escapeHtml(titleEn)} — ${escapeHtml(period)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)} <span class="en" lang="en">/ ${escapeHtml(titleEn)}</span></h1>
<table class="meta">
<tr><th>${bi('Periode', 'Period')}</th><td>${escapeHtml(period)}<br>${escapeHtml(formatWita(report.fromMs))} – ${escapeHtml(formatWita(report.toMs))}</td></tr>
<tr><th>${bi('Dibuat', 'Generated')}</th><td>${escapeHtml(formatWita(report.generatedAtMs))}</td></tr>
<tr><th>Filter</th><td>${filtersText(report.filters)}</td></tr>
</table>
</header>
<section>
<h2>${bi('Ringkasan', 'Summary')}</h2>
${summary(report)}
<p class="note">${bi(
    'Ketersediaan = waktu aktif ÷ (waktu aktif + waktu putus). Waktu pemeliharaan dan waktu tidak terpantau tidak dihitung. Waktu putus dan pemeliharaan dijumlahkan atas semua situs; waktu tidak terpantau adalah rata-rata per situs (dan bagiannya dari periode).',
    'Availability = up time ÷ (up time + downtime). Maintenance and time the monitor was not watching count neither way. Downtime and maintenance are summed over all sites; unknown time is the mean per site (and its share of the period).',
  )}</p>
<p class="note">${bi(
    'Gangguan terlama dan MTTR mengukur gangguan utuh, dari poll gagal pertama sampai router menjawab lagi, termasuk waktu pemeliharaan atau tidak terpantau di dalamnya; karena itu gangguan terlama bisa lebih panjang dari waktu putus, yang tidak menghitung waktu itu.',
    'The longest outage and MTTR measure whole outages, from the first failed poll to the router answering again, including any maintenance or unwatched time inside them; so the longest outage can exceed the downtime, which leaves that time out.',
  )}</p>
</section>
<section class="charts">
<h2>${bi('Ketersediaan per kecamatan', 'Availability by district (kecamatan)')}</h2>
${barChartSvg(groupBars(report.byKecamatan, false), 'Ketersediaan per kecamatan / Availability by district')}
${legend(false)}
<h2>${bi('Ketersediaan per kategori', 'Availability by category')}</h2>
${barChartSvg(groupBars(report.byCategory, true), 'Ketersediaan per kategori / Availability by category')}
${legend(true)}
</section>
<section>
<h2>${bi('Menurut kategori', 'By category')}</h2>
${categoryTable(report.byCategory)}
</section>
<section>
<h2>${bi('Menurut kecamatan', 'By district (kecamatan)')}</h2>
${kecamatanTable(report.byKecamatan)}
</section>
<section>
<h2>${bi(`${report.worst.length} situs dengan ketersediaan terendah`, `The ${report.worst.length} sites with the lowest availability`)}</h2>
${worstTable(report.worst)}
</section>
</body>
</html>
`;
}
