/**
 * Membership (collector/cluster/membership.ts): the live view is a pure function of (observations, now),
 * checked on fake time; the Membership class over an in-memory bucket that behaves as the KV watch does
 * (current values first, then every change), with a way to cut one member's puts off.
 */
import { setImmediate as tickOnce } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import {
  Membership,
  liveView,
  nextExpiry,
  observe,
  type Observations,
} from '../../../collector/cluster/membership.ts';
import { encodeMember, type MemberRecord } from '../../../collector/cluster/subjects.ts';
import { MemoryBucket } from '../../support/cluster-fakes.ts';

const T0 = Date.UTC(2026, 11, 3, 12);
const rec = (id: string, pins: string[] = []): MemberRecord => ({
  v: 1,
  id,
  roles: ['collector'],
  pins,
  startedAtMs: T0,
});
const put = (id: string, createdMs: number, initial = false, pins: string[] = []) => ({
  key: id,
  op: 'PUT' as const,
  createdMs,
  initial,
  record: rec(id, pins),
});
const ids = (members: readonly MemberRecord[]) => members.map((m) => m.id);

describe('the live view: a pure function of observations and now', () => {
  const policy = { timeoutMs: 5000 };

  it('a member is live while a put was seen within the timeout, by the observer clock', () => {
    let obs: Observations = new Map();
    obs = observe(obs, put('col-1', T0 - 60_000), T0); // the server's clock is a minute behind: ignored
    expect(ids(liveView(obs, T0 + 4999, policy))).toEqual(['col-1']);
    expect(ids(liveView(obs, T0 + 5000, policy))).toEqual([]);
    expect(nextExpiry(obs, T0, policy)).toBe(T0 + 5000);
    expect(nextExpiry(obs, T0 + 5000, policy)).toBeUndefined();
  });

  it('a deleted key is gone at once (a clean stop)', () => {
    let obs: Observations = observe(new Map(), put('col-1', T0), T0);
    obs = observe(obs, { key: 'col-1', op: 'DEL', createdMs: T0 + 10, initial: false }, T0 + 10);
    expect(liveView(obs, T0 + 10, policy)).toEqual([]);
  });

  it('a current value read at the watch start counts from when it was stored: the long dead stay dead', () => {
    const obs = observe(
      observe(new Map(), put('dead', T0 - 3_600_000, true), T0),
      put('alive', T0 - 800, true),
      T0,
    );
    expect(ids(liveView(obs, T0, policy))).toEqual(['alive']);
    expect(nextExpiry(obs, T0, policy)).toBe(T0 - 800 + 5000);
    // A server clock ahead of ours cannot make a value newer than now.
    const ahead = observe(new Map(), put('col-1', T0 + 60_000, true), T0);
    expect(nextExpiry(ahead, T0, policy)).toBe(T0 + 5000);
  });

  it('self-fencing: the observer drops itself a heartbeat before the others drop it', () => {
    const self = rec('col-1');
    const obs = observe(observe(new Map(), put('col-1', T0), T0), put('col-2', T0), T0);
    const p = { timeoutMs: 5000, self, selfTimeoutMs: 4000 };
    expect(ids(liveView(obs, T0 + 3999, p))).toEqual(['col-1', 'col-2']);
    expect(ids(liveView(obs, T0 + 4000, p))).toEqual(['col-2']);
    expect(nextExpiry(obs, T0, p)).toBe(T0 + 4000);
  });

  it('a pinned member always counts itself (an edge collector keeps its kecamatan through a cut)', () => {
    const self = rec('edge', ['Kuta Selatan']);
    const obs = observe(new Map(), put('col-1', T0), T0);
    const p = { timeoutMs: 5000, self, selfAlwaysLive: true };
    expect(ids(liveView(obs, T0 + 60_000, p))).toEqual(['edge']);
    expect(ids(liveView(obs, T0, p))).toEqual(['col-1', 'edge']);
  });

  it('a put without a decoded record changes nothing', () => {
    const obs = observe(new Map(), { key: 'x', op: 'PUT', createdMs: T0, initial: false }, T0);
    expect(obs.size).toBe(0);
  });
});

/** Advance fake time in small steps, letting the heartbeats' promises settle between them. */
async function run(clock: FakeClock, ms: number, step = 50): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await tickOnce();
  }
}

function member(bucket: MemoryBucket, id: string, pins: string[] = []) {
  const log = memoryLogger('warn');
  const m = new Membership({
    store: bucket.store(),
    clock: bucket.clock,
    log,
    self: rec(id, pins),
    heartbeatMs: 1000,
    timeoutMs: 5000,
  });
  const views: { at: number; ids: string[] }[] = [];
  m.onChange((live) => views.push({ at: bucket.clock.now() - T0, ids: ids(live) }));
  return { m, views, log };
}

describe('Membership over a KV bucket', () => {
  it('members see each other; a member cut off is dropped by the others at its timeout', async () => {
    const clock = new FakeClock(T0);
    const bucket = new MemoryBucket(clock);
    const a = member(bucket, 'col-1');
    const b = member(bucket, 'col-2');
    await a.m.start();
    await b.m.start();
    expect(ids(a.m.live())).toEqual(['col-1', 'col-2']);
    expect(ids(b.m.live())).toEqual(['col-1', 'col-2']);

    await run(clock, 2000);
    bucket.cut.add('col-2'); // col-2's last put went through at t = 2000
    await run(clock, 8000);
    // The others drop it `timeout` after its last put; it drops itself a heartbeat earlier.
    expect(a.views.at(-1)).toEqual({ at: 7000, ids: ['col-1'] });
    expect(b.views.find((v) => !v.ids.includes('col-2'))?.at).toBe(6000);
    expect(b.m.stats().heartbeatFailures).toBeGreaterThan(3);
    expect(b.log.records.filter((r) => r.msg === 'heartbeat failed; retrying every heartbeat')).toHaveLength(
      1,
    );

    bucket.cut.delete('col-2');
    await run(clock, 1000);
    expect(ids(a.m.live())).toEqual(['col-1', 'col-2']);
    // A watch that delivers a member's put before its ack is not taken for a stalled one.
    expect(a.m.stats().rewatches + b.m.stats().rewatches).toBe(0);
    expect(bucket.watches).toBe(2);
    await a.m.stop();
    await b.m.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a watch that stalls is replaced two heartbeats on: nobody fences itself or drops the others', async () => {
    const clock = new FakeClock(T0);
    const bucket = new MemoryBucket(clock);
    const a = member(bucket, 'col-1');
    const b = member(bucket, 'col-2');
    await a.m.start();
    await b.m.start();
    await run(clock, 2000);
    bucket.stallWatches(); // as when the server of the watches' consumer dies: puts acked, nothing delivered
    await run(clock, 10_000);
    for (const x of [a, b]) {
      expect(x.views.filter((v) => v.at >= 2000)).toEqual([]);
      expect(ids(x.m.live())).toEqual(['col-1', 'col-2']);
      expect(x.m.stats().rewatches).toBe(1);
      expect(x.log.records.map((r) => r.msg)).toEqual([
        'members watch stalled: own heartbeat not seen through it; watching again',
      ]);
    }
    expect(bucket.watches).toBe(4);
    await a.m.stop();
    await b.m.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a watch that cannot be started again is tried at each heartbeat; fenced meanwhile, back after', async () => {
    const clock = new FakeClock(T0);
    const bucket = new MemoryBucket(clock);
    const a = member(bucket, 'col-1');
    await a.m.start();
    await run(clock, 2000);
    bucket.stallWatches();
    bucket.failWatches = 3; // the stream has no leader for a while
    await run(clock, 12_000);
    expect(a.log.records.map((r) => r.msg)).toEqual([
      'members watch stalled: own heartbeat not seen through it; watching again',
      'members watch could not be started again; trying at the next heartbeat',
      'members watch stalled: own heartbeat not seen through it; watching again',
      'members watch could not be started again; trying at the next heartbeat',
      'members watch stalled: own heartbeat not seen through it; watching again',
      'members watch could not be started again; trying at the next heartbeat',
      'members watch stalled: own heartbeat not seen through it; watching again',
    ]);
    // Its last put seen at 2000: fenced at 6000 (timeout - heartbeat), back with the watch at 8000.
    expect(a.views.filter((v) => v.at >= 2000)).toEqual([
      { at: 6000, ids: [] },
      { at: 8000, ids: ['col-1'] },
    ]);
    await a.m.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a clean stop deletes the key: the others drop the member at once', async () => {
    const clock = new FakeClock(T0);
    const bucket = new MemoryBucket(clock);
    const a = member(bucket, 'col-1');
    const b = member(bucket, 'col-2');
    await a.m.start();
    await b.m.start();
    await run(clock, 1500);
    await b.m.stop();
    expect(ids(a.m.live())).toEqual(['col-1']);
    expect(a.views.at(-1)).toEqual({ at: 1500, ids: ['col-1'] });
    expect(bucket.values.has('col-2')).toBe(false);
    await a.m.stop();
  });

  it('a new observer does not count a member whose last heartbeat is older than the timeout', async () => {
    const clock = new FakeClock(T0);
    const bucket = new MemoryBucket(clock);
    bucket.values.set('ghost', { value: encodeMember(rec('ghost')), createdMs: T0 - 60_000, revision: 0 });
    const a = member(bucket, 'col-1');
    await a.m.start();
    expect(ids(a.m.live())).toEqual(['col-1']);
    await a.m.stop();
  });

  it('a bad record is counted, logged and changes nothing', async () => {
    const clock = new FakeClock(T0);
    const bucket = new MemoryBucket(clock);
    const a = member(bucket, 'col-1');
    await a.m.start();
    const store = bucket.store();
    await store.put('col-9', new TextEncoder().encode('{"v":1,"id":"col-9"'));
    await store.put('col-8', encodeMember(rec('col-7')));
    expect(ids(a.m.live())).toEqual(['col-1']);
    expect(a.m.stats().badRecords).toBe(2);
    expect(a.log.records.filter((r) => r.msg === 'bad member record skipped').map((r) => r.key)).toEqual([
      'col-9',
      'col-8',
    ]);
    await a.m.stop();
  });

  it('a pinned member keeps itself live while its puts fail', async () => {
    const clock = new FakeClock(T0);
    const bucket = new MemoryBucket(clock);
    const edge = member(bucket, 'edge', ['Kuta Selatan']);
    await edge.m.start();
    bucket.cut.add('edge');
    await run(clock, 20_000, 250);
    expect(ids(edge.m.live())).toEqual(['edge']);
    await edge.m.stop();
  });
});
