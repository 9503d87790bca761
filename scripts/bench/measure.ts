/**
 * The arithmetic of the SNMP benchmark: CPU time of a process from /proc/PID/stat, latency percentiles,
 * and one poller's figures. Pure except cpuMsOfPid, which reads /proc.
 */
import { readFileSync, readdirSync } from 'node:fs';

/**
 * utime + stime of /proc/PID/stat in clock ticks (proc(5): fields 14 and 15). The command name (field 2)
 * is in parentheses and may hold spaces or parentheses, so fields are counted after the last ')'.
 */
export function cpuTicksOfStat(stat: string): number {
  const close = stat.lastIndexOf(')');
  if (close < 0) throw new Error(`not a /proc/PID/stat line: ${stat.slice(0, 80)}`);
  const fields = stat.slice(close + 2).split(' '); // fields[0] is field 3 (state)
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isInteger(utime) || !Number.isInteger(stime)) {
    throw new Error(`/proc/PID/stat: utime/stime are not integers in: ${stat.slice(0, 120)}`);
  }
  return utime + stime;
}

/** CPU milliseconds a process has used so far. */
export function cpuMsOfPid(pid: number, clockTicksPerS: number): number {
  return (cpuTicksOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8')) * 1000) / clockTicksPerS;
}

/** Nearest-rank percentile (p in 0..100) of ascending-sorted values; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? NaN;
}

/** What one load loop measured, before the arithmetic. */
export interface RawRun {
  readonly polls: number;
  readonly failures: number;
  readonly wallMs: number;
  /** CPU of the poller process (ours: process.cpuUsage; exporter: /proc). */
  readonly cpuMs: number;
  /** CPU of the SNMP agent over the same interval. */
  readonly agentCpuMs: number;
  /** Latencies of completed polls, ms, any order. */
  readonly latenciesMs: readonly number[];
  /** SNMP requests (datagrams sent) per device poll. */
  readonly requestsPerPoll: number;
  readonly firstFailure?: string | undefined;
}

export interface RunFigures {
  readonly polls: number;
  readonly failures: number;
  readonly seconds: number;
  readonly pollsPerS: number;
  readonly cpuMsPerPoll: number;
  /** Share of one core the poller used: cpu / wall. */
  readonly cpuCores: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly agentCpuMsPerPoll: number;
  readonly agentCpuCores: number;
  readonly requestsPerPoll: number;
  readonly firstFailure?: string | undefined;
}

export function figuresOf(run: RawRun): RunFigures {
  const sorted = [...run.latenciesMs].sort((a, b) => a - b);
  const seconds = run.wallMs / 1000;
  const per = (ms: number): number => (run.polls > 0 ? ms / run.polls : NaN);
  return {
    polls: run.polls,
    failures: run.failures,
    seconds,
    pollsPerS: seconds > 0 ? run.polls / seconds : NaN,
    cpuMsPerPoll: per(run.cpuMs),
    cpuCores: run.wallMs > 0 ? run.cpuMs / run.wallMs : NaN,
    p50Ms: percentile(sorted, 50),
    p95Ms: percentile(sorted, 95),
    agentCpuMsPerPoll: per(run.agentCpuMs),
    agentCpuCores: run.wallMs > 0 ? run.agentCpuMs / run.wallMs : NaN,
    requestsPerPoll: run.requestsPerPoll,
    firstFailure: run.firstFailure,
  };
}

/**
 * CPU milliseconds each thread of a process has used so far (/proc/PID/task/TID/stat), by thread id. A
 * thread that ended is absent; one that cannot be read is skipped.
 */
export function threadCpuMs(pid: number, clockTicksPerS: number): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const ticks = cpuTicksOfStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
      out.set(Number(tid), (ticks * 1000) / clockTicksPerS);
    } catch {
      // ended between the listing and the read
    }
  }
  return out;
}
