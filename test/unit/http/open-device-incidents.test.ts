/**
 * OpenDeviceIncidents (collector/http/open-device-incidents.ts): the live feed's map of each device's
 * unresolved incident, kept from the changes an ObservedIncidentStore tells, answers as the store's
 * `openByKey('device:<id>')` does after every write, and reads the store once (issue #14: it was a SQL
 * query per device transition).
 */
import { describe, expect, it } from 'vitest';
import { observeIncidentStore } from '../../../collector/http/live-feed.ts';
import { OpenDeviceIncidents } from '../../../collector/http/open-device-incidents.ts';
import { IncidentStore } from '../../../collector/store/incident-store.ts';

const T0 = Date.UTC(2026, 11, 3, 2, 0);

/** A real SQLite store in memory, observed, with its whole-table reads counted. */
function countedStore() {
  const store = observeIncidentStore(new IncidentStore(':memory:'));
  const reads = { unresolved: 0 };
  const counted = {
    unresolved: () => {
      reads.unresolved++;
      return store.unresolved();
    },
  };
  return { store, counted, reads };
}

/** A small deterministic generator (no Math.random: a failure repeats). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('OpenDeviceIncidents', () => {
  it('answers as openByKey after every open, acknowledge and resolve, reading the store once', () => {
    const { store, counted, reads } = countedStore();
    // One incident open before the first question (a restarted monitor takes it over).
    store.open({
      id: 'before',
      kind: 'device_down',
      key: 'device:d0',
      severity: 'high',
      openedAt: T0,
      siteId: 's0',
      deviceId: 'd0',
      data: {},
    });
    const index = new OpenDeviceIncidents(counted);
    store.onChange((c) => index.changed(c.incident));
    const devices = Array.from({ length: 12 }, (_, i) => `d${i}`);
    const same = () => {
      for (const d of devices) {
        const want = store.openByKey(`device:${d}`);
        const got = index.of(d);
        expect([d, got?.id, got?.status, got?.siteId, got?.kind]).toEqual([
          d,
          want?.id,
          want?.status,
          want?.siteId,
          want?.kind,
        ]);
      }
    };
    same();
    const rnd = lcg(14);
    let n = 0;
    let opened = 0;
    let resolved = 0;
    for (let step = 0; step < 600; step++) {
      const d = devices[Math.floor(rnd() * devices.length)] ?? 'd0';
      const open = store.openByKey(`device:${d}`);
      const at = T0 + step * 1000;
      const r = rnd();
      if (!open || r < 0.2) {
        // A second open of the same key returns the one open (no change told).
        const res = store.open({
          id: `inc-${++n}`,
          kind: 'device_down',
          key: `device:${d}`,
          severity: 'low',
          openedAt: at,
          siteId: `site-of-${d}`,
          deviceId: d,
          data: { alert: { deviceId: d } },
        });
        if (res.created) opened++;
      } else if (r < 0.5) store.acknowledge(open.id, 'wayan', at);
      else {
        store.resolve(open.id, at);
        resolved++;
      }
      // Area incidents share the store and are not a device's.
      if (step % 50 === 0)
        store.open({
          id: `area-${step}`,
          kind: 'area',
          key: `area:k${step}`,
          severity: 'high',
          openedAt: at,
          data: {},
        });
      same();
    }
    expect(opened).toBeGreaterThan(100);
    expect(resolved).toBeGreaterThan(100);
    expect(reads.unresolved).toBe(1);
    store.close();
  });

  it('changes told before the first question are read with the store then', () => {
    const { store, counted, reads } = countedStore();
    const index = new OpenDeviceIncidents(counted);
    store.onChange((c) => index.changed(c.incident));
    store.open({ id: 'a', kind: 'device_down', key: 'device:r1', severity: 'high', openedAt: T0, data: {} });
    store.open({ id: 'b', kind: 'device_down', key: 'device:r2', severity: 'high', openedAt: T0, data: {} });
    store.resolve('a', T0 + 1000);
    expect(reads.unresolved).toBe(0);
    expect(index.of('r1')).toBeUndefined();
    expect(index.of('r2')?.id).toBe('b');
    expect(reads.unresolved).toBe(1);
    store.close();
  });
});
