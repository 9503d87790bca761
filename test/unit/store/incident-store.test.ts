import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
});
