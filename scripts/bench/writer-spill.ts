/**
 * What a SampleWriter costs while its database is slow or away, and how long it takes to catch up (issue
 * #14: a writer that falls behind must not get slower per sample).
 *
 *   npx tsx scripts/bench/writer-spill.ts [--rate 15000] [--seconds 30] [--sink slow|down]
 *                                         [--delay-ms 1000] [--batch 5000] [--dir DIR]
 *
 * A real SampleWriter (the monitor's defaults: batches of --batch, a flush every second, a 256 MiB disk
 * buffer on the real disk under --dir, default the OS temp folder) writes through the real InfluxDB 2.x
 * sink to a local HTTP server in a child process (so its CPU is not counted here) that answers every
 * POST /api/v2/write after --delay-ms (`slow`) or with 503 (`down`). For --seconds, samples are pushed at
 * --rate per second, 9 per device poll (1 device + 6 interface + 2 wifi points, the fleet's mix; 15,000/s is
 * a 30x Badung fleet at 60 s). Then the server answers at once, pushing stops, and the writer drains.
 *
 * Printed per phase: samples/s accepted (pushed), CPU-ms per 1,000 samples (this process: the writer,
 * its disk buffer and the HTTP client), the event loop's delay (perf_hooks monitorEventLoopDelay
 * p50/p99/max: what a poll timer in the same process would wait), fsyncs a second (every fsync/fdatasync
 * the process makes, counted by wrapping node:fs's functions, which still do the work: test/support/fsync-counter.ts), the highest RSS, and
 * the time to drain once the sink is back. The last line is the same as JSON.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { Sample } from '../../collector/core/types.ts';
import { startFsyncCounter } from '../../test/support/fsync-counter.ts';
import { parseCommandLine } from '../lib/cli.ts';

const USAGE =
  'usage: npx tsx scripts/bench/writer-spill.ts [--rate 15000] [--seconds 30] [--sink slow|down] [--delay-ms 1000] [--batch 5000] [--dir DIR]';

// --- the server role: a database that is slow, down, or back ------------------------------------------------
if (process.argv[2] === '--serve') {
  const { createServer } = await import('node:http');
  let mode = process.argv[3] ?? 'slow';
  const delayMs = Number(process.argv[4] ?? 1000);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    req.resume(); // the body is read and thrown away
    req.on('end', () => {
      if (path === '/ping' || mode === 'fast') res.writeHead(204).end();
      else if (mode === 'down') res.writeHead(503, { 'content-type': 'text/plain' }).end('down\n');
      else setTimeout(() => res.writeHead(204).end(), delayMs);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    process.stdout.write(`${JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 })}\n`);
  });
  createInterface({ input: process.stdin }).on('line', (line) => {
    mode = line.trim();
  });
  process.stdin.on('end', () => process.exit(0));
} else {
  await main();
}

async function main(): Promise<void> {
  const { values } = parseCommandLine('writer-spill', USAGE, {
    rate: { type: 'string', default: '15000' },
    seconds: { type: 'string', default: '30' },
    sink: { type: 'string', default: 'slow' },
    'delay-ms': { type: 'string', default: '1000' },
    batch: { type: 'string', default: '5000' },
    dir: { type: 'string', default: tmpdir() },
  });
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  const delayMs = Number(values['delay-ms']);
  const batchSize = Number(values.batch);
  const sinkMode = values.sink;
  for (const [name, v] of [
    ['rate', rate],
    ['seconds', seconds],
    ['batch', batchSize],
  ] as const)
    if (!(v > 0)) throw new Error(`writer-spill: --${name} must be a positive number`);
  if (sinkMode !== 'slow' && sinkMode !== 'down')
    throw new Error(`writer-spill: --sink must be slow or down, not "${sinkMode}"`);

  const fsyncs = await startFsyncCounter();
  // Imported after the fs functions are wrapped, so their bindings are the counting ones.
  const { systemClock } = await import('../../collector/core/clock.ts');
  const { memoryLogger } = await import('../../collector/core/log.ts');
  const { Secret } = await import('../../collector/core/secret.ts');
  const { InfluxV2Sink } = await import('../../collector/sinks/influx-v2.ts');
  const { SampleWriter } = await import('../../collector/sinks/writer.ts');

  const dir = fs.mkdtempSync(join(values.dir, 'writer-spill-'));
  const server = spawn(
    process.execPath,
    ['--import', 'tsx', new URL(import.meta.url).pathname, '--serve', sinkMode, String(delayMs)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  process.on('exit', () => {
    server.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('exit', (code) => reject(new Error(`writer-spill: the sink server exited (${code})`)));
    createInterface({ input: server.stdout }).once('line', (l) =>
      resolve(Number((JSON.parse(l) as { port: unknown }).port)),
    );
  });

  const log = memoryLogger('warn');
  const writer = new SampleWriter({
    sink: new InfluxV2Sink({
      url: `http://127.0.0.1:${port}`,
      token: new Secret('bench'),
      timeoutMs: 10_000,
      org: 'bench',
      bucket: 'bench',
    }),
    clock: systemClock,
    log,
    batchSize,
    flushIntervalMs: 1000,
    bufferDir: join(dir, 'buffer'),
    maxBufferBytes: 256 << 20,
  });
  await writer.start();

  const poll = pollMaker();
  const eld = monitorEventLoopDelay({ resolution: 10 });
  let rssMax = 0;
  const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage.rss())), 250);

  const phase = (): { cpu: NodeJS.CpuUsage; t0: number; fsyncs: number } => {
    eld.reset();
    eld.enable();
    rssMax = process.memoryUsage.rss();
    return { cpu: process.cpuUsage(), t0: performance.now(), fsyncs: fsyncs.count };
  };
  const measure = (start: ReturnType<typeof phase>, samples: number) => {
    const s = (performance.now() - start.t0) / 1000;
    const cpu = process.cpuUsage(start.cpu);
    eld.disable();
    return {
      seconds: round(s, 1),
      samples,
      samplesPerS: Math.round(samples / s),
      cpuMsPer1k: round((cpu.user + cpu.system) / 1000 / (samples / 1000), 3),
      loopDelayMs: {
        p50: round(eld.percentile(50) / 1e6, 1),
        p99: round(eld.percentile(99) / 1e6, 1),
        max: round(eld.max / 1e6, 1),
      },
      fsyncsPerS: round((fsyncs.count - start.fsyncs) / s, 1),
      rssMaxMB: Math.round(rssMax / 2 ** 20),
    };
  };

  // Phase 1: the sink is slow or down; samples arrive at the fleet's rate.
  const p1 = phase();
  let pushed = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = Math.min(seconds, (performance.now() - p1.t0) / 1000);
      const due = Math.floor(rate * elapsed);
      while (pushed + 9 <= due) {
        writer.push(poll(pushed));
        pushed += 9;
      }
      if (elapsed >= seconds) {
        clearInterval(timer);
        resolve();
      }
    }, 10);
  });
  const behind = measure(p1, pushed);
  const at = writer.stats();

  // Phase 2: the sink answers at once; no more pushes; the writer drains memory and disk.
  server.stdin.write('fast\n');
  const p2 = phase();
  const drainLimitMs = 600_000;
  while (writer.stats().buffered > 0 && performance.now() - p2.t0 < drainLimitMs) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const final = writer.stats();
  const drained = at.buffered - final.buffered;
  const drain = { ...measure(p2, drained), complete: final.buffered === 0 };
  clearInterval(rssTimer);
  await writer.stop();
  server.stdin.end();

  const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const row = (name: string, m: ReturnType<typeof measure>): string =>
    `${name.padEnd(10)} ${String(m.seconds).padStart(7)} ${String(m.samples).padStart(9)} ${String(m.samplesPerS).padStart(9)} ` +
    `${String(m.cpuMsPer1k).padStart(8)} ${`${m.loopDelayMs.p50} / ${m.loopDelayMs.p99} / ${m.loopDelayMs.max}`.padStart(22)} ` +
    `${String(m.fsyncsPerS).padStart(9)} ${String(m.rssMaxMB).padStart(8)}`;
  console.log(
    `writer-spill: sink ${sinkMode}${sinkMode === 'slow' ? ` (${delayMs} ms per write)` : ''}, ${rate} samples/s for ${seconds} s, batch ${batchSize}, load average ${load}`,
  );
  console.log(
    'phase      seconds   samples  samples/s  CPU-ms/1k  loop delay p50/p99/max ms  fsyncs/s   RSS MB',
  );
  console.log(row('behind', behind));
  console.log(row('drain', drain.seconds > 0 ? drain : { ...drain, samplesPerS: 0 }));
  console.log(
    `at the end of the slow phase: written ${at.written}, buffered ${at.buffered} (on disk ${at.onDisk}), dropped ${at.dropped}; ` +
      `drained in ${drain.seconds} s${drain.complete ? '' : ' (NOT complete)'}; at the end written ${final.written}, dropped ${final.dropped}, invalid ${final.invalid}`,
  );
  console.log(
    JSON.stringify({ sink: sinkMode, delayMs, rate, seconds, batchSize, load, behind, drain, end: final }),
  );
  process.exit(0);
}

/** A device poll's samples (9), for one of 3,000 devices, with a timestamp per sample that only grows. */
function pollMaker(): (n: number) => Sample[] {
  const t0 = Date.now();
  return (n) => {
    const d = (n / 9) % 3000;
    const tags = {
      site: `S${Math.floor(d / 3)}`,
      site_name: `Taman ${Math.floor(d / 3)}`,
      category: 'public_park',
      kecamatan: 'Kuta Utara',
      desa: 'Canggu',
      device: `D${d}`,
      role: 'ap',
      profile: 'generic',
    };
    const timeMs = t0 + n;
    const out: Sample[] = [
      {
        measurement: 'device',
        tags,
        fields: { reachable: 1, poll_ms: 12.5, uptime_s: 86_400 + n },
        timeMs,
      },
    ];
    for (let i = 1; i <= 6; i++) {
      out.push({
        measurement: 'interface',
        tags: { ...tags, ifIndex: String(i), ifName: `eth${i}` },
        fields: {
          in_bps: 1_000_000 + i,
          out_bps: 250_000 + i,
          in_pps: 120.5,
          out_pps: 80.25,
          in_errors_ps: 0,
          out_errors_ps: 0,
          in_discards_ps: 0,
          out_discards_ps: 0,
          oper_status: 1,
          speed_bps: 1_000_000_000,
        },
        timeMs: timeMs + i,
      });
    }
    for (let r = 0; r < 2; r++) {
      out.push({
        measurement: 'wifi',
        tags: { ...tags, index: String(r), ssid: 'BadungFreeWiFi', radio: r === 0 ? '2.4GHz' : '5GHz' },
        fields: { clients: 7 + r },
        timeMs: timeMs + 7 + r,
      });
    }
    return out;
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
