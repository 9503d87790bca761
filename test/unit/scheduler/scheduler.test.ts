import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { Scheduler, phaseOf, slotOf } from '../../../collector/scheduler/scheduler.ts';

/** A job whose completion the test controls. */
function controllableJobs(clock: FakeClock) {
  const runs: { id: string; at: number }[] = [];
  const pending = new Map<string, () => void>();
  const run = (id: string) =>
    new Promise<void>((resolve) => {
      runs.push({ id, at: clock.now() });
      pending.set(id, resolve);
    });
  const finish = async (id: string) => {
    pending.get(id)?.();
    pending.delete(id);
    await flush();
  };
  return { runs, pending, run, finish };
}

/** Let every queued microtask (job completions and the pumps they trigger) run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Advance fake time in 100 ms steps, letting jobs complete in between, as real time would. */
async function advance(clock: FakeClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 100) {
    clock.advance(Math.min(100, ms - t));
    await flush();
  }
}

describe('Scheduler', () => {
  it('spreads first turns over one interval and repeats every interval', async () => {
    const clock = new FakeClock(0);
    const runs: { id: string; at: number }[] = [];
    const s = new Scheduler({
      clock,
      log: memoryLogger(),
      intervalMs: 60_000,
      jitterMs: 0,
      concurrency: 10,
      run: async (id) => {
        runs.push({ id, at: clock.now() });
      },
    });
    const ids = Array.from({ length: 100 }, (_, i) => `dev-${i}`);
    s.start(ids);
    await advance(clock, 60_000);
    expect(new Set(runs.map((r) => r.id)).size).toBe(100);
    const first = runs.map((r) => r.at);
    expect(Math.min(...first)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...first)).toBeLessThan(60_000);
    // The phases are spread: no 10-second slice holds more than a third of the devices.
    for (let t = 0; t < 60_000; t += 10_000) {
      expect(first.filter((at) => at >= t && at < t + 10_000).length).toBeLessThan(34);
    }
    runs.length = 0;
    await advance(clock, 60_000);
    expect(runs.length).toBe(100);
    for (const r of runs) expect(r.at).toBe(phaseOf(r.id, 60_000) + 60_000);
    await s.stop();
  });

  it('never runs more than the concurrency cap, and a stuck job does not hold up the others', async () => {
    const clock = new FakeClock(0);
    const jobs = controllableJobs(clock);
    const s = new Scheduler({
      clock,
      log: memoryLogger(),
      intervalMs: 1_000,
      jitterMs: 0,
      concurrency: 2,
      run: jobs.run,
    });
    s.start(['stuck', 'a', 'b', 'c']);
    clock.advance(1_000);
    await flush();
    expect(jobs.pending.size).toBe(2);
    expect(s.stats().queued).toBe(2);
    // Finish whatever is not 'stuck': the queue drains through the one free slot.
    for (let i = 0; i < 5; i++) {
      for (const id of [...jobs.pending.keys()]) if (id !== 'stuck') await jobs.finish(id);
    }
    const ran = new Set(jobs.runs.map((r) => r.id));
    expect(ran).toEqual(new Set(['stuck', 'a', 'b', 'c']));
    expect(s.stats().running).toBe(1);
    await jobs.finish('stuck');
    await s.stop();
  });

  it('skips a turn (overrun) instead of stacking when the previous run is still going', async () => {
    const clock = new FakeClock(0);
    const jobs = controllableJobs(clock);
    const s = new Scheduler({
      clock,
      log: memoryLogger(),
      intervalMs: 1_000,
      jitterMs: 0,
      concurrency: 5,
      run: jobs.run,
    });
    s.start(['slow']);
    clock.advance(1_000);
    await flush();
    clock.advance(3_000);
    await flush();
    expect(jobs.runs.length).toBe(1);
    expect(s.stats().overruns).toBe(3);
    await jobs.finish('slow');
    clock.advance(1_000);
    await flush();
    expect(jobs.runs.length).toBe(2);
    await jobs.finish('slow');
    await s.stop();
  });

  it('expedite runs a job now without moving its schedule', async () => {
    const clock = new FakeClock(0);
    const runs: number[] = [];
    const s = new Scheduler({
      clock,
      log: memoryLogger(),
      intervalMs: 60_000,
      jitterMs: 0,
      concurrency: 1,
      run: async () => {
        runs.push(clock.now());
      },
    });
    s.start(['x']);
    const phase = phaseOf('x', 60_000);
    clock.advance(5);
    s.expedite('x');
    await flush();
    expect(runs).toEqual([5]);
    clock.advance(phase);
    await flush();
    expect(runs).toEqual([5, phase]);
    await s.stop();
  });

  it('stop() waits for every job in flight (each caller), starts no more, and returns at once when idle', async () => {
    const clock = new FakeClock(0);
    const jobs = controllableJobs(clock);
    const s = new Scheduler({
      clock,
      log: memoryLogger(),
      intervalMs: 1_000,
      jitterMs: 0,
      concurrency: 10,
      run: jobs.run,
    });
    s.start(['a', 'b', 'c']);
    await advance(clock, 1_000);
    expect([...jobs.pending.keys()].sort()).toEqual(['a', 'b', 'c']);
    const stopped: string[] = [];
    const first = s.stop().then(() => stopped.push('first'));
    const second = s.stop().then(() => stopped.push('second'));
    await jobs.finish('a');
    await jobs.finish('b');
    expect(stopped).toEqual([]);
    await jobs.finish('c');
    await Promise.all([first, second]);
    expect(stopped.sort()).toEqual(['first', 'second']);
    const started = jobs.runs.length;
    await advance(clock, 3_000);
    expect(jobs.runs.length).toBe(started);
    await s.stop();
  });

  it('logs a throwing job and keeps scheduling it', async () => {
    const clock = new FakeClock(0);
    const log = memoryLogger();
    let n = 0;
    const s = new Scheduler({
      clock,
      log,
      intervalMs: 1_000,
      jitterMs: 0,
      concurrency: 1,
      run: () => {
        n++;
        return Promise.reject(new Error('boom'));
      },
    });
    s.start(['x']);
    clock.advance(1_000);
    await flush();
    clock.advance(1_000);
    await flush();
    expect(n).toBe(2);
    expect(log.records.filter((r) => r.msg === 'scheduled job failed')).toHaveLength(2);
    await s.stop();
  });

  it('applies jitter within bounds', async () => {
    const clock = new FakeClock(0);
    const runs: number[] = [];
    let r = 0;
    const seq = [0, 1 - 1e-9, 0.5];
    const s = new Scheduler({
      clock,
      log: memoryLogger(),
      intervalMs: 10_000,
      jitterMs: 2_000,
      concurrency: 1,
      random: () => seq[r++ % seq.length] ?? 0.5,
      run: async () => {
        runs.push(clock.now());
      },
    });
    s.start(['x']);
    clock.advance(50_000);
    await flush();
    const gaps = runs.slice(1).map((t, i) => t - (runs[i] ?? 0));
    for (const g of gaps) {
      expect(g).toBeGreaterThanOrEqual(8_000);
      expect(g).toBeLessThanOrEqual(12_000);
    }
    await s.stop();
  });
  it('counts a turn that waited for a slot past lateAfterMs as late, with its lag', async () => {
    const clock = new FakeClock(0);
    const jobs = controllableJobs(clock);
    const s = new Scheduler({
      clock,
      log: memoryLogger(),
      intervalMs: 60_000,
      jitterMs: 0,
      concurrency: 1,
      lateAfterMs: 1_000,
      run: jobs.run,
    });
    // Both due at once; 'a' takes the only slot at once, 'b' waits until 'a' finishes.
    s.start([]);
    s.add('a', 0);
    s.add('b', 0);
    await advance(clock, 2_500);
    expect(s.stats()).toMatchObject({ late: 0, maxLagMs: 0, queued: 1 });
    await jobs.finish('a');
    expect(jobs.runs.map((r) => r.id)).toEqual(['a', 'b']);
    expect(s.stats()).toMatchObject({ late: 1, maxLagMs: 2_500 });
    await jobs.finish('b');
    await s.stop();
  });
});

describe('Scheduler timer coalescing (coalesceMs)', () => {
  function run(opts: { coalesceMs?: number; aligned?: boolean }) {
    const clock = new FakeClock(0);
    let fires = 0;
    const counting = {
      now: () => clock.now(),
      setTimeout: (fn: () => void, ms: number) =>
        clock.setTimeout(() => {
          fires++;
          fn();
        }, ms),
      clearTimeout: (h: Parameters<FakeClock['clearTimeout']>[0]) => clock.clearTimeout(h),
    };
    const starts: { id: string; at: number }[] = [];
    const s = new Scheduler({
      clock: counting,
      log: memoryLogger(),
      intervalMs: 10_000,
      jitterMs: 0,
      concurrency: 1000,
      run: async (id) => {
        starts.push({ id, at: clock.now() });
      },
      ...opts,
    });
    const ids = Array.from({ length: 500 }, (_, i) => `dev-${i}`);
    return { clock, s, ids, starts, fires: () => fires };
  }

  it('takes the turns of the next coalesceMs with the one due: fewer wake-ups, none late, none more than coalesceMs early', async () => {
    const plain = run({});
    plain.s.start(plain.ids);
    await advance(plain.clock, 30_000);
    const merged = run({ coalesceMs: 100 });
    merged.s.start(merged.ids);
    await advance(merged.clock, 30_000);
    // The same turns: every device three times (coalesced, a few due just after the 30 s have started too).
    expect(merged.starts.length).toBeGreaterThanOrEqual(plain.starts.length);
    expect(merged.starts.length).toBeLessThanOrEqual(plain.starts.length + 10);
    expect(merged.starts.length).toBeGreaterThanOrEqual(1400);
    // 500 turns per 10 s, 100 ms apart on average when coalesced: far fewer timer fires.
    expect(plain.fires()).toBeGreaterThan(1400);
    expect(merged.fires()).toBeLessThan(plain.fires() / 3);
    // Each start within [due - 100 ms, due + the 100 ms test step] of the uncoalesced start.
    const byId = (list: { id: string; at: number }[]) => {
      const m = new Map<string, number[]>();
      for (const r of list) m.set(r.id, [...(m.get(r.id) ?? []), r.at]);
      return m;
    };
    const p = byId(plain.starts);
    for (const [id, times] of byId(merged.starts)) {
      (p.get(id) ?? []).forEach((t, i) =>
        expect(Math.abs((times[i] ?? Infinity) - t)).toBeLessThanOrEqual(100),
      );
    }
    await plain.s.stop();
    await merged.s.stop();
  });

  it('is off with aligned turns (a turn never starts before its slot)', async () => {
    const a = run({ coalesceMs: 100, aligned: true });
    a.s.start(a.ids);
    await advance(a.clock, 30_000);
    // Each start in the first 100 ms test step of its slot, none in the 100 ms before it.
    expect(a.starts.length).toBeGreaterThanOrEqual(1000);
    for (const r of a.starts) expect(r.at - slotOf(r.id, 10_000, r.at)).toBeLessThanOrEqual(100);
    await a.s.stop();
  });
});
