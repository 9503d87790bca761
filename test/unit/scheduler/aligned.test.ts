/**
 * The scheduler's aligned mode (a cluster's collectors): turns on each device's wall-clock slots, the same
 * on every collector whenever it started; an id added while running waits for its next slot. Two
 * schedulers that hand a device over between two slots therefore never both run it in one interval.
 */
import { setImmediate as tickOnce } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { Scheduler, nextSlot, phaseOf, slotOf } from '../../../collector/scheduler/scheduler.ts';

const INTERVAL = 10_000;
const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);

async function advance(clock: FakeClock, ms: number, step = 100): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await tickOnce();
  }
}

function aligned(clock: FakeClock, runs: { id: string; at: number }[], who = 'a') {
  return new Scheduler({
    clock,
    log: memoryLogger(),
    intervalMs: INTERVAL,
    jitterMs: 5000, // ignored when aligned
    concurrency: 100,
    aligned: true,
    run: async (id) => {
      runs.push({ id: `${who}:${id}`, at: clock.now() });
    },
  });
}

describe('slots', () => {
  it.each([
    ['dev-1', T0],
    ['dev-2', T0 + 1234],
    ['pkm-kuta-1-rtr', T0 + 9999],
  ])('%s: slotOf is the slot containing t, nextSlot the one after', (id, t) => {
    const phase = phaseOf(id, INTERVAL);
    const s = slotOf(id, INTERVAL, t);
    expect(s).toBeLessThanOrEqual(t);
    expect(t - s).toBeLessThan(INTERVAL);
    expect(((s - phase) / INTERVAL) % 1).toBeCloseTo(0, 6);
    expect(nextSlot(id, INTERVAL, t)).toBe(s + INTERVAL);
    // At a slot exactly, the next slot is one interval later (never the same instant again).
    expect(nextSlot(id, INTERVAL, s)).toBe(s + INTERVAL);
  });
});

describe('Scheduler, aligned', () => {
  it('runs each id on its slots, whenever the scheduler started, with no jitter', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `dev-${i}`);
    const clock = new FakeClock(T0 + 3777);
    const runs: { id: string; at: number }[] = [];
    const s = aligned(clock, runs);
    s.start(ids);
    await advance(clock, 3 * INTERVAL);
    await s.stop();
    for (const id of ids) {
      const at = runs.filter((r) => r.id === `a:${id}`).map((r) => r.at);
      expect(at.length).toBeGreaterThanOrEqual(2);
      for (const t of at) expect(t - slotOf(id, INTERVAL, t)).toBeLessThan(100); // the step of advance()
      // Never at once: the first turn is a slot after the start.
      expect(at[0]).toBeGreaterThan(T0 + 3777);
      // One turn per interval.
      const slots = at.map((t) => Math.floor((t - phaseOf(id, INTERVAL)) / INTERVAL));
      expect(new Set(slots).size).toBe(slots.length);
    }
  });

  it('an id added while running waits for its next slot', async () => {
    const clock = new FakeClock(T0);
    const runs: { id: string; at: number }[] = [];
    const s = aligned(clock, runs);
    s.start([]);
    await advance(clock, 2500);
    const added = clock.now();
    s.add('dev-7');
    await advance(clock, INTERVAL + 200);
    await s.stop();
    const first = runs.find((r) => r.id === 'a:dev-7')?.at ?? NaN;
    expect(first).toBeGreaterThan(added);
    expect(first - nextSlot('dev-7', INTERVAL, added)).toBeLessThan(100);
    expect(s.has('dev-7')).toBe(true);
  });

  it('a device handed from one scheduler to another between two slots is run once per interval', async () => {
    const clock = new FakeClock(T0);
    const runs: { id: string; at: number }[] = [];
    const a = aligned(clock, runs, 'a');
    const b = aligned(clock, runs, 'b');
    const ids = Array.from({ length: 40 }, (_, i) => `dev-${i}`);
    a.start(ids);
    b.start([]);
    await advance(clock, 2 * INTERVAL + 4321);
    // The handover: a releases every device, b acquires them, at the same instant.
    for (const id of ids) {
      a.remove(id);
      b.add(id);
    }
    await advance(clock, 3 * INTERVAL);
    await a.stop();
    await b.stop();
    for (const id of ids) {
      const slots = runs
        .filter((r) => r.id.endsWith(`:${id}`))
        .map((r) => Math.floor((r.at - phaseOf(id, INTERVAL)) / INTERVAL));
      expect(new Set(slots).size).toBe(slots.length);
      expect(runs.some((r) => r.id === `b:${id}`)).toBe(true);
    }
  });
});
