/**
 * Signed-in console sessions, persisted in SQLite (`console.sessionsFile`) so a restarted monitor signs
 * nobody out. A row per session; the cookie's secret is never stored, only its SHA-256 (a copy of the
 * database does not let anyone in). The CSRF token is stored as is: it is worthless without the cookie.
 *
 * The file and its -wal/-shm companions are only their owner's (0600): they name who is signed in.
 * The SQLite SessionStoreLike (collector/store/store.ts); pg-session-store.ts is its PostgreSQL twin.
 */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SessionRecord, SessionStoreLike } from '../store/store.ts';

export type { SessionRecord } from '../store/store.ts';

interface Row {
  id_hash: string;
  username: string;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
}

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS sessions (
  id_hash TEXT PRIMARY KEY,
  username TEXT NOT NULL,
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (username);
`;

const fromRow = (r: Row): SessionRecord => ({
  idHash: r.id_hash,
  username: r.username,
  csrfToken: r.csrf_token,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
});

/** Every statement of the store, prepared once when it opens (`prepare` compiles the SQL at each call). */
function prepareStatements(db: Database.Database) {
  return {
    insert: db.prepare<[string, string, string, number, number]>(
      `INSERT INTO sessions (id_hash, username, csrf_token, created_at, last_seen_at)
       VALUES (?, ?, ?, ?, ?)`,
    ),
    get: db.prepare<[string], Row>('SELECT * FROM sessions WHERE id_hash = ?'),
    touch: db.prepare<[number, string]>('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?'),
    delete: db.prepare<[string]>('DELETE FROM sessions WHERE id_hash = ?'),
    deleteUser: db.prepare<[string]>('DELETE FROM sessions WHERE username = ?'),
    deleteExpired: db.prepare<[number, number]>(
      'DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?',
    ),
    count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM sessions'),
  };
}

export class SessionStore implements SessionStoreLike {
  readonly #db: Database.Database;
  readonly #file: string;
  readonly #sql: ReturnType<typeof prepareStatements>;

  /** `file` ':memory:' for unit tests. */
  constructor(file: string) {
    this.#file = file;
    if (file !== ':memory:') {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
    }
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.exec(SCHEMA_SQL);
    this.#sql = prepareStatements(this.#db);
    this.#privateFiles();
  }

  close(): void {
    this.#db.close();
  }

  /** Every write is in SQLite when the call returns. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  insert(s: SessionRecord): void {
    this.#sql.insert.run(s.idHash, s.username, s.csrfToken, s.createdAt, s.lastSeenAt);
  }

  get(idHash: string): SessionRecord | undefined {
    const r = this.#sql.get.get(idHash);
    return r && fromRow(r);
  }

  touch(idHash: string, timeMs: number): void {
    this.#sql.touch.run(timeMs, idHash);
  }

  delete(idHash: string): boolean {
    return this.#sql.delete.run(idHash).changes === 1;
  }

  /** Sign a user out everywhere (e.g. their account was removed). */
  deleteUser(username: string): number {
    return this.#sql.deleteUser.run(username).changes;
  }

  /** Remove sessions idle since before `idleBefore` or created before `createdBefore`. */
  deleteExpired(idleBefore: number, createdBefore: number): number {
    return this.#sql.deleteExpired.run(idleBefore, createdBefore).changes;
  }

  count(): number {
    return this.#sql.count.get()?.n ?? 0;
  }

  #privateFiles(): void {
    if (this.#file === ':memory:') return;
    for (const f of [this.#file, `${this.#file}-wal`, `${this.#file}-shm`])
      if (existsSync(f)) chmodSync(f, 0o600);
  }
}
