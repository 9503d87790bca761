/**
 * The leader's HTTP address in the lease (issue #15, "Cluster: the console and API"): the holder writes it
 * with every claim, renew and release; a standby reads it (LeaderElection.holder) and names it in its 503s.
 * Two elections on one in-memory compare-and-set KV, on a fake clock.
 */
import { describe, expect, it } from 'vitest';
import {
  LeaderElection,
  afterRead,
  decodeLease,
  encodeLease,
  renewWrite,
} from '../../../collector/cluster/leader.ts';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { MemoryLeaseKv } from '../../support/lease-kv.ts';
import { advance } from '../../support/monitor-fakes.ts';

const T0 = Date.parse('2026-12-03T21:00:00Z');
const S = { node: 'alert-a', leaseMs: 3000, renewMs: 500, http: 'http://127.0.0.1:33080' };

describe('the lease record with the HTTP address', () => {
  it('claims and renews carry it; without one the record is as before', () => {
    const claim = afterRead({ role: 'standby' }, undefined, T0, S).write;
    expect(claim?.record).toEqual({ v: 1, holder: 'alert-a', term: 1, renewedAtMs: T0, http: S.http });
    const renew = renewWrite({ role: 'leader', term: 4, revision: 9, renewedAtMs: T0 }, T0 + 500, S);
    expect(renew.record.http).toBe(S.http);
    const bare = afterRead({ role: 'standby' }, undefined, T0, { ...S, http: undefined }).write;
    expect(bare?.record).toEqual({ v: 1, holder: 'alert-a', term: 1, renewedAtMs: T0 });
  });

  it('decodes a record with an address, and refuses one whose address is not a URL', () => {
    const r = { v: 1 as const, holder: 'alert-a', term: 2, renewedAtMs: T0, http: S.http };
    expect(decodeLease(encodeLease(r))).toEqual(r);
    expect(
      decodeLease(new TextEncoder().encode(JSON.stringify({ ...r, http: 'not a url' }))),
    ).toBeUndefined();
  });

  it("a standby learns the leader's address from its reads", async () => {
    const clock = new FakeClock(T0);
    const kv = new MemoryLeaseKv();
    const make = (node: string, http: string) =>
      new LeaderElection({
        kv: kv.port(node),
        clock,
        log: memoryLogger('error'),
        settings: { ...S, node, http },
        onElected: () => undefined,
        onDeposed: () => undefined,
      });
    const a = make('alert-a', 'http://127.0.0.1:33080');
    const b = make('alert-b', 'http://127.0.0.1:33081');
    expect(b.holder).toBeUndefined();
    a.start();
    await advance(clock, 100, 50);
    b.start();
    await advance(clock, 1200, 100);
    expect(a.state.role).toBe('leader');
    expect(b.holder).toMatchObject({ holder: 'alert-a', http: 'http://127.0.0.1:33080' });
    expect(a.holder).toMatchObject({ holder: 'alert-a', http: 'http://127.0.0.1:33080' });
    await a.stop();
    await advance(clock, 1200, 100);
    expect(b.state.role).toBe('leader');
    expect(b.holder).toMatchObject({ holder: 'alert-b', http: 'http://127.0.0.1:33081' });
    await b.stop();
  });
});
