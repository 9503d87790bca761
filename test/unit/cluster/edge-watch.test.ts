/**
 * "Monitoring lost" detection (collector/cluster/edge-watch.ts): the pure judgement as a table, the
 * bilingual texts, and the watch on fake time over the in-memory members bucket: one incident when the
 * edge's collectors go silent (after the membership timeout), resolved when one is back; an edge never
 * seen gets one timeout of grace; a central collector going away is no edge's business.
 */
import { describe, expect, it } from 'vitest';
import {
  EdgeWatch,
  judgeEdges,
  monitoringLostNotification,
  servingCollectors,
  type EdgeEvent,
  type EdgeStates,
  type EdgeWatchOptions,
} from '../../../collector/cluster/edge-watch.ts';
import { encodeMember, type MemberRecord } from '../../../collector/cluster/subjects.ts';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { Site } from '../../../collector/core/types.ts';
import { MemoryBucket } from '../../support/cluster-fakes.ts';
import { advance } from '../../support/monitor-fakes.ts';

const KS = { domain: 'edge-ks', kecamatan: ['Kuta Selatan'] };
const PETANG = { domain: 'edge-petang', kecamatan: ['Petang'] };
const member = (id: string, pins: string[] = [], roles = ['collector']): MemberRecord => ({
  v: 1,
  id,
  roles,
  pins,
  startedAtMs: 0,
});
const edgeKs = member('edge-ks-1', ['Kuta Selatan']);
const central = member('col-1');
const alerting = member('alert-a', [], ['alerting']);
const T = 1_000_000;
const watch = { startedAtMs: T, graceMs: 5000 };

describe('judgeEdges', () => {
  const served: EdgeStates = new Map([['edge-ks', { served: true }]]);
  const lost: EdgeStates = new Map([['edge-ks', { served: false, lostAtMs: T + 9000 }]]);
  const cases: [string, MemberRecord[], EdgeStates, number, string[], EdgeStates][] = [
    ['served, still served: nothing', [central, edgeKs], served, T + 10_000, [], served],
    [
      'served, its collector gone: lost',
      [central],
      served,
      T + 10_000,
      ['lost edge-ks'],
      new Map([['edge-ks', { served: false, lostAtMs: T + 10_000 }]]),
    ],
    ['lost, still gone: nothing more (one incident)', [central], lost, T + 20_000, [], lost],
    ['lost, a collector back: back', [edgeKs], lost, T + 20_000, ['back edge-ks'], served],
    [
      'never seen, within the grace: nothing yet',
      [central],
      new Map(),
      T + 4000,
      [],
      new Map([['edge-ks', { served: false }]]),
    ],
    [
      'never seen, grace over: lost',
      [central],
      new Map([['edge-ks', { served: false }]]),
      T + 5000,
      ['lost edge-ks'],
      new Map([['edge-ks', { served: false, lostAtMs: T + 5000 }]]),
    ],
    [
      'an alerting member pinned nothing: not a collector of it',
      [alerting],
      served,
      T + 10_000,
      ['lost edge-ks'],
      new Map([['edge-ks', { served: false, lostAtMs: T + 10_000 }]]),
    ],
  ];
  it.each(cases)('%s', (_what, live, before, now, want, after) => {
    const r = judgeEdges([KS], live, before, now, watch);
    expect(r.events.map((e) => `${e.kind} ${e.edge.domain}`)).toEqual(want);
    expect(r.states).toEqual(after);
  });

  it('judges each edge on its own collectors', () => {
    const both = new Map([
      ['edge-ks', { served: true }],
      ['edge-petang', { served: true }],
    ]);
    const r = judgeEdges([KS, PETANG], [edgeKs, central], both, T + 10_000, watch);
    expect(r.events.map((e) => `${e.kind} ${e.edge.domain}`)).toEqual(['lost edge-petang']);
    expect(servingCollectors(KS, [edgeKs, central, member('edge-ks-2', ['Kuta Selatan'])])).toEqual([
      'edge-ks-1',
      'edge-ks-2',
    ]);
  });

  it('names the incident by the edge and the time it was lost; back resolves the same one', () => {
    const a = judgeEdges([KS], [], new Map([['edge-ks', { served: true }]]), T + 7000, watch);
    const b = judgeEdges([KS], [edgeKs], a.states, T + 70_000, watch);
    expect(a.events[0]?.incidentId).toBe(`monitoring:edge-ks:${T + 7000}`);
    expect(b.events[0]?.incidentId).toBe(a.events[0]?.incidentId);
    expect(b.events[0]?.collectors).toEqual(['edge-ks-1']);
  });
});

/** A watch over KS on fake time and an in-memory members bucket, with what it raised. */
function watchOnFakeTime(timeoutMs: number, lost?: EdgeWatchOptions['lost']) {
  const clock = new FakeClock(T);
  const bucket = new MemoryBucket(clock);
  const events: EdgeEvent[] = [];
  const w = new EdgeWatch({
    store: bucket.store(),
    clock,
    log: memoryLogger('error'),
    edges: [KS],
    timeoutMs,
    lost,
    onEvent: (e) => events.push(e),
  });
  return { clock, bucket, events, w };
}

describe('EdgeWatch started from the incidents open in the store (a new leader)', () => {
  it('a lost edge still gone raises nothing; back resolves the stored incident under its own id', async () => {
    const { clock, bucket, events, w } = watchOnFakeTime(2000, [
      { domain: 'edge-ks', incidentId: 'monitoring:edge-ks:42', lostAtMs: T - 60_000 },
      // An edge no longer in the config: not watched.
      { domain: 'edge-gone', incidentId: 'monitoring:edge-gone:7', lostAtMs: T - 60_000 },
    ]);
    await w.start();
    expect(w.lost()).toEqual(['edge-ks']);
    await advance(clock, 10_000, 500);
    expect(events).toEqual([]);
    await bucket.store().put(edgeKs.id, encodeMember(edgeKs));
    expect(events.map((e) => [e.kind, e.incidentId, e.lostAtMs])).toEqual([
      ['back', 'monitoring:edge-ks:42', T - 60_000],
    ]);
    w.stop();
  });
});

describe('the monitoring-lost notification', () => {
  const site = (id: string, kecamatan: string): Site => ({
    id,
    name: id.toUpperCase(),
    category: 'banjar',
    kecamatan,
    desa: 'Jimbaran',
    lat: -8.8,
    lon: 115.2,
    criticality: 'low',
  });
  const sites = [site('s1', 'Kuta Selatan'), site('s2', 'Kuta Selatan'), site('s3', 'Mengwi')];
  const lost: EdgeEvent = {
    kind: 'lost',
    edge: KS,
    incidentId: 'monitoring:edge-ks:1',
    lostAtMs: Date.UTC(2026, 11, 3, 4, 0),
    atMs: Date.UTC(2026, 11, 3, 4, 0),
    collectors: [],
  };

  it('says monitoring is lost, not that sites are down, in both languages', () => {
    const n = monitoringLostNotification(lost, sites);
    expect(n).toMatchObject({ kind: 'monitoring_lost', status: 'firing', id: 'monitoring:edge-ks:1' });
    expect(n.device).toBeUndefined();
    expect(n.affected.sites.map((s) => s.id)).toEqual(['s1', 's2']);
    expect(n.text.id).toMatch(
      /^\[PEMANTAUAN TERPUTUS\] Pemantauan Kec\. Kuta Selatan terputus sejak 12:00 WITA/,
    );
    expect(n.text.id).toMatch(/BUKAN berarti lokasi mati/);
    expect(n.text.en).toMatch(
      /^\[MONITORING LOST\] Monitoring of Kuta Selatan district lost since 12:00 WITA/,
    );
    expect(n.text.en).toMatch(/state of 2 sites is unknown; this does NOT mean they are down/);
  });

  it('resolves with the time it lasted', () => {
    const back = { ...lost, kind: 'back' as const, atMs: lost.lostAtMs + 125_000, collectors: ['edge-ks-1'] };
    const n = monitoringLostNotification(back, sites);
    expect(n).toMatchObject({ status: 'resolved', durationS: 125, id: lost.incidentId });
    expect(n.text.id).toMatch(
      /^PULIH: pemantauan Kec\. Kuta Selatan tersambung kembali pukul 12:02 WITA(, [0-9-]+)? setelah 2 menit/,
    );
    expect(n.text.en).toMatch(
      /^RECOVERED: monitoring of Kuta Selatan district is back at 12:02 WITA(, [0-9-]+)? after 2 min/,
    );
  });
});

describe('EdgeWatch on fake time', () => {
  const HEARTBEAT = 500;
  const TIMEOUT = 2000;

  it('one incident when the edge goes silent (after the timeout), resolved when it is back', async () => {
    const clock = new FakeClock(T);
    const bucket = new MemoryBucket(clock);
    const store = bucket.store();
    const events: EdgeEvent[] = [];
    const w = new EdgeWatch({
      store,
      clock,
      log: memoryLogger('error'),
      edges: [KS],
      timeoutMs: TIMEOUT,
      onEvent: (e) => events.push(e),
    });
    let beating = true;
    const beat = async () => {
      for (const m of [edgeKs, central]) {
        if (m === edgeKs && !beating) continue;
        await store.put(m.id, encodeMember(m));
      }
    };
    await beat();
    await w.start();
    for (let i = 0; i < 10; i++) {
      await advance(clock, HEARTBEAT, 50);
      await beat();
    }
    expect(events).toEqual([]);
    beating = false;
    bucket.cut.add(edgeKs.id);
    const cutAt = clock.now();
    for (let i = 0; i < 20; i++) {
      await advance(clock, HEARTBEAT, 50);
      await beat();
    }
    expect(events.map((e) => e.kind)).toEqual(['lost']);
    // Lost the membership timeout after its last heartbeat, not sooner.
    expect(events[0]?.lostAtMs).toBeGreaterThanOrEqual(cutAt - HEARTBEAT + TIMEOUT);
    expect(events[0]?.lostAtMs).toBeLessThanOrEqual(cutAt + TIMEOUT);
    expect(w.lost()).toEqual(['edge-ks']);
    beating = true;
    bucket.cut.delete(edgeKs.id);
    await advance(clock, HEARTBEAT, 50);
    await beat();
    expect(events.map((e) => e.kind)).toEqual(['lost', 'back']);
    expect(events[1]?.incidentId).toBe(events[0]?.incidentId);
    expect(w.lost()).toEqual([]);
    w.stop();
    expect(w.pendingTimers()).toBe(0);
  });

  it('a watch that stalls is replaced before it raises monitoring lost; a real loss is still raised', async () => {
    const clock = new FakeClock(T);
    const bucket = new MemoryBucket(clock);
    const store = bucket.store();
    const events: EdgeEvent[] = [];
    const log = memoryLogger('warn');
    const w = new EdgeWatch({
      store,
      clock,
      log,
      edges: [KS],
      timeoutMs: TIMEOUT,
      onEvent: (e) => events.push(e),
    });
    const beat = async () => {
      for (const m of [edgeKs, central]) if (!bucket.cut.has(m.id)) await store.put(m.id, encodeMember(m));
    };
    await beat();
    await w.start();
    await advance(clock, 2 * HEARTBEAT, 50);
    bucket.stallWatches(); // the server of the watch's consumer died: every put still stored
    for (let i = 0; i < 20; i++) {
      await advance(clock, HEARTBEAT, 50);
      await beat();
    }
    expect(events).toEqual([]);
    expect(bucket.watches).toBe(2);
    expect(log.records.map((r) => r.msg)).toEqual([
      'members watch silent before an edge would be judged lost; watching again',
    ]);
    // The edge's collector really goes: lost one timeout after its last heartbeat, on the new watch.
    bucket.cut.add(edgeKs.id);
    const cutAt = clock.now();
    for (let i = 0; i < 10; i++) {
      await advance(clock, HEARTBEAT, 50);
      await beat();
    }
    expect(events.map((e) => e.kind)).toEqual(['lost']);
    expect(events[0]?.lostAtMs).toBeLessThanOrEqual(cutAt + TIMEOUT);
    expect(bucket.watches).toBe(2);
    w.stop();
    expect(w.pendingTimers()).toBe(0);
  });

  it('an edge never seen is lost once the grace (one timeout) is over; no edges, no watch', async () => {
    const { clock, bucket, events, w } = watchOnFakeTime(TIMEOUT);
    await w.start();
    await advance(clock, TIMEOUT - 100, 50);
    expect(events).toEqual([]);
    await advance(clock, 200, 50);
    expect(events.map((e) => [e.kind, e.lostAtMs])).toEqual([['lost', T + TIMEOUT]]);
    w.stop();
    const none = new EdgeWatch({
      store: bucket.store(),
      clock,
      log: memoryLogger('error'),
      edges: [],
      timeoutMs: TIMEOUT,
      onEvent: (e) => events.push(e),
    });
    await none.start();
    await advance(clock, 3 * TIMEOUT, 50);
    expect(events).toHaveLength(1);
  });
});
