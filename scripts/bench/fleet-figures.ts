/**
 * The arithmetic of the fleet benchmark (scripts/bench-fleet.ts): the machine's busy cores from two reads
 * of /proc/stat, the collector's memory report, the memory each added device costs between two sizes, and
 * the verdict of a size: kept up, or what saturated first. Pure except readMemoryReport, which reads a file.
 */
import { readFileSync } from 'node:fs';

export type SinkKind = 'influxd' | 'victoria' | 'null';

/** Smallest and largest of a figure over the window, MB. */
export interface MemoryWindow {
  readonly minMb: number;
  readonly maxMb: number;
}

/** A process's share over the window. */
export interface ProcShare {
  readonly name: string;
  readonly cores: number;
  readonly cpuMsPerPoll: number;
}

/** One process (one event loop) above this share of a core is saturated. */
export const SATURATED_CORES = 0.9;
/** Polls done at or above this share of polls due is keeping up (turns jitter in and out of a window). */
export const KEPT_UP = 0.98;

/**
 * Busy cores of the whole machine between two reads of /proc/stat (proc(5): the "cpu" line, in ticks:
 * user nice system idle iowait irq softirq steal ...; idle and iowait are not busy).
 */
export function machineBusyCores(before: string, after: string, cpus: number): number {
  const parse = (stat: string): { busy: number; total: number } => {
    const line = stat.split('\n').find((l) => l.startsWith('cpu '));
    if (!line) throw new Error('/proc/stat has no "cpu " line');
    const n = line.trim().split(/\s+/).slice(1, 9).map(Number);
    if (n.length < 5 || n.some((x) => !Number.isFinite(x)))
      throw new Error(`/proc/stat: bad cpu line: ${line}`);
    const total = n.reduce((a, b) => a + b, 0);
    const idle = (n[3] ?? 0) + (n[4] ?? 0);
    return { busy: total - idle, total };
  };
  const a = parse(before);
  const b = parse(after);
  const total = b.total - a.total;
  return total > 0 ? ((b.busy - a.busy) / total) * cpus : NaN;
}

export interface MemoryReport {
  readonly rssMb: number;
  readonly heapUsedMb: number;
  readonly heapTotalMb: number;
  readonly externalMb: number;
  readonly atMs: number;
}

/** The last line scripts/bench/memory-report.ts wrote, or undefined while there is none (or it is torn). */
export function readMemoryReport(file: string): MemoryReport | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const m = JSON.parse(text) as Partial<MemoryReport>;
    return typeof m.heapUsedMb === 'number' && typeof m.rssMb === 'number' ? (m as MemoryReport) : undefined;
  } catch {
    return undefined;
  }
}

export interface SizeMemory {
  readonly devices: number;
  readonly rssMb: number;
  /** The smallest heap used in the window (about the live heap), when known. */
  readonly heapMb?: number | undefined;
}

/**
 * The KB each added device costs between consecutive sizes (the slope: the process's fixed cost cancels),
 * as sentences for the report. Sizes are taken in the order given.
 */
export function memorySlopes(sizes: readonly SizeMemory[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < sizes.length; i++) {
    const a = sizes[i - 1];
    const b = sizes[i];
    if (!a || !b || b.devices === a.devices) continue;
    const dn = b.devices - a.devices;
    const per = (mbA: number, mbB: number): string => (((mbB - mbA) * 1024) / dn).toFixed(1);
    const heap =
      a.heapMb !== undefined && b.heapMb !== undefined ? `, heap ${per(a.heapMb, b.heapMb)} KB` : '';
    out.push(
      `${a.devices.toLocaleString('en-US')} -> ${b.devices.toLocaleString('en-US')} devices: RSS ${per(a.rssMb, b.rssMb)} KB${heap} per added device`,
    );
  }
  return out;
}

export interface VerdictInput {
  readonly pollsDonePerS: number;
  readonly pollsDuePerS: number;
  readonly collector: ProcShare;
  readonly simulators: readonly ProcShare[];
  readonly sink: ProcShare & { readonly kind: SinkKind };
  /** Busy cores of the whole machine (every process, ours and others'). */
  readonly machineBusyCores: number;
  readonly cpus: number;
  /** Samples waiting in the collector's writer at the end of the window. */
  readonly writerBacklog: number;
  readonly writesPerS: number;
  /**
   * The collector's threads, when it polls in worker threads (`--workers`): its event loops (main thread
   * + workers) and the cores of its busiest threads over the window, highest first. Absent: one event
   * loop, judged by the process's cores as before.
   */
  readonly collectorThreads?:
    { readonly eventLoops: number; readonly busiest: readonly number[] } | undefined;
}

/**
 * The cores each thread used between two reads of threadCpuMs, highest first: the busiest `n`. A thread
 * that started within the window counts from zero; one that ended is left out.
 */
export function busiestThreads(
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
  windowMs: number,
  n: number,
): number[] {
  const cores: number[] = [];
  for (const [tid, ms] of after) cores.push((ms - (before.get(tid) ?? 0)) / windowMs);
  return cores.sort((a, b) => b - a).slice(0, n);
}

const c2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '-');

/**
 * Kept up (polls done = polls due), or what saturated first. A process is one event loop (the collector,
 * each simulator): above SATURATED_CORES of a core it is the limit. When none is, but the machine's cores
 * are full, the machine is the limit, and the collector's need for the polls due (its CPU-ms per poll x
 * polls due) says whether it alone would fit in a core. A writer backlog of more than 10 s of writes is
 * named as well: the samples are late (the sink, or a starved collector, fell behind).
 */
export function fleetVerdict(v: VerdictInput): string {
  const sims = v.simulators.reduce((a, s) => a + s.cores, 0);
  const ours = v.collector.cores + sims + v.sink.cores;
  const other = Math.max(0, v.machineBusyCores - ours);
  const shares = `collector ${c2(v.collector.cores)} + simulators ${c2(sims)} (${v.simulators.length}) + ${v.sink.name} ${c2(v.sink.cores)} + other processes ${c2(other)} = ${c2(v.machineBusyCores)} of ${v.cpus} cores busy`;
  const need = (v.collector.cpuMsPerPoll * v.pollsDuePerS) / 1000;
  const loops = v.collectorThreads?.eventLoops ?? 1;
  const busiest = v.collectorThreads?.busiest[0] ?? v.collector.cores;
  const threads = v.collectorThreads
    ? `; its ${loops} event loops (main + ${loops - 1} workers), busiest threads ${v.collectorThreads.busiest.map(c2).join(', ')} cores`
    : '';
  const collectorNeed = `at its ${c2(v.collector.cpuMsPerPoll)} CPU-ms per poll the collector needs ${c2(need)} of a core for the ${v.pollsDuePerS.toFixed(0)} polls/s due`;
  const backlog =
    v.writerBacklog > Math.max(10_000, v.writesPerS * 10)
      ? `; writes fell behind (${v.writerBacklog} samples waiting in the collector's writer: the ${v.sink.name}, or the collector's own writing)`
      : '';
  if (v.pollsDonePerS >= KEPT_UP * v.pollsDuePerS)
    return `kept up: ${v.pollsDonePerS.toFixed(0)} of ${v.pollsDuePerS.toFixed(0)} polls/s done (${shares}${threads})${backlog}`;
  const lead = `${v.pollsDonePerS.toFixed(0)} of ${v.pollsDuePerS.toFixed(0)} polls/s done; saturated first:`;
  if (!v.collectorThreads && v.collector.cores > SATURATED_CORES)
    return `${lead} THE COLLECTOR (${c2(v.collector.cores)} of its event loop's core; ${collectorNeed}) (${shares})${backlog}`;
  if (v.collectorThreads && busiest > SATURATED_CORES)
    return `${lead} THE COLLECTOR (a thread at ${c2(busiest)} of a core, ${c2(v.collector.cores)} cores in all${threads}; ${collectorNeed}) (${shares})${backlog}`;
  const sim = v.simulators.reduce<ProcShare | undefined>(
    (worst, s) => (s.cores > SATURATED_CORES && (!worst || s.cores > worst.cores) ? s : worst),
    undefined,
  );
  // Whether the collector would fit in its one core at the polls due, had it the machine to itself.
  const then =
    need > SATURATED_CORES * loops
      ? `; the collector would be the next limit: ${collectorNeed}, more than its ${loops === 1 ? 'one event loop has' : `${loops} event loops have`}`
      : `, not the collector: ${collectorNeed}${threads}`;
  if (sim)
    return `${lead} the simulator (${sim.name} at ${c2(sim.cores)} of a core)${then} (${shares})${backlog}`;
  if (v.machineBusyCores >= SATURATED_CORES * v.cpus)
    return `${lead} the machine's CPU (no process at its own limit)${then} (${shares})${backlog}`;
  if (backlog) return `${lead} the sink${backlog} (${shares})`;
  return `${lead} nothing on CPU: the limit is elsewhere (the in-flight cap, timeouts; see overruns and failed) (${shares}); ${collectorNeed}`;
}
