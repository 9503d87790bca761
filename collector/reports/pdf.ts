/**
 * HTML to PDF with Debian's Chromium (apt-get install chromium), driven by playwright-core: the only file
 * that imports it. No browser is downloaded: the executable is /usr/bin/chromium or NETMON_CHROMIUM.
 * Each call starts a fresh headless Chromium with a throw-away profile and no network (every request is
 * refused; the report is self-contained), prints A4 and stops it again.
 */
import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { errorMessage, NetmonError } from '../core/errors.ts';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** Chromium missing, not starting, or failing to print. */
export class PdfError extends NetmonError {}

export interface PdfOptions {
  /** Default: env NETMON_CHROMIUM, else /usr/bin/chromium. */
  readonly chromiumPath?: string | undefined;
  /** For starting Chromium, loading the page and printing it, each. Default 60 s. */
  readonly timeoutMs?: number | undefined;
  readonly landscape?: boolean | undefined;
}

/** Flags for a quiet, offline, throw-away browser: no update checks, no sync, no GPU, no QUIC. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumPath(opts: PdfOptions = {}, env: NodeJS.ProcessEnv = process.env): string {
  return opts.chromiumPath ?? (env['NETMON_CHROMIUM'] || DEFAULT_CHROMIUM);
}

export async function renderPdf(html: string, opts: PdfOptions = {}): Promise<Buffer> {
  const exe = chromiumPath(opts);
  try {
    await access(exe, constants.X_OK);
  } catch (err) {
    throw new PdfError(
      'chromium-missing',
      `Chromium not found or not executable at ${exe} (set NETMON_CHROMIUM to another path); install Debian's chromium: apt-get install chromium`,
      { retryable: false, cause: err },
    );
  }
  const timeout = opts.timeoutMs ?? 60_000;
  // Playwright wants the profile as launchPersistentContext's argument, not as --user-data-dir in args.
  const profile = await mkdtemp(join(tmpdir(), 'netmon-chromium-'));
  try {
    let context;
    try {
      context = await chromium.launchPersistentContext(profile, {
        executablePath: exe,
        headless: true,
        args: [...CHROMIUM_ARGS],
        timeout,
        offline: true,
      });
    } catch (err) {
      throw new PdfError('chromium-launch', `Chromium at ${exe} did not start: ${errorMessage(err)}`, {
        retryable: false,
        cause: err,
      });
    }
    try {
      await context.route('**/*', (route) => route.abort());
      const page = context.pages()[0] ?? (await context.newPage());
      page.setDefaultTimeout(timeout);
      await page.setContent(html, { waitUntil: 'load', timeout });
      return await page.pdf({ format: 'A4', printBackground: true, landscape: opts.landscape ?? false });
    } catch (err) {
      if (err instanceof PdfError) throw err;
      throw new PdfError('pdf-render', `Chromium could not print the report: ${errorMessage(err)}`, {
        retryable: true,
        cause: err,
      });
    } finally {
      await context.close().catch(() => undefined);
    }
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}
