/**
 * Console sessions in PostgreSQL (issue #15): the twin of session-store.ts for a cluster. Like
 * PgIncidentStore it loads every session at open, answers from memory, and writes through one ordered,
 * retrying queue (collector/store/pg-queue.ts), so a sign-in or sign-out waits for nobody while
 * PostgreSQL restarts and is committed, in order, once it is back.
 *
 * Fenced when given a term (the console served by the alerting leader): a deposed store refuses writes.
 * Without a term it writes unfenced. Either way it assumes one console process writes at a time: it does
 * not see sessions another process creates after its open.
 */
import {
  PgWriteQueue,
  type PgQueueOptions,
  type PgQueueStats,
  type Sql,
  type StoreSchema,
} from '../store/pg-queue.ts';
import type { SessionRecord, SessionStoreLike } from '../store/store.ts';

/** The queue's options (collector/store/pg-queue.ts); without `term`, writes are not fenced. */
export type PgSessionStoreOptions = Omit<PgQueueOptions, 'url'>;

export const SESSION_SCHEMA: StoreSchema = {
  component: 'sessions',
  version: 1,
  sql: `
CREATE TABLE IF NOT EXISTS sessions (
  id_hash TEXT PRIMARY KEY,
  username TEXT NOT NULL,
  csrf_token TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (username);
`,
};

async function loadSessions(sql: Sql): Promise<SessionRecord[]> {
  const rows = (await sql.query('SELECT * FROM sessions')).rows;
  return rows.map((r) => ({
    idHash: String(r.id_hash),
    username: String(r.username),
    csrfToken: String(r.csrf_token),
    createdAt: Number(r.created_at),
    lastSeenAt: Number(r.last_seen_at),
  }));
}

export class PgSessionStore implements SessionStoreLike {
  readonly #queue: PgWriteQueue;
  readonly #sessions = new Map<string, SessionRecord>();

  private constructor(queue: PgWriteQueue, sessions: readonly SessionRecord[]) {
    this.#queue = queue;
    for (const s of sessions) this.#sessions.set(s.idHash, s);
  }

  static async open(url: string, opts: PgSessionStoreOptions): Promise<PgSessionStore> {
    const { queue, loaded } = await PgWriteQueue.open(
      { ...opts, url, log: opts.log.child({ component: 'pg-session-store' }) },
      SESSION_SCHEMA,
      loadSessions,
    );
    return new PgSessionStore(queue, loaded);
  }

  get deposed(): boolean {
    return this.#queue.deposed;
  }

  stats(): PgQueueStats {
    return this.#queue.stats();
  }

  insert(s: SessionRecord): void {
    // As SQLite's primary key: a second session with the same hash is a bug, not an update.
    if (this.#sessions.has(s.idHash)) throw new Error('session already exists');
    this.#queue.assertWritable('insert session');
    const record: SessionRecord = { ...s };
    this.#sessions.set(s.idHash, record);
    this.#queue.enqueue('insert session', (sql) =>
      sql.query(
        `INSERT INTO sessions (id_hash, username, csrf_token, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id_hash) DO UPDATE SET username = EXCLUDED.username, csrf_token = EXCLUDED.csrf_token,
           created_at = EXCLUDED.created_at, last_seen_at = EXCLUDED.last_seen_at`,
        [record.idHash, record.username, record.csrfToken, record.createdAt, record.lastSeenAt],
      ),
    );
  }

  get(idHash: string): SessionRecord | undefined {
    return this.#sessions.get(idHash);
  }

  touch(idHash: string, timeMs: number): void {
    const s = this.#sessions.get(idHash);
    if (!s) return;
    this.#queue.assertWritable('touch session');
    this.#sessions.set(idHash, { ...s, lastSeenAt: timeMs });
    this.#queue.enqueue('touch session', (sql) =>
      sql.query('UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2', [timeMs, idHash]),
    );
  }

  delete(idHash: string): boolean {
    if (!this.#sessions.has(idHash)) return false;
    this.#queue.assertWritable('delete session');
    this.#sessions.delete(idHash);
    this.#queue.enqueue('delete session', (sql) =>
      sql.query('DELETE FROM sessions WHERE id_hash = $1', [idHash]),
    );
    return true;
  }

  deleteUser(username: string): number {
    const gone = [...this.#sessions.values()].filter((s) => s.username === username);
    if (gone.length === 0) return 0;
    this.#queue.assertWritable('delete sessions of a user');
    for (const s of gone) this.#sessions.delete(s.idHash);
    this.#queue.enqueue('delete sessions of a user', (sql) =>
      sql.query('DELETE FROM sessions WHERE username = $1', [username]),
    );
    return gone.length;
  }

  deleteExpired(idleBefore: number, createdBefore: number): number {
    const gone = [...this.#sessions.values()].filter(
      (s) => s.lastSeenAt < idleBefore || s.createdAt < createdBefore,
    );
    if (gone.length === 0) return 0;
    this.#queue.assertWritable('delete expired sessions');
    for (const s of gone) this.#sessions.delete(s.idHash);
    this.#queue.enqueue('delete expired sessions', (sql) =>
      sql.query('DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2', [
        idleBefore,
        createdBefore,
      ]),
    );
    return gone.length;
  }

  count(): number {
    return this.#sessions.size;
  }

  flush(): Promise<void> {
    return this.#queue.flush();
  }

  close(): Promise<void> {
    return this.#queue.close();
  }
}
