/**
 * The report printed by real Chromium (Debian's, /usr/bin/chromium or NETMON_CHROMIUM): a PDF whose first
 * page has the title, the kecamatan and percentages as text (pdftotext), and, as a picture (pdftoppm at
 * 50 dpi), is a readable page with bar charts whose bars are where the numbers say. An empty chart and a
 * blank page fail the same checks.
 */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPdf } from '../../../collector/reports/pdf.ts';
import {
  BAR_BELOW_TARGET_COLOUR,
  BAR_COLOUR,
  renderReportHtml,
} from '../../../collector/reports/render-html.ts';
import { assertReadableChartPage, barRuns, readPng, type Picture } from '../../support/png-check.ts';
import { CATEGORY_PCT, KECAMATAN_PCT, emptyReport, sampleReport } from '../../support/report-fixture.ts';

const BAR_COLOURS = [BAR_COLOUR, BAR_BELOW_TARGET_COLOUR];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-pdf-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function print(name: string, html: string): Promise<{ pdf: Buffer; path: string }> {
  const pdf = await renderPdf(html);
  const path = join(dir, `${name}.pdf`);
  writeFileSync(path, pdf);
  return { pdf, path };
}

function firstPageText(path: string): string {
  return execFileSync('pdftotext', ['-f', '1', '-l', '1', path, '-'], { encoding: 'utf8' });
}

function firstPagePicture(path: string, name: string): Picture {
  const prefix = join(dir, `${name}-page`);
  execFileSync('pdftoppm', ['-png', '-r', '50', '-f', '1', '-l', '1', path, prefix]);
  const png = readdirSync(dir).find((f) => f.startsWith(`${name}-page`) && f.endsWith('.png'));
  if (!png) throw new Error(`pdftoppm wrote no PNG for ${name}`);
  return readPng(join(dir, png));
}

describe('renderPdf with Chromium', () => {
  let report: { pdf: Buffer; path: string };
  beforeAll(async () => {
    report = await print('report', renderReportHtml(sampleReport()));
  });

  it('prints an A4 PDF', () => {
    expect(report.pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const info = execFileSync('pdfinfo', [report.path], { encoding: 'utf8' });
    expect(info).toMatch(/Page size:\s+595\.\d+ x 841\.\d+|Page size:\s+595\.\d+ x 842\.\d+/);
    expect(Number(/Pages:\s+(\d+)/.exec(info)?.[1])).toBeGreaterThanOrEqual(2);
  });

  it('has the title, a kecamatan and percentages as text on page 1', () => {
    const text = firstPageText(report.path).replace(/\s+/g, ' ');
    expect(text).toContain('Laporan Ketersediaan Jaringan Wi-Fi Publik Kabupaten Badung');
    expect(text).toContain('Badung Public Wi-Fi Availability Report');
    expect(text).toContain('Oktober 2026 / October 2026');
    expect(text).toContain('Kuta Selatan');
    expect(text).toContain('Petang');
    expect(text).toContain('98.73%'); // overall
    expect(text).toContain('96.73%'); // Petang's bar label
  });

  it('page 1 is a readable report with both charts, bars as long as their numbers', () => {
    const pic = firstPagePicture(report.path, 'report');
    expect(pic.width).toBeGreaterThan(400); // A4 at 50 dpi: 413 x 585
    const bars = assertReadableChartPage(pic, BAR_COLOURS, 10);
    const kecamatan = Object.values(KECAMATAN_PCT);
    const categories = Object.values(CATEGORY_PCT).filter((v) => v !== null);
    // Kecamatan chart first, then the category chart (its unobserved category has no bar).
    expect(bars).toHaveLength(kecamatan.length + categories.length);
    const kec = bars.slice(0, kecamatan.length);
    const start = kec[0]?.x0 ?? 0;
    for (const b of kec) expect(Math.abs(b.x0 - start)).toBeLessThanOrEqual(1);
    // The axis starts at 95% (floor of 96.73 less 1): width ∝ pct − 95.
    const widths = kec.map((b) => b.x1 - b.x0 + 1);
    const pxPerPct = (widths[4] ?? 0) / ((kecamatan[4] ?? 0) - 95); // Mengwi, the longest
    expect(pxPerPct).toBeGreaterThan(20);
    kecamatan.forEach((pct, i) =>
      expect(Math.abs((widths[i] ?? 0) - (pct - 95) * pxPerPct)).toBeLessThanOrEqual(3),
    );
  });

  it('an empty chart fails the chart check', async () => {
    const empty = await print('empty', renderReportHtml(emptyReport()));
    const pic = firstPagePicture(empty.path, 'empty');
    expect(barRuns(pic, BAR_COLOURS)).toHaveLength(0);
    expect(() => assertReadableChartPage(pic, BAR_COLOURS, 1)).toThrow(/chart has 0 bars/);
    expect(firstPageText(empty.path)).toContain('–');
  });

  it('a blank page fails the readability check', async () => {
    const blank = await print('blank', '<!DOCTYPE html><html><body></body></html>');
    const pic = firstPagePicture(blank.path, 'blank');
    expect(() => assertReadableChartPage(pic, BAR_COLOURS, 1)).toThrow(/blank/);
  });

  it('loads nothing from the network: an image on a loopback server is never fetched', async () => {
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(req.url ?? '');
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const html = `<!DOCTYPE html><html><body><p>ok</p><img src="http://127.0.0.1:${port}/x.png"><link rel="stylesheet" href="http://127.0.0.1:${port}/x.css"></body></html>`;
      const { pdf } = await print('offline', html);
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(requests).toEqual([]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
