import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IncidentStore } from '../../../collector/store/incident-store.ts';

const T = Date.UTC(2026, 10, 23, 2, 0);
const base = {
  kind: 'device_down',
  severity: 'critical',
  openedAt: T,
  siteId: 'pkm-petang-i',
  deviceId: 'pkm-petang-i-rtr',
  data: { cause: 'timeout' },
};

describe('IncidentStore', () => {
  it('runs an incident through open, acknowledged, resolved with its timeline', () => {
    const s = new IncidentStore(':memory:');
    const { incident, created } = s.open({ ...base, id: 'i1', key: 'device:pkm-petang-i-rtr' });
    expect(created).toBe(true);
    expect(incident).toMatchObject({ status: 'open', data: { cause: 'timeout' } });
    expect(s.acknowledge('i1', 'wayan', T + 60_000, 'on my way')?.status).toBe('acknowledged');
    expect(s.acknowledge('i1', 'made', T + 70_000)?.acknowledgedBy).toBe('wayan'); // only once
    expect(s.resolve('i1', T + 3_600_000)?.status).toBe('resolved');
    expect(s.timeline('i1').map((e) => [e.type, e.actor ?? null, e.note ?? null])).toEqual([
      ['opened', null, null],
      ['acknowledged', 'wayan', 'on my way'],
      ['resolved', null, null],
    ]);
    s.close();
  });

  it('keeps one open incident per key, and a new one after resolution', () => {
    const s = new IncidentStore(':memory:');
    s.open({ ...base, id: 'i1', key: 'k' });
    const again = s.open({ ...base, id: 'i2', key: 'k' });
    expect(again).toMatchObject({ created: false, incident: { id: 'i1' } });
    s.resolve('i1', T + 1);
    expect(s.open({ ...base, id: 'i3', key: 'k' }).created).toBe(true);
    expect(s.unresolved().map((i) => i.id)).toEqual(['i3']);
    s.close();
  });

  it('records a notification once per incident, channel and kind', () => {
    const s = new IncidentStore(':memory:');
    s.open({ ...base, id: 'i1', key: 'k' });
    expect(s.markSent('i1', 'telegram:oncall', 'firing', T)).toBe(true);
    expect(s.markSent('i1', 'telegram:oncall', 'firing', T + 5)).toBe(false);
    expect(s.wasSent('i1', 'telegram:oncall', 'firing')).toBe(true);
    expect(s.wasSent('i1', 'telegram:oncall', 'resolved')).toBe(false);
    s.close();
  });

  it('records a breached clock and escalation levels once, lists with filters, and tells what was sent', () => {
    const s = new IncidentStore(':memory:');
    s.open({ ...base, id: 'i1', key: 'device:a' });
    s.open({ ...base, id: 'i2', key: 'device:b', severity: 'low', siteId: 'bjr-x', openedAt: T + 1000 });
    expect(s.markClockBreached('i1', T + 7_200_000, 'clock 120 min')).toBe(true);
    expect(s.markClockBreached('i1', T + 9_000_000)).toBe(false);
    expect(s.escalate('i1', 1, T + 7_200_000, 'head')).toBe(true);
    expect(s.escalate('i1', 1, T + 7_300_000, 'head')).toBe(false);
    expect(s.get('i1')).toMatchObject({ clockBreachedAt: T + 7_200_000, escalationLevel: 1 });
    s.acknowledge('i2', 'made', T + 2000);
    expect(s.escalate('i2', 1, T + 3000, 'head')).toBe(false); // acknowledged: no escalation
    expect(s.list({ limit: 10 }).map((i) => i.id)).toEqual(['i2', 'i1']);
    expect(s.list({ status: ['open'], limit: 10 }).map((i) => i.id)).toEqual(['i1']);
    expect(s.list({ siteIds: ['bjr-x'], limit: 10 }).map((i) => i.id)).toEqual(['i2']);
    expect(s.list({ siteIds: [], limit: 10 })).toEqual([]);
    expect(s.list({ severity: 'critical', sinceMs: T, limit: 1 }).map((i) => i.id)).toEqual(['i1']);
    s.markSent('i1', 'tg-noc', 'firing', T + 10);
    expect(s.notificationsOf('i1')).toEqual([{ channel: 'tg-noc', kind: 'firing', sentAt: T + 10 }]);
    s.close();
  });

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
});
