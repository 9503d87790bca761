/** The benchmark's arithmetic: /proc/PID/stat CPU ticks, percentiles, per-poll figures. */
import { describe, expect, it } from 'vitest';
import { cpuMsOfPid, cpuTicksOfStat, figuresOf, percentile } from '../../../scripts/bench/measure.ts';

describe('cpuTicksOfStat', () => {
  it('adds utime and stime (fields 14 and 15), even with spaces and parentheses in the name', () => {
    const stat = '12080 (snmp d) x) S 1 12077 12467 0 -1 4194560 1100 0 11 0 17 3 0 0 20 0 1 0 1784584';
    expect(cpuTicksOfStat(stat)).toBe(20);
  });

  it('names a line it cannot read', () => {
    expect(() => cpuTicksOfStat('garbage')).toThrow(/not a \/proc\/PID\/stat line/);
    expect(() => cpuTicksOfStat('1 (a) S 1 2')).toThrow(/utime\/stime are not integers/);
  });

  it('reads this process from /proc and grows as it burns CPU', () => {
    const before = cpuMsOfPid(process.pid, 100);
    const until = process.cpuUsage().user + 30_000; // 30 ms of user CPU
    while (process.cpuUsage().user < until) Math.sqrt(Math.random());
    expect(cpuMsOfPid(process.pid, 100)).toBeGreaterThan(before);
  });
});

describe('percentile', () => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  it.each([
    [50, 50],
    [95, 95],
    [100, 100],
    [0, 1],
  ])('p%d of 1..100 is %d (nearest rank)', (p, want) => {
    expect(percentile(xs, p)).toBe(want);
  });
  it('is NaN without values and the value itself with one', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(percentile([7], 95)).toBe(7);
  });
});

describe('figuresOf', () => {
  it('turns totals into rates and per-poll figures', () => {
    const f = figuresOf({
      polls: 2000,
      failures: 3,
      wallMs: 2000,
      cpuMs: 1000,
      agentCpuMs: 400,
      latenciesMs: [5, 1, 3, 2, 4],
      requestsPerPoll: 2,
    });
    expect(f).toMatchObject({
      pollsPerS: 1000,
      cpuMsPerPoll: 0.5,
      cpuCores: 0.5,
      agentCpuMsPerPoll: 0.2,
      agentCpuCores: 0.2,
      p50Ms: 3,
      p95Ms: 5,
      failures: 3,
    });
  });
  it('gives NaN per poll, not Infinity, when nothing completed', () => {
    const f = figuresOf({
      polls: 0,
      failures: 5,
      wallMs: 1000,
      cpuMs: 10,
      agentCpuMs: 1,
      latenciesMs: [],
      requestsPerPoll: 2,
    });
    expect(f.cpuMsPerPoll).toBeNaN();
    expect(f.pollsPerS).toBe(0);
  });
});
