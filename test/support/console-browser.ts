/**
 * Driving the console in Debian's Chromium (playwright-core, no downloaded browser): a browser whose pages
 * may reach the monitor only (anything else is refused and recorded, so a test proves the console fetches
 * nothing from the internet), whose script errors and CSP violations are collected, sign-in as a person
 * does it, and screenshots that must show something (pixel variance) under var/screenshots/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { chromiumPath } from '../../collector/reports/pdf.ts';

export const SCREENSHOT_DIR = join(process.cwd(), 'var', 'screenshots');

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

export interface ConsoleContext {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Script errors, console errors (a CSP violation is one) and refused requests, as they happened. */
  readonly problems: string[];
  /** Requests to anywhere but the monitor. */
  readonly foreign: string[];
}

/** A fresh browser profile (its own cookies) on `base`, phone-sized when `viewport` says so. */
export async function openConsole(
  browser: Browser,
  base: string,
  viewport: { width: number; height: number } = { width: 1280, height: 860 },
): Promise<ConsoleContext> {
  const context = await browser.newContext({
    viewport,
    acceptDownloads: true,
    locale: 'id-ID',
    timezoneId: 'UTC', // the console must show WITA whatever the browser's zone
  });
  const problems: string[] = [];
  const foreign: string[] = [];
  const origin = new URL(base).origin;
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith('data:')) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    // A refused request is logged as a console error too; the responses below judge those (a 401 before
    // sign-in is how the console learns it must ask for one).
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource'))
      problems.push(`console: ${msg.text()}`);
  });
  page.on('response', (res) => {
    if (res.status() === 404 || res.status() >= 500) problems.push(`${res.status()} ${res.url()}`);
  });
  return { context, page, problems, foreign };
}

/** Sign in through the form, as a person would; resolves when the map's page is up. */
export async function signIn(page: Page, base: string, username: string, password: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.locator('form[data-testid=signin] input[name=username]').fill(username);
  await page.locator('form[data-testid=signin] input[name=password]').fill(password);
  await page.locator('form[data-testid=signin] button[type=submit]').click();
  await page.locator('header.top').waitFor();
}

export interface ShotCheck {
  readonly path: string;
  readonly width: number;
  readonly height: number;
  /** Standard deviation of the grey level over the picture: ~0 for a blank page. */
  readonly stddev: number;
  /** How many distinct colours (quantised to 4 bits a channel). */
  readonly colours: number;
}

/** Save a screenshot under var/screenshots and measure how much is on it. */
export async function screenshot(page: Page, name: string): Promise<ShotCheck> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  const buf = await page.screenshot({ path, fullPage: false });
  const png = PNG.sync.read(buf);
  let sum = 0;
  let sq = 0;
  const colours = new Set<number>();
  const n = png.width * png.height;
  for (let i = 0; i < n; i++) {
    const r = png.data[i * 4] ?? 0;
    const g = png.data[i * 4 + 1] ?? 0;
    const b = png.data[i * 4 + 2] ?? 0;
    const grey = 0.299 * r + 0.587 * g + 0.114 * b;
    sum += grey;
    sq += grey * grey;
    colours.add(((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4));
  }
  const mean = sum / n;
  return {
    path,
    width: png.width,
    height: png.height,
    stddev: Math.sqrt(sq / n - mean * mean),
    colours: colours.size,
  };
}

/** Markers the map shows: single site markers plus the sites inside each cluster's count. */
export async function markersOnMap(page: Page): Promise<{ singles: string[]; clustered: number }> {
  // A string runs in the page: the test code has no DOM types (tsconfig lib), the page has the DOM.
  const singles = await page.evaluate<string[]>(
    "[...document.querySelectorAll('.site-pin[data-site]')].map((e) => e.dataset.site)",
  );
  const counts = await page.evaluate<number[]>(
    "[...document.querySelectorAll('.cluster-pin[data-count]')].map((e) => Number(e.dataset.count))",
  );
  return { singles, clustered: counts.reduce((a, b) => a + b, 0) };
}
