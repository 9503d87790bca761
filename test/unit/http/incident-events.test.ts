/**
 * Incident changes as the live events tell them: observeIncidentStore (over a real SQLite store in memory)
 * reports each open, acknowledge and resolve once, whoever made it; LiveFeed turns them into `incident`
 * events, and a device back up while its incident stays open into `recovering`.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { Transition } from '../../../collector/core/types.ts';
import {
  LiveFeed,
  observeIncidentStore,
  type IncidentChange,
  type ObservedIncidentStore,
} from '../../../collector/http/live-feed.ts';
import { IncidentStore } from '../../../collector/store/incident-store.ts';

const memoryStore = () => observeIncidentStore(new IncidentStore(':memory:'));

const T0 = Date.UTC(2026, 11, 3, 2, 0);

function opened(store: ObservedIncidentStore, id: string, deviceId: string) {
  return store.open({
    id,
    kind: 'device_down',
    key: `device:${deviceId}`,
    severity: 'high',
    openedAt: T0,
    siteId: 's1',
    deviceId,
    data: {},
  });
}

describe('ObservedIncidentStore', () => {
  it('tells each open, acknowledge and resolve once, with its time', () => {
    const store = memoryStore();
    const seen: IncidentChange[] = [];
    store.onChange((c) => seen.push(c));
    expect(opened(store, 'inc-1', 's1-r').created).toBe(true);
    expect(opened(store, 'inc-2', 's1-r').created).toBe(false); // the same outage: no second event
    store.acknowledge('inc-1', 'wayan', T0 + 60_000);
    store.acknowledge('inc-1', 'ketut', T0 + 70_000); // already acknowledged: no event
    store.resolve('inc-1', T0 + 120_000);
    store.resolve('inc-1', T0 + 130_000);
    expect(seen.map((c) => [c.incident.id, c.incident.status, c.atMs - T0])).toEqual([
      ['inc-1', 'open', 0],
      ['inc-1', 'acknowledged', 60_000],
      ['inc-1', 'resolved', 120_000],
    ]);
    store.close();
  });

  it('passes every other member through to the store it decorates (its own methods too)', () => {
    const inner = new IncidentStore(':memory:');
    const store = observeIncidentStore(inner);
    expect(store instanceof IncidentStore).toBe(true);
    const seen: IncidentChange[] = [];
    store.onChange((c) => seen.push(c));
    opened(store, 'inc-1', 's1-r');
    // Writes made on the store itself are the store's own (not watched); reads see both.
    inner.acknowledge('inc-1', 'wayan', T0 + 1000);
    expect(store.get('inc-1')?.status).toBe('acknowledged');
    expect(store.unresolved().map((i) => i.id)).toEqual(['inc-1']);
    expect(store.list({ limit: 10 }).map((i) => i.id)).toEqual(['inc-1']);
    // Bound once, not at every read (the same function each time).
    // eslint-disable-next-line @typescript-eslint/unbound-method
    expect(store.markSent).toBe(store.markSent);
    expect(seen.map((c) => c.incident.status)).toEqual(['open']);
    store.close();
  });

  it('a listener that throws does not fail the store', () => {
    const store = memoryStore();
    store.onChange(() => {
      throw new Error('boom');
    });
    expect(opened(store, 'inc-1', 's1-r').incident.status).toBe('open');
    store.close();
  });
});

describe('LiveFeed incident events', () => {
  it('publishes incident changes, and `recovering` when a device comes back with its incident open', () => {
    const store = memoryStore();
    const events: [string, unknown][] = [];
    const listeners: ((t: Transition) => void)[] = [];
    let state = 'up';
    const feed = new LiveFeed({
      monitor: {
        onTransition: (l) => {
          listeners.push(l);
          return () => undefined;
        },
        siteState: (id) => (id === 's1' ? { state, devices: [{ since: T0 }] } : undefined),
        topology: { siteIds: () => ['s1'] },
      },
      publish: (type, data) => events.push([type, data]),
      clock: new FakeClock(T0),
      log: memoryLogger(),
      openIncidentOf: (deviceId) => store.openByKey(`device:${deviceId}`),
    });
    store.onChange((c) => feed.incidentChanged(c));
    feed.start();
    const move = (to: 'up' | 'down', at: number) => {
      state = to;
      for (const l of listeners)
        l({ deviceId: 's1-r', siteId: 's1', from: to === 'up' ? 'down' : 'up', to, timeMs: at });
    };
    state = 'down';
    opened(store, 'inc-1', 's1-r');
    move('down', T0);
    move('up', T0 + 30_000);
    store.resolve('inc-1', T0 + 150_000);
    const incidents = events.filter(([t]) => t === 'incident').map(([, d]) => d);
    expect(incidents).toEqual([
      { id: 'inc-1', status: 'open', siteId: 's1', kind: 'device_down', at: '2026-12-03T10:00:00.000+08:00' },
      {
        id: 'inc-1',
        status: 'recovering',
        siteId: 's1',
        kind: 'device_down',
        at: '2026-12-03T10:00:30.000+08:00',
      },
      {
        id: 'inc-1',
        status: 'resolved',
        siteId: 's1',
        kind: 'device_down',
        at: '2026-12-03T10:02:30.000+08:00',
      },
    ]);
    expect(events.filter(([t]) => t === 'site').map(([, d]) => (d as { state: string }).state)).toEqual([
      'down',
      'up',
    ]);
    feed.stop();
    store.close();
  });
});
