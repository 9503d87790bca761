/**
 * Issue #15: one contract, two implementations. Every case runs against the SQLite stores (the embedded
 * default) and the PostgreSQL stores (a cluster), the latter on a real PostgreSQL started for this file,
 * one fresh database per case. What only PostgreSQL has (fencing, outages) is in pg-store.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../../collector/alerting/alert.ts';
import { areaKey, StoredAreas } from '../../../collector/alerting/area-book.ts';
import { AreaGrouper, type AreaIncident } from '../../../collector/alerting/area.ts';
import { EdgeBook, edgeKey } from '../../../collector/alerting/edge-book.ts';
import type { EdgeEvent } from '../../../collector/cluster/edge-watch.ts';
import type { Notification } from '../../../collector/notify/notification.ts';
import { FakeClock, systemClock } from '../../../collector/core/clock.ts';
import { Topology } from '../../../collector/health/topology.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { PgSessionStore } from '../../../collector/http/pg-session-store.ts';
import { SessionStore } from '../../../collector/http/session-store.ts';
import { IncidentStore } from '../../../collector/store/incident-store.ts';
import { PgIncidentStore } from '../../../collector/store/pg-store.ts';
import {
  readIncident,
  readIncidents,
  type IncidentStoreLike,
  type SessionRecord,
  type SessionStoreLike,
} from '../../../collector/store/store.ts';
import { testDevice, testSite } from '../../support/fixtures.ts';
import { freshDatabase, postgresForFile } from '../../support/postgres-db.ts';

const dir = mkdtempSync(join(tmpdir(), 'netmon-store-contract-'));
const postgres = postgresForFile();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every store a case opened, closed after it (a PostgreSQL store drains its queue first). */
const openStores: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  for (const s of openStores.splice(0).reverse()) {
    try {
      await s.close();
    } catch {
      // already closed by the case
    }
  }
});
const track = <T extends { close(): Promise<void> | void }>(s: T): T => {
  openStores.push(s);
  return s;
};

interface Opened<S> {
  readonly store: S;
  /** The same database again, as the same holder would open it (durability). */
  reopen(): Promise<S>;
  /** The same database, as the next holder: SQLite a later process; PostgreSQL the next term. */
  successor(): Promise<S>;
}

interface Flavour {
  readonly name: string;
  incidents(): Promise<Opened<IncidentStoreLike>>;
  sessions(): Promise<Opened<SessionStoreLike>>;
}

const log = memoryLogger('warn');
let files = 0;
const pgUrl = (): string => postgres().url;

const flavours: Flavour[] = [
  {
    name: 'SQLite',
    incidents: () => {
      const file = join(dir, `incidents-${++files}.db`);
      const open = (): Promise<IncidentStoreLike> => Promise.resolve(track(new IncidentStore(file)));
      return Promise.resolve({ store: track(new IncidentStore(file)), reopen: open, successor: open });
    },
    sessions: () => {
      const file = join(dir, `sessions-${++files}.db`);
      const open = (): Promise<SessionStoreLike> => Promise.resolve(track(new SessionStore(file)));
      return Promise.resolve({ store: track(new SessionStore(file)), reopen: open, successor: open });
    },
  },
  {
    name: 'PostgreSQL',
    incidents: async () => {
      const url = await freshDatabase(pgUrl(), 'contract');
      const open = async (term: number): Promise<IncidentStoreLike> =>
        track(await PgIncidentStore.open(url, { term, log, clock: systemClock }));
      return { store: await open(1), reopen: () => open(1), successor: () => open(2) };
    },
    sessions: async () => {
      const url = await freshDatabase(pgUrl(), 'contract');
      const open = async (term: number): Promise<SessionStoreLike> =>
        track(await PgSessionStore.open(url, { term, log, clock: systemClock }));
      return { store: await open(1), reopen: () => open(1), successor: () => open(2) };
    },
  },
];

const T = Date.UTC(2026, 10, 23, 2, 0);
const base = {
  kind: 'device_down',
  severity: 'critical',
  openedAt: T,
  siteId: 'pkm-petang-i',
  deviceId: 'pkm-petang-i-rtr',
  data: { cause: 'timeout' },
};

// Area incidents: 40 sites in Petang, 5 in Mengwi (collector/alerting/area.ts over area-book.ts).
const areaSites = [
  ...Array.from({ length: 40 }, (_, i) => testSite(`p${i}`, { kecamatan: 'Petang' })),
  ...Array.from({ length: 5 }, (_, i) => testSite(`m${i}`, { kecamatan: 'Mengwi' })),
];
const areaTopology = new Topology({
  sites: areaSites,
  devices: areaSites.map((s) => testDevice(`${s.id}-r`, s.id, 'router')),
});
const siteAlert = (siteId: string, t: number): Alert => ({
  id: `device:${siteId}-r@${t}`,
  status: 'firing',
  kind: 'device_down',
  severity: 'low',
  deviceId: `${siteId}-r`,
  role: 'router',
  siteId,
  startedAt: t,
  affectedDevices: [],
  affectedSites: [],
});

/** An area grouper keeping its incidents in `store`, as the Monitor wires it; what it paged and told. */
function areaGrouper(store: IncidentStoreLike, clock: FakeClock) {
  const pages: Alert[] = [];
  const areas: AreaIncident[] = [];
  const g = new AreaGrouper({ windowMs: 60_000, minSites: 30, groupWaitMs: 20_000 }, areaTopology, clock, {
    page: (a) => pages.push(a),
    area: (i) => areas.push(i),
  });
  const takenOver = g.keepIn(new StoredAreas(store, clock, log));
  return { g, pages, areas, takenOver };
}

/** A device incident opened as AlertBook opens it (its alert in data), and its firing offered. */
function deviceDown(store: IncidentStoreLike, g: AreaGrouper, a: Alert): void {
  store.open({
    id: a.id,
    kind: 'device_down',
    key: `device:${a.deviceId}`,
    severity: a.severity,
    openedAt: a.startedAt,
    siteId: a.siteId,
    deviceId: a.deviceId,
    data: { alert: a },
  });
  g.offer(a);
}

/** Everything a store answers, to compare a store with itself reopened. */
function everything(s: IncidentStoreLike, ids: readonly string[]) {
  return {
    list: s.list({ limit: 1000 }),
    unresolved: s.unresolved(),
    perIncident: ids.map((id) => ({
      incident: s.get(id),
      timeline: s.timeline(id),
      sent: s.notificationsOf(id),
    })),
    maintenance: s.suppressions('maintenance'),
    silences: s.suppressions('silence'),
  };
}

describe.each(flavours)('incident store contract: $name', (flavour) => {
  it('runs an incident through open, acknowledged, resolved with its timeline', async () => {
    const { store: s } = await flavour.incidents();
    const { incident, created } = s.open({ ...base, id: 'i1', key: 'device:pkm-petang-i-rtr' });
    expect(created).toBe(true);
    expect(incident).toMatchObject({ status: 'open', escalationLevel: 0, data: { cause: 'timeout' } });
    expect(s.acknowledge('i1', 'wayan', T + 60_000, 'on my way')?.status).toBe('acknowledged');
    expect(s.acknowledge('i1', 'made', T + 70_000)?.acknowledgedBy).toBe('wayan'); // only once
    expect(s.resolve('i1', T + 3_600_000)?.status).toBe('resolved');
    expect(s.resolve('i1', T + 3_700_000, 'made')?.resolvedAt).toBe(T + 3_600_000); // only once
    expect(s.acknowledge('nope', 'wayan', T)).toBeUndefined();
    expect(s.resolve('nope', T)).toBeUndefined();
    expect(s.timeline('i1').map((e) => [e.type, e.actor ?? null, e.note ?? null])).toEqual([
      ['opened', null, null],
      ['acknowledged', 'wayan', 'on my way'],
      ['resolved', null, null],
    ]);
    await s.flush();
  });

  it('keeps one open incident per key, and a new one after resolution', async () => {
    const { store: s } = await flavour.incidents();
    s.open({ ...base, id: 'i1', key: 'k' });
    const again = s.open({ ...base, id: 'i2', key: 'k' });
    expect(again).toMatchObject({ created: false, incident: { id: 'i1' } });
    expect(s.get('i2')).toBeUndefined();
    expect(s.openByKey('k')?.id).toBe('i1');
    s.resolve('i1', T + 1);
    expect(s.openByKey('k')).toBeUndefined();
    expect(s.open({ ...base, id: 'i3', key: 'k' }).created).toBe(true);
    expect(s.unresolved().map((i) => i.id)).toEqual(['i3']);
    await s.flush();
  });

  it('records a breached clock and escalation levels once, lists with filters, and tells what was sent', async () => {
    const { store: s } = await flavour.incidents();
    s.open({ ...base, id: 'i1', key: 'device:a' });
    s.open({ ...base, id: 'i2', key: 'device:b', severity: 'low', siteId: 'bjr-x', openedAt: T + 1000 });
    expect(s.markClockBreached('i1', T + 7_200_000, 'clock 120 min')).toBe(true);
    expect(s.markClockBreached('i1', T + 9_000_000)).toBe(false);
    expect(s.markClockBreached('nope', T)).toBe(false);
    expect(s.escalate('i1', 1, T + 7_200_000, 'head')).toBe(true);
    expect(s.escalate('i1', 1, T + 7_300_000, 'head')).toBe(false);
    expect(s.escalate('i1', 0, T + 7_300_000, 'first')).toBe(false); // never lowers
    expect(s.get('i1')).toMatchObject({ clockBreachedAt: T + 7_200_000, escalationLevel: 1 });
    s.acknowledge('i2', 'made', T + 2000);
    expect(s.escalate('i2', 1, T + 3000, 'head')).toBe(false); // acknowledged: no escalation
    expect(s.list({ limit: 10 }).map((i) => i.id)).toEqual(['i2', 'i1']);
    expect(s.list({ status: ['open'], limit: 10 }).map((i) => i.id)).toEqual(['i1']);
    expect(s.list({ status: ['open', 'acknowledged'], limit: 10 }).map((i) => i.id)).toEqual(['i2', 'i1']);
    expect(s.list({ siteIds: ['bjr-x'], limit: 10 }).map((i) => i.id)).toEqual(['i2']);
    expect(s.list({ siteIds: [], limit: 10 })).toEqual([]);
    expect(s.list({ severity: 'critical', sinceMs: T, limit: 1 }).map((i) => i.id)).toEqual(['i1']);
    expect(s.list({ sinceMs: T + 1, limit: 10 }).map((i) => i.id)).toEqual(['i2']);
    expect(s.timeline('i1').map((e) => e.type)).toEqual(['opened', 'clock_breached', 'escalated:1']);
    expect(s.markSent('i1', 'tg-noc', 'firing', T + 10)).toBe(true);
    expect(s.notificationsOf('i1')).toEqual([{ channel: 'tg-noc', kind: 'firing', sentAt: T + 10 }]);
    await s.flush();
  });

  it('lists newest first, the later of two opened in the same millisecond first, up to the limit', async () => {
    const { store: s } = await flavour.incidents();
    for (const id of ['a', 'b', 'c']) s.open({ ...base, id, key: `k-${id}` });
    s.open({ ...base, id: 'd', key: 'k-d', openedAt: T - 1 });
    expect(s.list({ limit: 10 }).map((i) => i.id)).toEqual(['c', 'b', 'a', 'd']);
    expect(s.list({ limit: 2 }).map((i) => i.id)).toEqual(['c', 'b']);
    expect(s.unresolved().map((i) => i.id)).toEqual(['d', 'a', 'b', 'c']);
    await s.flush();
  });

  it('records a notification once per incident, channel and kind; events and the ledger need their incident', async () => {
    const { store: s } = await flavour.incidents();
    s.open({ ...base, id: 'i1', key: 'k' });
    expect(s.markSent('i1', 'telegram:oncall', 'firing', T)).toBe(true);
    expect(s.markSent('i1', 'telegram:oncall', 'firing', T + 5)).toBe(false);
    expect(s.wasSent('i1', 'telegram:oncall', 'firing')).toBe(true);
    expect(s.wasSent('i1', 'telegram:oncall', 'resolved')).toBe(false);
    s.addEvent({ incidentId: 'i1', timeMs: T + 1, type: 'flap', note: 'down again' });
    expect(s.timeline('i1').map((e) => [e.type, e.actor ?? null])).toEqual([
      ['opened', null],
      ['notified:firing', 'telegram:oncall'],
      ['flap', null],
    ]);
    expect(() => s.addEvent({ incidentId: 'nope', timeMs: T, type: 'flap' })).toThrow();
    expect(() => s.markSent('nope', 'telegram:oncall', 'firing', T)).toThrow();
    await expect(s.claim('nope', 'telegram:oncall', 'firing', T)).rejects.toThrow();
    await s.flush();
  });

  it('claims: once per term, false once sent, and taken over by the next holder when left unsent', async () => {
    const opened = await flavour.incidents();
    const s = opened.store;
    s.open({ ...base, id: 'i1', key: 'k' });
    expect(await s.claim('i1', 'webhook:bpbd', 'firing', T)).toBe(true);
    expect(await s.claim('i1', 'webhook:bpbd', 'firing', T + 1)).toBe(false); // same term
    expect(s.wasSent('i1', 'webhook:bpbd', 'firing')).toBe(false); // a claim is not a send
    expect(s.notificationsOf('i1')).toEqual([]);
    expect(s.markSent('i1', 'webhook:bpbd', 'firing', T + 2)).toBe(true); // the claim becomes the send
    expect(s.markSent('i1', 'webhook:bpbd', 'firing', T + 3)).toBe(false);
    expect(await s.claim('i1', 'webhook:bpbd', 'firing', T + 4)).toBe(false); // sent
    expect(s.notificationsOf('i1')).toEqual([{ channel: 'webhook:bpbd', kind: 'firing', sentAt: T + 2 }]);
    // This holder claims the resolution and dies before sending it.
    expect(await s.claim('i1', 'webhook:bpbd', 'resolved', T + 5)).toBe(true);
    expect(await s.claim('i1', 'telegram:oncall', 'firing', T + 5)).toBe(true);
    s.markSent('i1', 'telegram:oncall', 'firing', T + 6);
    await s.flush();

    const next = await opened.successor();
    expect(await next.claim('i1', 'webhook:bpbd', 'resolved', T + 10)).toBe(true); // left by the one before
    expect(await next.claim('i1', 'webhook:bpbd', 'resolved', T + 11)).toBe(false); // now its own
    expect(await next.claim('i1', 'telegram:oncall', 'firing', T + 10)).toBe(false); // sent before
    expect(await next.claim('i1', 'webhook:bpbd', 'firing', T + 10)).toBe(false);
    expect(next.markSent('i1', 'webhook:bpbd', 'resolved', T + 12)).toBe(true);
    expect(next.notificationsOf('i1').map((n) => `${n.channel} ${n.kind}`)).toEqual([
      'webhook:bpbd firing',
      'telegram:oncall firing',
      'webhook:bpbd resolved',
    ]);
    await next.flush();
  });

  it('keeps maintenance windows and silences made over the API, by type, oldest first', async () => {
    const { store: s } = await flavour.incidents();
    s.saveSuppression('maintenance', 'mw-2', { id: 'mw-2', sites: ['pkm-kuta'] }, T + 2);
    s.saveSuppression('maintenance', 'mw-1', { id: 'mw-1', sites: ['pkm-mengwi'] }, T + 1);
    s.saveSuppression('silence', 'si-1', { id: 'si-1', matchers: [{ key: 'site', value: 'x' }] }, T);
    expect(s.suppressions('maintenance')).toEqual([
      { id: 'mw-1', sites: ['pkm-mengwi'] },
      { id: 'mw-2', sites: ['pkm-kuta'] },
    ]);
    s.saveSuppression('maintenance', 'mw-1', { id: 'mw-1', sites: ['pkm-abiansemal'] }, T + 3); // replaced
    expect(s.suppressions('maintenance')).toEqual([
      { id: 'mw-2', sites: ['pkm-kuta'] },
      { id: 'mw-1', sites: ['pkm-abiansemal'] },
    ]);
    expect(s.deleteSuppression('silence', 'mw-2')).toBe(false); // wrong type
    expect(s.deleteSuppression('maintenance', 'mw-2')).toBe(true);
    expect(s.deleteSuppression('maintenance', 'mw-2')).toBe(false);
    expect(s.suppressions('maintenance')).toEqual([{ id: 'mw-1', sites: ['pkm-abiansemal'] }]);
    expect(s.suppressions('silence')).toEqual([{ id: 'si-1', matchers: [{ key: 'site', value: 'x' }] }]);
    await s.flush();
  });

  it('keeps maintenance windows and silences for the next holder, who changes them in turn', async () => {
    const opened = await flavour.incidents();
    const s = opened.store;
    const mw = { id: 'mw-1', sites: ['pkm-kuta'], fromMs: T, untilMs: T + 3_600_000, reason: 'PLN' };
    s.saveSuppression('maintenance', 'mw-1', mw, T);
    s.saveSuppression('silence', 'si-1', { id: 'si-1', untilMs: T + 60_000 }, T + 1);
    s.saveSuppression('silence', 'si-2', { id: 'si-2', untilMs: T + 60_000 }, T + 2);
    expect(s.deleteSuppression('silence', 'si-2')).toBe(true);
    await s.flush();

    // The next holder (a new alerting leader) sees them as they were left, deletion included.
    const next = await opened.successor();
    expect(next.suppressions('maintenance')).toEqual([mw]);
    expect(next.suppressions('silence')).toEqual([{ id: 'si-1', untilMs: T + 60_000 }]);
    next.saveSuppression('silence', 'si-3', { id: 'si-3', untilMs: T + 120_000 }, T + 3);
    expect(next.deleteSuppression('maintenance', 'mw-1')).toBe(true);
    await next.flush();

    // And the one after it sees what the second changed.
    const third = await opened.successor();
    expect(third.suppressions('maintenance')).toEqual([]);
    expect(third.suppressions('silence')).toEqual([
      { id: 'si-1', untilMs: T + 60_000 },
      { id: 'si-3', untilMs: T + 120_000 },
    ]);
  });

  it('keeps an area incident and what it folded: the next holder continues it, one page, one recovery', async () => {
    const opened = await flavour.incidents();
    const s = opened.store;
    const clock = new FakeClock(T);
    const first = areaGrouper(s, clock);
    expect(first.takenOver).toEqual([]);
    // 34 sites of Petang fail within 34 s (a power cut): p0 pages on its own, the rest fold into one area.
    const alerts = Array.from({ length: 34 }, (_, i) => siteAlert(`p${i}`, T + i * 1000));
    for (const a of alerts) {
      deviceDown(s, first.g, a);
      clock.advance(1000);
    }
    expect(first.pages.map((p) => p.siteId)).toEqual(['p0']);
    expect(first.areas).toHaveLength(1);
    const area = first.areas[0] as AreaIncident;
    expect(s.openByKey(areaKey('Petang'))).toMatchObject({
      id: area.id,
      kind: 'area_outage',
      status: 'open',
    });
    // Its page goes through the ledger like any other: claimed, sent, recorded.
    expect(await s.claim(area.id, 'webhook:oncall', 'firing', clock.now())).toBe(true);
    expect(s.markSent(area.id, 'webhook:oncall', 'firing', clock.now())).toBe(true);
    // p33 comes back while the area is open: unfolded, no page.
    clock.advance(1000);
    s.resolve(alerts[33]?.id ?? '', clock.now());
    first.g.offer({ ...(alerts[33] as Alert), status: 'resolved', resolvedAt: clock.now() });
    expect(first.pages).toHaveLength(1);
    await s.flush();

    // The holder dies; the next one takes the area incident over as it was.
    const next = await opened.successor();
    const second = areaGrouper(next, clock);
    expect(second.takenOver).toEqual([area]);
    expect(second.g.open()).toEqual([area]);
    expect(next.wasSent(area.id, 'webhook:oncall', 'firing')).toBe(true);
    expect(await next.claim(area.id, 'webhook:oncall', 'firing', clock.now())).toBe(false);
    // The new holder sees every site still down fail anew: they fold in silence, p0 is its own page again
    // (the ledger skips it), and no second area incident opens.
    clock.advance(5000);
    for (const a of alerts.slice(0, 33)) second.g.offer(a);
    expect(second.areas).toEqual([]);
    expect(second.pages.map((p) => [p.siteId, p.status])).toEqual([['p0', 'firing']]);
    // They come back: the area resolves once, p0's recovery pages, nobody else.
    for (const a of alerts.slice(0, 33)) {
      next.resolve(a.id, clock.now());
      second.g.offer({ ...a, status: 'resolved', resolvedAt: clock.now() });
    }
    clock.advance(60_000);
    expect(second.areas.map((i) => [i.id, i.status])).toEqual([[area.id, 'resolved']]);
    expect(second.pages.map((p) => [p.siteId, p.status])).toEqual([
      ['p0', 'firing'],
      ['p0', 'resolved'],
    ]);
    expect(await next.claim(area.id, 'webhook:oncall', 'resolved', clock.now())).toBe(true);
    expect(next.markSent(area.id, 'webhook:oncall', 'resolved', clock.now())).toBe(true);
    expect(next.get(area.id)).toMatchObject({ status: 'resolved', resolvedAt: clock.now() - 60_000 });
    expect(next.openByKey(areaKey('Petang'))).toBeUndefined();
    const types = next.timeline(area.id).map((e) => e.type);
    expect(types.filter((t) => t === 'area_fold')).toHaveLength(33); // p1..p33
    // p33, then p1..p18: with 14 still down (< minSites / 2) the area resolved; the rest came back in the wait.
    expect(types.filter((t) => t === 'area_unfold')).toHaveLength(19);
    expect(types[0]).toBe('opened');
    expect(types.at(-1)).toBe('notified:resolved');
    expect(next.notificationsOf(area.id).map((n) => n.kind)).toEqual(['firing', 'resolved']);
    await next.flush();

    // A third holder has nothing to take over.
    expect(areaGrouper(await opened.successor(), clock).takenOver).toEqual([]);
  });

  it('keeps a "monitoring lost" incident: the next holder continues it, one page, one recovery', async () => {
    const opened = await flavour.incidents();
    const s = opened.store;
    const clock = new FakeClock(T);
    const edge = { domain: 'edge-petang', kecamatan: ['Petang'] };
    const edgeBook = (store: IncidentStoreLike) => {
      const sent: Notification[] = [];
      const book = new EdgeBook({ store, clock, log, sites: areaSites, send: (n) => sent.push(n) });
      return { book, sent, pages: () => sent.map((n) => [n.kind, n.status, n.id]) };
    };
    const lostAt = T + 4000;
    const lost: EdgeEvent = {
      kind: 'lost',
      edge,
      incidentId: `monitoring:edge-petang:${lostAt}`,
      lostAtMs: lostAt,
      atMs: lostAt,
      collectors: [],
    };
    const first = edgeBook(s);
    expect(first.book.lost()).toEqual([]);
    first.book.record(lost);
    const id = lost.incidentId;
    expect(s.openByKey(edgeKey('edge-petang'))).toMatchObject({
      id,
      kind: 'monitoring_lost',
      severity: 'high',
      status: 'open',
      openedAt: lostAt,
    });
    expect(first.book.lostSince('Petang')).toBe(lostAt);
    expect(first.book.lostSince('Mengwi')).toBeUndefined();
    expect(first.pages()).toEqual([['monitoring_lost', 'firing', id]]);
    expect(first.sent[0]?.affected.sites).toHaveLength(40);
    // Its page goes through the ledger: claimed, sent, recorded.
    expect(await s.claim(id, 'webhook:oncall', 'firing', clock.now())).toBe(true);
    expect(s.markSent(id, 'webhook:oncall', 'firing', clock.now())).toBe(true);
    // Judged lost again (a watch restarted): the same incident, no page.
    first.book.record({ ...lost, incidentId: 'monitoring:edge-petang:999', lostAtMs: lostAt + 9000 });
    expect(first.pages()).toHaveLength(1);
    await s.flush();

    // The holder dies during the cut; the next one takes the incident over as it was.
    const next = await opened.successor();
    const second = edgeBook(next);
    expect(second.book.lost()).toEqual([
      { domain: 'edge-petang', kecamatan: ['Petang'], incidentId: id, lostAtMs: lostAt },
    ]);
    expect(next.wasSent(id, 'webhook:oncall', 'firing')).toBe(true);
    expect(await next.claim(id, 'webhook:oncall', 'firing', clock.now())).toBe(false);
    // Its page offered again in case it was never sent: the ledger refuses it (sent already).
    second.book.resume();
    expect(second.pages()).toEqual([['monitoring_lost', 'firing', id]]);
    // A loss judged by the new leader's watch for the same edge continues it: nothing new opens.
    second.book.record({ ...lost, incidentId: `monitoring:edge-petang:${lostAt + 20_000}` });
    expect(second.pages()).toHaveLength(1);
    expect(
      next
        .list({ limit: 10 })
        .filter((i) => i.kind === 'monitoring_lost')
        .map((i) => i.id),
    ).toEqual([id]);

    // The edge is back: resolved under its id, one recovery, claimed once.
    clock.advance(120_000);
    second.book.record({ ...lost, kind: 'back', atMs: clock.now(), collectors: ['edge-petang-1'] });
    expect(second.pages()).toEqual([
      ['monitoring_lost', 'firing', id],
      ['monitoring_lost', 'resolved', id],
    ]);
    expect(second.sent[1]?.durationS).toBe(Math.round((clock.now() - lostAt) / 1000));
    expect(next.get(id)).toMatchObject({ status: 'resolved', resolvedAt: clock.now() });
    expect(next.openByKey(edgeKey('edge-petang'))).toBeUndefined();
    expect(await next.claim(id, 'webhook:oncall', 'resolved', clock.now())).toBe(true);
    expect(next.markSent(id, 'webhook:oncall', 'resolved', clock.now())).toBe(true);
    expect(next.notificationsOf(id).map((n) => n.kind)).toEqual(['firing', 'resolved']);
    expect(second.book.lostSince('Petang')).toBeUndefined();
    await next.flush();

    // A third holder has nothing to take over; the whole history still has it.
    const third = await opened.successor();
    expect(edgeBook(third).book.lost()).toEqual([]);
    expect((await readIncident(third, id))?.incident).toMatchObject({
      kind: 'monitoring_lost',
      status: 'resolved',
    });
  });

  it('reads the whole history asynchronously as the synchronous reads answer it', async () => {
    const { store: s } = await flavour.incidents();
    for (let n = 0; n < 12; n++) {
      s.open({
        ...base,
        id: `h${n}`,
        key: `device:h${n}`,
        openedAt: T + (n % 4) * 1000,
        siteId: `s${n % 3}`,
      });
      if (n % 2 === 0) s.resolve(`h${n}`, T + 10_000 + n);
    }
    s.markSent('h4', 'telegram:oncall', 'firing', T + 5);
    s.addEvent({ incidentId: 'h4', timeMs: T + 6, type: 'note', actor: 'wayan', note: 'PLN' });
    const filters = [
      { limit: 1000 },
      { limit: 5 },
      { status: ['resolved' as const], limit: 1000 },
      { siteIds: ['s1', 's2'], sinceMs: T + 1000, limit: 1000 },
      { siteIds: [], limit: 10 },
      { severity: 'critical', limit: -1 },
    ];
    for (const f of filters) expect(await readIncidents(s, f)).toEqual(s.list(f));
    await s.flush();
    for (const f of filters) expect(await readIncidents(s, f)).toEqual(s.list(f));
    expect(await readIncident(s, 'h4')).toEqual({
      incident: s.get('h4'),
      timeline: s.timeline('h4'),
      notifications: s.notificationsOf('h4'),
    });
    expect(await readIncident(s, 'nope')).toBeUndefined();
  });

  it('is durable: closed and opened again, it answers exactly as before', async () => {
    const opened = await flavour.incidents();
    const s = opened.store;
    const ids: string[] = [];
    for (let n = 0; n < 30; n++) {
      ids.push(`i${n}`);
      const { incident } = s.open({
        ...base,
        id: `i${n}`,
        key: `device:d${n % 20}`,
        openedAt: T + n * 1000,
        data: { n, note: 'Kuta' },
      });
      const id = incident.id; // an open incident of the same key, when there is one
      if (n % 3 === 0) s.markSent(id, 'telegram:oncall', 'firing', T + n * 1000 + 1);
      if (n % 4 === 0) s.acknowledge(id, 'wayan', T + n * 1000 + 2, 'cek');
      if (n % 5 === 0) s.resolve(id, T + n * 1000 + 3, 'made', 'pulih');
      if (n % 7 === 0) s.escalate(id, 2, T + n * 1000 + 4, 'kepala dinas');
      if (n % 6 === 0) s.markClockBreached(id, T + n * 1000 + 5);
    }
    await s.claim('i3', 'webhook:bpbd', 'firing', T + 99_000);
    s.saveSuppression('silence', 'si-1', { id: 'si-1', until: T + 1 }, T);
    s.saveSuppression('maintenance', 'mw-1', { id: 'mw-1' }, T);
    const before = everything(s, ids);
    expect(before.list.length).toBeGreaterThan(20); // some opens met an open key and returned it
    await s.flush();
    await s.close();
    const again = await opened.reopen();
    expect(everything(again, ids)).toEqual(before);
    expect(again.wasSent('i3', 'telegram:oncall', 'firing')).toBe(true);
    expect(again.wasSent('i3', 'webhook:bpbd', 'firing')).toBe(false);
  });
});

const session = (n: number, over: Partial<SessionRecord> = {}): SessionRecord => ({
  idHash: `hash-${n}`,
  username: n % 2 ? 'wayan' : 'made',
  csrfToken: `csrf-${n}`,
  createdAt: T + n,
  lastSeenAt: T + n,
  ...over,
});

describe.each(flavours)('session store contract: $name', (flavour) => {
  it('inserts, touches, deletes one, a user, and the expired', async () => {
    const { store: s } = await flavour.sessions();
    for (let n = 1; n <= 6; n++) s.insert(session(n));
    expect(() => s.insert(session(1))).toThrow(); // one row per hash
    expect(s.count()).toBe(6);
    expect(s.get('hash-1')).toEqual(session(1));
    expect(s.get('hash-none')).toBeUndefined();
    s.touch('hash-2', T + 500);
    s.touch('hash-none', T + 500);
    expect(s.get('hash-2')?.lastSeenAt).toBe(T + 500);
    expect(s.delete('hash-6')).toBe(true);
    expect(s.delete('hash-6')).toBe(false);
    expect(s.deleteUser('wayan')).toBe(3); // 1, 3, 5
    expect(s.deleteUser('wayan')).toBe(0);
    // idle before T+4 (hash-4 stays: seen at T+4; hash-2 stays: touched) or created before T+1: none
    expect(s.deleteExpired(T + 4, T + 1)).toBe(0);
    expect(s.deleteExpired(T + 5, T + 1)).toBe(1); // hash-4
    expect(s.deleteExpired(0, T + 3)).toBe(1); // hash-2, created at T+2
    expect(s.count()).toBe(0);
    await s.flush();
  });

  it('is durable: closed and opened again, every session is there as it was', async () => {
    const opened = await flavour.sessions();
    const s = opened.store;
    for (let n = 1; n <= 20; n++) s.insert(session(n));
    s.touch('hash-3', T + 1000);
    s.delete('hash-4');
    await s.flush();
    await s.close();
    const again = await opened.reopen();
    expect(again.count()).toBe(19);
    expect(again.get('hash-3')).toEqual(session(3, { lastSeenAt: T + 1000 }));
    expect(again.get('hash-4')).toBeUndefined();
    const next = await opened.successor();
    expect(next.get('hash-20')).toEqual(session(20));
  });
});
