/** The CSV as a spreadsheet reads it: bilingual headers, honest shares, the whole longest outage labelled. */
import { describe, expect, it } from 'vitest';
import type { AvailabilityReport, SiteRow } from '../../../collector/reports/model.ts';
import { renderReportCsv } from '../../../collector/reports/render-csv.ts';
import { sampleReport } from '../../support/report-fixture.ts';

/** RFC 4180 fields of one line (quoted fields may hold commas). */
function fields(line: string): string[] {
  return [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)]
    .slice(0, -1)
    .map((m) => (m[1] ?? '').replace(/^"|"$/g, '').replace(/""/g, '"'));
}

function column(csv: string, header: RegExp): string[] {
  const [head, ...rows] = csv.trimEnd().split('\r\n');
  const i = fields(head ?? '').findIndex((h) => header.test(h));
  expect(i, `a column matching ${header}`).toBeGreaterThanOrEqual(0);
  return rows.map((r) => fields(r)[i] ?? '?');
}

describe('renderReportCsv', () => {
  const base = sampleReport();
  const site = base.sites[0]!;
  const withSites = (rows: SiteRow[]): AvailabilityReport => ({ ...base, sites: rows });

  it('never prints 100.000 for a site that was down, nor 0.000 for one that was up', () => {
    const csv = renderReportCsv(
      withSites([
        { ...site, siteId: 'a', availabilityPct: 99.99996 },
        { ...site, siteId: 'b', availabilityPct: 100 },
        { ...site, siteId: 'c', availabilityPct: 0.0001 },
        { ...site, siteId: 'd', availabilityPct: null },
      ]),
    );
    expect(column(csv, /^Ketersediaan %/)).toEqual(['99.999', '100.000', '0.001', '']);
  });

  it('gives each site its unknown time as a share of the period', () => {
    const period = 2.5 * 86_400_000;
    const csv = renderReportCsv(
      withSites([{ ...site, periodMs: period, unknownMs: period / 4, unknownSharePct: 25 }]),
    );
    expect(column(csv, /unknown \(s\)$/)).toEqual([String(period / 4000)]);
    expect(column(csv, /unknown % of period$/)).toEqual(['25.0']);
  });

  it('labels the longest outage as whole, so a value above the downtime reads right', () => {
    const csv = renderReportCsv(
      withSites([{ ...site, downMs: 77_000, longestOutageMs: 134_000, maintenanceMs: 57_000 }]),
    );
    expect(column(csv, /^Waktu putus/)).toEqual(['77']);
    const [longest] = column(csv, /longest outage/);
    expect(longest).toBe('134');
    const head = fields(csv.split('\r\n')[0] ?? '');
    expect(head.find((h) => h.includes('longest outage'))).toMatch(
      /termasuk pemeliharaan\/tidak terpantau.*incl\. maintenance\/unknown/,
    );
    for (const h of head) expect(h).toMatch(/\S \/ \S|^Kecamatan$|^Desa\/Kelurahan$|^Target %$/);
  });
});
