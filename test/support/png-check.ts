/**
 * Looking at a rendered page as pixels: how much of it is ink, and where the bars of a given colour are.
 * For the PDF report's tests (pdftoppm makes the PNG; pngjs decodes it).
 */
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';

export interface Picture {
  readonly width: number;
  readonly height: number;
  /** RGBA, 4 bytes a pixel, row by row. */
  readonly data: Uint8Array;
}

export function readPng(path: string): Picture {
  const png = PNG.sync.read(readFileSync(path));
  return { width: png.width, height: png.height, data: png.data };
}

function rgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.replace('#', ''), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function pixel(p: Picture, x: number, y: number): [number, number, number] {
  const i = (y * p.width + x) * 4;
  return [p.data[i] ?? 255, p.data[i + 1] ?? 255, p.data[i + 2] ?? 255];
}

/** Share of the page that is not (near) white. */
export function inkShare(p: Picture): number {
  let ink = 0;
  for (let y = 0; y < p.height; y++)
    for (let x = 0; x < p.width; x++) {
      const [r, g, b] = pixel(p, x, y);
      if (r < 235 || g < 235 || b < 235) ink++;
    }
  return ink / (p.width * p.height);
}

/** Share of the page that is dark (text). */
export function darkShare(p: Picture): number {
  let dark = 0;
  for (let y = 0; y < p.height; y++)
    for (let x = 0; x < p.width; x++) {
      const [r, g, b] = pixel(p, x, y);
      if (r + g + b < 200) dark++;
    }
  return dark / (p.width * p.height);
}

export interface BarRun {
  /** First and last pixel row of the bar. */
  readonly y0: number;
  readonly y1: number;
  /** Leftmost and rightmost pixel of the bar colours on those rows. */
  readonly x0: number;
  readonly x1: number;
  readonly pixels: number;
}

/**
 * Horizontal bars drawn in any of `colours` (within `tolerance`, per channel). On each pixel row the
 * longest stretch of such pixels counts (gaps up to `maxGap` pixels, where a target mark crosses a bar,
 * do not break it), if it is at least `minWidth` long, so legend swatches and text are left out;
 * consecutive rows with such a stretch make one bar.
 */
export function barRuns(
  p: Picture,
  colours: readonly string[],
  opts: { tolerance?: number; minWidth?: number; maxGap?: number } = {},
): BarRun[] {
  const tol = opts.tolerance ?? 40;
  const minWidth = opts.minWidth ?? 10;
  const maxGap = opts.maxGap ?? 2;
  const targets = colours.map(rgb);
  const matches = (c: [number, number, number]) =>
    targets.some(
      (t) => Math.abs(c[0] - t[0]) <= tol && Math.abs(c[1] - t[1]) <= tol && Math.abs(c[2] - t[2]) <= tol,
    );
  const runs: BarRun[] = [];
  let open: { y0: number; y1: number; x0: number; x1: number; pixels: number } | undefined;
  for (let y = 0; y < p.height; y++) {
    let best = { x0: 0, x1: -1, n: 0 };
    let cur = { x0: 0, x1: -1, n: 0 };
    for (let x = 0; x < p.width; x++) {
      if (!matches(pixel(p, x, y))) continue;
      if (cur.n > 0 && x - cur.x1 - 1 <= maxGap) cur = { x0: cur.x0, x1: x, n: cur.n + 1 };
      else cur = { x0: x, x1: x, n: 1 };
      if (cur.x1 - cur.x0 > best.x1 - best.x0) best = cur;
    }
    if (best.x1 - best.x0 + 1 >= minWidth) {
      if (open) {
        open.y1 = y;
        open.x0 = Math.min(open.x0, best.x0);
        open.x1 = Math.max(open.x1, best.x1);
        open.pixels += best.n;
      } else open = { y0: y, y1: y, x0: best.x0, x1: best.x1, pixels: best.n };
    } else if (open) {
      runs.push(open);
      open = undefined;
    }
  }
  if (open) runs.push(open);
  return runs;
}

/**
 * The page is a readable report with a non-empty bar chart: text on it, and at least `minBars` bars,
 * which together cover a meaningful share of the chart's box. Throws saying what is wrong.
 */
export function assertReadableChartPage(p: Picture, colours: readonly string[], minBars: number): BarRun[] {
  const ink = inkShare(p);
  if (ink < 0.03) throw new Error(`page looks blank: ${(ink * 100).toFixed(2)}% ink`);
  const dark = darkShare(p);
  if (dark < 0.005) throw new Error(`page has no readable text: ${(dark * 100).toFixed(2)}% dark pixels`);
  const runs = barRuns(p, colours);
  if (runs.length < minBars) throw new Error(`chart has ${runs.length} bars, want at least ${minBars}`);
  const box = {
    x0: Math.min(...runs.map((r) => r.x0)),
    x1: Math.max(...runs.map((r) => r.x1)),
    y0: Math.min(...runs.map((r) => r.y0)),
    y1: Math.max(...runs.map((r) => r.y1)),
  };
  const area = (box.x1 - box.x0 + 1) * (box.y1 - box.y0 + 1);
  const barPixels = runs.reduce((s, r) => s + r.pixels, 0);
  if (barPixels / area < 0.15)
    throw new Error(`chart region is mostly empty: ${((100 * barPixels) / area).toFixed(1)}% bar pixels`);
  return runs;
}
