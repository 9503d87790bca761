/**
 * Small SVG charts for a site's last 24 h: a strip of its states and lines of traffic and clients. SVG
 * attributes only (the CSP allows no inline style); the x axis is time in WITA.
 */
import { h, svg } from './dom.ts';
import { stateText } from './i18n.ts';
import { lookOf } from './states.ts';
import { toMs, when } from './time.ts';

const W = 720;

export interface TimeRange {
  readonly from: number;
  readonly to: number;
}

function x(ms: number, r: TimeRange): number {
  return ((ms - r.from) / Math.max(1, r.to - r.from)) * W;
}

/** Each state from its time to the next one's (the last to the range's end). */
export function stateStrip(
  points: readonly { time: string | number; state: string }[],
  r: TimeRange,
  label: string,
): HTMLElement {
  const sorted = points.map((p) => ({ ms: toMs(p.time) ?? 0, state: p.state })).sort((a, b) => a.ms - b.ms);
  const box = svg('svg', {
    viewBox: `0 0 ${W} 22`,
    preserveAspectRatio: 'none',
    class: 'strip',
    role: 'img',
    'aria-label': label,
  });
  sorted.forEach((p, i) => {
    const start = Math.max(p.ms, r.from);
    const end = Math.min(sorted[i + 1]?.ms ?? r.to, r.to);
    if (end <= start) return;
    const rect = svg('rect', {
      x: x(start, r).toFixed(1),
      y: 2,
      width: Math.max(1, x(end, r) - x(start, r)).toFixed(1),
      height: 18,
      fill: lookOf(p.state).colour,
      'data-state': p.state,
    });
    rect.append(svg('title'));
    (rect.firstChild as SVGElement).textContent = `${stateText(p.state)} ${when(start, 'short')}`;
    box.append(rect);
  });
  return h('figure', { class: 'chart' }, h('figcaption', {}, label), box as unknown as HTMLElement);
}

/** Lines of one or more series over the range, scaled to the largest value, with the peak written. */
export function lines(
  series: readonly {
    name: string;
    colour: string;
    points: readonly { time: string | number; v: number }[];
  }[],
  r: TimeRange,
  label: string,
  unit: string,
): HTMLElement {
  const H = 120;
  const max = Math.max(1e-9, ...series.flatMap((s) => s.points.map((p) => p.v).filter(Number.isFinite)));
  const box = svg('svg', { viewBox: `0 0 ${W} ${H + 16}`, class: 'lines', role: 'img', 'aria-label': label });
  box.append(svg('line', { x1: 0, y1: H, x2: W, y2: H, stroke: '#999', 'stroke-width': 1 }));
  for (const s of series) {
    const pts = s.points
      .map((p) => ({ ms: toMs(p.time), v: p.v }))
      .filter((p): p is { ms: number; v: number } => p.ms !== undefined && Number.isFinite(p.v))
      .sort((a, b) => a.ms - b.ms)
      .map((p) => `${x(p.ms, r).toFixed(1)},${(H - (p.v / max) * (H - 6)).toFixed(1)}`);
    if (pts.length === 1) {
      const [cx = '0', cy = '0'] = (pts[0] ?? '').split(',');
      box.append(svg('circle', { cx, cy, r: 2.5, fill: s.colour, 'data-series': s.name }));
    }
    if (pts.length > 1)
      box.append(
        svg('polyline', {
          points: pts.join(' '),
          fill: 'none',
          stroke: s.colour,
          'stroke-width': 1.6,
          'data-series': s.name,
        }),
      );
  }
  const left = svg('text', { x: 2, y: H + 13, 'font-size': 11, fill: '#555' });
  left.textContent = when(r.from, 'short');
  const right = svg('text', { x: W - 2, y: H + 13, 'font-size': 11, fill: '#555', 'text-anchor': 'end' });
  right.textContent = when(r.to, 'short');
  const peak = svg('text', { x: 4, y: 12, 'font-size': 11, fill: '#333' });
  peak.textContent = `max ${max.toFixed(max < 10 ? 2 : 0)} ${unit}`;
  box.append(left, right, peak);
  return h(
    'figure',
    { class: 'chart' },
    h(
      'figcaption',
      {},
      label,
      ' ',
      ...series.map((s) => h('span', { class: `key key-${s.name}` }, `■ ${s.name}`)),
    ),
    box as unknown as HTMLElement,
  );
}
