/**
 * Flapping with hysteresis in the AlertBook (collector/alerting/alert.ts): a recovery is only sent once
 * the device has stayed up for settleMs; going down again before that continues the same incident and
 * counts a flap; at flapThreshold flaps the incident is returned once more (the flapping notice).
 */
import { describe, expect, it } from 'vitest';
import { type Alert, AlertBook, type FlapPolicy } from '../../../collector/alerting/alert.ts';
import type { Transition } from '../../../collector/core/types.ts';
import { Topology } from '../../../collector/health/topology.ts';
import { IncidentStore } from '../../../collector/store/incident-store.ts';
import { smallInventory } from '../../support/fixtures.ts';

const T0 = Date.parse('2026-11-22T14:00:00+08:00');
const S = 1000;
const SETTLE = 120_000;
const R = 'pkm-petang-1-r1';
const R2 = 'bjr-pelaga-1-r1';
const POLICY: FlapPolicy = { settleMs: SETTLE, flapThreshold: 2 };

const tr = (from: Transition['from'], to: Transition['to'], timeMs: number, deviceId = R): Transition => ({
  deviceId,
  siteId: deviceId.replace(/-(r|ap)\d+$/, ''),
  from,
  to,
  timeMs,
});
const down = (timeMs: number, deviceId = R) => tr('suspect', 'down', timeMs, deviceId);
const up = (timeMs: number, deviceId = R) => tr('down', 'up', timeMs, deviceId);

const book = (policy: FlapPolicy = POLICY, store?: IncidentStore) =>
  new AlertBook(new Topology(smallInventory()), store, undefined, policy);

function opened(b: AlertBook, timeMs: number, deviceId = R): Alert {
  const a = b.onTransition(down(timeMs, deviceId));
  if (!a) throw new Error(`no alert for ${deviceId} going down`);
  return a;
}

describe('AlertBook flapping (settle 120 s, threshold 2)', () => {
  it('down: one alert, without flaps', () => {
    const b = book();
    const page = opened(b, T0);
    expect(page).toMatchObject({ status: 'firing', deviceId: R, siteId: 'pkm-petang-1', startedAt: T0 });
    expect(page.flaps).toBeUndefined();
    expect(b.open()).toEqual([page]);
    expect(b.nextSettleAt()).toBeUndefined();
  });

  it('up: nothing yet, the alert stays open until the recovery settles', () => {
    const b = book();
    const page = opened(b, T0);
    expect(b.onTransition(up(T0 + 60 * S))).toBeUndefined();
    expect(b.open().map((a) => [a.id, a.status])).toEqual([[page.id, 'firing']]);
    expect(b.nextSettleAt()).toBe(T0 + 60 * S + SETTLE);
  });

  it('settle before settleMs returns nothing; at settleMs one recovery dated when it came up', () => {
    const b = book();
    const page = opened(b, T0);
    b.onTransition(up(T0 + 60 * S));
    expect(b.settle(T0 + 60 * S)).toEqual([]);
    expect(b.settle(T0 + 60 * S + SETTLE - 1)).toEqual([]);
    expect(b.open()).toHaveLength(1);
    const recovered = b.settle(T0 + 60 * S + SETTLE);
    expect(recovered).toEqual([{ ...page, status: 'resolved', resolvedAt: T0 + 60 * S }]);
    expect(b.open()).toEqual([]);
    expect(b.nextSettleAt()).toBeUndefined();
    // Once only.
    expect(b.settle(T0 + 3_600 * S)).toEqual([]);
  });

  it('settle long after settleMs still dates the recovery when it came up', () => {
    const b = book();
    opened(b, T0);
    b.onTransition(up(T0 + 60 * S));
    expect(b.settle(T0 + 3_600 * S)).toMatchObject([{ status: 'resolved', resolvedAt: T0 + 60 * S }]);
  });

  it('down again within settle: no new alert, the same incident, one flap', () => {
    const b = book();
    const page = opened(b, T0);
    b.onTransition(up(T0 + 60 * S));
    expect(b.onTransition(down(T0 + 90 * S))).toBeUndefined();
    expect(b.open()).toEqual([{ ...page, flaps: 1 }]);
    // Nothing is settling any more: it is down.
    expect(b.nextSettleAt()).toBeUndefined();
    expect(b.settle(T0 + 3_600 * S)).toEqual([]);
    expect(b.open()).toHaveLength(1);
  });

  it('the second flap returns the alert once, as the flapping notice; further flaps return nothing', () => {
    const b = book();
    const page = opened(b, T0);
    b.onTransition(up(T0 + 60 * S));
    b.onTransition(down(T0 + 90 * S));
    expect(b.onTransition(up(T0 + 120 * S))).toBeUndefined();
    const notice = b.onTransition(down(T0 + 150 * S));
    expect(notice).toEqual({ ...page, flaps: 2 });
    expect(notice?.status).toBe('firing');
    expect(notice?.startedAt).toBe(T0);
    for (let n = 3; n <= 6; n++) {
      expect(b.onTransition(up(T0 + n * 100 * S))).toBeUndefined();
      expect(b.onTransition(down(T0 + n * 100 * S + 30 * S))).toBeUndefined();
      expect(b.open().map((a) => [a.id, a.flaps])).toEqual([[page.id, n]]);
    }
  });

  it('stable at last: one recovery with the flap count, dated when it came up the last time', () => {
    const b = book();
    const page = opened(b, T0);
    b.onTransition(up(T0 + 60 * S));
    b.onTransition(down(T0 + 90 * S));
    b.onTransition(up(T0 + 120 * S));
    b.onTransition(down(T0 + 150 * S));
    b.onTransition(up(T0 + 200 * S));
    expect(b.nextSettleAt()).toBe(T0 + 200 * S + SETTLE);
    expect(b.settle(T0 + 200 * S + SETTLE - 1)).toEqual([]);
    expect(b.settle(T0 + 200 * S + SETTLE)).toEqual([
      { ...page, flaps: 2, status: 'resolved', resolvedAt: T0 + 200 * S },
    ]);
    // The next outage is a new incident, with no flaps carried over.
    const next = opened(b, T0 + 3_600 * S);
    expect(next.id).not.toBe(page.id);
    expect(next.flaps).toBeUndefined();
    expect(next.startedAt).toBe(T0 + 3_600 * S);
  });

  it('the flap count is per device, and nextSettleAt is the earliest pending recovery', () => {
    const b = book();
    const a = opened(b, T0, R);
    const c = opened(b, T0 + 10 * S, R2);
    b.onTransition(up(T0 + 50 * S, R2));
    b.onTransition(up(T0 + 60 * S, R));
    expect(b.nextSettleAt()).toBe(T0 + 50 * S + SETTLE);
    // R2 flaps; R does not.
    expect(b.onTransition(down(T0 + 70 * S, R2))).toBeUndefined();
    expect(b.nextSettleAt()).toBe(T0 + 60 * S + SETTLE);
    expect(b.settle(T0 + 60 * S + SETTLE)).toEqual([{ ...a, status: 'resolved', resolvedAt: T0 + 60 * S }]);
    expect(b.open()).toEqual([{ ...c, flaps: 1 }]);
    expect(b.nextSettleAt()).toBeUndefined();
  });

  it('settle resolves only the recoveries that are due', () => {
    const b = book();
    const a = opened(b, T0, R);
    const c = opened(b, T0, R2);
    b.onTransition(up(T0 + 10 * S, R));
    b.onTransition(up(T0 + 100 * S, R2));
    expect(b.settle(T0 + 10 * S + SETTLE).map((x) => x.id)).toEqual([a.id]);
    expect(b.open().map((x) => x.id)).toEqual([c.id]);
    expect(b.nextSettleAt()).toBe(T0 + 100 * S + SETTLE);
    expect(b.settle(T0 + 100 * S + SETTLE).map((x) => [x.id, x.resolvedAt])).toEqual([[c.id, T0 + 100 * S]]);
  });

  it('an up with no outage holds nothing', () => {
    const b = book();
    expect(b.onTransition(tr('unknown', 'up', T0))).toBeUndefined();
    expect(b.nextSettleAt()).toBeUndefined();
    expect(b.settle(T0 + 3_600 * S)).toEqual([]);
  });

  it('closing by hand while it settles forgets the pending recovery', () => {
    const b = book();
    const page = opened(b, T0);
    b.onTransition(up(T0 + 60 * S));
    expect(b.closeByHand(page.id, T0 + 70 * S)).toMatchObject({
      status: 'resolved',
      resolvedAt: T0 + 70 * S,
    });
    expect(b.nextSettleAt()).toBeUndefined();
    expect(b.settle(T0 + 3_600 * S)).toEqual([]);
  });
});

describe('AlertBook flapping thresholds', () => {
  /** Down, then `n` up/down cycles inside the settle time; what each re-down returned. */
  function flap(threshold: number, n: number): (number | undefined)[] {
    const b = book({ settleMs: SETTLE, flapThreshold: threshold });
    opened(b, T0);
    const out: (number | undefined)[] = [];
    for (let i = 1; i <= n; i++) {
      b.onTransition(up(T0 + i * 20 * S));
      const r = b.onTransition(down(T0 + i * 20 * S + 10 * S));
      out.push(r === undefined ? undefined : (r.flaps ?? -1));
    }
    return out;
  }

  it.each([
    [1, [1, undefined, undefined, undefined]],
    [2, [undefined, 2, undefined, undefined]],
    [3, [undefined, undefined, 3, undefined]],
  ])('threshold %i: one notice, at that flap', (threshold, expected) => {
    expect(flap(threshold, 4)).toEqual(expected);
  });
});

describe('AlertBook without settling (settle 0)', () => {
  it.each([
    ['settleMs 0', () => book({ settleMs: 0, flapThreshold: 2 })],
    ['no policy given', () => new AlertBook(new Topology(smallInventory()))],
  ])('%s: up resolves at once, a new down is a new incident, no flaps', (_what, make) => {
    const b = make();
    const page = opened(b, T0);
    expect(b.onTransition(up(T0 + 60 * S))).toEqual({ ...page, status: 'resolved', resolvedAt: T0 + 60 * S });
    expect(b.open()).toEqual([]);
    expect(b.nextSettleAt()).toBeUndefined();
    expect(b.settle(T0 + 3_600 * S)).toEqual([]);
    const again = opened(b, T0 + 70 * S);
    expect(again.id).not.toBe(page.id);
    expect(again.flaps).toBeUndefined();
    expect(again.status).toBe('firing');
  });
});

describe('AlertBook flapping with an IncidentStore', () => {
  it('a flap is a "flap" event on the one incident; no second incident; resolved when it settles', () => {
    const store = new IncidentStore(':memory:');
    try {
      const b = book(POLICY, store);
      const page = opened(b, T0);
      expect(store.get(page.id)).toMatchObject({ status: 'open', openedAt: T0, deviceId: R });

      b.onTransition(up(T0 + 60 * S));
      // Held: still open in the store.
      expect(store.get(page.id)?.status).toBe('open');
      b.onTransition(down(T0 + 90 * S));
      b.onTransition(up(T0 + 120 * S));
      b.onTransition(down(T0 + 150 * S));
      b.onTransition(up(T0 + 160 * S));
      b.onTransition(down(T0 + 170 * S));

      expect(store.list({ limit: 10 }).map((i) => [i.id, i.status])).toEqual([[page.id, 'open']]);
      expect(store.unresolved().map((i) => i.id)).toEqual([page.id]);
      expect(
        store
          .timeline(page.id)
          .filter((e) => e.type === 'flap')
          .map((e) => [e.timeMs, e.note]),
      ).toEqual([
        [T0 + 90 * S, 'flap 1'],
        [T0 + 150 * S, 'flap 2'],
        [T0 + 170 * S, 'flap 3'],
      ]);

      b.onTransition(up(T0 + 200 * S));
      expect(b.settle(T0 + 200 * S + SETTLE - 1)).toEqual([]);
      expect(store.get(page.id)?.status).toBe('open');
      expect(b.settle(T0 + 200 * S + SETTLE)).toHaveLength(1);
      expect(store.get(page.id)).toMatchObject({ status: 'resolved', resolvedAt: T0 + 200 * S });
      expect(store.timeline(page.id).map((e) => e.type)).toEqual([
        'opened',
        'flap',
        'flap',
        'flap',
        'resolved',
      ]);
      expect(store.list({ limit: 10 })).toHaveLength(1);
    } finally {
      store.close();
    }
  });

  it('settle 0: no flap events; the second outage is a second incident', () => {
    const store = new IncidentStore(':memory:');
    try {
      const b = book({ settleMs: 0, flapThreshold: 2 }, store);
      const first = opened(b, T0);
      b.onTransition(up(T0 + 60 * S));
      const second = opened(b, T0 + 90 * S);
      expect(store.timeline(first.id).map((e) => e.type)).toEqual(['opened', 'resolved']);
      expect(
        store
          .list({ limit: 10 })
          .map((i) => [i.id, i.status])
          .sort(),
      ).toEqual(
        [
          [first.id, 'resolved'],
          [second.id, 'open'],
        ].sort(),
      );
    } finally {
      store.close();
    }
  });
});

describe('AlertBook flapping across a restart', () => {
  it('counts the flaps of a taken-over incident from its timeline: no second flapping notice', () => {
    const store = new IncidentStore(':memory:');
    const policy = { settleMs: 120_000, flapThreshold: 2 };
    const tr = (from: Transition['from'], to: Transition['to'], timeMs: number): Transition => ({
      deviceId: 'pkm-petang-1-r1',
      siteId: 'pkm-petang-1',
      from,
      to,
      timeMs,
    });
    const T = Date.UTC(2026, 10, 22, 6, 0);
    const before = new AlertBook(new Topology(smallInventory()), store, undefined, policy);
    before.onTransition(tr('suspect', 'down', T));
    before.onTransition(tr('down', 'up', T + 10_000));
    before.onTransition(tr('suspect', 'down', T + 20_000));
    before.onTransition(tr('down', 'up', T + 30_000));
    expect(before.onTransition(tr('suspect', 'down', T + 40_000))).toMatchObject({ flaps: 2 });
    // Restart: a new book over the same store.
    const after = new AlertBook(new Topology(smallInventory()), store, undefined, policy);
    expect(after.open().map((a) => a.flaps)).toEqual([2]);
    expect(after.onTransition(tr('unknown', 'up', T + 100_000))).toBeUndefined();
    expect(after.onTransition(tr('suspect', 'down', T + 110_000))).toBeUndefined();
    expect(after.open().map((a) => a.flaps)).toEqual([3]);
  });
});
