/**
 * Back-pressure (scheduler/admission.ts): polls are held while the event loop is full or the writer is
 * congested, expedited turns are not, and the held time is counted by reason. Fake time and fake inputs:
 * the real loop's utilisation is covered by the fleet benchmark (npm run bench:fleet), not a timed test.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { Admission, decideAdmission, eventLoopUtilisation } from '../../../collector/scheduler/admission.ts';
import { Scheduler } from '../../../collector/scheduler/scheduler.ts';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function advance(clock: FakeClock, ms: number, stepMs = 50): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    clock.advance(Math.min(stepMs, ms - t));
    await flush();
  }
}

describe('decideAdmission', () => {
  const t = { maxUtilisation: 0.9 };
  it('holds on a full loop, on a congested writer (first), and not otherwise', () => {
    expect(decideAdmission(0.5, false, t)).toBeUndefined();
    expect(decideAdmission(0.9, false, t)).toBeUndefined();
    expect(decideAdmission(0.95, false, t)).toBe('event_loop');
    expect(decideAdmission(0.2, true, t)).toBe('writer');
    expect(decideAdmission(0.99, true, t)).toBe('writer');
    expect(decideAdmission(undefined, false, t)).toBeUndefined();
  });
});

describe('Admission', () => {
  it('checks on its clock, counts the time held by reason, tells when it opens, and stop() opens it', () => {
    const clock = new FakeClock(0);
    let utilisation = 0.5;
    let congested = false;
    const a = new Admission({
      clock,
      loopUtilisation: () => utilisation,
      writerCongested: () => congested,
      checkMs: 100,
    });
    let opened = 0;
    a.subscribe(() => opened++);
    a.start();
    clock.advance(100);
    expect(a.heldBy).toBeUndefined();
    utilisation = 0.97;
    clock.advance(100); // t=200: held by the loop
    expect(a.heldBy).toBe('event_loop');
    congested = true;
    clock.advance(100); // t=300: the writer's reason replaces it, without opening in between
    expect(a.heldBy).toBe('writer');
    expect(opened).toBe(0);
    congested = false;
    utilisation = 0.3;
    clock.advance(200); // t=400: open
    expect(a.heldBy).toBeUndefined();
    expect(opened).toBe(1);
    expect(a.stats().heldMs).toEqual({ event_loop: 100, writer: 100 });
    expect(a.stats().loopUtilisation).toBe(0.3);
    utilisation = 1;
    clock.advance(100);
    expect(a.heldBy).toBe('event_loop');
    clock.advance(50);
    expect(a.stats().heldMs.event_loop).toBe(150); // the hold in progress counts too
    a.stop();
    expect(a.heldBy).toBeUndefined();
    expect(opened).toBe(2);
    expect(a.stats().checking).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('rejects a utilisation bound outside (0, 1]', () => {
    const opts = { clock: new FakeClock(0), writerCongested: () => false };
    expect(() => new Admission({ ...opts, maxUtilisation: 0 })).toThrow(/maxUtilisation/);
    expect(() => new Admission({ ...opts, maxUtilisation: 1.5 })).toThrow(/maxUtilisation/);
    expect(() => new Admission({ ...opts, checkMs: 0 })).toThrow(/checkMs/);
  });

  it('measures the real loop since the previous call: an idle stretch reads low, a busy one near 1', async () => {
    const read = eventLoopUtilisation();
    // Idle: the loop waits on a timer. On a loaded machine (CI runs other test files beside this one) a
    // stretch can still catch a garbage collection or the runner's own work: the lowest of three counts.
    const idle: number[] = [];
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 100));
      idle.push(read());
    }
    expect(Math.min(...idle)).toBeLessThan(0.5);
    read();
    const end = performance.now() + 100;
    while (performance.now() < end) {
      // busy: the loop runs this callback the whole time
    }
    // Since the previous call only: were it counted from the start, the idle time before would pull it
    // under 0.5.
    expect(read()).toBeGreaterThan(0.8);
  });
});

describe('Scheduler with a gate', () => {
  function setup() {
    const clock = new FakeClock(0);
    let utilisation = 0.1;
    const admission = new Admission({
      clock,
      loopUtilisation: () => utilisation,
      writerCongested: () => false,
      checkMs: 100,
    });
    const started: { id: string; at: number }[] = [];
    const s = new Scheduler({
      clock,
      log: memoryLogger(),
      intervalMs: 1000,
      jitterMs: 0,
      concurrency: 100,
      gate: admission,
      overloadAfterMs: 500,
      run: (id) =>
        new Promise<void>((resolve) => {
          started.push({ id, at: clock.now() });
          clock.setTimeout(resolve, 10);
        }),
    });
    admission.start();
    const ids = Array.from({ length: 20 }, (_, i) => `dev-${i}`);
    s.start(ids);
    return { clock, s, admission, started, ids, setUtilisation: (u: number) => (utilisation = u) };
  }

  it('starts no regular turn while held, then every waiting one once open; overloaded meanwhile', async () => {
    const { clock, s, admission, started, ids, setUtilisation } = setup();
    await advance(clock, 1000);
    expect(new Set(started.map((r) => r.id)).size).toBe(20);
    setUtilisation(0.99);
    await advance(clock, 100); // the check at t=1100 holds
    expect(admission.heldBy).toBe('event_loop');
    const count = started.length;
    await advance(clock, 1000);
    expect(started.length).toBe(count); // every device fell due again, none started
    const held = s.load();
    expect(held.heldBy).toBe('event_loop');
    expect(held.overloaded).toBe(true);
    expect(s.stats().queued).toBe(20);
    setUtilisation(0.2);
    await advance(clock, 100);
    expect(admission.heldBy).toBeUndefined();
    expect(new Set(started.slice(count).map((r) => r.id))).toEqual(new Set(ids));
    admission.stop();
    const stopped = s.stop();
    await advance(clock, 100); // the jobs in flight finish on fake time
    await stopped;
  });

  it('lets an expedited turn through while held (a suspected outage is confirmed at once)', async () => {
    const { clock, s, admission, started, setUtilisation } = setup();
    await advance(clock, 1000);
    setUtilisation(0.99);
    await advance(clock, 200);
    expect(admission.heldBy).toBe('event_loop');
    const count = started.length;
    s.expedite('dev-7');
    await flush();
    expect(started.slice(count).map((r) => r.id)).toEqual(['dev-7']);
    // A device already waiting in the held queue, expedited: it goes too, the rest stay.
    await advance(clock, 1000);
    s.expedite('dev-3');
    await flush();
    expect(started.slice(count).map((r) => r.id)).toEqual(['dev-7', 'dev-3']);
    admission.stop();
    const stopped = s.stop();
    await advance(clock, 100); // the jobs in flight finish on fake time
    await stopped;
  });
});
