/**
 * Incidents in PostgreSQL, for a cluster (issue #15): the IncidentStoreLike of the alerting leader.
 *
 * `open` loads what the store must answer synchronously in the same transaction that takes the fence, so
 * the new leader sees everything the one before it committed: every unresolved incident, the recently
 * closed ones (the `closedInMemory` last resolved, default 1,000, and any resolved within `closedForMs`,
 * default 1 h, so the recovery of a mass outage still finds its incidents for the ledger), their timelines
 * and ledger rows, and the suppressions. Older incidents stay in PostgreSQL only: memory is bounded by the
 * fleet and its recent outages, not by years of history. Synchronous reads answer from memory; the whole
 * history is read with `listAsync` / `detailAsync` (store.ts: readIncidents, readIncident), which query
 * PostgreSQL on a connection of their own and lay the writes still queued over what it answers. A write applies to memory at once (so the pipeline's
 * next read sees it) and goes to PostgreSQL through one ordered queue of fenced, idempotent transactions
 * (pg-queue.ts): while PostgreSQL is away they wait and retry, in order; `flush()` resolves once every
 * write so far is committed. A newer term's fence deposes the store: `deposed` turns true, `onDeposed`
 * is called, and every later write throws StoreDeposedError.
 *
 * Ledger: `claim` commits (incident, channel, kind) as claimed by this term behind every earlier write
 * and answers true only when it took the claim; `markSent` records the send. A claim of an older term (a
 * leader that died between claim and send) is taken over, so that page goes out again rather than never.
 */
import { randomUUID } from 'node:crypto';
import {
  PgWriteQueue,
  type PgQueueOptions,
  type PgQueueStats,
  type Sql,
  type StoreSchema,
} from './pg-queue.ts';
import type {
  Incident,
  IncidentDetailRecord,
  IncidentEvent,
  IncidentFilter,
  IncidentStoreLike,
  NewIncident,
  SentNotification,
  SuppressionType,
} from './store.ts';

/** The queue's options (pg-queue.ts); `term` is this leader's fencing term (> 0: the lease's term). */
export type PgStoreOptions = Omit<PgQueueOptions, 'url' | 'term'> & {
  readonly term: number;
  /** How many of the last resolved incidents stay in memory at least. Default 1,000 (the feeds' list). */
  readonly closedInMemory?: number | undefined;
  /** A resolved incident stays in memory at least this long after its resolution. Default 1 h. */
  readonly closedForMs?: number | undefined;
};

/** What the store holds in memory now (scripts/bench/pg-store-memory.ts prints it). */
export interface PgStoreMemory {
  readonly incidents: number;
  readonly closed: number;
  readonly events: number;
  readonly ledger: number;
  /** Closed incidents dropped from memory since open (still in PostgreSQL). */
  readonly evicted: number;
}

export const INCIDENT_SCHEMA: StoreSchema = {
  component: 'incidents',
  // 2: the index for loading the last resolved ones (the store keeps only those in memory).
  version: 2,
  sql: `
CREATE TABLE IF NOT EXISTS incidents (
  id TEXT PRIMARY KEY,
  seq BIGSERIAL,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  severity TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
  opened_at BIGINT NOT NULL,
  acknowledged_at BIGINT,
  acknowledged_by TEXT,
  resolved_at BIGINT,
  clock_breached_at BIGINT,
  escalation_level INTEGER NOT NULL DEFAULT 0,
  site_id TEXT,
  device_id TEXT,
  data JSONB NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX IF NOT EXISTS one_open_per_key ON incidents (key) WHERE status <> 'resolved';
CREATE INDEX IF NOT EXISTS incidents_opened ON incidents (opened_at);
CREATE INDEX IF NOT EXISTS incidents_resolved ON incidents (resolved_at, seq) WHERE status = 'resolved';
CREATE TABLE IF NOT EXISTS incident_events (
  id TEXT PRIMARY KEY,
  seq BIGSERIAL,
  incident_id TEXT NOT NULL REFERENCES incidents (id),
  time_ms BIGINT NOT NULL,
  type TEXT NOT NULL,
  actor TEXT,
  note TEXT
);
CREATE INDEX IF NOT EXISTS events_by_incident ON incident_events (incident_id, time_ms, seq);
CREATE TABLE IF NOT EXISTS notifications (
  incident_id TEXT NOT NULL REFERENCES incidents (id),
  channel TEXT NOT NULL,
  kind TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('claimed', 'sent')),
  term BIGINT NOT NULL,
  claim_id TEXT,
  at_ms BIGINT NOT NULL,
  seq BIGSERIAL,
  PRIMARY KEY (incident_id, channel, kind)
);
CREATE TABLE IF NOT EXISTS suppressions (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL CHECK (type IN ('maintenance', 'silence')),
  data JSONB NOT NULL,
  created_at BIGINT NOT NULL
);
`,
};

interface Held {
  incident: Incident;
  /** Creation order (PostgreSQL's seq for loaded ones): ties of openedAt sort as SQLite's rowid does. */
  readonly seq: number;
}

interface LedgerEntry {
  readonly incidentId: string;
  readonly channel: string;
  readonly kind: string;
  readonly state: 'claimed' | 'sent';
  readonly term: number;
  readonly atMs: number;
  readonly seq: number;
}

interface Suppression {
  readonly type: SuppressionType;
  /** As JSON, so every read hands out a fresh copy (as SQLite does). */
  readonly json: string;
  readonly createdAt: number;
}

interface Loaded {
  /** Every unresolved incident and the recently closed ones, in creation order. */
  readonly incidents: Record<string, unknown>[];
  /** The highest creation order in the table: new incidents come after it. */
  readonly maxSeq: number;
  readonly events: Record<string, unknown>[];
  readonly ledger: Record<string, unknown>[];
  readonly suppressions: Record<string, unknown>[];
}

const num = (v: unknown): number => Number(v);
const optNum = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));
/** A TEXT column: a string, or NULL. */
const optStr = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const ledgerKey = (channel: string, kind: string): string => JSON.stringify([channel, kind]);

function incidentOf(r: Record<string, unknown>): Incident {
  return {
    id: String(r.id),
    kind: String(r.kind),
    key: String(r.key),
    severity: String(r.severity),
    status: String(r.status) as Incident['status'],
    openedAt: num(r.opened_at),
    acknowledgedAt: optNum(r.acknowledged_at),
    acknowledgedBy: optStr(r.acknowledged_by),
    resolvedAt: optNum(r.resolved_at),
    clockBreachedAt: optNum(r.clock_breached_at),
    escalationLevel: num(r.escalation_level),
    siteId: optStr(r.site_id),
    deviceId: optStr(r.device_id),
    data: JSON.parse(String(r.data)) as Record<string, unknown>,
  };
}

const COLUMNS = `id, seq, kind, key, severity, status, opened_at, acknowledged_at, acknowledged_by,
  resolved_at, clock_breached_at, escalation_level, site_id, device_id, data::text AS data`;

/**
 * What the store holds in memory: the unresolved incidents, the `closed` last resolved and those resolved
 * since `resolvedSince`, with their timelines and ledger rows (closed null: every incident, as before #15's
 * bound; the benchmark compares the two).
 */
function loadHeld(closed: number | null, resolvedSince: number): (sql: Sql) => Promise<Loaded> {
  return async (sql) => {
    const incidents = (
      await sql.query(
        `SELECT * FROM (
           SELECT ${COLUMNS} FROM incidents WHERE status <> 'resolved'
           UNION ALL
           (SELECT ${COLUMNS} FROM incidents WHERE status = 'resolved'
             ORDER BY resolved_at DESC, seq DESC LIMIT $1)
           UNION ALL
           SELECT ${COLUMNS} FROM incidents WHERE status = 'resolved' AND resolved_at >= $2
         ) held ORDER BY seq`,
        [closed, resolvedSince],
      )
    ).rows;
    const seen = new Set<string>();
    const unique = incidents.filter((r) => !seen.has(String(r.id)) && seen.add(String(r.id)));
    const ids = [...seen];
    const events = (
      await sql.query('SELECT * FROM incident_events WHERE incident_id = ANY($1) ORDER BY seq', [ids])
    ).rows;
    const ledger = (
      await sql.query('SELECT * FROM notifications WHERE incident_id = ANY($1) ORDER BY seq', [ids])
    ).rows;
    const max = (await sql.query('SELECT coalesce(max(seq), 0) AS m FROM incidents')).rows[0]?.m;
    const suppressions = (
      await sql.query('SELECT id, type, data::text AS data, created_at FROM suppressions')
    ).rows;
    return { incidents: unique, maxSeq: Number(max ?? 0), events, ledger, suppressions };
  };
}

// Every statement is idempotent: a transaction whose COMMIT went unanswered is run again (pg-queue.ts).
const UPSERT_INCIDENT = `
INSERT INTO incidents (id, kind, key, severity, status, opened_at, acknowledged_at, acknowledged_by,
  resolved_at, clock_breached_at, escalation_level, site_id, device_id, data)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb)
ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, acknowledged_at = EXCLUDED.acknowledged_at,
  acknowledged_by = EXCLUDED.acknowledged_by, resolved_at = EXCLUDED.resolved_at,
  clock_breached_at = EXCLUDED.clock_breached_at, escalation_level = EXCLUDED.escalation_level`;
const INSERT_EVENT = `
INSERT INTO incident_events (id, incident_id, time_ms, type, actor, note) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (id) DO NOTHING`;
const MARK_SENT = `
INSERT INTO notifications (incident_id, channel, kind, state, term, at_ms) VALUES ($1, $2, $3, 'sent', $4, $5)
ON CONFLICT (incident_id, channel, kind) DO UPDATE SET state = 'sent', term = EXCLUDED.term, at_ms = EXCLUDED.at_ms`;
// Taken when absent, or left claimed by an older term; `claim_id` makes a repeated transaction answer
// as the first one did.
const CLAIM = `
INSERT INTO notifications (incident_id, channel, kind, state, term, claim_id, at_ms)
VALUES ($1, $2, $3, 'claimed', $4, $5, $6)
ON CONFLICT (incident_id, channel, kind) DO UPDATE SET term = EXCLUDED.term, claim_id = EXCLUDED.claim_id,
  at_ms = EXCLUDED.at_ms
WHERE notifications.state = 'claimed'
  AND (notifications.term < EXCLUDED.term OR notifications.claim_id = EXCLUDED.claim_id)
RETURNING state`;
const SAVE_SUPPRESSION = `
INSERT INTO suppressions (id, type, data, created_at) VALUES ($1, $2, $3::jsonb, $4)
ON CONFLICT (id) DO UPDATE SET type = EXCLUDED.type, data = EXCLUDED.data, created_at = EXCLUDED.created_at`;

const DEFAULT_CLOSED_IN_MEMORY = 1000;
const DEFAULT_CLOSED_FOR_MS = 3_600_000;

export class PgIncidentStore implements IncidentStoreLike {
  readonly #queue: PgWriteQueue;
  readonly #term: number;
  readonly #opts: PgStoreOptions;
  readonly #incidents = new Map<string, Held>();
  readonly #openByKey = new Map<string, string>();
  readonly #events = new Map<string, IncidentEvent[]>();
  /** incident id → (channel, kind) → entry. */
  readonly #ledger = new Map<string, Map<string, LedgerEntry>>();
  readonly #suppressions = new Map<string, Suppression>();
  /** The resolved incidents in memory, in the order they were resolved (the oldest leaves first). */
  readonly #closed = new Set<string>();
  /**
   * Incidents dropped from memory whose writes may still be queued: the async reads lay them over what
   * PostgreSQL answers until a flush started after they left has settled (generation: when they left).
   */
  readonly #leaving = new Map<string, { held: Held; gen: number }>();
  #leavingGen = 0;
  #draining = false;
  #seq = 0;
  #ledgerSeq = 0;
  #evicted = 0;

  private constructor(queue: PgWriteQueue, opts: PgStoreOptions, loaded: Loaded) {
    this.#queue = queue;
    this.#term = opts.term;
    this.#opts = opts;
    this.#seq = loaded.maxSeq;
    const rows = loaded.incidents.map((r) => ({ incident: incidentOf(r), seq: num(r.seq) }));
    for (const { incident, seq } of rows) this.#hold(incident, seq);
    rows
      .filter(({ incident }) => incident.status === 'resolved')
      .sort((a, b) => (a.incident.resolvedAt ?? 0) - (b.incident.resolvedAt ?? 0) || a.seq - b.seq)
      .forEach(({ incident }) => this.#closed.add(incident.id));
    for (const r of loaded.events) this.#remember(eventOf(r));
    for (const r of loaded.ledger) {
      const e: LedgerEntry = {
        incidentId: String(r.incident_id),
        channel: String(r.channel),
        kind: String(r.kind),
        state: r.state === 'sent' ? 'sent' : 'claimed',
        term: num(r.term),
        atMs: num(r.at_ms),
        seq: ++this.#ledgerSeq,
      };
      this.#setLedger(e);
    }
    for (const r of loaded.suppressions)
      this.#suppressions.set(String(r.id), {
        type: String(r.type) as SuppressionType,
        json: String(r.data),
        createdAt: num(r.created_at),
      });
    this.#trim();
  }

  /**
   * Connect (retrying while PostgreSQL is away, up to openTimeoutMs), create the schema if needed, take
   * the fence with `term` and load. Rejects with StoreDeposedError when a newer term already holds it.
   */
  static async open(url: string, opts: PgStoreOptions): Promise<PgIncidentStore> {
    const closed = opts.closedInMemory ?? DEFAULT_CLOSED_IN_MEMORY;
    const closedFor = opts.closedForMs ?? DEFAULT_CLOSED_FOR_MS;
    if (!(closed >= 0) || !(closedFor >= 0))
      throw new RangeError('incident store: closedInMemory and closedForMs must be >= 0');
    const { queue, loaded } = await PgWriteQueue.open(
      { ...opts, url, log: opts.log.child({ component: 'pg-store' }) },
      INCIDENT_SCHEMA,
      loadHeld(Number.isFinite(closed) ? Math.floor(closed) : null, opts.clock.now() - closedFor),
    );
    return new PgIncidentStore(queue, opts, loaded);
  }

  get term(): number {
    return this.#term;
  }

  /** True once a newer term refused a write: every write throws from then on. */
  get deposed(): boolean {
    return this.#queue.deposed;
  }

  stats(): PgQueueStats {
    return this.#queue.stats();
  }

  /** What is held in memory now. */
  memory(): PgStoreMemory {
    let ledger = 0;
    for (const m of this.#ledger.values()) ledger += m.size;
    let events = 0;
    for (const l of this.#events.values()) events += l.length;
    return {
      incidents: this.#incidents.size,
      closed: this.#closed.size,
      events,
      ledger,
      evicted: this.#evicted,
    };
  }

  open(input: NewIncident): { incident: Incident; created: boolean } {
    const existing = this.openByKey(input.key);
    if (existing) return { incident: existing, created: false };
    this.#queue.assertWritable(`open incident ${input.id}`);
    if (this.#incidents.has(input.id)) throw new Error(`incident ${input.id} already exists`);
    const incident: Incident = {
      ...input,
      siteId: input.siteId ?? undefined,
      deviceId: input.deviceId ?? undefined,
      // A copy as PostgreSQL will hold it (JSON), so a caller's later change to its object changes nothing.
      data: JSON.parse(JSON.stringify(input.data)) as Record<string, unknown>,
      status: 'open',
      escalationLevel: 0,
    };
    this.#hold(incident);
    this.#write(`open incident ${input.id}`, incident, {
      incidentId: input.id,
      timeMs: input.openedAt,
      type: 'opened',
    });
    return { incident, created: true };
  }

  acknowledge(id: string, by: string, timeMs: number, note?: string): Incident | undefined {
    const inc = this.get(id);
    if (inc?.status !== 'open') return inc;
    this.#queue.assertWritable(`acknowledge ${id}`);
    const next = this.#update({ ...inc, status: 'acknowledged', acknowledgedAt: timeMs, acknowledgedBy: by });
    this.#write(`acknowledge ${id}`, next, { incidentId: id, timeMs, type: 'acknowledged', actor: by, note });
    return next;
  }

  resolve(id: string, timeMs: number, actor?: string, note?: string): Incident | undefined {
    const inc = this.get(id);
    if (!inc || inc.status === 'resolved') return inc;
    this.#queue.assertWritable(`resolve ${id}`);
    const next = this.#update({ ...inc, status: 'resolved', resolvedAt: timeMs });
    this.#write(`resolve ${id}`, next, { incidentId: id, timeMs, type: 'resolved', actor, note });
    return next;
  }

  markClockBreached(id: string, timeMs: number, note?: string): boolean {
    const inc = this.get(id);
    if (!inc || inc.clockBreachedAt !== undefined) return false;
    this.#queue.assertWritable(`mark clock breached ${id}`);
    const next = this.#update({ ...inc, clockBreachedAt: timeMs });
    this.#write(`mark clock breached ${id}`, next, { incidentId: id, timeMs, type: 'clock_breached', note });
    return true;
  }

  escalate(id: string, level: number, timeMs: number, contact: string): boolean {
    const inc = this.get(id);
    if (inc?.status !== 'open' || inc.escalationLevel >= level) return false;
    this.#queue.assertWritable(`escalate ${id}`);
    const next = this.#update({ ...inc, escalationLevel: level });
    this.#write(`escalate ${id}`, next, {
      incidentId: id,
      timeMs,
      type: `escalated:${level}`,
      note: `to ${contact}`,
    });
    return true;
  }

  /** From memory: every unresolved incident and the recently closed (listAsync: the whole history). */
  list(filter: IncidentFilter): Incident[] {
    if (filter.siteIds?.length === 0) return [];
    return [...this.#incidents.values()]
      .filter(({ incident }) => matches(incident, filter))
      .sort((a, b) => b.incident.openedAt - a.incident.openedAt || b.seq - a.seq)
      .slice(0, filter.limit < 0 ? undefined : filter.limit) // SQLite: LIMIT -1 is no limit
      .map((h) => h.incident);
  }

  notificationsOf(id: string): SentNotification[] {
    return [...(this.#ledger.get(id)?.values() ?? [])]
      .filter((e) => e.state === 'sent')
      .sort((a, b) => a.atMs - b.atMs || a.seq - b.seq)
      .map((e) => ({ channel: e.channel, kind: e.kind, sentAt: e.atMs }));
  }

  /**
   * `list` over the whole history: PostgreSQL's answer with every incident held in memory laid over it
   * (memory is never older than the database: its writes may still be queued).
   */
  async listAsync(filter: IncidentFilter): Promise<Incident[]> {
    if (filter.siteIds?.length === 0) return [];
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown): string => {
      args.push(v);
      return `$${args.length}`;
    };
    if (filter.status?.length) where.push(`status = ANY(${arg(filter.status)})`);
    if (filter.siteIds) where.push(`site_id = ANY(${arg(filter.siteIds)})`);
    if (filter.severity) where.push(`severity = ${arg(filter.severity)}`);
    if (filter.sinceMs !== undefined) where.push(`opened_at >= ${arg(filter.sinceMs)}`);
    // Enough rows that those whose newer state (in memory) no longer matches can be left out.
    const limit = filter.limit < 0 ? null : filter.limit + this.#incidents.size + this.#leaving.size;
    const rows = await this.#queue.read('list incidents', (sql) =>
      sql.query(
        `SELECT ${COLUMNS} FROM incidents ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY opened_at DESC, seq DESC LIMIT ${arg(limit)}`,
        args,
      ),
    );
    const byId = new Map<string, { incident: Incident; seq: number }>();
    for (const r of rows.rows) {
      const id = String(r.id);
      byId.set(id, { incident: incidentOf(r), seq: num(r.seq) });
    }
    const newest = [...[...this.#leaving.values()].map((l) => l.held), ...this.#incidents.values()];
    for (const held of newest) {
      if (matches(held.incident, filter)) byId.set(held.incident.id, held);
      else byId.delete(held.incident.id);
    }
    return [...byId.values()]
      .sort((a, b) => b.incident.openedAt - a.incident.openedAt || b.seq - a.seq)
      .slice(0, filter.limit < 0 ? undefined : filter.limit)
      .map((h) => h.incident);
  }

  /** One incident with its timeline and ledger: from memory when held, else from PostgreSQL. */
  async detailAsync(id: string): Promise<IncidentDetailRecord | undefined> {
    const held = this.get(id);
    if (held) return { incident: held, timeline: this.timeline(id), notifications: this.notificationsOf(id) };
    // Just dropped from memory, its writes maybe still queued: read it once they are committed.
    if (this.#leaving.has(id)) await this.#queue.flush().catch(() => undefined);
    return this.#queue.read(`read incident ${id}`, async (sql) => {
      const r = (await sql.query(`SELECT ${COLUMNS} FROM incidents WHERE id = $1`, [id])).rows[0];
      if (!r) return undefined;
      const events = await sql.query(
        'SELECT * FROM incident_events WHERE incident_id = $1 ORDER BY time_ms, seq',
        [id],
      );
      const sent = await sql.query(
        `SELECT channel, kind, at_ms FROM notifications WHERE incident_id = $1 AND state = 'sent'
         ORDER BY at_ms, seq`,
        [id],
      );
      return {
        incident: incidentOf(r),
        timeline: events.rows.map(eventOf),
        notifications: sent.rows.map((n) => ({
          channel: String(n.channel),
          kind: String(n.kind),
          sentAt: num(n.at_ms),
        })),
      };
    });
  }

  saveSuppression(type: SuppressionType, id: string, data: unknown, timeMs: number): void {
    this.#queue.assertWritable(`save ${type} ${id}`);
    const json = JSON.stringify(data);
    this.#suppressions.set(id, { type, json, createdAt: timeMs });
    this.#queue.enqueue(`save ${type} ${id}`, (sql) => sql.query(SAVE_SUPPRESSION, [id, type, json, timeMs]));
  }

  deleteSuppression(type: SuppressionType, id: string): boolean {
    if (this.#suppressions.get(id)?.type !== type) return false;
    this.#queue.assertWritable(`delete ${type} ${id}`);
    this.#suppressions.delete(id);
    this.#queue.enqueue(`delete ${type} ${id}`, (sql) =>
      sql.query('DELETE FROM suppressions WHERE id = $1 AND type = $2', [id, type]),
    );
    return true;
  }

  suppressions(type: SuppressionType): unknown[] {
    return [...this.#suppressions.entries()]
      .filter(([, s]) => s.type === type)
      .sort(([ai, a], [bi, b]) => a.createdAt - b.createdAt || (ai < bi ? -1 : ai > bi ? 1 : 0))
      .map(([, s]) => JSON.parse(s.json) as unknown);
  }

  addEvent(ev: IncidentEvent): void {
    this.#known(ev.incidentId);
    this.#queue.assertWritable(`add event ${ev.type} to ${ev.incidentId}`);
    this.#write(`add event ${ev.type} to ${ev.incidentId}`, undefined, ev);
  }

  get(id: string): Incident | undefined {
    return this.#incidents.get(id)?.incident;
  }

  openByKey(key: string): Incident | undefined {
    const id = this.#openByKey.get(key);
    return id === undefined ? undefined : this.get(id);
  }

  unresolved(): Incident[] {
    return [...this.#incidents.values()]
      .filter((h) => h.incident.status !== 'resolved')
      .sort((a, b) => a.incident.openedAt - b.incident.openedAt || a.seq - b.seq)
      .map((h) => h.incident);
  }

  timeline(id: string): IncidentEvent[] {
    // Stable sort: events of the same millisecond keep the order they were written in.
    return [...(this.#events.get(id) ?? [])].sort((a, b) => a.timeMs - b.timeMs);
  }

  markSent(incidentId: string, channel: string, kind: string, timeMs: number): boolean {
    this.#known(incidentId);
    const had = this.#ledgerOf(incidentId, channel, kind);
    if (had?.state === 'sent') return false;
    const what = `mark ${kind} sent on ${channel} for ${incidentId}`;
    this.#queue.assertWritable(what);
    this.#setLedger({
      incidentId,
      channel,
      kind,
      state: 'sent',
      term: this.#term,
      atMs: timeMs,
      seq: ++this.#ledgerSeq,
    });
    const ev: IncidentEvent = { incidentId, timeMs, type: `notified:${kind}`, actor: channel };
    const eventId = this.#remember(ev);
    this.#queue.enqueue(what, async (sql) => {
      await sql.query(MARK_SENT, [incidentId, channel, kind, this.#term, timeMs]);
      await insertEvent(sql, eventId, ev);
    });
    return true;
  }

  wasSent(incidentId: string, channel: string, kind: string): boolean {
    return this.#ledgerOf(incidentId, channel, kind)?.state === 'sent';
  }

  async claim(incidentId: string, channel: string, kind: string, timeMs: number): Promise<boolean> {
    this.#known(incidentId);
    const had = this.#ledgerOf(incidentId, channel, kind);
    if (had?.state === 'sent' || (had && had.term >= this.#term)) return false;
    const what = `claim ${kind} on ${channel} for ${incidentId}`;
    const claimId = randomUUID();
    const took = await this.#queue.run(what, async (sql) => {
      const r = await sql.query(CLAIM, [incidentId, channel, kind, this.#term, claimId, timeMs]);
      return r.rowCount === 1;
    });
    const now = this.#ledgerOf(incidentId, channel, kind);
    // Still held (a claim on an incident dropped from memory meanwhile is in PostgreSQL all the same).
    if (took && now?.state !== 'sent' && this.#incidents.has(incidentId))
      this.#setLedger({
        incidentId,
        channel,
        kind,
        state: 'claimed',
        term: this.#term,
        atMs: timeMs,
        seq: now?.seq ?? ++this.#ledgerSeq,
      });
    return took;
  }

  flush(): Promise<void> {
    return this.#queue.flush();
  }

  /** Waits (up to closeTimeoutMs) for the queued writes, then disconnects. */
  close(): Promise<void> {
    return this.#queue.close();
  }

  #hold(incident: Incident, seq = ++this.#seq): void {
    this.#incidents.set(incident.id, { incident, seq });
    if (incident.status !== 'resolved') this.#openByKey.set(incident.key, incident.id);
  }

  #update(next: Incident): Incident {
    const held = this.#incidents.get(next.id);
    if (!held) throw new Error(`incident ${next.id} vanished`);
    const resolvedNow = held.incident.status !== 'resolved' && next.status === 'resolved';
    held.incident = next;
    if (next.status === 'resolved' && this.#openByKey.get(next.key) === next.id)
      this.#openByKey.delete(next.key);
    if (resolvedNow) {
      this.#closed.add(next.id);
      this.#trim();
    }
    return next;
  }

  /**
   * Drop the oldest closed incidents from memory (they stay in PostgreSQL: listAsync, detailAsync) while
   * more than `closedInMemory` are held and the oldest was resolved more than `closedForMs` ago. Their
   * queued writes carry their own data, so they are committed all the same.
   */
  #trim(): void {
    const keep = this.#opts.closedInMemory ?? DEFAULT_CLOSED_IN_MEMORY;
    const since = this.#opts.clock.now() - (this.#opts.closedForMs ?? DEFAULT_CLOSED_FOR_MS);
    for (const id of this.#closed) {
      if (this.#closed.size <= keep) return;
      const inc = this.#incidents.get(id)?.incident;
      if (inc && (inc.resolvedAt ?? 0) >= since) return;
      this.#closed.delete(id);
      const held = this.#incidents.get(id);
      if (held && this.#queue.stats().pending > 0) this.#leave(held);
      this.#incidents.delete(id);
      this.#events.delete(id);
      this.#ledger.delete(id);
      this.#evicted++;
    }
  }

  /** Keep a dropped incident for the async reads until the writes queued before it left are committed. */
  #leave(held: Held): void {
    this.#leaving.set(held.incident.id, { held, gen: ++this.#leavingGen });
    if (this.#draining) return;
    this.#draining = true;
    const drain = (): void => {
      const upTo = this.#leavingGen;
      void this.#queue
        .flush()
        .catch(() => undefined) // deposed or dropped: the reads say what PostgreSQL holds
        .then(() => {
          for (const [id, l] of this.#leaving) if (l.gen <= upTo) this.#leaving.delete(id);
          if (this.#leaving.size > 0 && !this.#queue.deposed) drain();
          else this.#draining = false;
        });
    };
    drain();
  }

  #ledgerOf(incidentId: string, channel: string, kind: string): LedgerEntry | undefined {
    return this.#ledger.get(incidentId)?.get(ledgerKey(channel, kind));
  }

  #setLedger(e: LedgerEntry): void {
    const m = this.#ledger.get(e.incidentId) ?? new Map<string, LedgerEntry>();
    this.#ledger.set(e.incidentId, m);
    m.set(ledgerKey(e.channel, e.kind), e);
  }

  /** Like SQLite's foreign key: events and ledger rows only for incidents that exist. */
  #known(incidentId: string): void {
    if (!this.#incidents.has(incidentId))
      throw new Error(`unknown incident ${incidentId} (an event or notification needs its incident)`);
  }

  /** Keep an event in memory; its id makes a repeated insert a no-op. */
  #remember(ev: IncidentEvent): string {
    const list = this.#events.get(ev.incidentId);
    if (list) list.push(ev);
    else this.#events.set(ev.incidentId, [ev]);
    return randomUUID();
  }

  /** Queue the incident's row as it now is (when changed) and one event, in one job. */
  #write(what: string, incident: Incident | undefined, ev: IncidentEvent): void {
    const eventId = this.#remember(ev);
    this.#queue.enqueue(what, async (sql) => {
      if (incident)
        await sql.query(UPSERT_INCIDENT, [
          incident.id,
          incident.kind,
          incident.key,
          incident.severity,
          incident.status,
          incident.openedAt,
          incident.acknowledgedAt ?? null,
          incident.acknowledgedBy ?? null,
          incident.resolvedAt ?? null,
          incident.clockBreachedAt ?? null,
          incident.escalationLevel,
          incident.siteId ?? null,
          incident.deviceId ?? null,
          JSON.stringify(incident.data),
        ]);
      await insertEvent(sql, eventId, ev);
    });
  }
}

function eventOf(r: Record<string, unknown>): IncidentEvent {
  return {
    incidentId: String(r.incident_id),
    timeMs: num(r.time_ms),
    type: String(r.type),
    actor: optStr(r.actor),
    note: optStr(r.note),
  };
}

/** Whether an incident passes `list`'s filter (as SQLite's WHERE does). */
function matches(i: Incident, filter: IncidentFilter): boolean {
  if (filter.status?.length && !filter.status.includes(i.status)) return false;
  if (filter.siteIds && (i.siteId === undefined || !filter.siteIds.includes(i.siteId))) return false;
  if (filter.severity && i.severity !== filter.severity) return false;
  return filter.sinceMs === undefined || i.openedAt >= filter.sinceMs;
}

async function insertEvent(sql: Sql, id: string, ev: IncidentEvent): Promise<void> {
  await sql.query(INSERT_EVENT, [id, ev.incidentId, ev.timeMs, ev.type, ev.actor ?? null, ev.note ?? null]);
}
