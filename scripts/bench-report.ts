/**
 * Report benchmark: a month of history for the 987 Badung sites in a fresh InfluxDB (Debian's influxd,
 * started here on loopback), then the October report as the CLI makes it, timed. Not a test.
 *
 * The month: a heartbeat every 10 s (259,200 points), and per site a few outages of minutes to hours
 * (suspect → down → up transitions of its router), an occasional maintenance window and clock breach.
 *
 *   npx tsx scripts/bench-report.ts [--outages 4] [--pdf]
 *
 * Prints what was written and, for the report: the time to read the history, to compute the figures,
 * and to render CSV and HTML (and PDF with --pdf), and the process's peak memory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { intOption, parseCommandArgs } from './lib/cli.ts';
import { generateBadungInventory } from '../config/badung/generate.ts';
import type { Sample } from '../collector/core/types.ts';
import { readHistory } from '../collector/reports/history.ts';
import { witaMonthRange } from '../collector/core/time-zone.ts';
import { buildReport, defaultTargets } from '../collector/reports/report.ts';
import { renderReport } from '../collector/reports/generate.ts';
import { InfluxV1Sink } from '../collector/sinks/influx-v1.ts';
import { startInfluxd } from './lib/servers/influxd.ts';

const COMMAND = 'bench-report';
const USAGE = `usage: scripts/bench-report.ts [--outages 4] [--pdf]

  --outages N   outages per site in the generated month (default 4)
  --pdf         also time the PDF (needs Debian's chromium)
  -h, --help    this text

Writes a month of history for the 987 sites into a fresh InfluxDB, then times the report. Not a test.`;
const values = parseCommandArgs(COMMAND, USAGE, {
  outages: { type: 'string', default: '4' },
  pdf: { type: 'boolean', default: false },
});
const OUTAGES = intOption(COMMAND, USAGE, 'outages', values.outages, 0, 1000);
const MONTH = '2026-10';
const DB = 'bench_report';

/** Deterministic pseudo-random numbers (the same month every run). */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'netmon-bench-report-'));
  const influx = await startInfluxd({ dataDir: join(dir, 'influxdb') });
  try {
    const { inventory } = generateBadungInventory();
    const { fromMs, toMs } = witaMonthRange(MONTH);
    const rnd = mulberry32(7);
    const samples: Sample[] = [];
    for (let t = fromMs; t < toMs; t += 10_000)
      samples.push({
        measurement: 'monitor',
        tags: { component: 'collector' },
        fields: { polls: 100, period_s: 10 },
        timeMs: t,
      });
    for (const site of inventory.sites) {
      const router = inventory.devices.find((d) => d.siteId === site.id && d.role === 'router');
      if (!router) continue;
      const tags = {
        site: site.id,
        site_name: site.name,
        category: site.category,
        kecamatan: site.kecamatan,
        desa: site.desa,
        device: router.id,
        role: 'router',
        profile: router.profile,
      };
      const state = (timeMs: number, s: string) =>
        samples.push({
          measurement: 'device_state',
          tags: { ...tags, state: s },
          fields: { state: s, state_code: 0 },
          timeMs,
        });
      state(fromMs - 3600_000, 'up');
      for (let i = 0; i < OUTAGES; i++) {
        const at = fromMs + Math.floor(rnd() * (toMs - fromMs - 10 * 3600_000));
        const len = 60_000 + Math.floor(rnd() * rnd() * 6 * 3600_000);
        state(at, 'suspect');
        state(at + 30_000, 'down');
        state(at + len, 'up');
      }
      if (rnd() < 0.1) {
        const at = fromMs + Math.floor(rnd() * (toMs - fromMs - 4 * 3600_000));
        const m = {
          site: site.id,
          site_name: site.name,
          category: site.category,
          kecamatan: site.kecamatan,
          desa: site.desa,
        };
        samples.push({
          measurement: 'maintenance',
          tags: m,
          fields: { active: 1, reason: 'bench' },
          timeMs: at,
        });
        samples.push({
          measurement: 'maintenance',
          tags: m,
          fields: { active: 0, reason: 'bench' },
          timeMs: at + 3 * 3600_000,
        });
      }
      if (rnd() < 0.05)
        samples.push({
          measurement: 'incident',
          tags: { ...tags, severity: 'critical', kind: 'device_down', event: 'clock_breached' },
          fields: { id: `${router.id}@bench`, text: 'bench' },
          timeMs: fromMs + Math.floor(rnd() * (toMs - fromMs)),
        });
    }
    const sink = new InfluxV1Sink({ url: influx.url, database: DB, timeoutMs: 60_000 });
    await sink.start();
    const w0 = performance.now();
    for (let i = 0; i < samples.length; i += 5000) await sink.write(samples.slice(i, i + 5000));
    await sink.close();
    const writeS = (performance.now() - w0) / 1000;
    console.log(
      `history: ${inventory.sites.length} sites, month ${MONTH}, ${samples.length} points (${OUTAGES} outages per site, heartbeats every 10 s) written in ${writeS.toFixed(1)} s`,
    );

    const t0 = performance.now();
    const history = await readHistory({ url: influx.url, database: DB }, fromMs, toMs);
    const t1 = performance.now();
    const report = buildReport(inventory, history, {
      fromMs,
      toMs,
      nowMs: toMs + 86_400_000,
      periodLabel: MONTH,
      targets: defaultTargets(),
    });
    const t2 = performance.now();
    const csv = await renderReport(report, 'csv');
    const t3 = performance.now();
    const html = await renderReport(report, 'html');
    const t4 = performance.now();
    let pdfMs: number | undefined;
    if (values.pdf) {
      await renderReport(report, 'pdf');
      pdfMs = performance.now() - t4;
    }
    const pct = report.overall.availabilityPct ?? NaN;
    console.log(
      [
        `report ${MONTH}: ${report.sites.length} sites, availability ${pct.toFixed(3)} %, ${report.overall.outages} outages`,
        `  read history   ${(t1 - t0).toFixed(0)} ms`,
        `  compute        ${(t2 - t1).toFixed(0)} ms`,
        `  render CSV     ${(t3 - t2).toFixed(0)} ms (${csv.body.length} bytes)`,
        `  render HTML    ${(t4 - t3).toFixed(0)} ms (${html.body.length} bytes)`,
        ...(pdfMs === undefined ? [] : [`  render PDF     ${pdfMs.toFixed(0)} ms (Chromium)`]),
        `  total          ${(t4 - t0 + (pdfMs ?? 0)).toFixed(0)} ms; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
      ].join('\n'),
    );
  } finally {
    await influx.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
