/**
 * What Grafana does to an InfluxQL query before its InfluxDB data source sends it, for tests that run the
 * dashboards' queries against a real InfluxDB (public/app/plugins/datasource/influxdb and the template
 * service of grafana/grafana):
 *   - `$timeFilter` → `time >= <from>ms and time <= <to>ms`
 *   - `$__interval`, `$interval` → the range divided by the data points wanted (the panel's width, about
 *     1,000 px), rounded to Grafana's steps, never below the data source's `timeInterval`
 *   - `$var`, `${var}`, `[[var]]`, `${var:regex}` → the variable's value; "All" with an allValue → the
 *     allValue as is; several values → `(a|b)` with each regex-escaped (the InfluxDB data source's
 *     interpolateQueryExpr for multi-value variables)
 *   - relative times: `now`, `now-15m`, `now-6h`, `now/M` (start of the month in the dashboard's zone)
 */

export interface VariableValue {
  /** One value, several (multi), or All (use `allValue`). */
  readonly values: readonly string[] | 'all';
  readonly allValue?: string | undefined;
  readonly multi?: boolean | undefined;
}

export interface ExpandContext {
  readonly fromMs: number;
  readonly toMs: number;
  /** Data points the panel wants (its width in px). */
  readonly maxDataPoints?: number | undefined;
  /** The data source's minimum interval (jsonData.timeInterval), e.g. "30s". */
  readonly minInterval?: string | undefined;
  readonly variables: Readonly<Record<string, VariableValue>>;
}

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  M: 30 * 86_400_000,
  y: 365 * 86_400_000,
};

/** Grafana's roundInterval (packages/grafana-data/src/datetime/rangeutil.ts). */
export function roundInterval(ms: number): number {
  const steps: [number, number][] = [
    [15, 10],
    [35, 20],
    [75, 50],
    [150, 100],
    [350, 200],
    [750, 500],
    [1500, 1000],
    [3500, 2000],
    [7500, 5000],
    [12500, 10000],
    [17500, 15000],
    [25000, 20000],
    [45000, 30000],
    [90000, 60000],
    [210000, 120000],
    [450000, 300000],
    [750000, 600000],
    [1050000, 900000],
    [1500000, 1200000],
    [2700000, 1800000],
    [5400000, 3600000],
    [9000000, 7200000],
    [16200000, 10800000],
    [32400000, 21600000],
    [86400000, 43200000],
    [604800000, 86400000],
    [1814400000, 604800000],
    [3628800000, 2592000000],
  ];
  for (const [below, to] of steps) if (ms < below) return to;
  return 31_536_000_000;
}

export function parseInterval(s: string): number {
  const m = /^(\d+)(ms|s|m|h|d|w|M|y)$/.exec(s);
  if (!m) throw new Error(`not an interval: ${s}`);
  return Number(m[1]) * (UNIT_MS[m[2] as string] ?? NaN);
}

/** `10s`, `1m`, `1h`... as Grafana writes an interval. */
export function formatInterval(ms: number): string {
  for (const unit of ['y', 'w', 'd', 'h', 'm', 's'] as const) {
    const n = UNIT_MS[unit] as number;
    if (ms >= n && ms % n === 0) return `${ms / n}${unit}`;
  }
  return `${ms}ms`;
}

export function intervalFor(ctx: ExpandContext): string {
  const raw = roundInterval((ctx.toMs - ctx.fromMs) / (ctx.maxDataPoints ?? 1000));
  const min = ctx.minInterval ? parseInterval(ctx.minInterval) : 0;
  return formatInterval(Math.max(raw, min));
}

const regexEscape = (v: string) => v.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');

function valueOf(name: string, v: VariableValue | undefined, format: string | undefined): string {
  if (!v) throw new Error(`query uses $${name}, which the dashboard does not define`);
  if (v.values === 'all') {
    if (v.allValue !== undefined) return v.allValue;
    throw new Error(`$${name}: All without an allValue needs the variable's options`);
  }
  if (v.values.length === 1 && !v.multi && format !== 'regex') return v.values[0] as string;
  const escaped = v.values.map(regexEscape);
  return escaped.length === 1 ? (escaped[0] as string) : `(${escaped.join('|')})`;
}

/** The query as the InfluxDB data source sends it. */
export function expandQuery(query: string, ctx: ExpandContext): string {
  const interval = intervalFor(ctx);
  return query
    .replaceAll('$timeFilter', `time >= ${ctx.fromMs}ms and time <= ${ctx.toMs}ms`)
    .replaceAll('$__interval_ms', String(parseInterval(interval)))
    .replaceAll('$__interval', interval)
    .replace(/\$interval\b/g, interval)
    .replace(
      /\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)\]\]|\$(\w+)/g,
      (
        whole,
        braced: string | undefined,
        format: string | undefined,
        bracketed: string | undefined,
        bare: string | undefined,
      ) => {
        const name = braced ?? bracketed ?? bare;
        if (!name) return whole;
        return valueOf(name, ctx.variables[name], format);
      },
    );
}

/** A dashboard time (`now`, `now-6h`, `now/M`) at `nowMs`, in `zone`'s calendar for `/M` and `/d`. */
export function resolveTime(expr: string, nowMs: number, zone = 'Asia/Makassar'): number {
  if (expr === 'now') return nowMs;
  const rel = /^now-(\d+)(s|m|h|d|w|M|y)$/.exec(expr);
  if (rel) return nowMs - Number(rel[1]) * (UNIT_MS[rel[2] as string] as number);
  const round = /^now\/(d|M)$/.exec(expr);
  if (round) {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      })
        .formatToParts(new Date(nowMs))
        .map((p) => [p.type, Number(p.value)]),
    ) as Partial<Record<string, number>>;
    const part = (k: string) => parts[k] ?? NaN;
    const wall = Date.UTC(
      part('year'),
      part('month') - 1,
      part('day'),
      part('hour'),
      part('minute'),
      part('second'),
    );
    const offset = wall - Math.floor(nowMs / 1000) * 1000;
    const start =
      round[1] === 'M'
        ? Date.UTC(part('year'), part('month') - 1, 1)
        : Date.UTC(part('year'), part('month') - 1, part('day'));
    return start - offset;
  }
  throw new Error(`unsupported dashboard time '${expr}'`);
}
