/**
 * Preloaded into the collector by the fleet benchmark (`node --import tsx --import .../memory-report.ts
 * collector/main.ts`): when NETMON_BENCH_MEMORY_FILE is set, writes process.memoryUsage() there as one
 * JSON object every second ({rssMb, heapUsedMb, heapTotalMb, externalMb, atMs}), so the benchmark sees the
 * V8 heap beside the RSS it reads from /proc without the collector knowing about benchmarks. The timer is
 * unref'd: it never keeps the process alive. Without the variable it does nothing.
 */
import { renameSync, writeFileSync } from 'node:fs';

const file = process.env.NETMON_BENCH_MEMORY_FILE;
if (file) {
  const mb = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;
  const write = (): void => {
    const m = process.memoryUsage();
    const report = {
      rssMb: mb(m.rss),
      heapUsedMb: mb(m.heapUsed),
      heapTotalMb: mb(m.heapTotal),
      externalMb: mb(m.external),
      atMs: Date.now(),
    };
    try {
      // Written aside and renamed, so a reader never sees half a file.
      writeFileSync(`${file}.tmp`, JSON.stringify(report));
      renameSync(`${file}.tmp`, file);
    } catch {
      // The benchmark's temp dir may be gone while the collector stops: nothing to report to.
    }
  };
  setInterval(write, 1000).unref();
}
