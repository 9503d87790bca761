import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IncidentStore } from '../../../collector/store/incident-store.ts';

/**
 * What only the SQLite store has: its migrations. What every store does (the lifecycle, the ledger and
 * claims, suppressions, durability) is in test/integration/store/store-contract.test.ts, run against
 * SQLite and PostgreSQL alike.
 */
describe('IncidentStore (SQLite)', () => {
  it('adds the columns of later releases to a database made by an earlier one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'incidents-'));
    const file = join(dir, 'old.db');
    const old = new Database(file);
    old.exec(`CREATE TABLE incidents (id TEXT PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL,
      severity TEXT NOT NULL, status TEXT NOT NULL, opened_at INTEGER NOT NULL, acknowledged_at INTEGER,
      acknowledged_by TEXT, resolved_at INTEGER, site_id TEXT, device_id TEXT, data TEXT NOT NULL DEFAULT '{}')`);
    old
      .prepare(
        `INSERT INTO incidents (id, kind, key, severity, status, opened_at) VALUES ('old', 'device_down', 'device:z', 'low', 'open', 1)`,
      )
      .run();
    old.close();
    const s = new IncidentStore(file);
    expect(s.get('old')).toMatchObject({ status: 'open', escalationLevel: 0, clockBreachedAt: undefined });
    expect(s.markClockBreached('old', 5)).toBe(true);
    s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens a var/ database from before claims: its ledger rows count as sent, and claims work', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'incidents-'));
    const file = join(dir, 'before-claims.db');
    const old = new Database(file);
    old.exec(`CREATE TABLE incidents (id TEXT PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL,
      severity TEXT NOT NULL, status TEXT NOT NULL, opened_at INTEGER NOT NULL, acknowledged_at INTEGER,
      acknowledged_by TEXT, resolved_at INTEGER, site_id TEXT, device_id TEXT, data TEXT NOT NULL DEFAULT '{}',
      clock_breached_at INTEGER, escalation_level INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE notifications (incident_id TEXT NOT NULL REFERENCES incidents (id), channel TEXT NOT NULL,
      kind TEXT NOT NULL, sent_at INTEGER NOT NULL, PRIMARY KEY (incident_id, channel, kind));
      INSERT INTO incidents (id, kind, key, severity, status, opened_at) VALUES ('old', 'device_down', 'device:z', 'low', 'open', 1);
      INSERT INTO notifications (incident_id, channel, kind, sent_at) VALUES ('old', 'tg-noc', 'firing', 2);`);
    old.close();
    const s = new IncidentStore(file);
    expect(s.wasSent('old', 'tg-noc', 'firing')).toBe(true);
    expect(s.notificationsOf('old')).toEqual([{ channel: 'tg-noc', kind: 'firing', sentAt: 2 }]);
    expect(s.markSent('old', 'tg-noc', 'firing', 3)).toBe(false);
    expect(await s.claim('old', 'tg-noc', 'resolved', 4)).toBe(true);
    expect(await s.claim('old', 'tg-noc', 'firing', 4)).toBe(false); // sent before the upgrade
    expect(s.markSent('old', 'tg-noc', 'resolved', 5)).toBe(true);
    s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('statements', () => {
    afterEach(() => vi.restoreAllMocks());

    it('compiles its SQL when it opens, not per call (issue #14: prepare was the store cost per transition)', async () => {
      const prepare = vi.spyOn(Database.prototype, 'prepare');
      const s = new IncidentStore(':memory:');
      const atOpen = prepare.mock.calls.length;
      expect(atOpen).toBeGreaterThan(0);
      for (let i = 0; i < 50; i++) {
        const id = `i${i}`;
        const { incident } = s.open({
          id,
          kind: 'device_down',
          key: `device:d${i}`,
          severity: 'high',
          openedAt: i,
          siteId: 's1',
          deviceId: `d${i}`,
          data: { n: i },
        });
        expect(incident).toMatchObject({ id, status: 'open', data: { n: i } });
        expect(s.openByKey(`device:d${i}`)?.id).toBe(id);
        expect(s.acknowledge(id, 'ops', i + 1)?.status).toBe('acknowledged');
        expect(s.markClockBreached(id, i + 2)).toBe(true);
        expect(s.escalate(id, 1, i + 2, 'boss')).toBe(false); // acknowledged: no escalation
        expect(await s.claim(id, 'tg', 'firing', i + 3)).toBe(true);
        expect(s.markSent(id, 'tg', 'firing', i + 3)).toBe(true);
        expect(s.wasSent(id, 'tg', 'firing')).toBe(true);
        s.addEvent({ incidentId: id, timeMs: i + 4, type: 'flap' });
        expect(s.resolve(id, i + 5)?.status).toBe('resolved');
        expect(s.openByKey(`device:d${i}`)).toBeUndefined();
        expect(s.timeline(id).map((e) => e.type)).toEqual([
          'opened',
          'acknowledged',
          'clock_breached',
          'notified:firing',
          'flap',
          'resolved',
        ]);
        expect(s.notificationsOf(id)).toEqual([{ channel: 'tg', kind: 'firing', sentAt: i + 3 }]);
        s.saveSuppression('silence', `x${i}`, { i }, i);
        expect(s.deleteSuppression('silence', `x${i}`)).toBe(true);
        expect(s.suppressions('silence')).toEqual([]);
        expect(s.unresolved()).toEqual([]);
        expect(s.list({ status: ['resolved'], limit: 1 })[0]?.id).toBe(id);
      }
      // One statement for `list`'s one filter shape, prepared on its first use; nothing else.
      expect(prepare.mock.calls.length).toBe(atOpen + 1);
      s.close();
    });

    it('answers `list` right for many filter shapes, past the statements it keeps', () => {
      const s = new IncidentStore(':memory:');
      const sites = Array.from({ length: 100 }, (_, i) => `s${i}`);
      sites.forEach((site, i) =>
        s.open({
          id: `i${i}`,
          kind: 'device_down',
          key: `k${i}`,
          severity: 'low',
          openedAt: i,
          siteId: site,
          data: {},
        }),
      );
      // 100 scopes of 1..100 sites: 100 SQL texts, more than the 64 kept.
      for (let round = 0; round < 2; round++)
        for (let n = 1; n <= sites.length; n++) {
          const got = s.list({ siteIds: sites.slice(0, n), limit: 1000 }).map((inc) => inc.id);
          expect(got).toEqual(Array.from({ length: n }, (_, i) => `i${n - 1 - i}`));
        }
      expect(s.list({ siteIds: [], limit: 10 })).toEqual([]);
      expect(s.list({ status: ['open'], severity: 'low', sinceMs: 98, limit: 10 }).map((i) => i.id)).toEqual([
        'i99',
        'i98',
      ]);
      s.close();
    });
  });
});
