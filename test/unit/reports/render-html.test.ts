import { describe, expect, it } from 'vitest';
import type { AvailabilityReport, GroupRow } from '../../../collector/reports/model.ts';
import {
  BAR_BELOW_TARGET_COLOUR,
  BAR_COLOUR,
  chartScale,
  durationParts,
  escapeHtml,
  formatDuration,
  formatPct,
  formatPeriodLabel,
  renderReportHtml,
} from '../../../collector/reports/render-html.ts';
import {
  EVIL_NAME,
  emptyReport,
  figures,
  KECAMATAN_PCT,
  sampleReport,
} from '../../support/report-fixture.ts';

/** The text a reader sees: inline tags out, block tags a space, entities decoded, whitespace folded. */
function visibleText(html: string): string {
  return html
    .replace(/<style>[\s\S]*?<\/style>/g, ' ')
    .replace(/<\/?span[^>]*>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

function between(html: string, open: string, close: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    const a = html.indexOf(open, i);
    if (a < 0) return out;
    const b = html.indexOf(close, a);
    out.push(html.slice(a + open.length, b));
    i = b;
  }
}

interface ChartBar {
  key: string;
  pct: number;
  x: number;
  width: number;
  fill: string;
}

/** The bars of each chart, in order, and where each chart's axis starts. */
function charts(html: string): { bars: ChartBar[]; axisMin: number }[] {
  return between(html, '<svg class="chart"', '</svg>').map((svg) => ({
    bars: [
      ...svg.matchAll(
        /<rect class="bar" data-key="([^"]*)" data-pct="([^"]*)" x="([^"]*)" y="[^"]*" width="([^"]*)" height="[^"]*" fill="([^"]*)"/g,
      ),
    ].map((m) => ({
      key: m[1] ?? '',
      pct: Number(m[2]),
      x: Number(m[3]),
      width: Number(m[4]),
      fill: m[5] ?? '',
    })),
    axisMin: Number(/axis starts at ([\d.]+)%/.exec(svg)?.[1]),
  }));
}

describe('formatting', () => {
  it.each([
    [0, '0 m', '0 min'],
    [20_000, '< 1 m', '< 1 min'],
    [59 * 60_000, '59 m', '59 min'],
    [3 * 3600_000 + 12 * 60_000, '3 j 12 m', '3 h 12 min'],
    [3 * 3600_000, '3 j', '3 h'],
    [26 * 3600_000 + 5 * 60_000, '1 hari 2 j 5 m', '1 d 2 h 5 min'],
  ])('duration %d ms is "%s" / "%s"', (ms, id, en) => {
    expect(durationParts(ms)).toEqual({ id, en });
  });

  it('formats durations bilingually and null as a dash', () => {
    expect(formatDuration(3 * 3600_000 + 12 * 60_000)).toBe('3 j 12 m / 3 h 12 min');
    expect(formatDuration(null)).toBe('–');
  });

  it.each([
    [99.523, '99.52%'],
    [100, '100.00%'],
    [99.9999, '99.99%'], // not 100.00% unless it is
    [99.995, '99.99%'],
    [0, '0.00%'],
    [0.001, '0.01%'], // not 0.00% when something was up
    [null, '–'],
    [undefined, '–'],
  ])('percentage %s is %s', (p, want) => {
    expect(formatPct(p)).toBe(want);
  });

  it('names a month in both languages and keeps other labels', () => {
    expect(formatPeriodLabel('2026-10')).toBe('Oktober 2026 / October 2026');
    expect(formatPeriodLabel('2027-01')).toBe('Januari 2027 / January 2027');
    expect(formatPeriodLabel('2026-10-01..2026-10-07')).toBe('2026-10-01..2026-10-07');
  });

  it('escapes the five HTML characters', () => {
    expect(escapeHtml(`a & b < c > d " e ' f`)).toBe('a &amp; b &lt; c &gt; d &quot; e &#39; f');
  });

  it.each([
    [[99.2, 97.6, 99.7], 96, 1],
    [[97.1, 100], 96, 1],
    [[99.95, 99.99], 98, 0.5],
    [[100, 100], 99, 0.5],
    [[80, 99], 75, 5],
    [[12.5, 99], 0, 20],
    [[0], 0, 20],
    [[null, undefined], 99, 0.5],
  ])('axis for %j starts at %d with step %d', (values, min, step) => {
    const s = chartScale(values);
    expect(s.minPct).toBe(min);
    expect(s.stepPct).toBe(step);
    expect(s.ticks[0]).toBe(min);
    expect(s.ticks.at(-1)).toBe(100);
    for (const v of values) if (typeof v === 'number') expect(v).toBeGreaterThanOrEqual(min);
  });
});

describe('renderReportHtml', () => {
  const report = sampleReport();
  const html = renderReportHtml(report);
  const text = visibleText(html);

  it('is one self-contained page: no script, no external resource', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<html lang="id">');
    expect(html).toContain('@page { size: A4; margin:');
    expect(html).not.toMatch(/<script|\bon\w+=|<link|<img|\bsrc=|\bhref=|@import|url\(/i);
    // The only URL is SVG's namespace, which is a name, not a fetch.
    expect([...html.matchAll(/https?:\/\/[^\s"]+/g)].map((m) => m[0])).toEqual(
      charts(html).map(() => 'http://www.w3.org/2000/svg'),
    );
  });

  it('has the bilingual title, period in WITA, generated-at and filters', () => {
    expect(text).toContain(
      'Laporan Ketersediaan Jaringan Wi-Fi Publik Kabupaten Badung / Badung Public Wi-Fi Availability Report',
    );
    expect(text).toContain('Periode / Period Oktober 2026 / October 2026');
    // 1 Oct 00:00 WITA is 30 Sep 16:00 UTC; the end is 1 Nov 00:00 WITA.
    expect(text).toContain('00:00 WITA, 01-10-2026 – 00:00 WITA, 01-11-2026');
    expect(text).toContain('Dibuat / Generated 09:30 WITA, 01-11-2026');
    expect(text).toContain('Filter semua situs / all sites');
    const filtered = visibleText(
      renderReportHtml({ ...report, filters: { categories: ['puskesmas'], kecamatan: ['Petang', 'Kuta'] } }),
    );
    expect(filtered).toContain('Kategori / Category: Puskesmas / community health centre');
    expect(filtered).toContain('Kecamatan: Petang, Kuta');
  });

  it('has every heading and column label in both languages', () => {
    const headings = between(html, '<h2>', '</h2>').map(visibleText);
    expect(headings).toEqual([
      'Ringkasan / Summary',
      'Ketersediaan per kecamatan / Availability by district (kecamatan)',
      'Ketersediaan per kategori / Availability by category',
      'Menurut kategori / By category',
      'Menurut kecamatan / By district (kecamatan)',
      '20 situs dengan ketersediaan terendah / The 20 sites with the lowest availability',
    ]);
    // Words that are the same in both languages need no translation.
    const same = new Set(['Kecamatan', 'MTTR', 'Target', 'No.', 'Filter']);
    const labels = [...between(html, '<th>', '</th>'), ...between(html, '<div class="k">', '</div>')].map(
      visibleText,
    );
    expect(labels.length).toBeGreaterThan(40);
    for (const l of labels) if (!same.has(l)) expect(l).toMatch(/\S \/ \S/);
    for (const want of [
      'Ketersediaan / Availability',
      'Ketersediaan keseluruhan / Overall availability',
      'Situs memenuhi target / Sites meeting target',
      'Jumlah gangguan / Outages',
      'Gangguan terlama (utuh) / Longest outage (whole)',
      'Rata-rata waktu pemulihan / Mean time to restore (MTTR)',
      'Total waktu putus (semua situs) / Total downtime (all sites)',
      'Waktu pemeliharaan (semua situs) / Maintenance time (all sites)',
      'Tidak terpantau, rata-rata per situs / Unknown, mean per site (monitor not watching)',
      'Tidak terpantau, rata-rata per situs / Unknown, mean per site',
      'Batas waktu penanganan terlewati / Response-clock breaches',
    ])
      expect(labels).toContain(want);
  });

  it('shows the summary figures', () => {
    const o = report.overall;
    expect(text).toContain('Ketersediaan keseluruhan / Overall availability 98.73%');
    expect(text).toContain('861 dari/of 987 (87.2%)');
    expect(text).toContain(`Jumlah gangguan / Outages ${o.outages}`);
    expect(text).toContain('Gangguan terlama (utuh) / Longest outage (whole) 3 j 12 m / 3 h 12 min');
    expect(text).toContain(
      `Total waktu putus (semua situs) / Total downtime (all sites) ${formatDuration(o.downMs)}`,
    );
    expect(text).toContain(
      `Waktu pemeliharaan (semua situs) / Maintenance time (all sites) ${formatDuration(o.maintenanceMs)}`,
    );
    // Unknown is per site (2 h each in the fixture), not the sum over 987 sites (82 days).
    expect(text).toContain('Unknown, mean per site (monitor not watching) 2 j / 2 h (0.3%)');
    expect(text).not.toContain(formatDuration(o.unknownMs));
    expect(text).toContain('Response-clock breaches 4');
  });

  it('never rounds a share up to 100% while one site misses its target', () => {
    const oneMisses: AvailabilityReport = {
      ...report,
      overall: { ...report.overall, sitesMeetingTarget: 986, sitesMeetingTargetPct: (100 * 986) / 987 },
    };
    const t = visibleText(renderReportHtml(oneMisses));
    expect(t).toContain('986 dari/of 987 (99.9%)');
    expect(t).not.toContain('of 987 (100');
    const all = visibleText(
      renderReportHtml({
        ...report,
        overall: { ...report.overall, sitesMeetingTarget: 987, sitesMeetingTargetPct: 100 },
      }),
    );
    expect(all).toContain('987 dari/of 987 (100.0%)');
  });

  it('says the unknown time of a group per site, with its share of the period', () => {
    // A 2.5-day period, 987 sites, each unknown for 1 h 12 min: the sum would read "49 d 8 h 24 min".
    const period = 2.5 * 86_400_000;
    const perSite = 72 * 60_000;
    const half: AvailabilityReport = {
      ...report,
      overall: {
        ...report.overall,
        periodMs: period,
        unknownMs: perSite * 987,
        unknownSharePct: (100 * perSite) / period,
      },
    };
    const t = visibleText(renderReportHtml(half));
    expect(t).toContain('Unknown, mean per site (monitor not watching) 1 j 12 m / 1 h 12 min (2.0%)');
    expect(t).not.toMatch(/49 hari|49 d/);
    // The group tables: smp was never watched, so each of its sites is unknown the whole month.
    const smpRow = between(html, '<tr>', '</tr>').find((r) => r.includes('Sekolah Menengah Pertama'));
    expect(visibleText(smpRow ?? '')).toMatch(/31 hari 31 d \(100\.0%\)$/);
  });

  it('explains that the longest outage is whole and can exceed the downtime', () => {
    expect(text).toContain('so the longest outage can exceed the downtime');
    expect(text).toContain('gangguan terlama bisa lebih panjang dari waktu putus');
  });

  it('says there is no data for a period the monitor never watched, not "0 of 987"', () => {
    const t = visibleText(renderReportHtml(emptyReport()));
    expect(t).toContain('Tidak ada data untuk periode ini');
    expect(t).toContain('No data for this period: the monitor was not watching');
    expect(t).not.toContain('0 dari/of 987');
    expect(text).not.toContain('No data for this period');
  });

  it('escapes text from the data everywhere', () => {
    expect(html).not.toContain(EVIL_NAME);
    expect(html).not.toContain('<Sari>');
    expect(html).toContain('Banjar &quot;Tegal&quot; &amp; &lt;Sari&gt; Kerobokan');
    expect(text).toContain(EVIL_NAME);
    const evil = '<script>alert("x")</script> & Co';
    const hostile: AvailabilityReport = {
      ...report,
      periodLabel: evil,
      filters: { sites: [evil], kecamatan: [evil], categories: [evil] },
      byKecamatan: report.byKecamatan.map((g) => ({ ...g, key: evil, label: evil })),
      byCategory: report.byCategory.map((g) => ({ ...g, key: evil, label: `${evil} / ${evil}` })),
      worst: report.worst.map((s) => ({ ...s, siteId: evil, name: evil, kecamatan: evil, desa: evil })),
    };
    const out = renderReportHtml(hostile);
    expect(out).not.toMatch(/<script/i);
    expect(out).not.toContain('"x"');
    expect(visibleText(out)).toContain(evil);
  });

  it('shows a dash for null availability, in the tables and in the chart', () => {
    const smpRow = between(html, '<tr>', '</tr>').find((r) => r.includes('Sekolah Menengah Pertama'));
    expect(smpRow).toBeDefined();
    expect(smpRow).toContain('<td class="num">–</td>');
    expect(smpRow).not.toMatch(/NaN|null|undefined/);
    const [, category] = charts(html);
    expect(category?.bars.map((b) => b.key)).not.toContain('smp');
    expect(html).toMatch(/<text class="value" x="[\d.]+" y="[\d.]+" font-size="10" fill="#333">–<\/text>/);
    const empty = renderReportHtml(emptyReport());
    expect(empty).not.toMatch(/NaN|null|undefined|Infinity/);
    expect(visibleText(empty)).toContain('Ketersediaan keseluruhan / Overall availability –');
    expect(visibleText(empty)).toContain('Rata-rata waktu pemulihan / Mean time to restore (MTTR) –');
    expect(charts(empty).every((c) => c.bars.length === 0)).toBe(true);
    expect(empty).not.toMatch(/NaN/);
  });

  it('draws bars proportional to availability above the axis start, with a label on each', () => {
    const [kecamatan, category] = charts(html);
    expect(kecamatan?.bars.map((b) => b.key)).toEqual(Object.keys(KECAMATAN_PCT));
    expect(kecamatan?.axisMin).toBe(95); // floor(96.73) − 1
    for (const chart of [kecamatan, category]) {
      const bars = chart?.bars ?? [];
      const min = chart?.axisMin ?? NaN;
      expect(bars.length).toBeGreaterThan(5);
      const perPct = (bars[0]?.width ?? 0) / ((bars[0]?.pct ?? 0) - min);
      for (const b of bars) {
        expect(b.width).toBeGreaterThan(0);
        expect(b.x).toBe(bars[0]?.x);
        expect(b.width).toBeCloseTo((b.pct - min) * perPct, 1);
        expect(html).toContain(`>${formatPct(b.pct)}</text>`);
      }
    }
    // 100% fills the plot: 400 units.
    const full = charts(renderReportHtml({ ...report, byKecamatan: [group('A', 100), group('B', 97)] }))[0];
    expect(full?.bars.map((b) => b.width)).toEqual([400, (400 * (97 - 96)) / (100 - 96)]);
  });

  it('gives values between 97 and 100% distinct, visible bars', () => {
    const values = [97, 97.5, 98.25, 99, 99.9, 100];
    const bars =
      charts(renderReportHtml({ ...report, byKecamatan: values.map((v, i) => group(`K${i}`, v)) }))[0]
        ?.bars ?? [];
    const widths = bars.map((b) => b.width);
    expect(widths).toHaveLength(values.length);
    expect(Math.min(...widths)).toBeGreaterThan(50);
    for (let i = 1; i < widths.length; i++) expect(widths[i]).toBeGreaterThan(widths[i - 1] ?? Infinity);
  });

  it('marks each category target and colours the bars below it', () => {
    const [kecamatan, category] = charts(html);
    const svgs = between(html, '<svg class="chart"', '</svg>');
    expect(svgs[0]).not.toContain('class="target"'); // kecamatan have no target of their own
    expect((svgs[1]?.match(/class="target"/g) ?? []).length).toBe(report.byCategory.length);
    expect(kecamatan?.bars.every((b) => b.fill === BAR_COLOUR)).toBe(true);
    const below = category?.bars.filter((b) => b.fill === BAR_BELOW_TARGET_COLOUR).map((b) => b.key);
    // kantor_camat 99.20 < 99.5, lingkungan 97.60 < 98, obyek_wisata 97.95 < 98.5
    expect(below).toEqual(['kantor_camat', 'lingkungan', 'obyek_wisata']);
  });

  it('lists the worst sites in the report order, numbered', () => {
    const table = between(html, '<table class="data worst">', '</table>')[0] ?? '';
    const rows = between(table, '<tr><td class="num">', '</tr>');
    expect(rows).toHaveLength(20);
    rows.forEach((r, i) => {
      expect(r.startsWith(`${i + 1}</td>`)).toBe(true);
      expect(r).toContain(escapeHtml(report.worst[i]?.name ?? '?'));
      expect(r).toContain(formatPct(report.worst[i]?.availabilityPct ?? null));
    });
    expect(visibleText(renderReportHtml(emptyReport()))).toContain('Tidak ada data. / No data.');
  });

  it('shows category targets and kecamatan rows in the tables', () => {
    const rows = between(html, '<tr>', '</tr>').map(visibleText);
    expect(rows).toContainEqual(
      expect.stringMatching(/^Puskesmas community health centre 13 99\.50% 99\.70% /),
    );
    expect(rows).toContainEqual(expect.stringMatching(/^Petang 160 96\.73% 42\/160 /));
  });
});

function group(key: string, pct: number): GroupRow {
  return {
    ...figures(pct, 10),
    key,
    label: key,
    sites: 10,
    sitesMeetingTarget: 10,
    sitesMeetingTargetPct: 100,
  };
}
