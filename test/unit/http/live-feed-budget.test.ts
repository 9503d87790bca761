/**
 * The live feed's whole-fleet re-read at scale (fake time, a fake monitor): a site change the monitor
 * announces (a window opening on its schedule) is sent at once, without waiting for the re-read; and the
 * re-read of every site, whose cost grows with the fleet, is spaced by its measured duration so it takes
 * at most its budget of a core (Badung: every 5 s as before; 100k devices: less often).
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { Transition } from '../../../collector/core/types.ts';
import { LiveFeed, type LiveMonitor } from '../../../collector/http/live-feed.ts';

const T0 = Date.UTC(2026, 11, 3, 2, 0);

/** `sites` sites of one router each; a read of a site costs `perSiteMs` of measured time. */
class ScaledMonitor implements LiveMonitor {
  readonly maintenance = new Set<string>();
  readonly #siteListeners = new Set<(siteId: string, timeMs: number) => void>();
  reads = 0;
  cpu = 0;
  perSiteMs = 0.01;
  readonly topology: { siteIds(): string[] };

  constructor(sites: number) {
    const ids = Array.from({ length: sites }, (_, i) => `s${i}`);
    this.topology = { siteIds: () => ids };
  }
  onTransition(_l: (t: Transition) => void): () => void {
    return () => undefined;
  }
  onSiteChange(l: (siteId: string, timeMs: number) => void): () => void {
    this.#siteListeners.add(l);
    return () => this.#siteListeners.delete(l);
  }
  siteState(id: string) {
    this.reads++;
    this.cpu += this.perSiteMs;
    return { state: this.maintenance.has(id) ? 'maintenance' : 'up', devices: [{ since: T0 - 60_000 }] };
  }
  windowOpens(id: string, timeMs: number): void {
    this.maintenance.add(id);
    for (const l of this.#siteListeners) l(id, timeMs);
  }
}

function rig(sites: number, { reconcileMs }: { reconcileMs?: number } = { reconcileMs: 5000 }) {
  const clock = new FakeClock(T0);
  const monitor = new ScaledMonitor(sites);
  const events: { type: string; data: unknown }[] = [];
  const feed = new LiveFeed({
    monitor,
    publish: (type, data) => events.push({ type, data }),
    clock,
    log: memoryLogger(),
    elapsedMs: () => monitor.cpu,
    reconcileMs,
  });
  feed.start();
  return { clock, monitor, events, feed };
}

describe('LiveFeed at scale', () => {
  it('sends a site change the monitor announces at once, not at the next re-read', () => {
    const { clock, monitor, events, feed } = rig(3);
    clock.advance(1000);
    monitor.windowOpens('s1', clock.now());
    expect(events).toEqual([
      {
        type: 'site',
        data: expect.objectContaining({ id: 's1', state: 'maintenance', previous: 'up' }) as unknown,
      },
    ]);
    feed.stop();
    monitor.windowOpens('s2', clock.now());
    expect(events).toHaveLength(1);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('re-reads every site every 5 s while that is cheap, and within 2 % of a core when it is not', () => {
    // 1,000 sites at 0.01 ms: 10 ms a re-read, under the budget (10 / 0.02 = 500 ms < 5 s): every 5 s.
    // 30,000 sites at 0.01 ms: 300 ms a re-read, so one every 15 s (2 % of a core), not every 5 s.
    for (const [sites, periodMs] of [
      [1000, 5000],
      [30_000, 15_000],
    ] as const) {
      const r = rig(sites);
      const start = r.monitor.reads;
      r.clock.advance(5000);
      expect(r.monitor.reads - start).toBe(sites);
      expect(r.feed.nextRecheckInMs()).toBe(periodMs);
      r.clock.advance(periodMs - 1);
      expect(r.monitor.reads - start).toBe(sites);
      r.clock.advance(1);
      expect(r.monitor.reads - start).toBe(2 * sites);
      r.feed.stop();
      expect(r.clock.pendingTimers()).toBe(0);
    }
  });

  it('re-reads once a minute by default when the monitor announces site changes', () => {
    const { clock, monitor, feed } = rig(10, {});
    const start = monitor.reads;
    expect(feed.nextRecheckInMs()).toBe(60_000);
    clock.advance(59_999);
    expect(monitor.reads).toBe(start);
    clock.advance(1);
    expect(monitor.reads).toBe(start + 10);
    feed.stop();
  });

  it('refuses a budget outside (0, 1]', () => {
    const clock = new FakeClock(T0);
    const monitor = new ScaledMonitor(1);
    const make = (reconcileBudget: number) =>
      new LiveFeed({ monitor, publish: () => undefined, clock, log: memoryLogger(), reconcileBudget });
    expect(() => make(0)).toThrow(/reconcileBudget/);
    expect(() => make(1.5)).toThrow(/reconcileBudget/);
    expect(() => make(1)).not.toThrow();
  });
});
