/**
 * The alerting lease (collector/cluster/leader.ts): the pure decisions as tables on fake time, then two
 * runners sharing one in-memory compare-and-set KV, on a fake clock: one leader at a time, takeover after
 * the lease, the term going up, and a deposed leader stepping down before the new one acts.
 */
import { describe, expect, it } from 'vitest';
import {
  LeaderElection,
  STANDBY,
  afterRead,
  afterWrite,
  decodeLease,
  encodeLease,
  expired,
  leaderDeadline,
  renewWrite,
  validateLeaseSettings,
  type ElectorState,
  type LeaseRead,
  type LeaseRecord,
  type LeaseWrite,
  type WriteOutcome,
} from '../../../collector/cluster/leader.ts';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { MemoryLeaseKv } from '../../support/lease-kv.ts';
import { advance, flush } from '../../support/monitor-fakes.ts';

const S = { node: 'alert-1', leaseMs: 5000, renewMs: 1000 };
const T0 = Date.parse('2026-12-03T21:00:00Z');
const rec = (holder: string, term: number, at = T0): LeaseRecord => ({ v: 1, holder, term, renewedAtMs: at });

describe('a standby reading the lease', () => {
  const cases: {
    name: string;
    state: Extract<ElectorState, { role: 'standby' }>;
    read: LeaseRead;
    now: number;
    write: LeaseWrite | undefined;
    seen?: { revision: number; sinceMs: number };
  }[] = [
    {
      name: 'an absent key is created with term 1',
      state: STANDBY as Extract<ElectorState, { role: 'standby' }>,
      read: undefined,
      now: T0,
      write: { op: 'create', record: rec('alert-1', 1) },
    },
    {
      name: 'a holder seen for the first time is waited for',
      state: { role: 'standby' },
      read: { revision: 7, record: rec('alert-2', 4) },
      now: T0,
      write: undefined,
      seen: { revision: 7, sinceMs: T0 },
    },
    {
      name: 'a holder that renewed (new revision) restarts the wait',
      state: { role: 'standby', seen: { revision: 7, sinceMs: T0 - 4900 } },
      read: { revision: 9, record: rec('alert-2', 4) },
      now: T0,
      write: undefined,
      seen: { revision: 9, sinceMs: T0 },
    },
    {
      name: 'a lease not renewed for less than `lease` is kept',
      state: { role: 'standby', seen: { revision: 7, sinceMs: T0 - 4999 } },
      read: { revision: 7, record: rec('alert-2', 4) },
      now: T0,
      write: undefined,
      seen: { revision: 7, sinceMs: T0 - 4999 },
    },
    {
      name: 'a lease not renewed for `lease` is taken over at its revision, with the next term',
      state: { role: 'standby', seen: { revision: 7, sinceMs: T0 - 5000 } },
      read: { revision: 7, record: rec('alert-2', 4) },
      now: T0,
      write: { op: 'update', record: rec('alert-1', 5), expectedRevision: 7 },
    },
    {
      name: 'a released lease (clean stop) is taken over at once, with the next term',
      state: { role: 'standby', seen: { revision: 11, sinceMs: T0 - 100 } },
      read: { revision: 12, record: rec('alert-2', 4, 0) },
      now: T0,
      write: { op: 'update', record: rec('alert-1', 5), expectedRevision: 12 },
    },
    {
      name: 'a deleted or unreadable key is taken over at once, term 1',
      state: { role: 'standby' },
      read: { revision: 3, record: undefined },
      now: T0,
      write: { op: 'update', record: rec('alert-1', 1), expectedRevision: 3 },
    },
  ];
  it.each(cases)('$name', ({ state, read, now, write, seen }) => {
    const out = afterRead(state, read, now, S);
    expect(out.write).toEqual(write);
    if (seen) expect(out.state).toEqual({ role: 'standby', seen });
  });
});

describe('the outcome of a write', () => {
  const leader: ElectorState = { role: 'leader', term: 5, revision: 20, renewedAtMs: T0 };
  const renew = renewWrite(leader, T0 + 1000, S);

  it('acquire: a standby whose write was accepted leads with that term from when it sent it', () => {
    const w: LeaseWrite = { op: 'create', record: rec('alert-1', 1) };
    expect(afterWrite(STANDBY, w, { kind: 'ok', revision: 1 }, T0)).toEqual({
      state: { role: 'leader', term: 1, revision: 1, renewedAtMs: T0 },
      event: { type: 'elected', term: 1 },
    });
  });

  it('a standby that lost the race (conflict) or got no answer stays a standby', () => {
    const w: LeaseWrite = { op: 'update', record: rec('alert-1', 5), expectedRevision: 7 };
    for (const outcome of [{ kind: 'conflict' }, { kind: 'error', message: 'timeout' }] as WriteOutcome[])
      expect(afterWrite(STANDBY, w, outcome, T0)).toEqual({ state: STANDBY });
  });

  it('renew: the same holder and term at the last revision; success moves revision and deadline', () => {
    expect(renew).toEqual({
      op: 'update',
      record: rec('alert-1', 5, T0 + 1000),
      expectedRevision: 20,
    });
    const out = afterWrite(leader, renew, { kind: 'ok', revision: 23 }, T0 + 1000);
    expect(out).toEqual({ state: { role: 'leader', term: 5, revision: 23, renewedAtMs: T0 + 1000 } });
    expect(leaderDeadline(out.state, S)).toBe(T0 + 1000 + 4000);
  });

  it('lose the CAS: a renew that meets another revision deposes at once', () => {
    expect(afterWrite(leader, renew, { kind: 'conflict' }, T0 + 1000)).toEqual({
      state: STANDBY,
      event: { type: 'deposed', term: 5, reason: 'lost' },
    });
  });

  it('a renew with no answer keeps the leader until its deadline (lease - renew after the last success)', () => {
    const out = afterWrite(leader, renew, { kind: 'error', message: 'timeout' }, T0 + 1000);
    expect(out.state).toBe(leader);
    expect(expired(leader, T0 + 3999, S)).toBe(false);
    expect(expired(leader, T0 + 4000, S)).toBe(true);
  });
});

describe('settings and the record codec', () => {
  it('refuses a lease shorter than three renews', () => {
    expect(() => validateLeaseSettings({ node: 'a', leaseMs: 2000, renewMs: 1000 })).toThrow(
      /lease \(2000 ms\) must be at least three times renew/,
    );
    expect(() => validateLeaseSettings(S)).not.toThrow();
  });

  it('round-trips a record and reads anything else as no holder', () => {
    expect(decodeLease(encodeLease(rec('alert-2', 9)))).toEqual(rec('alert-2', 9));
    for (const bad of [
      '',
      'null',
      '{"v":2,"holder":"x","term":1,"renewedAtMs":0}',
      '{"v":1,"holder":3}',
      '{"v":1,"holder":"x","term":0,"renewedAtMs":5}',
    ])
      expect(decodeLease(new TextEncoder().encode(bad))).toBeUndefined();
  });
});

// ─── Runners on a shared in-memory KV ──────────────────────────────────────────────────────────────

function cluster(nodes: string[]) {
  const clock = new FakeClock(T0);
  const kv = new MemoryLeaseKv();
  const events: { atMs: number; node: string; type: string; term: number; reason?: string }[] = [];
  const elections = new Map(
    nodes.map((node) => [
      node,
      new LeaderElection({
        kv: kv.port(node),
        clock,
        log: memoryLogger('error'),
        settings: { ...S, node },
        onElected: (term) => events.push({ atMs: clock.now(), node, type: 'elected', term }),
        onDeposed: (term, reason) => events.push({ atMs: clock.now(), node, type: 'deposed', term, reason }),
      }),
    ]),
  );
  const leaders = () => [...elections].filter(([, e]) => e.state.role === 'leader').map(([n]) => n);
  return { clock, kv, events, elections, leaders, get: (n: string) => elections.get(n) as LeaderElection };
}

describe('LeaderElection on a shared KV', () => {
  it('one leader at a time: the first creates the key, the other waits and keeps waiting while it renews', async () => {
    const c = cluster(['a', 'b']);
    c.get('a').start();
    await flush();
    c.get('b').start();
    await advance(c.clock, 30_000, 100);
    expect(c.leaders()).toEqual(['a']);
    expect(c.events).toEqual([{ atMs: T0, node: 'a', type: 'elected', term: 1 }]);
    // a renewed about every second, each at its last revision.
    const renews = c.kv.writes.filter((w) => w.node === 'a' && w.outcome === 'ok');
    expect(renews.length).toBeGreaterThanOrEqual(30);
    expect(c.kv.writes.filter((w) => w.node === 'b')).toEqual([]);
  });

  it('a deposed leader steps down before the new one acts; the takeover increments the term', async () => {
    const c = cluster(['a', 'b']);
    c.get('a').start();
    await flush();
    c.get('b').start();
    await advance(c.clock, 10_000, 100);
    // a can no longer reach NATS (its renews time out); it keeps running and believes nothing.
    const cutAt = c.clock.now();
    c.kv.cut.add('a');
    await advance(c.clock, 15_000, 100);
    const deposed = c.events.find((e) => e.type === 'deposed' && e.node === 'a');
    const elected = c.events.find((e) => e.type === 'elected' && e.node === 'b');
    expect(deposed).toMatchObject({ term: 1, reason: 'expired' });
    expect(elected).toMatchObject({ term: 2 });
    if (!deposed || !elected) throw new Error('no handover');
    // a stepped down at most lease - renew after its last renew; b acted at least renew later.
    expect(deposed.atMs - cutAt).toBeLessThanOrEqual(S.leaseMs - S.renewMs);
    expect(elected.atMs - deposed.atMs).toBeGreaterThanOrEqual(S.renewMs);
    // The bound the README states: a new leader within lease + 2 x renew of the old one's last renew.
    expect(elected.atMs - cutAt).toBeLessThanOrEqual(S.leaseMs + 2 * S.renewMs);
    expect(c.leaders()).toEqual(['b']);

    // a comes back: it is a standby now and sees b renewing; it never leads again while b lives.
    c.kv.cut.delete('a');
    await advance(c.clock, 20_000, 100);
    expect(c.leaders()).toEqual(['b']);
    expect(c.events.filter((e) => e.type === 'elected').map((e) => [e.node, e.term])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });

  it('lose the CAS: a leader whose key was overwritten is deposed at its next renew', async () => {
    const c = cluster(['a']);
    c.get('a').start();
    await advance(c.clock, 1500, 100);
    // Another process (a misconfigured twin) writes the key.
    c.kv.entry = { revision: ++c.kv.revision, record: rec('twin', 9) };
    await advance(c.clock, 1000, 100);
    expect(c.events.at(-1)).toMatchObject({ node: 'a', type: 'deposed', term: 1, reason: 'lost' });
    expect(c.leaders()).toEqual([]);
    // The twin never renews: a takes over after the lease, with term 10.
    await advance(c.clock, 7000, 100);
    expect(c.events.at(-1)).toMatchObject({ node: 'a', type: 'elected', term: 10 });
  });

  it('a clean stop releases the lease: the standby takes over at its next read, not after the lease', async () => {
    const c = cluster(['a', 'b']);
    c.get('a').start();
    await flush();
    c.get('b').start();
    await advance(c.clock, 5000, 100);
    const stoppedAt = c.clock.now();
    await c.get('a').stop();
    expect(c.events.at(-1)).toMatchObject({ node: 'a', type: 'deposed', reason: 'released' });
    expect(c.get('a').pendingTimers()).toBe(0);
    await advance(c.clock, 2000, 100);
    const elected = c.events.find((e) => e.type === 'elected' && e.node === 'b');
    expect(elected?.term).toBe(2);
    expect((elected?.atMs ?? Infinity) - stoppedAt).toBeLessThanOrEqual(S.renewMs);
  });

  it('two standbys racing for an expired lease: exactly one wins', async () => {
    const c = cluster(['a', 'b', 'c']);
    c.get('a').start();
    await flush();
    c.get('b').start();
    c.get('c').start();
    await advance(c.clock, 3000, 100);
    c.kv.cut.add('a');
    await advance(c.clock, 12_000, 100);
    expect(c.leaders()).toHaveLength(1);
    const term2 = c.events.filter((e) => e.type === 'elected' && e.term === 2);
    expect(term2).toHaveLength(1);
    expect(['b', 'c']).toContain(term2[0]?.node);
  });

  it('stepDown (the store was fenced) deposes at once and keeps the key for the newer leader', async () => {
    const c = cluster(['a']);
    c.get('a').start();
    await advance(c.clock, 1500, 100);
    const writes = c.kv.writes.length;
    c.get('a').stepDown('fenced');
    expect(c.events.at(-1)).toMatchObject({ node: 'a', type: 'deposed', term: 1, reason: 'fenced' });
    expect(c.get('a').term).toBeUndefined();
    expect(c.kv.writes.length).toBe(writes);
    await c.get('a').stop();
  });
});
