/**
 * The store interfaces: what the alerting side asks of a durable incident store, and the console of a
 * session store. Two implementations each:
 *
 *   IncidentStore   (incident-store.ts)  SQLite, one process: the embedded default (`npm start`)
 *   PgIncidentStore (pg-store.ts)        PostgreSQL, a cluster: memory for reads, an ordered queue of
 *                                        fenced transactions for writes (issue #15)
 *   SessionStore / PgSessionStore        the same pair for console sessions (collector/http/)
 *
 * Reads and writes are synchronous, as the lifecycle and the alert pipeline have always called them. A
 * write is applied at once (SQLite: committed; PostgreSQL: applied to memory and queued); `flush()` says
 * when every write accepted so far is durable. `claim()` is the one asynchronous step of the ledger: a page
 * goes out only after its claim is durable, so a deposed leader (whose claim is refused) cannot send it.
 * test/integration/store/store-contract.test.ts runs one suite against both implementations.
 *
 * The synchronous reads answer what alerting needs: every unresolved incident, and the recently closed
 * ones. The PostgreSQL store keeps only those in memory (its memory is bounded by the fleet, not by the
 * history); the whole history is read with `readIncidents` / `readIncident`, which await the database.
 */
import { NetmonError } from '../core/errors.ts';

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

/** What `open` takes: the incident without the fields its lifecycle sets. */
export type NewIncident = Omit<
  Incident,
  'status' | 'acknowledgedAt' | 'acknowledgedBy' | 'resolvedAt' | 'clockBreachedAt' | 'escalationLevel'
>;

export interface IncidentFilter {
  readonly status?: readonly IncidentStatus[] | undefined;
  readonly siteIds?: readonly string[] | undefined;
  readonly severity?: string | undefined;
  readonly sinceMs?: number | undefined;
  readonly limit: number;
}

export interface SentNotification {
  readonly channel: string;
  readonly kind: string;
  readonly sentAt: number;
}

export type SuppressionType = 'maintenance' | 'silence';

/** One incident with its timeline and what was sent for it (an incident's page in the API). */
export interface IncidentDetailRecord {
  readonly incident: Incident;
  readonly timeline: IncidentEvent[];
  readonly notifications: SentNotification[];
}

export interface IncidentStoreLike {
  /** Open an incident for `key`, or return the one already open (never two open per key). */
  open(input: NewIncident): { incident: Incident; created: boolean };
  acknowledge(id: string, by: string, timeMs: number, note?: string): Incident | undefined;
  resolve(id: string, timeMs: number, actor?: string, note?: string): Incident | undefined;
  /** Record that the incident's clock ran out unacknowledged. False when already recorded. */
  markClockBreached(id: string, timeMs: number, note?: string): boolean;
  /** Raise the escalation level (never lowers it, only while open). False when it was already there. */
  escalate(id: string, level: number, timeMs: number, contact: string): boolean;
  /** Incidents, newest first. */
  list(filter: IncidentFilter): Incident[];
  /** What was sent for an incident: channel, kind, when (claims not yet sent are not listed). */
  notificationsOf(id: string): SentNotification[];
  /** Maintenance windows and silences created over the API (config windows live in the config). */
  saveSuppression(type: SuppressionType, id: string, data: unknown, timeMs: number): void;
  deleteSuppression(type: SuppressionType, id: string): boolean;
  suppressions(type: SuppressionType): unknown[];
  addEvent(ev: IncidentEvent): void;
  get(id: string): Incident | undefined;
  openByKey(key: string): Incident | undefined;
  /** Open and acknowledged incidents, oldest first: what a restarted monitor (or a new leader) takes over. */
  unresolved(): Incident[];
  timeline(id: string): IncidentEvent[];
  /**
   * Record that `kind` (firing, resolved, escalation:N) went out on `channel`. False when it had already
   * been sent: the caller must not send it again.
   */
  markSent(incidentId: string, channel: string, kind: string, timeMs: number): boolean;
  wasSent(incidentId: string, channel: string, kind: string): boolean;
  /**
   * Claim the right to send `kind` on `channel`, once every earlier write is durable. False when it was
   * already sent, or claimed by this store's term (this process) already; a claim left by an older term
   * (a leader that died, or with SQLite an earlier process) may be claimed again, so a page whose sender
   * died between claim and send is sent once more rather than never. Send only after `true`, then
   * `markSent`. Rejects with StoreDeposedError when a newer term holds the store.
   */
  claim(incidentId: string, channel: string, kind: string, timeMs: number): Promise<boolean>;
  /** Resolves when every write accepted so far is durable; rejects with StoreDeposedError if it never will be. */
  flush(): Promise<void>;
  close(): Promise<void> | void;
  /**
   * The whole history, as `list` answers it from all of it (PostgreSQL: from the database, with the writes
   * still queued laid over it). Optional: a store without it answers everything synchronously.
   */
  listAsync?(filter: IncidentFilter): Promise<Incident[]>;
  /** One incident, its timeline and what was sent, also when it is too old to be in memory. Optional. */
  detailAsync?(id: string): Promise<IncidentDetailRecord | undefined>;
}

/** Incidents from the whole history (the HTTP API, reports): `listAsync` where the store has it. */
export function readIncidents(store: IncidentStoreLike, filter: IncidentFilter): Promise<Incident[]> {
  return store.listAsync ? store.listAsync(filter) : Promise.resolve(store.list(filter));
}

/** One incident with its timeline and ledger, from the whole history. */
export function readIncident(
  store: IncidentStoreLike,
  id: string,
): Promise<IncidentDetailRecord | undefined> {
  if (store.detailAsync) return store.detailAsync(id);
  const incident = store.get(id);
  return Promise.resolve(
    incident && { incident, timeline: store.timeline(id), notifications: store.notificationsOf(id) },
  );
}

/** A console session (collector/http/session.ts). */
export interface SessionRecord {
  /** SHA-256 (hex) of the cookie's secret. */
  readonly idHash: string;
  readonly username: string;
  readonly csrfToken: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
}

export interface SessionStoreLike {
  insert(s: SessionRecord): void;
  get(idHash: string): SessionRecord | undefined;
  touch(idHash: string, timeMs: number): void;
  delete(idHash: string): boolean;
  /** Sign a user out everywhere (e.g. their account was removed). */
  deleteUser(username: string): number;
  /** Remove sessions idle since before `idleBefore` or created before `createdBefore`. */
  deleteExpired(idleBefore: number, createdBefore: number): number;
  count(): number;
  flush(): Promise<void>;
  close(): Promise<void> | void;
}

/**
 * A store could not do what was asked. `retryable`: the database is away or busy (connection refused or
 * lost, shutting down, serialization failure) and the same transaction may succeed later.
 */
export class StoreError extends NetmonError {}

/**
 * A newer term holds the store (alerting_fence): this store was deposed, refuses every write from now on,
 * and what it had queued will never be written. Not retryable.
 */
export class StoreDeposedError extends StoreError {
  readonly term: number;
  readonly fenceTerm: number | undefined;
  constructor(term: number, fenceTerm: number | undefined, what: string) {
    super(
      'store_deposed',
      `${what} refused: this store's term ${term} was deposed by term ${fenceTerm ?? 'unknown'} (a newer alerting leader)`,
      { retryable: false },
    );
    this.term = term;
    this.fenceTerm = fenceTerm;
  }
}
