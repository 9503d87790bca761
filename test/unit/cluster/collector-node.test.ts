/**
 * Collector nodes on fake time over the in-memory bucket and stream (test/support/cluster-fakes.ts): the
 * fleet is split with no overlap and no hole; a member cut off from NATS drops its devices before the
 * others take them, so no device is polled twice in one aligned interval and none waits longer than the
 * membership timeout plus one interval; a probe request is answered by the owner only. The same story with
 * real processes and nats-server nodes: test/integration/cluster/.
 */
import { describe, expect, it } from 'vitest';
import { CollectorNode, type CollectorBus } from '../../../collector/cluster/collector-node.ts';
import { encodeProbeRequest, probeSubject } from '../../../collector/cluster/subjects.ts';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { Device, Inventory, Site } from '../../../collector/core/types.ts';
import type { SampleWriterLike } from '../../../collector/pipeline.ts';
import type { PingConfig } from '../../../config/ping.ts';
import { parseFpingOutput, type FpingParse } from '../../../collector/sources/ping/fping-output.ts';
import { nextSlot, phaseOf } from '../../../collector/scheduler/scheduler.ts';
import { FakeStream, MemoryBucket } from '../../support/cluster-fakes.ts';
import { ScriptedPoller, advance } from '../../support/monitor-fakes.ts';

const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);
const INTERVAL = 2000;
const HEARTBEAT = 500;
const TIMEOUT = 2000;

const KEC = ['Kuta', 'Mengwi', 'Petang'];
const sites: Site[] = Array.from({ length: 12 }, (_, i) => ({
  id: `site-${i}`,
  name: `Site ${i}`,
  category: 'banjar',
  kecamatan: KEC[i % KEC.length] ?? 'Kuta',
  desa: 'Desa',
  lat: -8.6,
  lon: 115.2,
  criticality: 'low',
}));
const devices: Device[] = sites.flatMap((s, i) => [
  {
    id: `${s.id}-rtr`,
    siteId: s.id,
    role: 'router',
    host: `127.0.9.${2 * i + 1}`,
    port: 161,
    profile: 'generic',
  },
  {
    id: `${s.id}-ap1`,
    siteId: s.id,
    role: 'ap',
    host: `127.0.9.${2 * i + 2}`,
    port: 161,
    profile: 'generic',
  },
]);
const inventory: Inventory = { sites, devices };

const idleWriter = (): SampleWriterLike => ({
  push: () => undefined,
  start: async () => undefined,
  stop: async () => undefined,
  stats: () => ({ written: 0, buffered: 0, dropped: 0, invalid: 0, failures: 0 }),
});

/** The fake cluster: one bucket, one stream, the probe subscriptions of every node. */
function fakeCluster(clock: FakeClock, inv: Inventory = inventory) {
  const bucket = new MemoryBucket(clock);
  const stream = new FakeStream();
  const probeSubs = new Set<(subject: string, data: Uint8Array) => void>();
  const bus: CollectorBus = {
    publisher: stream,
    members: async () => bucket.store(),
    subscribeProbes: (fn) => {
      probeSubs.add(fn);
      return { stop: () => probeSubs.delete(fn) };
    },
  };
  /** The addresses each node's fake fping was given, per run. */
  const pinged = new Map<string, string[][]>();
  const logs = new Map<string, ReturnType<typeof memoryLogger>>();
  const logOf = (id: string) => {
    const log = logs.get(id) ?? memoryLogger('warn');
    logs.set(id, log);
    return log;
  };
  const node = (
    id: string,
    pins: string[] = [],
    edges: { domain: string; kecamatan: string[] }[] = [],
    ping?: PingConfig,
  ) =>
    new CollectorNode(
      {
        clock,
        log: logOf(id),
        inventory: inv,
        poller: new ScriptedPoller(clock),
        writer: idleWriter(),
        bus,
        pingBatch: (hosts): Promise<FpingParse> => {
          pinged.set(id, [...(pinged.get(id) ?? []), [...hosts]]);
          return Promise.resolve(parseFpingOutput(hosts.map((h) => `${h} : 0.1`).join('\n'), hosts, 1));
        },
      },
      {
        cluster: {
          node: id,
          roles: ['collector'],
          membership: { heartbeatMs: HEARTBEAT, timeoutMs: TIMEOUT },
          pin: pins.length > 0 ? { kecamatan: pins } : undefined,
          edges,
        },
        intervalMs: INTERVAL,
        concurrency: 50,
        selfMetricsMs: 10_000,
        ping,
      },
    );
  const requestProbe = (deviceId: string, kind?: 'ping') => {
    for (const fn of probeSubs)
      fn(probeSubject(deviceId), encodeProbeRequest(kind ? { delayMs: 0, kind } : { delayMs: 0 }));
  };
  return { bucket, stream, node, requestProbe, pinged, logs };
}

async function startAll(clock: FakeClock, nodes: CollectorNode[]): Promise<void> {
  const started = Promise.all(nodes.map((n) => n.start()));
  await advance(clock, HEARTBEAT + 100, 50);
  await started;
}

/** Aligned interval of a poll: floor((t - phase) / interval). */
const slot = (deviceId: string, t: number) => Math.floor((t - phaseOf(deviceId, INTERVAL)) / INTERVAL);

describe('CollectorNode', () => {
  it('splits the fleet among the members: every device owned once, polled once per interval', async () => {
    const clock = new FakeClock(T0);
    const c = fakeCluster(clock);
    const nodes = [c.node('col-1'), c.node('col-2'), c.node('col-3')];
    await startAll(clock, nodes);
    const owned = nodes.flatMap((n) => n.owned());
    expect(owned.sort()).toEqual(devices.map((d) => d.id).sort());
    for (const n of nodes) expect(n.owned().length).toBeGreaterThan(2);
    await advance(clock, 3 * INTERVAL, 50);
    for (const n of nodes) await n.stop();

    const seen = new Map<string, string[]>();
    for (const { msg } of c.stream.stored) {
      const key = `${msg.probe.deviceId}@${slot(msg.probe.deviceId, msg.probe.timeMs)}`;
      seen.set(key, [...(seen.get(key) ?? []), msg.collector]);
    }
    expect([...seen.values()].filter((who) => who.length > 1)).toEqual([]);
    for (const d of devices) expect(c.stream.stored.some((s) => s.msg.probe.deviceId === d.id)).toBe(true);
    // Each collector's results are numbered without a gap.
    for (const id of ['col-1', 'col-2', 'col-3']) {
      const seqs = c.stream.stored.filter((s) => s.msg.collector === id).map((s) => s.msg.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    }
  });

  it('a member cut off from NATS stops polling before the others take over; none waits past timeout + interval', async () => {
    const clock = new FakeClock(T0);
    const c = fakeCluster(clock);
    const nodes = [c.node('col-1'), c.node('col-2'), c.node('col-3')];
    await startAll(clock, nodes);
    await advance(clock, 2 * INTERVAL, 50);
    const lost = nodes[1]?.owned() ?? [];
    expect(lost.length).toBeGreaterThan(0);
    const cutAt = clock.now();
    c.bucket.cut.add('col-2');
    await advance(clock, TIMEOUT + 3 * INTERVAL, 50);
    expect(nodes[1]?.owned()).toEqual([]);
    expect(new Set([...(nodes[0]?.owned() ?? []), ...(nodes[2]?.owned() ?? [])])).toEqual(
      new Set(devices.map((d) => d.id)),
    );
    for (const n of nodes) await n.stop();

    let worst = 0;
    for (const id of lost) {
      const next = c.stream.stored.find(
        (s) => s.msg.probe.deviceId === id && s.msg.collector !== 'col-2' && s.msg.probe.timeMs > cutAt,
      );
      expect(next).toBeDefined();
      worst = Math.max(worst, (next?.msg.probe.timeMs ?? Infinity) - cutAt);
    }
    expect(worst).toBeLessThanOrEqual(TIMEOUT + INTERVAL);
    const polls = new Map<string, Set<string>>();
    for (const { msg } of c.stream.stored) {
      const key = `${msg.probe.deviceId}@${slot(msg.probe.deviceId, msg.probe.timeMs)}`;
      polls.set(key, (polls.get(key) ?? new Set()).add(msg.collector));
    }
    expect([...polls.entries()].filter(([, who]) => who.size > 1)).toEqual([]);
  });

  it('a joining member takes a fair share from the next slots on, with no interval polled twice', async () => {
    const clock = new FakeClock(T0);
    const c = fakeCluster(clock);
    const first = [c.node('col-1'), c.node('col-2')];
    await startAll(clock, first);
    await advance(clock, 2 * INTERVAL, 50);
    const late = c.node('col-3');
    await startAll(clock, [late]);
    await advance(clock, 2 * INTERVAL, 50);
    expect(late.owned().length).toBeGreaterThan(2);
    expect(late.owned().length).toBeLessThan(devices.length / 2);
    for (const n of [...first, late]) await n.stop();
    const polls = new Map<string, Set<string>>();
    for (const { msg } of c.stream.stored) {
      const key = `${msg.probe.deviceId}@${slot(msg.probe.deviceId, msg.probe.timeMs)}`;
      polls.set(key, (polls.get(key) ?? new Set()).add(msg.collector));
    }
    expect([...polls.entries()].filter(([, who]) => who.size > 1)).toEqual([]);
  });

  it('a pinned member polls its kecamatan alone', async () => {
    const clock = new FakeClock(T0);
    const c = fakeCluster(clock);
    const edge = c.node('edge-petang', ['Petang']);
    const nodes = [c.node('col-1'), c.node('col-2'), edge];
    await startAll(clock, nodes);
    const petang = devices.filter((d) => sites.find((s) => s.id === d.siteId)?.kecamatan === 'Petang');
    expect(edge.owned().sort()).toEqual(petang.map((d) => d.id).sort());
    for (const n of nodes) await n.stop();
  });

  it('an edge cut off keeps polling its kecamatan, and the centre never takes those devices (strict pins)', async () => {
    const clock = new FakeClock(T0);
    const c = fakeCluster(clock);
    const edges = [{ domain: 'edge-petang', kecamatan: ['Petang'] }];
    const edge = c.node('edge-petang', ['Petang'], edges);
    const central = [c.node('col-1', [], edges), c.node('col-2', [], edges)];
    await startAll(clock, [...central, edge]);
    await advance(clock, INTERVAL, 50);
    const petang = devices
      .filter((d) => sites.find((s) => s.id === d.siteId)?.kecamatan === 'Petang')
      .map((d) => d.id);
    expect(edge.owned().sort()).toEqual([...petang].sort());
    const cutAt = clock.now();
    c.bucket.cut.add('edge-petang');
    await advance(clock, TIMEOUT + 3 * INTERVAL, 50);
    // The centre saw the edge go (it is not in their view) and took nothing of it.
    for (const n of central) {
      expect(n.stats().members).not.toContain('edge-petang');
      expect(n.owned().filter((id) => petang.includes(id))).toEqual([]);
    }
    // The edge kept polling its own through the cut (its results are kept for when the link returns).
    expect(edge.owned().sort()).toEqual([...petang].sort());
    const during = c.stream.stored.filter((s) => s.msg.probe.timeMs > cutAt + TIMEOUT);
    expect(
      new Set(during.filter((s) => petang.includes(s.msg.probe.deviceId)).map((s) => s.msg.collector)),
    ).toEqual(new Set(['edge-petang']));
    for (const id of petang)
      expect(during.some((s) => s.msg.probe.deviceId === id && s.msg.collector === 'edge-petang')).toBe(true);
    for (const n of [...central, edge]) await n.stop();
  });

  it('answers a probe request for a device it owns; ignores the others', async () => {
    const clock = new FakeClock(T0);
    const c = fakeCluster(clock);
    const nodes = [c.node('col-1'), c.node('col-2')];
    await startAll(clock, nodes);
    await advance(clock, INTERVAL, 50);
    // A device whose next slot is far: a poll within the next 50 ms is the requested one.
    const now = clock.now();
    const target = nodes[0]?.owned().find((id) => nextSlot(id, INTERVAL, now) - now > 500) ?? '';
    expect(target).not.toBe('');
    const before = c.stream.stored.length;
    c.requestProbe(target);
    await advance(clock, 50, 50);
    const extra = c.stream.stored.slice(before).filter((s) => s.msg.probe.deviceId === target);
    expect(extra.map((s) => s.msg.collector)).toEqual(['col-1']);
    for (const n of nodes) await n.stop();
  });

  it('a clean stop hands the devices over at once (the key is deleted)', async () => {
    const clock = new FakeClock(T0);
    const c = fakeCluster(clock);
    const nodes = [c.node('col-1'), c.node('col-2')];
    await startAll(clock, nodes);
    await nodes[1]?.stop();
    expect(nodes[0]?.owned().length).toBe(devices.length);
    expect(c.bucket.values.has('col-2')).toBe(false);
    await nodes[0]?.stop();
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('CollectorNode with ping:', () => {
  const ping: PingConfig = {
    intervalMs: 60_000,
    fastIntervalMs: 60_000,
    fastCriticalities: [],
    recheckMs: 2000,
    count: 1,
    timeoutMs: 500,
    periodMs: 100,
    packetIntervalMs: 1,
    batchSize: 100,
    parallel: 1,
    fping: 'fping',
  };
  const hostOf = new Map(devices.map((d) => [d.host, d.id]));
  const idsPinged = (runs: readonly string[][] | undefined): string[] =>
    (runs ?? []).flat().map((h) => hostOf.get(h) ?? h);

  it('pings the devices it owns, on its results stream with its polls; takes over what a leaver pinged', async () => {
    const clock = new FakeClock(T0);
    const c = fakeCluster(clock);
    const [a, b] = [c.node('col-1', [], [], ping), c.node('col-2', [], [], ping)];
    await startAll(clock, [a, b]);
    await advance(clock, 100, 50);
    expect(a.stats().pinged).toBe(a.owned().length);
    expect(new Set(idsPinged(c.pinged.get('col-1')))).toEqual(new Set(a.owned()));
    expect(new Set(idsPinged(c.pinged.get('col-2')))).toEqual(new Set(b.owned()));
    const pingResults = c.stream.stored.filter((s) => s.msg.probe.source === 'ping');
    expect(new Set(pingResults.map((s) => `${s.msg.collector}:${s.msg.probe.deviceId}`))).toEqual(
      new Set([...a.owned().map((id) => `col-1:${id}`), ...b.owned().map((id) => `col-2:${id}`)]),
    );

    // A ping request (kind ping) makes the owner ping at once, and nobody else; a poll request still polls.
    const [target] = b.owned();
    if (!target) throw new Error('col-2 owns nothing');
    c.pinged.clear();
    c.requestProbe(target, 'ping');
    await advance(clock, 10, 10);
    expect(c.pinged.get('col-1')).toBeUndefined();
    expect(idsPinged(c.pinged.get('col-2'))).toEqual([target]);

    // col-2 leaves: col-1 pings its devices at once (no wait for an interval).
    c.pinged.clear();
    const bOwned = b.owned();
    await b.stop();
    await advance(clock, 100, 50);
    expect(new Set(idsPinged(c.pinged.get('col-1')))).toEqual(new Set(bOwned));
    expect(a.stats().pinged).toBe(devices.length);
    await a.stop();
    // Pings and polls share one numbering per collector, without a gap.
    for (const id of ['col-1', 'col-2']) {
      const seqs = c.stream.stored.filter((s) => s.msg.collector === id).map((s) => s.msg.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    }
  });

  it('ping-only devices are owned too: pinged by their owner, never polled; any probe request is a ping', async () => {
    // Four more sites whose one device answers ping only (no SNMP on it).
    const extra: Site[] = [12, 13, 14, 15].map(
      (i) => ({ ...sites[0], id: `site-${i}`, name: `Site ${i}` }) as Site,
    );
    const pingOnly: Device[] = extra.map((site, i) => ({
      id: `${site.id}-rtr`,
      siteId: site.id,
      role: 'router',
      host: `127.0.9.${100 + i}`,
      port: 161,
      profile: 'generic',
      ping: 'only',
    }));
    const ids = pingOnly.map((d) => d.id);
    const byHost = new Map(pingOnly.map((d) => [d.host, d.id]));
    const pingedIds = (node: string) => idsPinged(c.pinged.get(node)).map((h) => byHost.get(h) ?? h);
    const clock = new FakeClock(T0);
    const c = fakeCluster(clock, { sites: [...sites, ...extra], devices: [...devices, ...pingOnly] });
    const [a, b] = [c.node('col-1', [], [], ping), c.node('col-2', [], [], ping)];
    await startAll(clock, [a, b]);
    await advance(clock, 3 * INTERVAL, 50);
    // Each is owned by exactly one member, which pings it; nobody polls it.
    for (const id of ids)
      expect([a.owned().includes(id), b.owned().includes(id)].filter(Boolean)).toHaveLength(1);
    expect(a.owned().length + b.owned().length).toBe(devices.length + ids.length);
    for (const [node, m] of [
      ['col-1', a],
      ['col-2', b],
    ] as const) {
      const mine = ids.filter((id) => m.owned().includes(id));
      expect(
        pingedIds(node)
          .filter((id) => ids.includes(id))
          .sort(),
      ).toEqual(mine.sort());
    }
    const polled = c.stream.stored
      .filter((r) => r.msg.probe.source === 'snmp')
      .map((r) => r.msg.probe.deviceId);
    expect(polled.filter((id) => ids.includes(id))).toEqual([]);
    expect(new Set(polled).size).toBe(devices.length);
    // A poll request for a ping-only device is a ping, by its owner.
    const target = ids[0] ?? '';
    const owner = a.owned().includes(target) ? 'col-1' : 'col-2';
    c.pinged.clear();
    c.requestProbe(target);
    await advance(clock, 10, 10);
    expect(pingedIds(owner)).toEqual([target]);
    expect(c.pinged.size).toBe(1);
    // The owner leaves: the other takes its ping-only devices and pings them at once.
    const [leaver, stayer, stayerId] = owner === 'col-1' ? [a, b, 'col-2'] : [b, a, 'col-1'];
    const theirs = ids.filter((id) => leaver.owned().includes(id));
    expect(theirs).toContain(target);
    c.pinged.clear();
    await leaver.stop();
    await advance(clock, 100, 50);
    expect(theirs.filter((id) => !stayer.owned().includes(id))).toEqual([]);
    expect(theirs.filter((id) => !pingedIds(stayerId).includes(id))).toEqual([]);
    await stayer.stop();

    // Without ping: nobody owns them, and the member says they are not watched.
    const clock2 = new FakeClock(T0);
    const c2 = fakeCluster(clock2, { sites: [...sites, ...extra], devices: [...devices, ...pingOnly] });
    const lone = c2.node('col-3');
    await startAll(clock2, [lone]);
    expect(lone.owned().filter((id) => ids.includes(id))).toEqual([]);
    expect(
      c2.logs.get('col-3')?.records.find((r) => r.msg.startsWith('ping-only devices are not watched')),
    ).toMatchObject({
      devices: 4,
    });
    await lone.stop();
  });

  it('without ping: a ping request pings nothing', async () => {
    const clock = new FakeClock(T0);
    const c = fakeCluster(clock);
    const a = c.node('col-1');
    await startAll(clock, [a]);
    await advance(clock, 10, 10);
    const [target] = a.owned();
    if (!target) throw new Error('col-1 owns nothing');
    c.requestProbe(target, 'ping');
    await advance(clock, 10, 10);
    expect(c.pinged.size).toBe(0);
    expect(c.stream.stored.filter((s) => s.msg.probe.source === 'ping')).toEqual([]);
    expect(a.stats().pinged).toBe(0);
    await a.stop();
  });
});
