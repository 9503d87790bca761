/**
 * The scheduler past capacity, on fake time: it keeps completing jobs at capacity, spreads the lateness
 * over every device (critical ones first, none starved), and says it is overloaded with the rate it
 * sustains. And its cost does not grow with the fleet: one clock timer whatever the number of devices.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock, type Clock, type TimerHandle } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { Scheduler } from '../../../collector/scheduler/scheduler.ts';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function advance(clock: FakeClock, ms: number, stepMs = 100): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    clock.advance(Math.min(stepMs, ms - t));
    await flush();
  }
}

/** Stop, letting the jobs in flight (which wait on fake time) finish. */
async function stop(s: Scheduler, clock: FakeClock): Promise<void> {
  const stopped = s.stop();
  await advance(clock, 1000);
  await stopped;
}

/** A fleet of `n` devices whose jobs take `jobMs` of (fake) time each. */
function fleet(n: number, jobMs: number, opts: { concurrency: number; priority?: (id: string) => number }) {
  const clock = new FakeClock(0);
  const polls = new Map<string, number>();
  const lags: { id: string; at: number }[] = [];
  const ids = Array.from({ length: n }, (_, i) => `dev-${i}`);
  const s = new Scheduler({
    clock,
    log: memoryLogger(),
    intervalMs: 10_000,
    jitterMs: 0,
    concurrency: opts.concurrency,
    priority: opts.priority,
    run: (id) =>
      new Promise<void>((resolve) => {
        lags.push({ id, at: clock.now() });
        clock.setTimeout(() => {
          polls.set(id, (polls.get(id) ?? 0) + 1);
          resolve();
        }, jobMs);
      }),
  });
  return { clock, s, ids, polls, lags };
}

describe('Scheduler under overload', () => {
  it('keeps completing at capacity, polls every device, and says it is overloaded with the rate it sustains', async () => {
    // 100 devices every 10 s = 10 polls/s due; 2 slots x 500 ms jobs = 4 polls/s of capacity.
    const { clock, s, ids, polls } = fleet(100, 500, { concurrency: 2 });
    s.start(ids);
    await advance(clock, 30_000);
    const mid = [...polls.values()].reduce((a, b) => a + b, 0);
    await advance(clock, 30_000);
    const end = [...polls.values()].reduce((a, b) => a + b, 0);
    // No collapse: the last 30 s completed what 2 slots can (4/s), not less.
    expect(end - mid).toBeGreaterThanOrEqual(118);
    expect(end - mid).toBeLessThanOrEqual(120);
    // Fair: every device was polled, none more than one poll ahead of another.
    expect(polls.size).toBe(100);
    const counts = [...polls.values()];
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    const st = s.stats();
    expect(st.overruns).toBeGreaterThan(0);
    expect(st.overload).toMatchObject({ overloaded: true, duePerSecond: 10 });
    expect(st.overload?.sustainablePerSecond).toBeGreaterThanOrEqual(3.8);
    expect(st.overload?.sustainablePerSecond).toBeLessThanOrEqual(4.2);
    expect(st.overload?.completedPerSecond).toBeCloseTo(4, 0);
    // The queue never holds a device twice: it is bounded by the fleet.
    expect(st.queued).toBeLessThanOrEqual(100);
    await stop(s, clock);
  });

  it('serves critical devices first without starving the others', async () => {
    // Devices 0-19 critical (rank 0), the rest low (rank 3); capacity 4/s against 10/s due.
    const rank = (id: string) => (Number(id.slice(4)) < 20 ? 0 : 3);
    const { clock, s, ids, polls, lags } = fleet(100, 500, { concurrency: 2, priority: rank });
    s.start(ids);
    await advance(clock, 90_000);
    const critical = ids.filter((id) => rank(id) === 0).map((id) => polls.get(id) ?? 0);
    const low = ids.filter((id) => rank(id) === 3).map((id) => polls.get(id) ?? 0);
    // Critical devices are polled more often than low ones, and every low one is polled too.
    expect(Math.min(...critical)).toBeGreaterThan(Math.max(...low));
    expect(Math.min(...low)).toBeGreaterThanOrEqual(1);
    // Critical devices are polled about once per interval (20 of the 40 polls per 10 s): 9 in 90 s.
    expect(Math.min(...critical)).toBeGreaterThanOrEqual(8);
    expect(lags.length).toBeGreaterThan(300);
    await stop(s, clock);
  });

  it('is not overloaded when it keeps up, and its capacity estimate is above the load', async () => {
    const { clock, s, ids, polls } = fleet(100, 50, { concurrency: 8 });
    s.start(ids);
    await advance(clock, 30_000);
    const st = s.stats();
    expect(st.overruns).toBe(0);
    expect(st.late).toBe(0);
    expect(st.overload?.overloaded).toBe(false);
    expect(st.overload?.sustainablePerSecond).toBeGreaterThan(st.overload?.duePerSecond ?? Infinity);
    expect(st.overload?.completedPerSecond).toBeCloseTo(10, 0);
    // Three turns each in 30 s (the last turn of the devices phased at the end still running).
    expect([...polls.values()].every((n) => n >= 2 && n <= 3)).toBe(true);
    expect([...polls.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(295);
    await stop(s, clock);
  });

  it('comes out of overload once the backlog drains', async () => {
    const { clock, s, ids } = fleet(60, 500, { concurrency: 2 });
    s.start(ids);
    await advance(clock, 30_000);
    expect(s.stats().overload?.overloaded).toBe(true);
    // Half the fleet goes: 30 devices every 10 s = 3/s, under the 4/s of capacity.
    for (const id of ids.slice(30)) s.remove(id);
    await advance(clock, 30_000);
    expect(s.stats().overload?.overloaded).toBe(false);
    await stop(s, clock);
  });

  it('an expedited device jumps a backlog', async () => {
    const { clock, s, ids, lags } = fleet(100, 500, { concurrency: 1 });
    s.start(ids);
    await advance(clock, 20_000);
    expect(s.stats().queued).toBeGreaterThan(10);
    const target = ids.find((id) => !lags.slice(-5).some((l) => l.id === id)) ?? 'dev-0';
    lags.length = 0;
    s.expedite(target);
    await advance(clock, 1000);
    expect(lags.map((l) => l.id)).toContain(target);
    expect(lags[0]?.id === target || lags[1]?.id === target).toBe(true);
    await stop(s, clock);
  });
});

describe('Scheduler cost does not grow with the fleet', () => {
  /** A clock that counts its pending timers. */
  function countingClock(inner: FakeClock) {
    const pending = new Set<TimerHandle>();
    let max = 0;
    const clock: Clock = {
      now: () => inner.now(),
      setTimeout: (fn, ms) => {
        const h: TimerHandle = inner.setTimeout(() => {
          pending.delete(h);
          fn();
        }, ms);
        pending.add(h);
        max = Math.max(max, pending.size);
        return h;
      },
      clearTimeout: (h) => {
        pending.delete(h);
        inner.clearTimeout(h);
      },
    };
    return { clock, max: () => max, pending: () => pending.size };
  }

  it('holds one clock timer for 30,000 devices and polls each once per interval', async () => {
    const inner = new FakeClock(0);
    const counted = countingClock(inner);
    let done = 0;
    const s = new Scheduler({
      clock: counted.clock,
      log: memoryLogger(),
      intervalMs: 60_000,
      jitterMs: 5000,
      concurrency: 256,
      run: async () => {
        done++;
      },
    });
    s.start(Array.from({ length: 30_000 }, (_, i) => `dev-${i}`));
    expect(counted.pending()).toBe(1);
    await advance(inner, 120_000, 1000);
    expect(counted.max()).toBe(1);
    // Two intervals: every device twice, give or take the jitter at the window's edge.
    expect(done).toBeGreaterThan(57_000);
    expect(done).toBeLessThanOrEqual(61_000);
    expect(s.stats()).toMatchObject({ overruns: 0, late: 0 });
    await s.stop();
    expect(counted.pending()).toBe(0);
  });
});
