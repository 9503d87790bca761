/**
 * Durable incidents in SQLite (better-sqlite3; the only file that imports it). Every change is one
 * transaction in WAL mode with synchronous=FULL, so a `kill -9` loses nothing that was acknowledged to
 * the caller. Besides the incidents and their timeline, the store records which notifications were sent,
 * so a restarted monitor neither loses an open incident nor pages it twice.
 *
 *   incidents        one row per outage: open → acknowledged → resolved
 *   incident_events  the timeline (opened, acknowledged, escalated, notified, resolved, ...)
 *   notifications    (incident, channel, kind) claimed or delivered: the dedup key across restarts
 *
 * It is the SQLite implementation of IncidentStoreLike (store.ts): its term is always 0 and every write is
 * durable when the call returns, so `flush()` has nothing to wait for and `claim()` answers at once.
 *
 * Every statement is prepared once, when the store opens (`prepareStatements`), and every transaction
 * function made once: better-sqlite3's `prepare` compiles the SQL each time it is called, and the live
 * feed asks `openByKey` on every device transition (issue #14: 0.4 s of CPU in one profile of the first
 * poll round at the Badung load). `list` builds its SQL from the filter: those statements are prepared on
 * first use and kept per SQL text (a bounded number).
 */
import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { ensurePrivateDir, ensurePrivateFile, tightenFile } from '../core/private-fs.ts';
import type {
  Incident,
  IncidentEvent,
  IncidentDetailRecord,
  IncidentFilter,
  IncidentStatus,
  IncidentStoreLike,
  NewIncident,
  SentNotification,
  SuppressionType,
} from './store.ts';

export type { Incident, IncidentEvent, IncidentStatus } from './store.ts';

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
  state TEXT NOT NULL DEFAULT 'sent',
  term INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (incident_id, channel, kind)
);
CREATE TABLE IF NOT EXISTS suppressions (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL CHECK (type IN ('maintenance', 'silence')),
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
`;

interface EventRow {
  incident_id: string;
  time_ms: number;
  type: string;
  actor: string | null;
  note: string | null;
}

/** A row of the notifications ledger as `notificationsOf` reads it. */
interface SentRow {
  channel: string;
  kind: string;
  sent_at: number;
}

type Ledger3 = [incidentId: string, channel: string, kind: string];

/** Every fixed statement of the store, prepared once on an open (and migrated) database. */
function prepareStatements(db: Database.Database) {
  return {
    insertIncident: db.prepare<[Record<string, unknown>]>(
      `INSERT INTO incidents (id, kind, key, severity, status, opened_at, site_id, device_id, data)
       VALUES (@id, @kind, @key, @severity, 'open', @openedAt, @siteId, @deviceId, @data)`,
    ),
    acknowledge: db.prepare<[number, string, string]>(
      `UPDATE incidents SET status = 'acknowledged', acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND status = 'open'`,
    ),
    resolve: db.prepare<[number, string]>(
      `UPDATE incidents SET status = 'resolved', resolved_at = ? WHERE id = ? AND status != 'resolved'`,
    ),
    markClockBreached: db.prepare<[number, string]>(
      'UPDATE incidents SET clock_breached_at = ? WHERE id = ? AND clock_breached_at IS NULL',
    ),
    escalate: db.prepare<[number, string, number]>(
      `UPDATE incidents SET escalation_level = ? WHERE id = ? AND escalation_level < ? AND status = 'open'`,
    ),
    notificationsOf: db.prepare<[string], SentRow>(
      `SELECT channel, kind, sent_at FROM notifications WHERE incident_id = ? AND state = 'sent' ORDER BY sent_at`,
    ),
    saveSuppression: db.prepare<[string, SuppressionType, string, number]>(
      'INSERT OR REPLACE INTO suppressions (id, type, data, created_at) VALUES (?, ?, ?, ?)',
    ),
    deleteSuppression: db.prepare<[string, SuppressionType]>(
      'DELETE FROM suppressions WHERE id = ? AND type = ?',
    ),
    suppressions: db.prepare<[SuppressionType], { data: string }>(
      'SELECT data FROM suppressions WHERE type = ? ORDER BY created_at, id',
    ),
    get: db.prepare<[string], Row>('SELECT * FROM incidents WHERE id = ?'),
    openByKey: db.prepare<[string], Row>(`SELECT * FROM incidents WHERE key = ? AND status != 'resolved'`),
    unresolved: db.prepare<[], Row>(
      `SELECT * FROM incidents WHERE status != 'resolved' ORDER BY opened_at, rowid`,
    ),
    timeline: db.prepare<[string], EventRow>(
      'SELECT * FROM incident_events WHERE incident_id = ? ORDER BY time_ms, rowid',
    ),
    markSent: db.prepare<[...Ledger3, number]>(
      `INSERT INTO notifications (incident_id, channel, kind, sent_at, state, term) VALUES (?, ?, ?, ?, 'sent', 0)
       ON CONFLICT (incident_id, channel, kind) DO UPDATE SET state = 'sent', sent_at = excluded.sent_at
       WHERE notifications.state = 'claimed'`,
    ),
    wasSent: db.prepare<Ledger3>(
      `SELECT 1 FROM notifications WHERE incident_id = ? AND channel = ? AND kind = ? AND state = 'sent'`,
    ),
    ledgerState: db.prepare<Ledger3, { state: string }>(
      'SELECT state FROM notifications WHERE incident_id = ? AND channel = ? AND kind = ?',
    ),
    claim: db.prepare<[...Ledger3, number]>(
      `INSERT INTO notifications (incident_id, channel, kind, sent_at, state, term) VALUES (?, ?, ?, ?, 'claimed', 0)
       ON CONFLICT (incident_id, channel, kind) DO UPDATE SET sent_at = excluded.sent_at`,
    ),
    event: db.prepare<[string, number, string, string | null, string | null]>(
      'INSERT INTO incident_events (incident_id, time_ms, type, actor, note) VALUES (?, ?, ?, ?, ?)',
    ),
  };
}

/** `list` statements kept per SQL text; past this many (site scopes of many sizes) the cache starts over. */
const LIST_STATEMENTS_KEPT = 64;

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

export class IncidentStore implements IncidentStoreLike {
  readonly #db: Database.Database;
  readonly #sql: ReturnType<typeof prepareStatements>;
  /** `list`'s statements by SQL text (its WHERE depends on the filter), prepared on first use. */
  readonly #listStatements = new Map<string, Database.Statement<(string | number)[], Row>>();
  /** Claims this process made: a claim in the table but not here was left by an earlier process. */
  readonly #claimed = new Set<string>();
  // The transactions, each made once (better-sqlite3 builds four wrapper functions per `transaction()`).
  readonly #openTx: (input: NewIncident) => { incident: Incident; created: boolean };
  readonly #acknowledgeTx: (id: string, by: string, timeMs: number, note?: string) => Incident | undefined;
  readonly #resolveTx: (id: string, timeMs: number, actor?: string, note?: string) => Incident | undefined;
  readonly #markClockBreachedTx: (id: string, timeMs: number, note?: string) => boolean;
  readonly #escalateTx: (id: string, level: number, timeMs: number, contact: string) => boolean;
  readonly #markSentTx: (incidentId: string, channel: string, kind: string, timeMs: number) => boolean;
  readonly #claimTx: (incidentId: string, channel: string, kind: string, timeMs: number) => boolean;

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
    // After the migration: the statements name its columns.
    const sql = (this.#sql = prepareStatements(this.#db));
    const tx = <A extends unknown[], R>(fn: (...args: A) => R): ((...args: A) => R) =>
      this.#db.transaction(fn);

    this.#openTx = tx((input: NewIncident) => {
      const existing = this.openByKey(input.key);
      if (existing) return { incident: existing, created: false };
      sql.insertIncident.run({
        ...input,
        siteId: input.siteId ?? null,
        deviceId: input.deviceId ?? null,
        data: JSON.stringify(input.data),
      });
      this.#event({ incidentId: input.id, timeMs: input.openedAt, type: 'opened' });
      const created = this.get(input.id);
      if (!created) throw new Error(`incident ${input.id} vanished`);
      return { incident: created, created: true };
    });

    this.#acknowledgeTx = tx((id: string, by: string, timeMs: number, note?: string) => {
      const res = sql.acknowledge.run(timeMs, by, id);
      if (res.changes === 1) this.#event({ incidentId: id, timeMs, type: 'acknowledged', actor: by, note });
      return this.get(id);
    });

    this.#resolveTx = tx((id: string, timeMs: number, actor?: string, note?: string) => {
      const res = sql.resolve.run(timeMs, id);
      if (res.changes === 1) this.#event({ incidentId: id, timeMs, type: 'resolved', actor, note });
      return this.get(id);
    });

    this.#markClockBreachedTx = tx((id: string, timeMs: number, note?: string) => {
      const res = sql.markClockBreached.run(timeMs, id);
      if (res.changes === 1) this.#event({ incidentId: id, timeMs, type: 'clock_breached', note });
      return res.changes === 1;
    });

    this.#escalateTx = tx((id: string, level: number, timeMs: number, contact: string) => {
      const res = sql.escalate.run(level, id, level);
      if (res.changes === 1)
        this.#event({ incidentId: id, timeMs, type: `escalated:${level}`, note: `to ${contact}` });
      return res.changes === 1;
    });

    this.#markSentTx = tx((incidentId: string, channel: string, kind: string, timeMs: number) => {
      // A claim (state 'claimed') becomes the record of the send; a row already 'sent' stays as it was.
      const res = sql.markSent.run(incidentId, channel, kind, timeMs);
      this.#claimed.delete(ledgerKey(incidentId, channel, kind));
      if (res.changes === 1) this.#event({ incidentId, timeMs, type: `notified:${kind}`, actor: channel });
      return res.changes === 1;
    });

    this.#claimTx = tx((incidentId: string, channel: string, kind: string, timeMs: number): boolean => {
      const key = ledgerKey(incidentId, channel, kind);
      const row = sql.ledgerState.get(incidentId, channel, kind);
      if (row?.state === 'sent' || (row && this.#claimed.has(key))) return false;
      sql.claim.run(incidentId, channel, kind, timeMs);
      this.#claimed.add(key);
      return true;
    });
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
    // Issue #15: the ledger also holds claims (sent after the claim). Rows from before were all sent.
    const ledger = new Set(
      (this.#db.prepare('PRAGMA table_info(notifications)').all() as { name: string }[]).map((c) => c.name),
    );
    if (!ledger.has('state'))
      this.#db.exec(`ALTER TABLE notifications ADD COLUMN state TEXT NOT NULL DEFAULT 'sent'`);
    if (!ledger.has('term'))
      this.#db.exec('ALTER TABLE notifications ADD COLUMN term INTEGER NOT NULL DEFAULT 0');
  }

  close(): void {
    this.#listStatements.clear();
    this.#db.close();
  }

  /** Every write is committed (WAL, synchronous=FULL) before the call that made it returns. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** Open an incident for `key`, or return the one already open (never two open per key). */
  open(input: NewIncident): { incident: Incident; created: boolean } {
    return this.#openTx(input);
  }

  acknowledge(id: string, by: string, timeMs: number, note?: string): Incident | undefined {
    return this.#acknowledgeTx(id, by, timeMs, note);
  }

  resolve(id: string, timeMs: number, actor?: string, note?: string): Incident | undefined {
    return this.#resolveTx(id, timeMs, actor, note);
  }

  /** Record that the incident's clock ran out unacknowledged. False when already recorded. */
  markClockBreached(id: string, timeMs: number, note?: string): boolean {
    return this.#markClockBreachedTx(id, timeMs, note);
  }

  /** Raise the escalation level (never lowers it). False when it was already there. */
  escalate(id: string, level: number, timeMs: number, contact: string): boolean {
    return this.#escalateTx(id, level, timeMs, contact);
  }

  /** Incidents, newest first, filtered in SQL. */
  list(filter: IncidentFilter): Incident[] {
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
    return this.#listStatement(sql)
      .all(...args, filter.limit)
      .map(fromRow);
  }

  #listStatement(sql: string): Database.Statement<(string | number)[], Row> {
    let stmt = this.#listStatements.get(sql);
    if (!stmt) {
      if (this.#listStatements.size >= LIST_STATEMENTS_KEPT) this.#listStatements.clear();
      stmt = this.#db.prepare<(string | number)[], Row>(sql);
      this.#listStatements.set(sql, stmt);
    }
    return stmt;
  }

  /** Everything is on disk and read synchronously: the same answer as `list`. */
  listAsync(filter: IncidentFilter): Promise<Incident[]> {
    return Promise.resolve(this.list(filter));
  }

  detailAsync(id: string): Promise<IncidentDetailRecord | undefined> {
    const incident = this.get(id);
    return Promise.resolve(
      incident && { incident, timeline: this.timeline(id), notifications: this.notificationsOf(id) },
    );
  }

  /** What was sent for an incident: channel, kind, when. */
  notificationsOf(id: string): SentNotification[] {
    return this.#sql.notificationsOf
      .all(id)
      .map((r) => ({ channel: r.channel, kind: r.kind, sentAt: r.sent_at }));
  }

  /** Maintenance windows and silences created over the API (config windows live in the config). */
  saveSuppression(type: SuppressionType, id: string, data: unknown, timeMs: number): void {
    this.#sql.saveSuppression.run(id, type, JSON.stringify(data), timeMs);
  }

  deleteSuppression(type: SuppressionType, id: string): boolean {
    return this.#sql.deleteSuppression.run(id, type).changes === 1;
  }

  suppressions(type: SuppressionType): unknown[] {
    return this.#sql.suppressions.all(type).map((r) => JSON.parse(r.data) as unknown);
  }

  addEvent(ev: IncidentEvent): void {
    this.#event(ev);
  }

  get(id: string): Incident | undefined {
    const r = this.#sql.get.get(id);
    return r && fromRow(r);
  }

  openByKey(key: string): Incident | undefined {
    const r = this.#sql.openByKey.get(key);
    return r && fromRow(r);
  }

  /** Open and acknowledged incidents, oldest first: what a restarted monitor takes over. */
  unresolved(): Incident[] {
    return this.#sql.unresolved.all().map(fromRow);
  }

  timeline(id: string): IncidentEvent[] {
    return this.#sql.timeline.all(id).map((r) => ({
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
    return this.#markSentTx(incidentId, channel, kind, timeMs);
  }

  wasSent(incidentId: string, channel: string, kind: string): boolean {
    return this.#sql.wasSent.get(incidentId, channel, kind) !== undefined;
  }

  /**
   * The ledger's claim with one process: term 0. A claim this process made answers false until it is sent;
   * one left by an earlier process (it died between claim and send) is taken over, so the page goes out
   * once more rather than never, as before claims existed.
   */
  async claim(incidentId: string, channel: string, kind: string, timeMs: number): Promise<boolean> {
    return this.#claimTx(incidentId, channel, kind, timeMs);
  }

  #event(ev: IncidentEvent): void {
    this.#sql.event.run(ev.incidentId, ev.timeMs, ev.type, ev.actor ?? null, ev.note ?? null);
  }
}

const ledgerKey = (incidentId: string, channel: string, kind: string): string =>
  JSON.stringify([incidentId, channel, kind]);
