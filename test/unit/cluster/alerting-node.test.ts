/**
 * The alerting node's term lifecycle (collector/cluster/alerting-node.ts) on fake time, with the lease in
 * memory and a store and Monitor that record what was done to them: the leader opens the store with its
 * term and starts its Monitor; a deposed leader halts at once (before the next one is elected) and then
 * closes its store; a store that cannot open is retried while leading; a fenced store steps it down.
 */
import { describe, expect, it } from 'vitest';
import { AlertingNode, type TermMonitor, type TermStore } from '../../../collector/cluster/alerting-node.ts';
import { FakeClock } from '../../../collector/core/clock.ts';
import { NetmonError } from '../../../collector/core/errors.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { MemoryLeaseKv } from '../../support/lease-kv.ts';
import { advance, flush } from '../../support/monitor-fakes.ts';

const T0 = Date.parse('2026-12-03T21:00:00Z');
const SETTINGS = { leaseMs: 3000, renewMs: 500 };

/** A term's start, and its end once deposed: halted at once (and again as it ends), stopped, closed. */
const TERM_STARTED = ['store opened', 'monitor started'];
const DEPOSED = ['monitor halted', 'monitor halted', 'monitor stopped', 'store closed', 'standby'];

type Log = { atMs: number; node: string; what: string; term: number }[];

class RecordingStore implements TermStore {
  fenced: () => void = () => {};
  constructor(
    private readonly note: (what: string) => void,
    readonly term: number,
  ) {}
  close(): void {
    this.note('store closed');
  }
}

class RecordingMonitor implements TermMonitor {
  constructor(private readonly note: (what: string) => void) {}
  start(): Promise<void> {
    this.note('monitor started');
    return Promise.resolve();
  }
  halt(): void {
    this.note('monitor halted');
  }
  stop(): Promise<void> {
    this.note('monitor stopped');
    return Promise.resolve();
  }
}

function nodes(names: string[], opts: { failOpens?: number; fencedOpens?: number } = {}) {
  const clock = new FakeClock(T0);
  const kv = new MemoryLeaseKv();
  const log: Log = [];
  const stores = new Map<string, RecordingStore>();
  let failOpens = opts.failOpens ?? 0;
  let fencedOpens = opts.fencedOpens ?? 0;
  const made = new Map(
    names.map((node) => {
      const note = (what: string, term: number) => log.push({ atMs: clock.now(), node, what, term });
      const n = new AlertingNode<RecordingStore, RecordingMonitor>({
        clock,
        log: memoryLogger('error'),
        lease: kv.port(node),
        settings: { ...SETTINGS, node },
        retryMs: 200,
        openStore: (term, fenced) => {
          if (fencedOpens > 0) {
            fencedOpens--;
            note('store open fenced', term);
            return Promise.reject(new NetmonError('store_deposed', `term ${term} was deposed by term 7`));
          }
          if (failOpens > 0) {
            failOpens--;
            note('store open failed', term);
            return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
          }
          note('store opened', term);
          const s = new RecordingStore((w) => note(w, term), term);
          s.fenced = fenced;
          stores.set(node, s);
          return Promise.resolve(s);
        },
        buildMonitor: (_store, term) => new RecordingMonitor((w) => note(w, term)),
        onStandby: (term) => note('standby', term),
      });
      return [node, n];
    }),
  );
  const get = (n: string) => made.get(n) as AlertingNode<RecordingStore, RecordingMonitor>;
  return {
    clock,
    kv,
    log,
    get,
    stores,
    what: (node: string) => log.filter((e) => e.node === node).map((e) => e.what),
  };
}

describe('AlertingNode', () => {
  it('the leader opens the store with its term, then starts its Monitor; a standby opens nothing', async () => {
    const c = nodes(['a', 'b']);
    c.get('a').start();
    await flush();
    c.get('b').start();
    await advance(c.clock, 5000, 100);
    expect(c.what('a')).toEqual(TERM_STARTED);
    expect(c.log.filter((e) => e.node === 'a').map((e) => e.term)).toEqual([1, 1]);
    expect(c.what('b')).toEqual([]);
    expect(c.get('a').role).toBe('leader');
    expect(c.get('b').role).toBe('standby');
  });

  it('kill-like failover: the deposed leader halts before the new one opens the store, and closes its own', async () => {
    const c = nodes(['a', 'b']);
    c.get('a').start();
    await flush();
    c.get('b').start();
    await advance(c.clock, 2000, 100);
    const cutAt = c.clock.now();
    c.kv.cut.add('a');
    await advance(c.clock, 6000, 100);
    expect(c.what('a')).toEqual([...TERM_STARTED, ...DEPOSED]);
    expect(c.what('b')).toEqual(TERM_STARTED);
    const halted = c.log.find((e) => e.node === 'a' && e.what === 'monitor halted');
    const opened = c.log.find((e) => e.node === 'b' && e.what === 'store opened');
    expect(opened?.term).toBe(2);
    expect((opened?.atMs ?? 0) - (halted?.atMs ?? Infinity)).toBeGreaterThanOrEqual(SETTINGS.renewMs);
    // The bound the README states: lease + 2 x renew after the old leader's last renew (here: the cut).
    expect((opened?.atMs ?? Infinity) - cutAt).toBeLessThanOrEqual(SETTINGS.leaseMs + 2 * SETTINGS.renewMs);
    expect(c.get('a').role).toBe('standby');
    expect(c.get('b').role).toBe('leader');
  });

  it('a store that cannot open (PostgreSQL away) is tried again while leading; the Monitor starts once it opens', async () => {
    const c = nodes(['a'], { failOpens: 3 });
    c.get('a').start();
    expect(c.get('a').role).toBe('standby');
    await flush();
    expect(c.get('a').role).toBe('starting');
    await advance(c.clock, 2000, 50);
    expect(c.what('a')).toEqual([
      'store open failed',
      'store open failed',
      'store open failed',
      'store opened',
      'monitor started',
    ]);
    expect(c.get('a').role).toBe('leader');
    expect(c.get('a').term).toBe(1);
  });

  it('a store already held by a newer term at open: the node steps down at once instead of retrying', async () => {
    const c = nodes(['a'], { fencedOpens: 1 });
    c.get('a').start();
    await advance(c.clock, 500, 50);
    expect(c.what('a')).toEqual(['store open fenced', 'standby']);
    expect(c.get('a').role).toBe('standby');
    expect(c.get('a').term).toBeUndefined();
  });

  it('a fenced store (a newer term wrote) steps the leader down: halted, stopped, closed', async () => {
    const c = nodes(['a']);
    c.get('a').start();
    await advance(c.clock, 1000, 100);
    c.stores.get('a')?.fenced();
    expect(c.what('a').slice(2, 3)).toEqual(['monitor halted']);
    await flush();
    expect(c.what('a')).toEqual([...TERM_STARTED, ...DEPOSED]);
    expect(c.get('a').role).toBe('standby');
    // The lease is still its own; nobody else renews it, so after the lease it leads again, with term 2.
    await advance(c.clock, 5000, 100);
    expect(c.get('a').term).toBe(2);
    expect(c.what('a').slice(-2)).toEqual(TERM_STARTED);
  });

  it('a clean stop drains the Monitor, closes the store and releases the lease: the standby takes over at its next read', async () => {
    const c = nodes(['a', 'b']);
    c.get('a').start();
    await flush();
    c.get('b').start();
    await advance(c.clock, 2000, 100);
    const stoppedAt = c.clock.now();
    await c.get('a').stop();
    expect(c.what('a')).toEqual([...TERM_STARTED, 'monitor stopped', ...DEPOSED]);
    expect(c.get('a').pendingTimers()).toBe(0);
    await advance(c.clock, 1000, 100);
    const opened = c.log.find((e) => e.node === 'b' && e.what === 'store opened');
    expect(opened?.term).toBe(2);
    expect((opened?.atMs ?? Infinity) - stoppedAt).toBeLessThanOrEqual(SETTINGS.renewMs);
  });
});
