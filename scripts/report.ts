/**
 * The monthly uptime report for planners, from what the monitor wrote to InfluxDB.
 *
 *   npx tsx scripts/report.ts --month 2026-10 --format pdf|csv|html|json [--out FILE]
 *       [--site ID,...] [--category puskesmas,...] [--kecamatan Petang,...]
 *       [--from 2026-10-01T00:00:00+08:00 --to 2026-10-15T00:00:00+08:00]   (instead of --month)
 *       [--config config/netmon.example.yaml]
 *
 * Without --out the file is var/reports/badung-netmon-<period>.<format> (var/ is not committed). Exit 0
 * when written, 2 on a usage error (the message says what to change), 1 when InfluxDB cannot be read, 3
 * when the period holds no data (the monitor never watched it): no file is written then.
 * `npm run report -- ...` runs this through scripts/report.sh, which installs Chromium and fonts for a PDF.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errorMessage } from '../collector/core/errors.ts';
import {
  REPORT_FORMATS,
  ReportNoDataError,
  ReportRequestError,
  generateReport,
  renderReport,
  type ReportFormat,
} from '../collector/reports/generate.ts';
import { defaultTargets } from '../collector/reports/report.ts';
import { shareText } from '../collector/reports/shares.ts';
import { loadConfig } from '../config/monitor.ts';
import { parseCommandArgs, usageError } from './lib/cli.ts';

/** Where reports go without --out. */
const REPORTS_DIR = 'var/reports';

const usage = `usage: scripts/report.ts (--month YYYY-MM | --from TIME --to TIME) [--format pdf|csv|html|json]
         [--out FILE] [--site ID,..] [--category CAT,..] [--kecamatan NAME,..] [--config FILE]

  --month YYYY-MM   a calendar month in WITA (UTC+8), e.g. --month 2026-10
  --from TIME       start of any range instead of --month: ISO 8601 with its offset,
  --to TIME           e.g. --from 2026-10-01T00:00:00+08:00 --to 2026-10-15T00:00:00+08:00
  --format F        pdf (default; needs Debian's chromium: npm run report installs it), csv, html, json
  --out FILE        where to write (default: ${REPORTS_DIR}/badung-netmon-<period>.<format>)
  --site, --category, --kecamatan
                    only these (comma-separated)
  --config FILE     the monitor config: InfluxDB and inventory (default: $NETMON_CONFIG or
                    config/netmon.example.yaml)
  -h, --help        this text`;

/** A usage error (2, with the usage) or a failure to make the report (1, or 3 when there is no data). */
function fail(message: string, code = 2): never {
  if (code === 2) usageError('report', usage, message);
  console.error(`report: ${message}`);
  process.exit(code);
}

const values = parseCommandArgs('report', usage, {
  month: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  format: { type: 'string', default: 'pdf' },
  out: { type: 'string' },
  site: { type: 'string' },
  category: { type: 'string' },
  kecamatan: { type: 'string' },
  config: { type: 'string', default: process.env.NETMON_CONFIG ?? 'config/netmon.example.yaml' },
});
const format = values.format as ReportFormat;
if (!REPORT_FORMATS.includes(format)) fail(`--format must be one of ${REPORT_FORMATS.join(', ')}`);
const list = (v: string | undefined) =>
  v
    ?.split(',')
    .map((x) => x.trim())
    .filter(Boolean);
const instant = (v: string | undefined, name: string) => {
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  if (!/[Zz]|[+-]\d\d:\d\d$/.test(v) || Number.isNaN(ms))
    fail(`--${name}: an ISO 8601 time with its offset, e.g. 2026-10-01T00:00:00+08:00`);
  return ms;
};

async function main(): Promise<void> {
  const config = await loadConfig(values.config);
  if (config.influx.api !== 'v1')
    fail(
      'reports read InfluxQL over /query: use the InfluxDB 1.x API settings (on 2.x, with a DBRP mapping)',
    );
  const started = performance.now();
  let report;
  try {
    report = await generateReport(
      {
        url: config.influx.url,
        database: config.influx.database,
        username: config.influx.username,
        password: config.influx.password,
      },
      config.inventory,
      {
        month: values.month,
        fromMs: instant(values.from, 'from'),
        toMs: instant(values.to, 'to'),
        sites: list(values.site),
        categories: list(values.category),
        kecamatan: list(values.kecamatan),
      },
      { nowMs: Date.now(), targets: config.reports?.targets ?? defaultTargets() },
    );
  } catch (err) {
    if (err instanceof ReportRequestError) fail(err.message);
    if (err instanceof ReportNoDataError) fail(err.message, 3);
    fail(errorMessage(err), 1);
  }
  const rendered = await renderReport(report, format);
  const out =
    values.out ??
    join(
      REPORTS_DIR,
      `badung-netmon-${report.periodLabel.replace(/[^0-9A-Za-z-]+/g, '_')}.${rendered.extension}`,
    );
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, rendered.body);
  const o = report.overall;
  const pct = (p: number | null, decimals: number) => {
    const s = shareText(p, decimals);
    return s === null ? '–' : `${s} %`;
  };
  console.log(
    `${out}: ${o.sites} sites, availability ${pct(o.availabilityPct, 3)}, ${o.sitesMeetingTarget} of ${o.sites} meet target (${pct(o.sitesMeetingTargetPct, 1)}), ${o.outages} outages (${Math.round(performance.now() - started)} ms)`,
  );
}

main().catch((err: unknown) => fail(errorMessage(err), 1));
