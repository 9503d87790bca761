/**
 * Write-path benchmark: the sinks' CPU cost per 1,000 points against real servers started here on
 * loopback (Debian's influxd for the 1.x API, VictoriaMetrics for /api/v2/write). Not a test.
 *
 *   npx tsx scripts/bench-influx-write.ts [--points 100000] [--batch 1000] [--rounds 5]
 *
 * Each round writes `points` interface samples (the fleet's most common measurement, all eight device
 * tags and ten fields) in batches of `batch`, one batch at a time as the SampleWriter does, and measures
 * this process's CPU time (user + system, process.cpuUsage) and the wall time. Prints the median round
 * per API: CPU-ms per 1k points, wall ms per 1k points. The servers' own CPU is not counted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Secret } from '../collector/core/secret.ts';
import type { Sample } from '../collector/core/types.ts';
import { InfluxV1Sink } from '../collector/sinks/influx-v1.ts';
import { InfluxV2Sink } from '../collector/sinks/influx-v2.ts';
import type { SampleSink } from '../collector/sinks/sink.ts';
import { exitOnHelp } from './lib/cli.ts';
import { startInfluxd } from './lib/servers/influxd.ts';
import { startVictoriaMetrics } from './lib/servers/victoria-metrics.ts';

exitOnHelp(`usage: scripts/bench-influx-write.ts [--points 100000] [--batch 1000] [--rounds 5]

  --points N   points per round (default 100000)
  --batch N    points per write request (default 1000)
  --rounds N   rounds per API; the median is printed (default 5)
  -h, --help   this text

Writes interface samples to a fresh influxd (1.x API) and VictoriaMetrics (/api/v2/write) and prints
this process's CPU-ms and wall ms per 1,000 points. Not a test.`);
const { values } = parseArgs({
  options: {
    points: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '5' },
  },
});
const POINTS = Number(values.points);
const BATCH = Number(values.batch);
const ROUNDS = Number(values.rounds);

function samples(round: number): Sample[] {
  const out: Sample[] = [];
  const t0 = Date.UTC(2026, 10, 1) + round * 3600_000;
  for (let i = 0; i < POINTS; i++) {
    const site = i % 987;
    out.push({
      measurement: 'interface',
      tags: {
        site: `BDG-${String(site).padStart(4, '0')}`,
        site_name: `Taman Kota ${site}, Kuta`,
        category: 'taman',
        kecamatan: 'Kuta Selatan',
        desa: 'Jimbaran',
        device: `BDG-${String(site).padStart(4, '0')}-r1`,
        role: 'router',
        profile: 'mikrotik',
        ifIndex: String(1 + (i % 4)),
        ifName: `ether${1 + (i % 4)}`,
      },
      fields: {
        in_bps: 1e6 + i * 3.5,
        out_bps: 2e5 + i * 1.25,
        in_pps: 120.5,
        out_pps: 98.25,
        in_errors_ps: 0,
        out_errors_ps: 0,
        in_discards_ps: 0.01,
        out_discards_ps: 0,
        oper_status: 1,
        speed_bps: 1_000_000_000,
      },
      timeMs: t0 + Math.floor(i / 987) * 1000,
    });
  }
  return out;
}

interface Round {
  readonly cpuMsPer1k: number;
  readonly wallMsPer1k: number;
}

async function round(sink: SampleSink, batch: readonly Sample[]): Promise<Round> {
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < batch.length; i += BATCH) await sink.write(batch.slice(i, i + BATCH));
  const wall = performance.now() - w0;
  const cpu = process.cpuUsage(cpu0);
  const per1k = batch.length / 1000;
  return { cpuMsPer1k: (cpu.user + cpu.system) / 1000 / per1k, wallMsPer1k: wall / per1k };
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function bench(name: string, sink: SampleSink): Promise<void> {
  await sink.start();
  await round(sink, samples(99).slice(0, 10 * BATCH)); // warm up: JIT, connections
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push(await round(sink, samples(r)));
  await sink.close();
  const cpu = median(rounds.map((r) => r.cpuMsPer1k));
  const wall = median(rounds.map((r) => r.wallMsPer1k));
  console.log(
    `${name}: ${POINTS} points in batches of ${BATCH}, median of ${ROUNDS}: ` +
      `${cpu.toFixed(2)} CPU-ms per 1k points, ${wall.toFixed(2)} wall ms per 1k points ` +
      `(rounds CPU-ms/1k: ${rounds.map((r) => r.cpuMsPer1k.toFixed(2)).join(' ')})`,
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'netmon-bench-write-'));
  const influx = await startInfluxd({ dataDir: join(dir, 'influxdb') });
  const vm = await startVictoriaMetrics({ dataDir: join(dir, 'vm') });
  try {
    await bench(
      '1.x API (influxd)',
      new InfluxV1Sink({ url: influx.url, database: 'bench', timeoutMs: 60_000 }),
    );
    await bench(
      '2.x API (VictoriaMetrics)',
      new InfluxV2Sink({ url: vm.url, org: 'o', bucket: 'b', token: new Secret('t'), timeoutMs: 60_000 }),
    );
  } finally {
    await influx.stop();
    await vm.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
