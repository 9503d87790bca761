/**
 * A page as real Chromium shows it (Debian's chromium through playwright-core, as collector/reports/pdf.ts
 * prints): a PNG of the whole page at a given width, its visible text, and whether it fits that width.
 * For the status page's tests. Loopback only: the page is served by the test's own monitor.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumPath } from '../../collector/reports/pdf.ts';

export interface Shot {
  readonly png: Buffer;
  /** document.body.innerText */
  readonly text: string;
  /** document.documentElement.scrollWidth: wider than the viewport means a horizontal scrollbar. */
  readonly scrollWidth: number;
  /** Elements that scroll sideways inside the page (a table too wide for its box): tag.class each. */
  readonly scrollingInside: readonly string[];
  /** Requests the page made beyond its own URL (a self-contained page makes none). */
  readonly extraRequests: readonly string[];
}

export async function screenshot(url: string, width: number, savePath?: string): Promise<Shot> {
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [...CHROMIUM_ARGS],
    timeout: 60_000,
  });
  try {
    const page = await browser.newPage({ viewport: { width, height: 800 }, deviceScaleFactor: 1 });
    const requests: string[] = [];
    page.on('request', (r) => {
      if (r.url() !== url) requests.push(r.url());
    });
    await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
    const png = await page.screenshot({ fullPage: true, type: 'png' });
    // Run in the page (strings: this project's TypeScript has no DOM types).
    const text = await page.evaluate<string>('document.body.innerText');
    const scrollWidth = await page.evaluate<number>('document.documentElement.scrollWidth');
    const scrollingInside = await page.evaluate<string[]>(`[...document.body.querySelectorAll('*')]
      .filter((e) => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
      .map((e) => e.tagName.toLowerCase() + '.' + e.className)`);
    if (savePath) {
      mkdirSync(dirname(savePath), { recursive: true });
      writeFileSync(savePath, png);
    }
    return { png, text, scrollWidth, scrollingInside, extraRequests: requests };
  } finally {
    await browser.close();
  }
}
