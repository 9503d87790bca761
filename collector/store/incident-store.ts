/**
 * Durable incidents in SQLite (better-sqlite3; the only file that imports it). Every change is one
 * transaction in WAL mode with synchronous=FULL, so a `kill -9` loses nothing that was acknowledged to
 * the caller. Besides the incidents and their timeline, the store records which notifications were sent,
 * so a restarted monitor neither loses an open incident nor pages it twice.
 *
 *   incidents        one row per outage: open → acknowledged → resolved
 *   incident_events  the timeline (opened, acknowledged, escalated, notified, resolved, ...)
 *   notifications    (incident, channel, kind) already delivered: the dedup key across restarts
 */
import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { ensurePrivateDir, ensurePrivateFile, tightenFile } from '../core/private-fs.ts';

export type IncidentStatus = 'open' | 'acknowledged' | 'resolved';

export interface Incident {
  readonly id: string;
  /** What the incident is about: a device, an upstream link, an area. */
  readonly kind: string;
  /** Dedup key: at most one open incident per key (e.g. `device:pkm-petang-i-rtr`). */
  readonly key: string;
  readonly severity: string;
  readonly status: IncidentStatus;
  readonly openedAt: number;
  readonly acknowledgedAt?: number | undefined;
  readonly acknowledgedBy?: string | undefined;
  readonly resolvedAt?: number | undefined;
  /** When its clock ran out unacknowledged (for the reports); absent: handled in time, or still running. */
  readonly clockBreachedAt?: number | undefined;
  /** How far it was escalated: 0 the first contact, 1 the next, ... */
  readonly escalationLevel: number;
  readonly siteId?: string | undefined;
  readonly deviceId?: string | undefined;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface IncidentEvent {
  readonly incidentId: string;
  readonly timeMs: number;
  readonly type: string;
  readonly actor?: string | undefined;
  readonly note?: string | undefined;
}

interface Row {
  id: string;
  kind: string;
  key: string;
  severity: string;
  status: IncidentStatus;
  opened_at: number;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  resolved_at: number | null;
  clock_breached_at: number | null;
  escalation_level: number;
  site_id: string | null;
  device_id: string | null;
  data: string;
}

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS incidents (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  severity TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
  opened_at INTEGER NOT NULL,
  acknowledged_at INTEGER,
  acknowledged_by TEXT,
  resolved_at INTEGER,
  site_id TEXT,
  device_id TEXT,
  data TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX IF NOT EXISTS one_open_per_key ON incidents (key) WHERE status != 'resolved';
CREATE INDEX IF NOT EXISTS incidents_opened ON incidents (opened_at);
CREATE TABLE IF NOT EXISTS incident_events (
  incident_id TEXT NOT NULL REFERENCES incidents (id),
  time_ms INTEGER NOT NULL,
  type TEXT NOT NULL,
  actor TEXT,
  note TEXT
);
CREATE INDEX IF NOT EXISTS events_by_incident ON incident_events (incident_id, time_ms);
CREATE TABLE IF NOT EXISTS notifications (
  incident_id TEXT NOT NULL REFERENCES incidents (id),
  channel TEXT NOT NULL,
  kind TEXT NOT NULL,
  sent_at INTEGER NOT NULL,
  PRIMARY KEY (incident_id, channel, kind)
);
CREATE TABLE IF NOT EXISTS suppressions (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL CHECK (type IN ('maintenance', 'silence')),
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
`;

function fromRow(r: Row): Incident {
  return {
    id: r.id,
    kind: r.kind,
    key: r.key,
    severity: r.severity,
    status: r.status,
    openedAt: r.opened_at,
    acknowledgedAt: r.acknowledged_at ?? undefined,
    acknowledgedBy: r.acknowledged_by ?? undefined,
    resolvedAt: r.resolved_at ?? undefined,
    clockBreachedAt: r.clock_breached_at ?? undefined,
    escalationLevel: r.escalation_level,
    siteId: r.site_id ?? undefined,
    deviceId: r.device_id ?? undefined,
    data: JSON.parse(r.data) as Record<string, unknown>,
  };
}

/**
 * Operators' notes live here: the folder 0700, the database 0600 before SQLite opens it (its -wal and -shm
 * files take the database's mode), and files left 0644 by an older version tightened.
 */
function privateDatabaseFiles(file: string): void {
  ensurePrivateDir(dirname(file));
  ensurePrivateFile(file);
  for (const f of [`${file}-wal`, `${file}-shm`]) tightenFile(f);
}

export class IncidentStore {
  readonly #db: Database.Database;

  /** `file` ':memory:' for unit tests. */
  constructor(file: string) {
    if (file !== ':memory:') privateDatabaseFiles(file);
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    // SQLite gives -wal and -shm the database file's mode; tighten them too in case they predate it.
    if (file !== ':memory:') for (const f of [`${file}-wal`, `${file}-shm`]) tightenFile(f);
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('foreign_keys = ON');
    this.#db.exec(SCHEMA_SQL);
    this.#migrate();
  }

  /** Columns added after the first release, for databases created before them. */
  #migrate(): void {
    const have = new Set(
      (this.#db.prepare('PRAGMA table_info(incidents)').all() as { name: string }[]).map((c) => c.name),
    );
    if (!have.has('clock_breached_at'))
      this.#db.exec('ALTER TABLE incidents ADD COLUMN clock_breached_at INTEGER');
    if (!have.has('escalation_level'))
      this.#db.exec('ALTER TABLE incidents ADD COLUMN escalation_level INTEGER NOT NULL DEFAULT 0');
  }

  close(): void {
    this.#db.close();
  }

  /** Open an incident for `key`, or return the one already open (never two open per key). */
  open(
    input: Omit<
      Incident,
      'status' | 'acknowledgedAt' | 'acknowledgedBy' | 'resolvedAt' | 'clockBreachedAt' | 'escalationLevel'
    >,
  ): {
    incident: Incident;
    created: boolean;
  } {
    return this.#db.transaction(() => {
      const existing = this.openByKey(input.key);
      if (existing) return { incident: existing, created: false };
      this.#db
        .prepare(
          `INSERT INTO incidents (id, kind, key, severity, status, opened_at, site_id, device_id, data)
           VALUES (@id, @kind, @key, @severity, 'open', @openedAt, @siteId, @deviceId, @data)`,
        )
        .run({
          ...input,
          siteId: input.siteId ?? null,
          deviceId: input.deviceId ?? null,
          data: JSON.stringify(input.data),
        });
      this.#event({ incidentId: input.id, timeMs: input.openedAt, type: 'opened' });
      const created = this.get(input.id);
      if (!created) throw new Error(`incident ${input.id} vanished`);
      return { incident: created, created: true };
    })();
  }

  acknowledge(id: string, by: string, timeMs: number, note?: string): Incident | undefined {
    return this.#db.transaction(() => {
      const res = this.#db
        .prepare(
          `UPDATE incidents SET status = 'acknowledged', acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND status = 'open'`,
        )
        .run(timeMs, by, id);
      if (res.changes === 1) this.#event({ incidentId: id, timeMs, type: 'acknowledged', actor: by, note });
      return this.get(id);
    })();
  }

  resolve(id: string, timeMs: number, actor?: string, note?: string): Incident | undefined {
    return this.#db.transaction(() => {
      const res = this.#db
        .prepare(
          `UPDATE incidents SET status = 'resolved', resolved_at = ? WHERE id = ? AND status != 'resolved'`,
        )
        .run(timeMs, id);
      if (res.changes === 1) this.#event({ incidentId: id, timeMs, type: 'resolved', actor, note });
      return this.get(id);
    })();
  }

  /** Record that the incident's clock ran out unacknowledged. False when already recorded. */
  markClockBreached(id: string, timeMs: number, note?: string): boolean {
    return this.#db.transaction(() => {
      const res = this.#db
        .prepare('UPDATE incidents SET clock_breached_at = ? WHERE id = ? AND clock_breached_at IS NULL')
        .run(timeMs, id);
      if (res.changes === 1) this.#event({ incidentId: id, timeMs, type: 'clock_breached', note });
      return res.changes === 1;
    })();
  }

  /** Raise the escalation level (never lowers it). False when it was already there. */
  escalate(id: string, level: number, timeMs: number, contact: string): boolean {
    return this.#db.transaction(() => {
      const res = this.#db
        .prepare(
          `UPDATE incidents SET escalation_level = ? WHERE id = ? AND escalation_level < ? AND status = 'open'`,
        )
        .run(level, id, level);
      if (res.changes === 1)
        this.#event({ incidentId: id, timeMs, type: `escalated:${level}`, note: `to ${contact}` });
      return res.changes === 1;
    })();
  }

  /** Incidents, newest first, filtered in SQL. */
  list(filter: {
    readonly status?: readonly IncidentStatus[] | undefined;
    readonly siteIds?: readonly string[] | undefined;
    readonly severity?: string | undefined;
    readonly sinceMs?: number | undefined;
    readonly limit: number;
  }): Incident[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.status?.length) {
      where.push(`status IN (${filter.status.map(() => '?').join(',')})`);
      args.push(...filter.status);
    }
    if (filter.siteIds) {
      if (filter.siteIds.length === 0) return [];
      where.push(`site_id IN (${filter.siteIds.map(() => '?').join(',')})`);
      args.push(...filter.siteIds);
    }
    if (filter.severity) {
      where.push('severity = ?');
      args.push(filter.severity);
    }
    if (filter.sinceMs !== undefined) {
      where.push('opened_at >= ?');
      args.push(filter.sinceMs);
    }
    const sql = `SELECT * FROM incidents ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY opened_at DESC, rowid DESC LIMIT ?`;
    return (this.#db.prepare(sql).all(...args, filter.limit) as Row[]).map(fromRow);
  }

  /** What was sent for an incident: channel, kind, when. */
  notificationsOf(id: string): { channel: string; kind: string; sentAt: number }[] {
    return (
      this.#db
        .prepare('SELECT channel, kind, sent_at FROM notifications WHERE incident_id = ? ORDER BY sent_at')
        .all(id) as { channel: string; kind: string; sent_at: number }[]
    ).map((r) => ({ channel: r.channel, kind: r.kind, sentAt: r.sent_at }));
  }

  /** Maintenance windows and silences created over the API (config windows live in the config). */
  saveSuppression(type: 'maintenance' | 'silence', id: string, data: unknown, timeMs: number): void {
    this.#db
      .prepare('INSERT OR REPLACE INTO suppressions (id, type, data, created_at) VALUES (?, ?, ?, ?)')
      .run(id, type, JSON.stringify(data), timeMs);
  }

  deleteSuppression(type: 'maintenance' | 'silence', id: string): boolean {
    return this.#db.prepare('DELETE FROM suppressions WHERE id = ? AND type = ?').run(id, type).changes === 1;
  }

  suppressions(type: 'maintenance' | 'silence'): unknown[] {
    return (
      this.#db.prepare('SELECT data FROM suppressions WHERE type = ? ORDER BY created_at, id').all(type) as {
        data: string;
      }[]
    ).map((r) => JSON.parse(r.data) as unknown);
  }

  addEvent(ev: IncidentEvent): void {
    this.#event(ev);
  }

  get(id: string): Incident | undefined {
    const r = this.#db.prepare('SELECT * FROM incidents WHERE id = ?').get(id) as Row | undefined;
    return r && fromRow(r);
  }

  openByKey(key: string): Incident | undefined {
    const r = this.#db.prepare(`SELECT * FROM incidents WHERE key = ? AND status != 'resolved'`).get(key) as
      Row | undefined;
    return r && fromRow(r);
  }

  /** Open and acknowledged incidents, oldest first: what a restarted monitor takes over. */
  unresolved(): Incident[] {
    return (
      this.#db.prepare(`SELECT * FROM incidents WHERE status != 'resolved' ORDER BY opened_at`).all() as Row[]
    ).map(fromRow);
  }

  timeline(id: string): IncidentEvent[] {
    const rows = this.#db
      .prepare('SELECT * FROM incident_events WHERE incident_id = ? ORDER BY time_ms, rowid')
      .all(id) as {
      incident_id: string;
      time_ms: number;
      type: string;
      actor: string | null;
      note: string | null;
    }[];
    return rows.map((r) => ({
      incidentId: r.incident_id,
      timeMs: r.time_ms,
      type: r.type,
      actor: r.actor ?? undefined,
      note: r.note ?? undefined,
    }));
  }

  /**
   * Record that `kind` (firing, resolved, escalation:N) went out on `channel`. Returns false when it had
   * already been sent: the caller must not send it again.
   */
  markSent(incidentId: string, channel: string, kind: string, timeMs: number): boolean {
    const res = this.#db
      .prepare(
        'INSERT OR IGNORE INTO notifications (incident_id, channel, kind, sent_at) VALUES (?, ?, ?, ?)',
      )
      .run(incidentId, channel, kind, timeMs);
    if (res.changes === 1) this.#event({ incidentId, timeMs, type: `notified:${kind}`, actor: channel });
    return res.changes === 1;
  }

  wasSent(incidentId: string, channel: string, kind: string): boolean {
    return (
      this.#db
        .prepare('SELECT 1 FROM notifications WHERE incident_id = ? AND channel = ? AND kind = ?')
        .get(incidentId, channel, kind) !== undefined
    );
  }

  #event(ev: IncidentEvent): void {
    this.#db
      .prepare('INSERT INTO incident_events (incident_id, time_ms, type, actor, note) VALUES (?, ?, ?, ?, ?)')
      .run(ev.incidentId, ev.timeMs, ev.type, ev.actor ?? null, ev.note ?? null);
  }
}
