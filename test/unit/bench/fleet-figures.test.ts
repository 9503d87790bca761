import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  busiestThreads,
  fleetVerdict,
  machineBusyCores,
  memorySlopes,
  readMemoryReport,
  type VerdictInput,
} from '../../../scripts/bench/fleet-figures.ts';

describe('machineBusyCores', () => {
  it('counts every tick but idle and iowait, as cores', () => {
    // user nice system idle iowait irq softirq steal
    const a = 'cpu  100 0 50 1000 10 0 0 0 0 0\ncpu0 1 2 3\n';
    const b = 'cpu  250 0 100 1100 10 0 40 0 0 0\ncpu0 1 2 3\n';
    // busy 240 of 340 ticks, on 2 CPUs
    expect(machineBusyCores(a, b, 2)).toBeCloseTo((240 / 340) * 2, 6);
  });

  it('says what is wrong with a file it cannot read', () => {
    expect(() => machineBusyCores('intr 1 2', 'intr 3 4', 2)).toThrow(/no "cpu " line/);
  });
});

describe('memorySlopes', () => {
  it('gives the KB per added device between consecutive sizes, heap when known', () => {
    const s = memorySlopes([
      { devices: 1000, rssMb: 200, heapMb: 100 },
      { devices: 3000, rssMb: 300, heapMb: 150 },
      { devices: 5000, rssMb: 400 },
    ]);
    expect(s).toEqual([
      '1,000 -> 3,000 devices: RSS 51.2 KB, heap 25.6 KB per added device',
      '3,000 -> 5,000 devices: RSS 51.2 KB per added device',
    ]);
  });
});

describe('readMemoryReport', () => {
  it('reads the preload file, and nothing from a missing or torn one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-figures-'));
    try {
      const file = join(dir, 'm.json');
      expect(readMemoryReport(file)).toBeUndefined();
      writeFileSync(file, '{"rssMb":12');
      expect(readMemoryReport(file)).toBeUndefined();
      writeFileSync(
        file,
        JSON.stringify({ rssMb: 300, heapUsedMb: 120, heapTotalMb: 160, externalMb: 9, atMs: 1 }),
      );
      expect(readMemoryReport(file)?.heapUsedMb).toBe(120);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('fleetVerdict', () => {
  const base: VerdictInput = {
    pollsDonePerS: 1675,
    pollsDuePerS: 1675,
    collector: { name: 'collector', cores: 0.8, cpuMsPerPoll: 0.48 },
    simulators: [
      { name: 'simulator 0/2', cores: 0.3, cpuMsPerPoll: 0.18 },
      { name: 'simulator 1/2', cores: 0.3, cpuMsPerPoll: 0.18 },
    ],
    sink: { name: 'null sink', kind: 'null', cores: 0.05, cpuMsPerPoll: 0.03 },
    machineBusyCores: 1.6,
    cpus: 2,
    writerBacklog: 0,
    writesPerS: 20_000,
  };

  it('kept up when polls done reach polls due', () => {
    expect(fleetVerdict(base)).toMatch(
      /^kept up: 1675 of 1675 polls\/s done \(collector 0\.80 \+ simulators 0\.60 \(2\) \+ null sink 0\.05 \+ other processes 0\.15 = 1\.60 of 2 cores busy\)$/,
    );
  });

  it('names the collector when its event loop is full', () => {
    const v = fleetVerdict({
      ...base,
      pollsDonePerS: 1200,
      collector: { name: 'collector', cores: 0.97, cpuMsPerPoll: 0.8 },
    });
    expect(v).toMatch(
      /saturated first: THE COLLECTOR \(0\.97 .* needs 1\.34 of a core for the 1675 polls\/s due/,
    );
  });

  it('names a simulator process at its limit, and whether the collector would fit', () => {
    const v = fleetVerdict({
      ...base,
      pollsDonePerS: 1300,
      simulators: [{ name: 'simulator 3/17', cores: 0.95, cpuMsPerPoll: 0.7 }],
    });
    expect(v).toMatch(
      /saturated first: the simulator \(simulator 3\/17 at 0\.95 of a core\), not the collector: at its 0\.48 CPU-ms per poll the collector needs 0\.80 of a core/,
    );
  });

  it('names the machine when no process is at its limit but the cores are full', () => {
    const v = fleetVerdict({ ...base, pollsDonePerS: 1000, machineBusyCores: 1.97 });
    expect(v).toMatch(
      /saturated first: the machine's CPU \(no process at its own limit\), not the collector/,
    );
    const heavy = fleetVerdict({
      ...base,
      pollsDonePerS: 1000,
      machineBusyCores: 1.97,
      collector: { name: 'collector', cores: 0.85, cpuMsPerPoll: 0.85 },
    });
    expect(heavy).toMatch(
      /the machine's CPU .*; the collector would be the next limit: .* needs 1\.42 of a core/,
    );
  });

  it('names a sink that leaves samples waiting, and a limit that is not CPU', () => {
    expect(fleetVerdict({ ...base, pollsDonePerS: 1000, writerBacklog: 500_000 })).toMatch(
      /saturated first: the sink; writes fell behind \(500000 samples waiting in the collector's writer: the null sink, or/,
    );
    expect(fleetVerdict({ ...base, pollsDonePerS: 1000 })).toMatch(/nothing on CPU/);
  });

  it('with worker threads: a process over one core is not saturated until one of its threads is', () => {
    const threaded = { eventLoops: 3, busiest: [0.7, 0.65, 0.1] };
    const spread = fleetVerdict({
      ...base,
      pollsDonePerS: 1000,
      machineBusyCores: 1.97,
      collector: { name: 'collector', cores: 1.5, cpuMsPerPoll: 0.9 },
      collectorThreads: threaded,
    });
    expect(spread).toMatch(/saturated first: the machine's CPU/);
    expect(spread).toMatch(
      /its 3 event loops \(main \+ 2 workers\), busiest threads 0\.70, 0\.65, 0\.10 cores/,
    );
    const full = fleetVerdict({
      ...base,
      pollsDonePerS: 1000,
      collector: { name: 'collector', cores: 1.5, cpuMsPerPoll: 0.9 },
      collectorThreads: { eventLoops: 3, busiest: [0.96, 0.5, 0.04] },
    });
    expect(full).toMatch(/saturated first: THE COLLECTOR \(a thread at 0\.96 of a core, 1\.50 cores in all/);
    expect(fleetVerdict({ ...base, collectorThreads: threaded })).toMatch(
      /^kept up: .*busiest threads 0\.70/,
    );
  });
});

describe('busiestThreads', () => {
  it('gives the cores of the busiest threads over the window, highest first; new threads from zero', () => {
    const before = new Map([
      [1, 1000],
      [2, 500],
      [3, 100],
    ]);
    const after = new Map([
      [1, 1900], // 0.9 of a core over 1 s
      [2, 700], // 0.2
      [4, 400], // started in the window: 0.4
    ]);
    expect(busiestThreads(before, after, 1000, 2)).toEqual([0.9, 0.4]);
    expect(busiestThreads(before, after, 1000, 5)).toEqual([0.9, 0.4, 0.2]);
  });
});
