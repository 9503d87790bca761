/** Flapping with hysteresis in the AlertBook: a recovery settles before it is sent; re-downs are flaps. */
import { describe, expect, it } from 'vitest';
import { AlertBook } from '../../../collector/alerting/alert.ts';
import type { Transition } from '../../../collector/core/types.ts';
import { Topology } from '../../../collector/health/topology.ts';
import { IncidentStore } from '../../../collector/store/incident-store.ts';
import { smallInventory } from '../../support/fixtures.ts';

const T0 = Date.UTC(2026, 10, 22, 6, 0);
const R = 'pkm-petang-1-r1';
const tr = (from: Transition['from'], to: Transition['to'], timeMs: number): Transition => ({
  deviceId: R,
  siteId: 'pkm-petang-1',
  from,
  to,
  timeMs,
});

describe('AlertBook flapping', () => {
  it('one page, one flapping notice at the threshold, one recovery once stable', () => {
    const store = new IncidentStore(':memory:');
    const book = new AlertBook(new Topology(smallInventory()), store, undefined, {
      settleMs: 120_000,
      flapThreshold: 2,
    });
    const page = book.onTransition(tr('suspect', 'down', T0));
    expect(page).toMatchObject({ status: 'firing' });
    expect(page?.flaps).toBeUndefined();
    // Up: held while it settles.
    expect(book.onTransition(tr('down', 'up', T0 + 60_000))).toBeUndefined();
    expect(book.nextSettleAt()).toBe(T0 + 180_000);
    // Down again before it settled: the same incident, flap 1, nothing to send.
    expect(book.onTransition(tr('suspect', 'down', T0 + 90_000))).toBeUndefined();
    expect(book.nextSettleAt()).toBeUndefined();
    expect(book.onTransition(tr('down', 'up', T0 + 120_000))).toBeUndefined();
    // Flap 2: the flapping notice, once.
    const notice = book.onTransition(tr('suspect', 'down', T0 + 150_000));
    expect(notice).toMatchObject({ id: page?.id, status: 'firing', flaps: 2 });
    expect(book.onTransition(tr('down', 'up', T0 + 160_000))).toBeUndefined();
    expect(book.onTransition(tr('suspect', 'down', T0 + 170_000))).toBeUndefined();
    expect(book.open().map((a) => a.flaps)).toEqual([3]);
    // Stable from T0+200 s: nothing before the settle time, then one recovery dated when it came up.
    expect(book.onTransition(tr('down', 'up', T0 + 200_000))).toBeUndefined();
    expect(book.settle(T0 + 319_999)).toEqual([]);
    const recovered = book.settle(T0 + 320_000);
    expect(recovered).toHaveLength(1);
    expect(recovered[0]).toMatchObject({ id: page?.id, status: 'resolved', resolvedAt: T0 + 200_000 });
    expect(book.open()).toEqual([]);
    // One incident in the store, its flaps on the timeline.
    expect(store.list({ limit: 10 })).toHaveLength(1);
    expect(store.timeline(page!.id).filter((e) => e.type === 'flap')).toHaveLength(3);
  });

  it('settle 0: a recovery at once, as before', () => {
    const book = new AlertBook(new Topology(smallInventory()));
    book.onTransition(tr('suspect', 'down', T0));
    expect(book.onTransition(tr('down', 'up', T0 + 60_000))).toMatchObject({ status: 'resolved' });
    expect(book.nextSettleAt()).toBeUndefined();
  });
});
