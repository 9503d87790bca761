/**
 * The PostgreSQL side of the cluster stores (the only file that imports `pg`): one ordered queue of fenced
 * transactions per store, on one connection.
 *
 *   store write (sync, in memory) ─► job ─► [queue, in order] ─► BEGIN
 *                                                                  UPDATE alerting_fence SET term = T WHERE term <= T
 *                                                                  (no row: a newer leader holds it → deposed)
 *                                                                  the jobs' statements
 *                                                                COMMIT ─► job settled (flush, claim answer)
 *
 * While PostgreSQL is away (refused, reset, restarting, shutting down) the head of the queue is retried
 * with backoff, the rest waits behind it: nothing is dropped and the order is kept. A transaction whose
 * COMMIT got no answer may have committed, so every job must be idempotent (upserts, inserts with their
 * own ids): repeating it changes nothing. A fencing refusal deposes the queue for good: what it held is
 * refused, and so is every later write (StoreDeposedError). Only an error that no retry can mend (a bug,
 * a constraint) drops its one job, logged and counted, and flush() then says so.
 *
 * The fence (issue #15, cluster-design.md): `alerting_fence(term)` holds the newest leader's term; a
 * leader's term is its lease's fencing token. Because each fenced transaction first updates that one row,
 * fenced writers are serialised on its lock, and a leader that opens its store after a takeover (the open
 * is fenced too) sees every write of the one before it and is never overwritten by it.
 */
import pg, { type Pool, type PoolClient } from 'pg';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { backoffMs } from '../core/retry.ts';
import { StoreDeposedError, StoreError } from './store.ts';

/** What a job sees of the connection: parameterised statements inside the queue's transaction. */
export interface Sql {
  query(
    text: string,
    params?: readonly unknown[],
  ): Promise<{ rows: Record<string, unknown>[]; rowCount: number }>;
}

export type SqlJob<T> = (sql: Sql) => Promise<T>;

/** The tables a store owns, created idempotently and recorded in `schema_version`. */
export interface StoreSchema {
  /** Its row in schema_version: 'incidents', 'sessions'. */
  readonly component: string;
  readonly version: number;
  /** CREATE ... IF NOT EXISTS statements, run when schema_version is older (idempotent: nodes race). */
  readonly sql: string;
}

export interface PgQueueOptions {
  /** postgres://user@host:port/db */
  readonly url: string;
  /** The fencing term (the alerting leader's lease term); absent: unfenced writes. */
  readonly term?: number | undefined;
  readonly log: Logger;
  readonly clock: Clock;
  /** Called once when a newer term refuses a write; from then on every write is refused. */
  readonly onDeposed?: ((err: StoreDeposedError) => void) | undefined;
  /** Backoff while PostgreSQL is away (equal jitter, doubling). Default 100 ms to 5 s. */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number } | undefined;
  /** How long open() keeps retrying an unreachable server before it gives up. Default 60 s. */
  readonly openTimeoutMs?: number | undefined;
  /** How long close() waits for queued writes. Default 30 s; what is left is logged as lost. */
  readonly closeTimeoutMs?: number | undefined;
  /** At most this many jobs per transaction. Default 200. */
  readonly batch?: number | undefined;
}

export interface PgQueueStats {
  /** Jobs accepted and not yet committed. */
  readonly pending: number;
  readonly committed: number;
  /** Transactions retried because PostgreSQL was away. */
  readonly retries: number;
  /** Jobs dropped on an error no retry can mend (logged). */
  readonly dropped: number;
  readonly deposed: boolean;
}

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: Error };

interface Job {
  readonly what: string;
  readonly op: SqlJob<unknown>;
  readonly settled: Promise<Outcome>;
  finish(o: Outcome): void;
}

// SQLSTATE classes and codes worth another try: connection exceptions (08), shutting down or starting up
// (57P01-57P03), resources (53), serialization failure and deadlock (40001, 40P01), lock not available.
const RETRYABLE_SQLSTATE = /^(08|53|57P0[123]$|40001$|40P01$|55P03$)/;
const RETRYABLE_NODE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ECONNABORTED',
]);
const RETRYABLE_MESSAGE =
  /Connection terminated|connection error|timeout exceeded when trying to connect|Query read timeout|Client was closed|not queryable/i;

/** A pg or socket error as a StoreError that says whether retrying can help. */
export function storeErrorOf(err: unknown, what: string): StoreError {
  if (err instanceof StoreError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const retryable =
    (typeof code === 'string' && (RETRYABLE_SQLSTATE.test(code) || RETRYABLE_NODE.has(code))) ||
    RETRYABLE_MESSAGE.test(errorMessage(err));
  return new StoreError(
    retryable ? 'store_unavailable' : 'store_failed',
    `PostgreSQL ${what}: ${errorMessage(err)}${typeof code === 'string' ? ` (${code})` : ''}`,
    { retryable, cause: err },
  );
}

const FOUNDATION_SQL = `
CREATE TABLE IF NOT EXISTS schema_version (component TEXT PRIMARY KEY, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS alerting_fence (
  id SMALLINT PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  term BIGINT NOT NULL
);
INSERT INTO alerting_fence (id, term) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
`;

/** pg_advisory_xact_lock key: one schema change at a time when several nodes start together. */
const SCHEMA_LOCK = 150_015;

export class PgWriteQueue {
  readonly #pool: Pool;
  /** Reads outside the queue (history not held in memory); made at the first read. */
  #readPool: Pool | undefined;
  readonly #opts: PgQueueOptions;
  readonly #log: Logger;
  readonly #jobs: Job[] = [];
  #pumping = false;
  #deposedBy: StoreDeposedError | undefined;
  #closed = false;
  #aborted = false;
  #sleepTimer: TimerHandle | undefined;
  #wake: (() => void) | undefined;
  #committed = 0;
  #retries = 0;
  #dropped = 0;

  private constructor(pool: Pool, opts: PgQueueOptions) {
    this.#pool = pool;
    this.#opts = opts;
    this.#log = opts.log;
  }

  /**
   * Connect, create the schema (idempotent, under an advisory lock), take the fence (when fenced: this
   * deposes every older term at once) and run `load` in that same transaction, so what it reads is all an
   * older leader ever committed. Retries while PostgreSQL is away, up to openTimeoutMs.
   */
  static async open<T>(
    opts: PgQueueOptions,
    schema: StoreSchema,
    load: SqlJob<T>,
  ): Promise<{ queue: PgWriteQueue; loaded: T }> {
    if (opts.term !== undefined && (!Number.isSafeInteger(opts.term) || opts.term < 1))
      throw new RangeError(
        `${schema.component} store: term must be a positive integer, got ${String(opts.term)}`,
      );
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: 1,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      query_timeout: 30_000,
      keepAlive: true,
      application_name: `netmon-${schema.component}`,
    });
    // An idle connection that dies (server restarted) is reported here; the next job reconnects.
    pool.on('error', (err) => opts.log.warn('postgres connection lost while idle', { err }));
    const queue = new PgWriteQueue(pool, opts);
    const deadline = opts.clock.now() + (opts.openTimeoutMs ?? 60_000);
    for (let attempt = 0; ; attempt++) {
      try {
        await queue.#transaction('create schema', async (sql) => {
          await sql.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
          await sql.query(FOUNDATION_SQL);
          const have = await sql.query('SELECT version FROM schema_version WHERE component = $1', [
            schema.component,
          ]);
          const version = Number(have.rows[0]?.version ?? 0);
          if (version > schema.version)
            throw new StoreError(
              'store_schema',
              `PostgreSQL ${schema.component} schema is version ${version}, newer than this netmon's ${schema.version}: upgrade netmon`,
              { retryable: false },
            );
          if (version === schema.version) return;
          await sql.query(schema.sql);
          await sql.query(
            `INSERT INTO schema_version (component, version) VALUES ($1, $2)
             ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version`,
            [schema.component, schema.version],
          );
        });
        const loaded = await queue.#transaction(`load ${schema.component}`, load, { fenced: true });
        return { queue, loaded };
      } catch (err) {
        const e = storeErrorOf(err, `open ${schema.component}`);
        if (!e.retryable || opts.clock.now() >= deadline) {
          await pool.end().catch(() => undefined);
          throw e;
        }
        opts.log.warn('postgres not reachable, retrying open', {
          component: schema.component,
          attempt,
          err: e,
        });
        await new Promise<void>((r) => opts.clock.setTimeout(r, queue.#backoff(attempt)));
      }
    }
  }

  get deposed(): boolean {
    return this.#deposedBy !== undefined;
  }

  get term(): number | undefined {
    return this.#opts.term;
  }

  /** Throws when no write is accepted any more (deposed or closed); call before changing memory. */
  assertWritable(what: string): void {
    if (this.#deposedBy) throw new StoreDeposedError(this.#deposedBy.term, this.#deposedBy.fenceTerm, what);
    if (this.#closed)
      throw new StoreError('store_closed', `${what} refused: the store is closed`, { retryable: false });
  }

  /** Queue a write; it is committed in order, after every job queued before it. */
  enqueue(what: string, op: SqlJob<unknown>): void {
    this.#push(what, op);
  }

  /** Queue a job and wait for its answer, committed (or for the error that settled it). */
  async run<T>(what: string, op: SqlJob<T>): Promise<T> {
    const outcome = await this.#push(what, op).settled;
    if (!outcome.ok) throw outcome.error;
    return outcome.value as T;
  }

  /**
   * A read outside the queue, on a connection of its own: what PostgreSQL holds now (writes still queued
   * are not in it; the store overlays them). Not fenced, not retried: a StoreError says whether to retry.
   */
  async read<T>(what: string, job: SqlJob<T>): Promise<T> {
    if (this.#closed)
      throw new StoreError('store_closed', `${what} refused: the store is closed`, { retryable: false });
    if (!this.#readPool) {
      this.#readPool = new pg.Pool({
        connectionString: this.#opts.url,
        max: 2,
        connectionTimeoutMillis: 5_000,
        idleTimeoutMillis: 10_000,
        query_timeout: 30_000,
        application_name: 'netmon-history',
      });
      this.#readPool.on('error', (err) =>
        this.#log.warn('postgres read connection lost while idle', { err }),
      );
    }
    const pool = this.#readPool;
    try {
      return await job({
        query: async (text, params) => {
          const r = await pool.query(text, params as unknown[] | undefined);
          return { rows: r.rows as Record<string, unknown>[], rowCount: r.rowCount ?? 0 };
        },
      });
    } catch (err) {
      throw storeErrorOf(err, what);
    }
  }

  /** Resolves when every job queued so far is committed; rejects when one never will be. */
  async flush(): Promise<void> {
    const outcomes = await Promise.all(this.#jobs.map((j) => j.settled));
    const failed = outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
    const first = failed[0];
    if (!first) return;
    const deposed = failed.find((o) => o.error instanceof StoreDeposedError);
    if (deposed) throw deposed.error;
    throw new StoreError(
      'store_write_dropped',
      `${failed.length} write(s) not committed: ${first.error.message}`,
      {
        retryable: false,
        cause: first.error,
      },
    );
  }

  stats(): PgQueueStats {
    return {
      pending: this.#jobs.length,
      committed: this.#committed,
      retries: this.#retries,
      dropped: this.#dropped,
      deposed: this.deposed,
    };
  }

  /**
   * Refuse new writes, wait up to closeTimeoutMs for the queued ones, then disconnect. Writes still queued
   * then (PostgreSQL away all that time) are logged as lost.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    let timer: TimerHandle | undefined;
    const drained = await Promise.race([
      this.flush().then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((r) => {
        timer = this.#opts.clock.setTimeout(() => r(false), this.#opts.closeTimeoutMs ?? 30_000);
      }),
    ]);
    if (timer) this.#opts.clock.clearTimeout(timer);
    if (!drained) {
      this.#log.error('postgres store closed with writes not committed', {
        pending: this.#jobs.length,
        first: this.#jobs[0]?.what,
      });
      this.#aborted = true;
      this.#wakeUp();
      const lost = new StoreError('store_closed', 'store closed before the write was committed', {
        retryable: false,
      });
      for (const job of this.#jobs.splice(0)) job.finish({ ok: false, error: lost });
    }
    await this.#pool.end().catch((err: unknown) => this.#log.warn('postgres pool end failed', { err }));
    await this.#readPool?.end().catch((err: unknown) => this.#log.warn('postgres pool end failed', { err }));
  }

  #push(what: string, op: SqlJob<unknown>): Job {
    this.assertWritable(what);
    let finish!: (o: Outcome) => void;
    const settled = new Promise<Outcome>((resolve) => {
      finish = resolve;
    });
    const job: Job = { what, op, settled, finish };
    this.#jobs.push(job);
    void this.#pump();
    return job;
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    let failures = 0;
    /** After a batch failed for good: run this many jobs one per transaction to find the bad one. */
    let singles = 0;
    try {
      while (this.#jobs.length > 0 && !this.#deposedBy && !this.#aborted) {
        const batch = this.#jobs.slice(0, singles > 0 ? 1 : (this.#opts.batch ?? 200));
        const what = batch.length === 1 ? (batch[0]?.what ?? '') : `${batch.length} writes`;
        try {
          const values = await this.#transaction(
            what,
            async (sql) => {
              const out: unknown[] = [];
              for (const job of batch) out.push(await job.op(sql));
              return out;
            },
            { fenced: true },
          );
          this.#jobs.splice(0, batch.length);
          this.#committed += batch.length;
          batch.forEach((job, i) => job.finish({ ok: true, value: values[i] }));
          if (singles > 0) singles--;
          if (failures > 0)
            this.#log.info('postgres writes resumed', { after: failures, pending: this.#jobs.length });
          failures = 0;
        } catch (err) {
          if (err instanceof StoreDeposedError) {
            this.#depose(err);
            break;
          }
          const e = storeErrorOf(err, what);
          if (e.retryable) {
            this.#retries++;
            if (failures === 0 || failures % 20 === 0)
              this.#log.warn('postgres unavailable, writes wait and retry in order', {
                pending: this.#jobs.length,
                attempt: failures,
                err: e,
              });
            await this.#sleep(this.#backoff(failures++));
            continue;
          }
          if (batch.length > 1) {
            singles = batch.length;
            continue;
          }
          this.#jobs.shift();
          this.#dropped++;
          if (singles > 0) singles--;
          this.#log.error('postgres write dropped: not retryable', { what, err: e });
          batch[0]?.finish({ ok: false, error: e });
        }
      }
    } catch (err) {
      this.#log.error('postgres write queue stopped', { err });
    } finally {
      this.#pumping = false;
    }
  }

  /** One transaction on the pool's connection; fenced ones first take the fence (see the header). */
  async #transaction<T>(what: string, job: SqlJob<T>, opts: { fenced?: boolean } = {}): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw storeErrorOf(err, `connect (${what})`);
    }
    // A connection that dies between two statements is reported as an event, not to a query: without a
    // listener that would be an uncaught exception. The next statement then fails, and is retried.
    const lost = (err: Error): void => this.#log.debug('postgres connection lost in a transaction', { err });
    client.on('error', lost);
    const release = (destroy: boolean): void => {
      client.off('error', lost);
      client.release(destroy);
    };
    const sql: Sql = {
      query: async (text, params) => {
        const r = await client.query(text, params as unknown[] | undefined);
        return { rows: r.rows as Record<string, unknown>[], rowCount: r.rowCount ?? 0 };
      },
    };
    let refused: StoreDeposedError | undefined;
    try {
      await sql.query('BEGIN');
      const term = this.#opts.term;
      if (opts.fenced && term !== undefined) {
        const fence = await sql.query('UPDATE alerting_fence SET term = $1 WHERE id = 1 AND term <= $1', [
          term,
        ]);
        if (fence.rowCount !== 1) {
          const now = await sql.query('SELECT term FROM alerting_fence WHERE id = 1');
          await sql.query('ROLLBACK');
          const held = now.rows[0]?.term;
          refused = new StoreDeposedError(term, held === undefined ? undefined : Number(held), what);
        }
      }
      const value = refused ? undefined : await job(sql);
      if (!refused) await sql.query('COMMIT');
      release(false);
      if (refused) throw refused;
      return value as T;
    } catch (err) {
      if (err === refused) throw err;
      // The connection may be broken or inside an aborted transaction: never hand it out again.
      release(true);
      throw storeErrorOf(err, what);
    }
  }

  #depose(err: StoreDeposedError): void {
    if (this.#deposedBy) return;
    this.#deposedBy = err;
    const refused = this.#jobs.splice(0);
    this.#log.error('store deposed by a newer alerting term: writes refused from now on', {
      term: err.term,
      fenceTerm: err.fenceTerm,
      refused: refused.length,
    });
    for (const job of refused)
      job.finish({ ok: false, error: new StoreDeposedError(err.term, err.fenceTerm, job.what) });
    try {
      this.#opts.onDeposed?.(err);
    } catch (cbErr) {
      this.#log.error('onDeposed callback failed', { err: cbErr });
    }
  }

  #backoff(attempt: number): number {
    const b = this.#opts.backoff ?? { baseMs: 100, maxMs: 5_000 };
    return backoffMs(attempt, { attempts: Infinity, baseMs: b.baseMs, maxMs: b.maxMs });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#sleepTimer = this.#opts.clock.setTimeout(resolve, ms);
    });
  }

  #wakeUp(): void {
    if (this.#sleepTimer) this.#opts.clock.clearTimeout(this.#sleepTimer);
    this.#wake?.();
  }
}
