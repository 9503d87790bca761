/** renderPdf's choices that need no browser: which Chromium, and what it says when there is none. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { NetmonError } from '../../../collector/core/errors.ts';
import {
  CHROMIUM_ARGS,
  chromiumPath,
  DEFAULT_CHROMIUM,
  PdfError,
  renderPdf,
} from '../../../collector/reports/pdf.ts';

const dir = mkdtempSync(join(tmpdir(), 'netmon-pdf-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.unstubAllEnvs());

describe('chromiumPath', () => {
  it('is Debian’s chromium unless NETMON_CHROMIUM or the option says otherwise', () => {
    expect(chromiumPath({}, {})).toBe(DEFAULT_CHROMIUM);
    expect(DEFAULT_CHROMIUM).toBe('/usr/bin/chromium');
    expect(chromiumPath({}, { NETMON_CHROMIUM: '/opt/chromium/chrome' })).toBe('/opt/chromium/chrome');
    expect(chromiumPath({}, { NETMON_CHROMIUM: '' })).toBe(DEFAULT_CHROMIUM);
    expect(chromiumPath({ chromiumPath: '/x/chromium' }, { NETMON_CHROMIUM: '/opt/c' })).toBe('/x/chromium');
  });

  it('starts Chromium quiet and offline', () => {
    expect(CHROMIUM_ARGS).toEqual([
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ]);
  });
});

describe('renderPdf without Chromium', () => {
  it('says how to install it when NETMON_CHROMIUM names nothing', async () => {
    const missing = join(dir, 'no-such-chromium');
    vi.stubEnv('NETMON_CHROMIUM', missing);
    const err: unknown = await renderPdf('<p>x</p>').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PdfError);
    expect(err).toBeInstanceOf(NetmonError);
    const e = err as PdfError;
    expect(e.code).toBe('chromium-missing');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain(missing);
    expect(e.message).toContain("install Debian's chromium: apt-get install chromium");
  });

  it('refuses a file that is not executable', async () => {
    const notExe = join(dir, 'chromium.txt');
    writeFileSync(notExe, 'not a browser', { mode: 0o644 });
    const err: unknown = await renderPdf('<p>x</p>', { chromiumPath: notExe }).catch((e: unknown) => e);
    expect((err as PdfError).code).toBe('chromium-missing');
  });

  it('reports a browser that does not start as a launch error', async () => {
    const fake = join(dir, 'fake-chromium');
    writeFileSync(fake, '#!/bin/sh\necho "no browser here" >&2\nexit 3\n', { mode: 0o755 });
    const err: unknown = await renderPdf('<p>x</p>', { chromiumPath: fake, timeoutMs: 10_000 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PdfError);
    expect((err as PdfError).code).toBe('chromium-launch');
    expect((err as PdfError).message).toContain(fake);
  });
});
