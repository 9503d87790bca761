/**
 * "Monitoring lost" incidents in the incident store (collector/alerting/edge-book.ts), on fake time: the
 * alerting leader's Monitor and edge watch wired as collector/app.ts wires them, over a SQLite store in a
 * file (a successor opens it again, as a new leader or a restarted process would). One incident per lost
 * edge, paged once through the ledger; a new leader during the cut opens nothing new and sends exactly
 * one recovery; the lost kecamatan's sites are `not_monitored` meanwhile, and page nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { edgeKey, MONITORING_LOST_KIND, monitoringLostTexts } from '../../../collector/alerting/edge-book.ts';
import { EdgeWatch } from '../../../collector/cluster/edge-watch.ts';
import { encodeMember, type MemberRecord } from '../../../collector/cluster/subjects.ts';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { Inventory, Sample } from '../../../collector/core/types.ts';
import { Monitor } from '../../../collector/monitor.ts';
import { incidentView } from '../../../collector/monitor-service.ts';
import { IncidentStore } from '../../../collector/store/incident-store.ts';
import { MemoryBucket } from '../../support/cluster-fakes.ts';
import { testDevice, testSite } from '../../support/fixtures.ts';
import { advance, RecordingChannel, ScriptedPoller } from '../../support/monitor-fakes.ts';

const dir = mkdtempSync(join(tmpdir(), 'netmon-edge-book-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KS = { domain: 'edge-ks', kecamatan: ['Kuta Selatan'] };
const HEARTBEAT = 1000;
const TIMEOUT = 4000;
const T = Date.parse('2026-12-04T12:00:00+08:00');

const inventory: Inventory = {
  sites: [
    testSite('bjr-jimbaran-1', { kecamatan: 'Kuta Selatan', desa: 'Jimbaran' }),
    testSite('bjr-ungasan-1', { kecamatan: 'Kuta Selatan', desa: 'Ungasan' }),
    testSite('bjr-pelaga-1', { kecamatan: 'Petang' }),
  ],
  devices: [
    testDevice('bjr-jimbaran-1-r1', 'bjr-jimbaran-1', 'router'),
    testDevice('bjr-ungasan-1-r1', 'bjr-ungasan-1', 'router'),
    testDevice('bjr-pelaga-1-r1', 'bjr-pelaga-1', 'router'),
  ],
};

const member = (id: string, pins: string[] = []): MemberRecord => ({
  v: 1,
  id,
  roles: ['collector'],
  pins,
  startedAtMs: 0,
});
const edgeCollector = member('edge-ks-1', ['Kuta Selatan']);
const central = member('col-1');

/** The fleet's members: the central collector beats always, the edge's only while its uplink is up. */
class Members {
  readonly bucket: MemoryBucket;
  uplink = true;
  constructor(readonly clock: FakeClock) {
    this.bucket = new MemoryBucket(clock);
  }
  async beat(): Promise<void> {
    const store = this.bucket.store();
    await store.put(central.id, encodeMember(central));
    if (this.uplink) await store.put(edgeCollector.id, encodeMember(edgeCollector));
  }
  cut(): void {
    this.uplink = false;
    this.bucket.cut.add(edgeCollector.id);
  }
  restore(): void {
    this.uplink = true;
    this.bucket.cut.delete(edgeCollector.id);
  }
  /** Fake time on by `ms`, heartbeats as they come. */
  async run(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += HEARTBEAT) {
      await advance(this.clock, HEARTBEAT, 250);
      await this.beat();
    }
  }
}

/** One alerting leader: a Monitor over the store, and its edge watch started from the store's open incidents. */
async function leader(file: string, clock: FakeClock, members: Members) {
  const store = new IncidentStore(file);
  const hook = new RecordingChannel('hook');
  const points: Sample[] = [];
  const monitor = new Monitor(
    {
      clock,
      log: memoryLogger('error'),
      inventory,
      poller: new ScriptedPoller(clock),
      writer: {
        push: (s) => void points.push(...s),
        start: () => Promise.resolve(),
        stop: () => Promise.resolve(),
        stats: () => ({ written: 0, buffered: 0, dropped: 0, invalid: 0, failures: 0 }),
      },
      notifiers: [hook],
      store,
    },
    {
      intervalMs: 2000,
      jitterMs: 0,
      concurrency: 4,
      downAfterFailures: 2,
      recheckMs: 1000,
      selfMetricsMs: 60_000,
      siteStateMs: 2000,
    },
  );
  await monitor.start();
  const watch = new EdgeWatch({
    store: members.bucket.store(),
    clock,
    log: memoryLogger('error'),
    edges: [KS],
    timeoutMs: TIMEOUT,
    lost: monitor.lostEdges(),
    onEvent: (ev) => monitor.edgeEvent(ev),
  });
  await watch.start();
  const pages = () => hook.sent.map((n) => [n.kind, n.status, n.id]);
  /** Killed: nothing more from it (its store is left as it was). */
  const kill = async () => {
    watch.stop();
    monitor.halt();
    await monitor.stop();
    store.close();
  };
  return { store, monitor, watch, hook, points, pages, kill };
}

const stateOf = (m: Monitor, site: string) => m.siteState(site)?.state;

/** A leader over a fresh store whose edge is cut off until its incident is open and paged; then it dies. */
async function lostThenKilled(name: string) {
  const clock = new FakeClock(T);
  const members = new Members(clock);
  const file = join(dir, `${name}.db`);
  await members.beat();
  const a = await leader(file, clock, members);
  await members.run(4000);
  members.cut();
  await members.run(8000);
  const id = a.store.openByKey(edgeKey('edge-ks'))?.id ?? '';
  expect(a.pages()).toEqual([['monitoring_lost', 'firing', id]]);
  await a.kill();
  return { clock, members, file, id };
}

describe('"monitoring lost" in the incident store', () => {
  it('one incident per loss, paged once through the ledger; its sites not monitored; resolved with one recovery', async () => {
    const clock = new FakeClock(T);
    const members = new Members(clock);
    await members.beat();
    const a = await leader(join(dir, 'one.db'), clock, members);
    await members.run(6000);
    expect(stateOf(a.monitor, 'bjr-jimbaran-1')).toBe('up');
    expect(a.pages()).toEqual([]);

    members.cut();
    await members.run(10_000);
    const open = a.store.openByKey(edgeKey('edge-ks'));
    expect(open).toMatchObject({ kind: MONITORING_LOST_KIND, severity: 'high', status: 'open' });
    const id = open?.id ?? '';
    expect(a.pages()).toEqual([['monitoring_lost', 'firing', id]]);
    expect(a.store.notificationsOf(id).map((n) => [n.channel, n.kind])).toEqual([['hook', 'firing']]);
    // Its devices still answered when last heard: the sites are neither up nor down, and write no point.
    expect(stateOf(a.monitor, 'bjr-jimbaran-1')).toBe('not_monitored');
    expect(stateOf(a.monitor, 'bjr-ungasan-1')).toBe('not_monitored');
    expect(stateOf(a.monitor, 'bjr-pelaga-1')).toBe('up');
    const sincePoints = a.points.filter(
      (p) => p.measurement === 'site_state' && p.timeMs > (open?.openedAt ?? 0),
    );
    expect(sincePoints.some((p) => p.tags.site === 'bjr-pelaga-1')).toBe(true);
    expect(sincePoints.some((p) => p.tags.site === 'bjr-jimbaran-1')).toBe(false);
    // The API's title says what it is, in both languages.
    const view = incidentView(a.store.get(id)!, a.monitor.topology, {});
    expect(view).toMatchObject({
      kind: 'monitoring_lost',
      status: 'open',
      siteId: null,
      kecamatan: 'Kuta Selatan',
    });
    expect(view.title).toEqual({
      id: 'PEMANTAUAN TERPUTUS: Kec. Kuta Selatan (2 lokasi, status tidak diketahui)',
      en: 'MONITORING LOST: Kuta Selatan (2 sites, state unknown)',
    });
    expect(view.summary.en).toMatch(
      /^\[MONITORING LOST\] Monitoring of Kuta Selatan district lost since 12:0\d WITA/,
    );

    members.restore();
    await members.run(3000);
    expect(a.pages()).toEqual([
      ['monitoring_lost', 'firing', id],
      ['monitoring_lost', 'resolved', id],
    ]);
    expect(a.store.get(id)).toMatchObject({ status: 'resolved' });
    expect(a.store.openByKey(edgeKey('edge-ks'))).toBeUndefined();
    expect(stateOf(a.monitor, 'bjr-jimbaran-1')).toBe('up');
    expect(monitoringLostTexts(a.store.get(id)!, inventory.sites)?.title.en).toBe(
      'RECOVERED: monitoring of Kuta Selatan is back',
    );
    // A second cut is a second incident.
    members.cut();
    await members.run(10_000);
    const second = a.store.openByKey(edgeKey('edge-ks'))?.id;
    expect(second).toBeDefined();
    expect(second).not.toBe(id);
    expect(a.pages()).toHaveLength(3);
    await a.kill();
  });

  it('a new leader elected during the cut continues the incident: no second page, exactly one recovery', async () => {
    const { clock, members, file, id } = await lostThenKilled('failover');

    // B is elected while the edge is still cut off: it takes the incident over.
    await members.run(2000);
    const b = await leader(file, clock, members);
    expect(b.monitor.lostEdges().map((l) => [l.domain, l.incidentId])).toEqual([['edge-ks', id]]);
    expect(stateOf(b.monitor, 'bjr-ungasan-1')).toBe('not_monitored');
    await members.run(3 * TIMEOUT);
    expect(b.pages()).toEqual([]);
    expect(b.store.list({ limit: 10 }).filter((i) => i.kind === MONITORING_LOST_KIND)).toHaveLength(1);

    members.restore();
    await members.run(3000);
    expect(b.pages()).toEqual([['monitoring_lost', 'resolved', id]]);
    expect(b.store.get(id)).toMatchObject({ status: 'resolved' });
    expect(b.store.notificationsOf(id).map((n) => n.kind)).toEqual(['firing', 'resolved']);
    expect(stateOf(b.monitor, 'bjr-ungasan-1')).toBe('up');
    await members.run(3 * TIMEOUT);
    expect(b.pages()).toHaveLength(1);
    await b.kill();
  });

  it('an edge back while no leader was up: the next leader resolves the incident at once, one recovery', async () => {
    const { clock, members, file, id } = await lostThenKilled('gap');

    members.restore();
    await members.run(5000);
    const b = await leader(file, clock, members);
    await advance(clock, 500, 250);
    expect(b.pages()).toEqual([['monitoring_lost', 'resolved', id]]);
    expect(b.store.get(id)).toMatchObject({ status: 'resolved' });
    await members.run(3 * TIMEOUT);
    expect(b.pages()).toHaveLength(1);
    await b.kill();
  });

  it('a leader that died after opening the incident but before paging: the next one sends the page once', async () => {
    const clock = new FakeClock(T);
    const members = new Members(clock);
    const file = join(dir, 'unsent.db');
    // The incident as a dying leader left it: opened, nothing sent.
    const old = new IncidentStore(file);
    old.open({
      id: `monitoring:edge-ks:${T}`,
      kind: MONITORING_LOST_KIND,
      key: edgeKey('edge-ks'),
      severity: 'high',
      openedAt: T,
      data: { edge: { domain: 'edge-ks', kecamatan: ['Kuta Selatan'] } },
    });
    old.close();
    members.cut();
    await members.beat();
    clock.advance(TIMEOUT * 2);
    const b = await leader(file, clock, members);
    await members.run(3 * TIMEOUT);
    expect(b.pages()).toEqual([['monitoring_lost', 'firing', `monitoring:edge-ks:${T}`]]);
    await b.kill();
    // And the one after it does not send it again.
    const c = await leader(file, clock, members);
    await members.run(3 * TIMEOUT);
    expect(c.pages()).toEqual([]);
    await c.kill();
  });
});
