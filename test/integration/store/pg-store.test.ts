/**
 * Issue #15, what only the PostgreSQL store has, against a real PostgreSQL started for this file:
 *   - fencing: the store of term 1 is deposed by the store of term 2 and writes nothing after that;
 *   - PostgreSQL stopped, then killed with SIGKILL, in the middle of a stream of writes: the writes keep
 *     being accepted, flush() waits across the outage, and afterwards every write is there once, in order.
 * What both stores do is in store-contract.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { areaKey, StoredAreas } from '../../../collector/alerting/area-book.ts';
import { FakeClock, systemClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { PgSessionStore } from '../../../collector/http/pg-session-store.ts';
import { PgIncidentStore } from '../../../collector/store/pg-store.ts';
import { StoreDeposedError } from '../../../collector/store/store.ts';
import { waitFor } from '../../support/ports.ts';
import { freshDatabase, postgresForFile, sqlRows } from '../../support/postgres-db.ts';

const server = postgresForFile();

const T = Date.UTC(2026, 10, 23, 2, 0);
const incident = (n: number) => ({
  id: `i${n}`,
  kind: 'device_down',
  key: `device:d${n}`,
  severity: 'high',
  openedAt: T + n,
  siteId: 'pkm-kuta-selatan',
  deviceId: `d${n}`,
  data: { n },
});

describe('fencing', () => {
  it('a store of term 1 is deposed once term 2 holds the database, and writes nothing after', async () => {
    const url = await freshDatabase(server().url, 'fence');
    const deposed: StoreDeposedError[] = [];
    const old = await PgIncidentStore.open(url, {
      term: 1,
      log: memoryLogger('warn'),
      clock: systemClock,
      onDeposed: (e) => deposed.push(e),
    });
    old.open(incident(1));
    expect(await old.claim('i1', 'telegram:oncall', 'firing', T)).toBe(true);
    await old.flush();

    const leader = await PgIncidentStore.open(url, {
      term: 2,
      log: memoryLogger('warn'),
      clock: systemClock,
    });
    expect(leader.get('i1')?.status).toBe('open'); // it sees what term 1 committed
    expect(await leader.claim('i1', 'telegram:oncall', 'firing', T + 1)).toBe(true); // left unsent by term 1
    leader.open(incident(2));
    await leader.flush();

    // Term 1 does not know yet: its write is accepted in memory, then refused by the fence.
    old.resolve('i1', T + 5);
    old.open(incident(3));
    await expect(old.flush()).rejects.toBeInstanceOf(StoreDeposedError);
    expect(old.deposed).toBe(true);
    expect(deposed).toHaveLength(1);
    expect(deposed[0]).toMatchObject({ term: 1, fenceTerm: 2 });
    expect(() => old.open(incident(4))).toThrow(StoreDeposedError);
    expect(() => old.markSent('i1', 'telegram:oncall', 'firing', T + 6)).toThrow(StoreDeposedError);
    await expect(old.claim('i1', 'webhook:bpbd', 'firing', T + 6)).rejects.toBeInstanceOf(StoreDeposedError);
    // A deposed store may not even open again with its old term.
    await expect(
      PgIncidentStore.open(url, { term: 1, log: memoryLogger('warn'), clock: systemClock }),
    ).rejects.toBeInstanceOf(StoreDeposedError);

    // In the database: nothing of term 1 after term 2 took over.
    const rows = await sqlRows(url, 'SELECT id, status FROM incidents ORDER BY seq');
    expect(rows).toEqual([
      { id: 'i1', status: 'open' },
      { id: 'i2', status: 'open' },
    ]);
    const ledger = await sqlRows(url, 'SELECT kind, state, term FROM notifications');
    expect(ledger).toEqual([{ kind: 'firing', state: 'claimed', term: '2' }]);
    const events = await sqlRows(url, `SELECT incident_id, type FROM incident_events ORDER BY seq`);
    expect(events).toEqual([
      { incident_id: 'i1', type: 'opened' },
      { incident_id: 'i2', type: 'opened' },
    ]);
    expect((await sqlRows(url, 'SELECT term FROM alerting_fence'))[0]?.term).toBe('2');
    await old.close();
    await leader.close();
  });

  it('a deposed store writes no area incident: not opened, not folded, not resolved, and its page cannot be claimed', async () => {
    const url = await freshDatabase(server().url, 'fence_area');
    const log = memoryLogger('warn');
    const old = await PgIncidentStore.open(url, { term: 1, log, clock: systemClock });
    const clock = new FakeClock(T);
    const book = new StoredAreas(old, clock, log);
    const area = {
      id: 'area:Petang@t1',
      status: 'firing' as const,
      kecamatan: 'Petang',
      startedAt: T,
      sites: [{ id: 'p1', name: 'Banjar Pelaga', category: 'banjar', criticality: 'low' }],
      totalSites: 58,
    };
    // Term 1 opens an area incident and records it.
    book.opened(area, []);
    await old.flush();
    const leader = await PgIncidentStore.open(url, { term: 2, log, clock: systemClock });
    expect(leader.openByKey(areaKey('Petang'))?.id).toBe(area.id);

    // Term 1, not knowing yet, folds a site in, resolves it, and opens another: all refused by the fence.
    old.open(incident(7));
    book.folded(area, { id: 'i7' } as never);
    book.resolved({ ...area, status: 'resolved', resolvedAt: T + 10 });
    await expect(old.flush()).rejects.toBeInstanceOf(StoreDeposedError);
    // Once deposed the book logs the refusal instead of throwing into the grouper.
    expect(book.opened({ ...area, id: 'area:Mengwi@t2', kecamatan: 'Mengwi' }, [])).toMatchObject({
      id: 'area:Mengwi@t2',
    });
    expect(log.records.some((r) => String(r.msg).includes('not recorded in the incident store'))).toBe(true);
    await expect(old.claim(area.id, 'webhook:oncall', 'resolved', T + 11)).rejects.toBeInstanceOf(
      StoreDeposedError,
    );
    expect(await sqlRows(url, 'SELECT id, status FROM incidents ORDER BY seq')).toEqual([
      { id: area.id, status: 'open' },
    ]);
    expect(await sqlRows(url, 'SELECT type FROM incident_events ORDER BY seq')).toEqual([{ type: 'opened' }]);
    await old.close();
    await leader.close();
  });

  it('fences sessions too when given a term', async () => {
    const url = await freshDatabase(server().url, 'fence_sessions');
    const old = await PgSessionStore.open(url, { term: 3, log: memoryLogger('warn'), clock: systemClock });
    const s = { idHash: 'h1', username: 'wayan', csrfToken: 'c', createdAt: T, lastSeenAt: T };
    old.insert(s);
    await old.flush();
    const next = await PgSessionStore.open(url, { term: 4, log: memoryLogger('warn'), clock: systemClock });
    expect(next.get('h1')).toEqual(s);
    next.touch('h1', T + 1);
    await next.flush();
    old.delete('h1');
    await expect(old.flush()).rejects.toBeInstanceOf(StoreDeposedError);
    expect(old.deposed).toBe(true);
    expect(await sqlRows(url, 'SELECT id_hash, last_seen_at FROM sessions')).toEqual([
      { id_hash: 'h1', last_seen_at: String(T + 1) },
    ]);
    await old.close();
    await next.close();
  });
});

describe('bounded memory', () => {
  it('holds the unresolved and the last closed incidents; the older ones are read from PostgreSQL', async () => {
    const url = await freshDatabase(server().url, 'bounded');
    const log = memoryLogger('warn');
    const clock = new FakeClock(T + 3_600_000);
    const opts = { log, clock, closedInMemory: 5, closedForMs: 60_000 };
    const s = await PgIncidentStore.open(url, { ...opts, term: 1 });
    // 30 incidents; the even ones resolved (15), in order, an hour before now.
    for (let n = 0; n < 30; n++) {
      s.open(incident(n));
      s.addEvent({ incidentId: `i${n}`, timeMs: T + n + 1, type: 'note', note: `n${n}` });
      if (n % 2 === 0) {
        s.markSent(`i${n}`, 'telegram:oncall', 'firing', T + n + 2);
        s.resolve(`i${n}`, T + n + 3);
      }
    }
    expect(s.memory()).toMatchObject({ incidents: 20, closed: 5, evicted: 10 });
    const held = s.list({ limit: 1000 }).map((i) => i.id);
    expect(held).toHaveLength(20);
    expect(held.filter((id) => s.get(id)?.status === 'resolved')).toEqual([
      'i28',
      'i26',
      'i24',
      'i22',
      'i20',
    ]);
    expect(s.get('i0')).toBeUndefined(); // closed long ago: left memory
    expect(s.unresolved()).toHaveLength(15);
    // The whole history, from PostgreSQL with what is still queued laid over it, newest first.
    const all = await s.listAsync({ limit: 1000 });
    expect(all.map((i) => i.id)).toEqual(Array.from({ length: 30 }, (_, n) => `i${29 - n}`));
    expect(all.filter((i) => i.status === 'resolved')).toHaveLength(15);
    expect((await s.listAsync({ status: ['resolved'], limit: 3 })).map((i) => i.id)).toEqual([
      'i28',
      'i26',
      'i24',
    ]);
    await s.flush();
    const old = await s.detailAsync('i0');
    expect(old?.incident).toMatchObject({ id: 'i0', status: 'resolved', resolvedAt: T + 3 });
    expect(old?.timeline.map((e) => e.type)).toEqual(['opened', 'note', 'notified:firing', 'resolved']);
    expect(old?.notifications).toEqual([{ channel: 'telegram:oncall', kind: 'firing', sentAt: T + 2 }]);

    // Recent resolutions stay in memory past the count (their recoveries' ledger writes must find them).
    for (const n of [1, 3, 5, 7, 9, 11]) s.resolve(`i${n}`, clock.now() - 1000 + n);
    expect(s.memory()).toMatchObject({ incidents: 15, closed: 6, evicted: 15 });
    expect(s.get('i1')?.status).toBe('resolved');
    expect(s.markSent('i1', 'telegram:oncall', 'resolved', clock.now())).toBe(true);
    await s.flush();

    // The next holder loads the same bounded set: unresolved, the last 5 closed, and those of the last minute.
    const next = await PgIncidentStore.open(url, { ...opts, term: 2 });
    expect(next.memory()).toMatchObject({ incidents: 15, closed: 6 });
    expect(next.notificationsOf('i1')).toEqual([
      { channel: 'telegram:oncall', kind: 'resolved', sentAt: clock.now() },
    ]);
    expect(next.get('i24')).toBeUndefined();
    expect((await next.listAsync({ limit: 1000 })).map((i) => [i.id, i.status])).toEqual(
      (await s.listAsync({ limit: 1000 })).map((i) => [i.id, i.status]),
    );
    await s.close();
    await next.close();
  });
});

describe.each([
  {
    // A fast shutdown (SIGINT: what `pg_ctl stop` and systemd do): sessions are cut, a checkpoint is written.
    // (The starter's stop() is a smart shutdown, which would wait for this test's busy connection.)
    outage: 'stopped',
    down: async () => {
      const pid = server().pid;
      if (pid !== undefined) process.kill(pid, 'SIGINT');
      await server().stop();
    },
  },
  { outage: 'killed with SIGKILL', down: () => server().kill9() },
])('PostgreSQL $outage in the middle of a stream of writes', ({ down }) => {
  it('keeps accepting writes, flush() waits across the outage, and every write lands once, in order', async () => {
    const url = await freshDatabase(server().url, 'outage');
    const log = memoryLogger('info');
    const store = await PgIncidentStore.open(url, {
      term: 1,
      log,
      clock: systemClock,
      backoff: { baseMs: 50, maxMs: 500 },
    });
    const written: string[] = [];
    let writing = true;
    let failure: unknown;
    // The writer: an incident and its page every few ms, as the alert pipeline would during an outage.
    const writer = (async () => {
      for (let n = 0; writing; n++) {
        try {
          store.open(incident(n));
          store.markSent(`i${n}`, 'telegram:oncall', 'firing', T + n);
          if (n % 10 === 9) store.resolve(`i${n - 5}`, T + n, 'made');
          written.push(`i${n}`);
        } catch (err) {
          failure = err;
          return;
        }
        await new Promise((r) => setTimeout(r, 3)); // pacing the stream, not waiting for an event
      }
    })();

    await waitFor(() => store.stats().committed >= 40, { timeoutMs: 20_000, what: '40 commits' });
    await down();
    const atDown = written.length;
    await waitFor(() => store.stats().retries >= 3, { timeoutMs: 20_000, what: 'retries while down' });
    await waitFor(() => written.length >= atDown + 50, { timeoutMs: 20_000, what: '50 writes while down' });
    expect(store.stats().pending).toBeGreaterThan(0);
    let flushed = false;
    const flushing = store.flush().then(() => {
      flushed = true;
    });
    const retriesAtFlush = store.stats().retries;
    await waitFor(() => store.stats().retries >= retriesAtFlush + 2, {
      timeoutMs: 20_000,
      what: 'more retries',
    });
    expect(flushed).toBe(false); // it waits: PostgreSQL is still away

    await server().start();
    writing = false;
    await writer;
    expect(failure).toBeUndefined();
    await flushing;
    await store.flush(); // and everything the writer added after that flush began
    expect(store.stats()).toMatchObject({ pending: 0, dropped: 0, deposed: false });

    // Every write once, in the order made.
    const ids = (await sqlRows(url, 'SELECT id FROM incidents ORDER BY seq')).map((r) => r.id);
    expect(ids).toEqual(written);
    const resolved = await sqlRows(url, `SELECT id FROM incidents WHERE status = 'resolved' ORDER BY seq`);
    expect(resolved.map((r) => r.id)).toEqual(
      store
        .list({ status: ['resolved'], limit: 10_000 })
        .map((i) => i.id)
        .reverse(),
    );
    const sent = await sqlRows(
      url,
      `SELECT incident_id FROM notifications WHERE state = 'sent' ORDER BY seq`,
    );
    expect(sent.map((r) => r.incident_id)).toEqual(written);
    const events = await sqlRows(
      url,
      `SELECT incident_id, type, count(*)::int AS n FROM incident_events GROUP BY incident_id, type HAVING count(*) > 1`,
    );
    expect(events).toEqual([]); // no event twice
    const opened = await sqlRows(
      url,
      `SELECT incident_id FROM incident_events WHERE type = 'opened' ORDER BY seq`,
    );
    expect(opened.map((r) => r.incident_id)).toEqual(written);
    expect(log.records.some((r) => r.msg === 'postgres writes resumed')).toBe(true);
    console.log(
      `PostgreSQL outage: ${written.length} writes, ${written.length - atDown} made while it was down, ${store.stats().retries} retries`,
    );
    await store.close();
  });
});

describe('what PostgreSQL refuses for good, and a store opened while it is away', () => {
  it('drops only the write PostgreSQL refuses (logged, counted, flush says so); the writes after it land', async () => {
    const url = await freshDatabase(server().url, 'refused');
    const log = memoryLogger('warn');
    const store = await PgIncidentStore.open(url, { term: 1, log, clock: systemClock });
    // Someone else's row the store's memory does not know: its insert breaks one_open_per_key.
    await sqlRows(
      url,
      `INSERT INTO incidents (id, kind, key, severity, status, opened_at) VALUES ('x', 'device_down', 'device:d1', 'high', 'open', 1)`,
    );
    store.open(incident(0));
    store.open(incident(1)); // refused by PostgreSQL: the key is open there
    store.open(incident(2));
    const err: unknown = await store.flush().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'store_write_dropped', retryable: false });
    expect(store.stats()).toMatchObject({ pending: 0, dropped: 1, deposed: false });
    expect(log.records.filter((r) => r.msg === 'postgres write dropped: not retryable')).toHaveLength(1);
    const ids = (await sqlRows(url, `SELECT id FROM incidents WHERE id <> 'x' ORDER BY seq`)).map(
      (r) => r.id,
    );
    expect(ids).toEqual(['i0', 'i2']);
    store.open(incident(3));
    await store.flush(); // later writes go on as before
    await store.close();
  });

  it('open() waits for PostgreSQL to come back, then loads', async () => {
    const url = await freshDatabase(server().url, 'late');
    const first = await PgIncidentStore.open(url, { term: 1, log: memoryLogger('warn'), clock: systemClock });
    first.open(incident(7));
    await first.close();
    await server().kill9();
    const log = memoryLogger('warn');
    let done = false;
    const opening = PgIncidentStore.open(url, {
      term: 2,
      log,
      clock: systemClock,
      backoff: { baseMs: 50, maxMs: 500 },
    }).finally(() => {
      done = true;
    });
    await waitFor(() => log.records.some((r) => r.msg === 'postgres not reachable, retrying open'), {
      timeoutMs: 20_000,
      what: 'a retried open',
    });
    expect(done).toBe(false);
    await server().start();
    const store = await opening;
    expect(store.get('i7')?.status).toBe('open');
    await store.close();
  });
});
