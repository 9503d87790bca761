/**
 * The console's live events for device warnings (collector/http/live-feed.ts): "SNMP not answering"
 * raised and cleared is a `device` event that carries `warning` (the warning, or null) and no `previous`
 * (it is not a transition: the state and its `since` stay), and nothing is sent once the feed stopped.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { isoWita } from '../../../collector/core/time-zone.ts';
import { LiveFeed, type LiveMonitor } from '../../../collector/http/live-feed.ts';

const T0 = Date.UTC(2026, 11, 3, 2, 0);

type Warning = Parameters<Parameters<NonNullable<LiveMonitor['health']>['onWarning']>[0]>[0];

function rig() {
  const warningListeners = new Set<(w: Warning) => void>();
  const monitor: LiveMonitor = {
    onTransition: () => () => undefined,
    siteState: (id) => (id === 's1' ? { state: 'up', devices: [{ since: T0 - 60_000 }] } : undefined),
    topology: { siteIds: () => ['s1'] },
    health: {
      onWarning: (l) => {
        warningListeners.add(l);
        return () => warningListeners.delete(l);
      },
      get: (id) => (id === 's1-r' ? { state: 'up' } : undefined),
    },
  };
  const events: { type: string; data: unknown }[] = [];
  const clock = new FakeClock(T0);
  const feed = new LiveFeed({
    monitor,
    publish: (type, data) => events.push({ type, data }),
    clock,
    log: memoryLogger(),
  });
  const warn = (raised: boolean, timeMs: number) => {
    for (const l of warningListeners)
      l({ deviceId: 's1-r', siteId: 's1', kind: 'snmp_not_answering', raised, timeMs });
  };
  return { feed, events, warn, listeners: warningListeners };
}

describe('live events for device warnings', () => {
  it('sends the warning raised and cleared as device events without previous, the state unchanged', () => {
    const r = rig();
    r.feed.start();
    r.warn(true, T0 + 5000);
    r.warn(false, T0 + 65_000);
    expect(r.events).toEqual([
      {
        type: 'device',
        data: {
          id: 's1-r',
          siteId: 's1',
          state: 'up',
          warning: { kind: 'snmp_not_answering', since: isoWita(T0 + 5000) },
          at: isoWita(T0 + 5000),
        },
      },
      {
        type: 'device',
        data: { id: 's1-r', siteId: 's1', state: 'up', warning: null, at: isoWita(T0 + 65_000) },
      },
    ]);
    r.feed.stop();
    expect(r.listeners.size).toBe(0);
  });

  it('a monitor without warnings (no health) starts and stops as before', () => {
    const events: unknown[] = [];
    const feed = new LiveFeed({
      monitor: {
        onTransition: () => () => undefined,
        siteState: () => undefined,
        topology: { siteIds: () => [] },
      },
      publish: (t, d) => events.push([t, d]),
      clock: new FakeClock(T0),
      log: memoryLogger(),
    });
    feed.start();
    feed.stop();
    expect(events).toEqual([]);
  });
});
