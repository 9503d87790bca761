/**
 * What the HTTP side of an alerting candidate hangs on (collector/cluster/alerting-node.ts, issue #15
 * "Cluster: the console and API"): onElected before the store opens, onLeading once the Monitor runs,
 * onDeposed synchronously at the deposition (after the halt, before the Monitor stops and the store closes),
 * and leader(): who leads and where it serves HTTP, as the lease says. Fake time, the lease in memory.
 */
import { describe, expect, it } from 'vitest';
import { AlertingNode, type TermMonitor, type TermStore } from '../../../collector/cluster/alerting-node.ts';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { MemoryLeaseKv } from '../../support/lease-kv.ts';
import { advance, flush } from '../../support/monitor-fakes.ts';

const T0 = Date.parse('2026-12-03T21:00:00Z');

describe('AlertingNode hooks for the HTTP side', () => {
  it('elected, leading, deposed (synchronously, before the stop), standby; leader() names the holder and its URL', async () => {
    const clock = new FakeClock(T0);
    const kv = new MemoryLeaseKv();
    const seen: string[] = [];
    let fence: (() => void) | undefined;
    const make = (node: string, http: string) =>
      new AlertingNode<TermStore, TermMonitor>({
        clock,
        log: memoryLogger('error'),
        lease: kv.port(node),
        settings: { node, leaseMs: 3000, renewMs: 500, http },
        openStore: (term, fenced) => {
          if (node === 'alert-a') fence = fenced;
          seen.push(`${node} store opened ${term}`);
          return Promise.resolve({ close: () => void seen.push(`${node} store closed ${term}`) });
        },
        buildMonitor: () => ({
          start: () => Promise.resolve(),
          halt: () => void seen.push(`${node} halted`),
          stop: () => Promise.resolve(void seen.push(`${node} monitor stopped`)),
        }),
        onElected: (term) => seen.push(`${node} elected ${term}`),
        onLeading: (term) => seen.push(`${node} leading ${term}`),
        onDeposed: (term) => seen.push(`${node} deposed ${term}`),
        onStandby: (term) => seen.push(`${node} standby ${term}`),
      });
    const a = make('alert-a', 'http://127.0.0.1:33080');
    const b = make('alert-b', 'http://127.0.0.1:33081');
    a.start();
    await advance(clock, 200, 50);
    b.start();
    await advance(clock, 1000, 100);
    expect(seen).toEqual(['alert-a elected 1', 'alert-a store opened 1', 'alert-a leading 1']);
    expect(a.leader()).toEqual({ node: 'alert-a', term: 1, http: 'http://127.0.0.1:33080' });
    expect(b.leader()).toEqual({ node: 'alert-a', term: 1, http: 'http://127.0.0.1:33080' });

    seen.length = 0;
    fence?.(); // a newer term refused a write: step down
    // Synchronously: halted, then the hook, nothing stopped or closed yet.
    expect(seen).toEqual(['alert-a halted', 'alert-a deposed 1']);
    await flush();
    expect(seen.slice(2)).toEqual([
      'alert-a halted',
      'alert-a monitor stopped',
      'alert-a store closed 1',
      'alert-a standby 1',
    ]);
    await a.stop();
    await b.stop();
  });
});
