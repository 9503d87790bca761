/**
 * One alerting authority at a time: a lease in the JetStream KV bucket `netmon_leader`, key `alerting`,
 * value `{ v:1, holder, term, renewedAtMs, http? }` (issue #15, /README.md "Leader election and fencing").
 *
 *   standby ── read every `renew` ──► key absent: create (term 1)
 *                                     released (renewedAtMs 0): update(revision), term + 1
 *                                     revision unchanged for `lease` (own clock): update(revision), term + 1
 *   leader ─── update(lastRevision) every `renew` ──► ok: renewed
 *                                                     wrong revision: deposed at once (someone took over)
 *                                                     no successful renew for `lease - renew`: deposed at once
 *
 * Every write is a compare-and-set on the KV revision (JetStream's Nats-Expected-Last-Subject-Sequence), so
 * two candidates cannot both win a takeover. The term is the fencing token: the PostgreSQL store begins
 * every write transaction with `UPDATE alerting_fence SET term = $1 WHERE term <= $1`, so a leader that
 * missed its own deposition can neither write an incident nor claim a page.
 *
 * Why a deposed leader stops before a new one acts: a standby counts `lease` from when it first *saw*
 * the holder's last write (its own clock), which is after the holder sent it; the holder counts
 * `lease - renew` from when it sent it. So the holder steps down at least `renew` before any standby may
 * take over (clock rates assumed equal; fencing covers what that assumption misses).
 *
 * The decisions are pure functions of (state, what the KV said, now); `LeaderElection` runs them on a clock
 * against a `LeaseKv` port (collector/cluster/result-feed.ts adapts JetStream KV to it).
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { NetmonError, errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { decodeLeader, encodeLeader, type LeaderRecord } from './subjects.ts';

export { LEADER_BUCKET, LEADER_KEY } from './subjects.ts';

/**
 * The KV value (collector/cluster/subjects.ts): holder, term (the fencing token) and renewedAtMs, the
 * holder's clock when it wrote it (for people reading the KV; observers use their own clocks), 0 once the
 * holder released it (a clean stop): a standby takes over at once.
 */
export type LeaseRecord = LeaderRecord;

export interface LeaseSettings {
  /** This process's member id. */
  readonly node: string;
  /** A holder that has not renewed for this long (the observer's clock) may be replaced. */
  readonly leaseMs: number;
  /** How often the holder renews and a standby reads. Must be well under leaseMs (at most a third). */
  readonly renewMs: number;
  /** This process's HTTP address, written into the lease while it holds it (standbys point people there). */
  readonly http?: string | undefined;
}

/** What the KV holds for the key: absent, or an entry at a revision (record undefined: deleted or unreadable). */
export type LeaseRead = { readonly revision: number; readonly record: LeaseRecord | undefined } | undefined;

export type ElectorState =
  | {
      readonly role: 'standby';
      /** The revision last read and when this process first saw it (own clock). */
      readonly seen?: { readonly revision: number; readonly sinceMs: number } | undefined;
    }
  | {
      readonly role: 'leader';
      readonly term: number;
      /** The KV revision of this leader's last successful write. */
      readonly revision: number;
      /** When the last successful write was *sent* (own clock): the deadline counts from here. */
      readonly renewedAtMs: number;
    };

/** A compare-and-set write: create (key must be absent) or update at an expected revision. */
export type LeaseWrite =
  | { readonly op: 'create'; readonly record: LeaseRecord }
  | { readonly op: 'update'; readonly record: LeaseRecord; readonly expectedRevision: number };

export type WriteOutcome =
  | { readonly kind: 'ok'; readonly revision: number }
  /** The key was not at the expected revision (or already existed): somebody else wrote it. */
  | { readonly kind: 'conflict' }
  /** NATS did not answer (timeout, no responders): nothing is known about the write. */
  | { readonly kind: 'error'; readonly message: string };

export type LeaderEvent =
  | { readonly type: 'elected'; readonly term: number }
  | { readonly type: 'deposed'; readonly term: number; readonly reason: 'lost' | 'expired' | 'released' };

export const STANDBY: ElectorState = { role: 'standby' };

export function validateLeaseSettings(s: LeaseSettings): void {
  if (!(s.renewMs > 0) || !(s.leaseMs >= 3 * s.renewMs))
    throw new NetmonError(
      'config',
      `cluster.leader: lease (${s.leaseMs} ms) must be at least three times renew (${s.renewMs} ms)`,
    );
}

/** When a leader must have stepped down if no renew succeeds: last sent renew + lease - renew. */
export function leaderDeadline(state: ElectorState, s: LeaseSettings): number | undefined {
  return state.role === 'leader' ? state.renewedAtMs + s.leaseMs - s.renewMs : undefined;
}

/** A leader past its deadline steps down at once, before even trying to renew. */
export function expired(state: ElectorState, now: number, s: LeaseSettings): boolean {
  const deadline = leaderDeadline(state, s);
  return deadline !== undefined && now >= deadline;
}

/** The leader's renew: the same holder and term at its last revision. */
export function renewWrite(
  state: Extract<ElectorState, { role: 'leader' }>,
  now: number,
  s: LeaseSettings,
): LeaseWrite {
  return {
    op: 'update',
    record: claimRecord(s, state.term, now),
    expectedRevision: state.revision,
  };
}

/** renewedAtMs of a released lease. */
export const RELEASED = 0;

/** A clean stop: renewedAtMs 0 marks it released, so a standby takes over at its next read. */
export function releaseWrite(state: Extract<ElectorState, { role: 'leader' }>, s: LeaseSettings): LeaseWrite {
  return {
    op: 'update',
    record: claimRecord(s, state.term, RELEASED),
    expectedRevision: state.revision,
  };
}

/**
 * A standby's decision after reading the key: take over (a write), or remember what it saw and wait.
 */
export function afterRead(
  state: Extract<ElectorState, { role: 'standby' }>,
  read: LeaseRead,
  now: number,
  s: LeaseSettings,
): { readonly state: ElectorState; readonly write?: LeaseWrite | undefined } {
  if (read === undefined) return { state: STANDBY, write: { op: 'create', record: claimRecord(s, 1, now) } };
  const { revision, record } = read;
  const takeover = (): LeaseWrite => ({
    op: 'update',
    record: claimRecord(s, (record?.term ?? 0) + 1, now),
    expectedRevision: revision,
  });
  // Deleted, unreadable or released: nobody holds it.
  if (!record || record.renewedAtMs === RELEASED) return { state: STANDBY, write: takeover() };
  const seen = state.seen;
  if (!seen || seen.revision !== revision)
    return { state: { role: 'standby', seen: { revision, sinceMs: now } } };
  if (now - seen.sinceMs >= s.leaseMs) return { state, write: takeover() };
  return { state };
}

/**
 * The state after a write's outcome. `sentAtMs`: when the write was sent (a lease counts from there).
 * A renew that meets a conflict is a deposition; an error leaves the leader in place until its deadline.
 */
export function afterWrite(
  state: ElectorState,
  write: LeaseWrite,
  outcome: WriteOutcome,
  sentAtMs: number,
): { readonly state: ElectorState; readonly event?: LeaderEvent | undefined } {
  if (state.role === 'standby') {
    if (outcome.kind !== 'ok') return { state: STANDBY };
    const term = write.record.term;
    return {
      state: { role: 'leader', term, revision: outcome.revision, renewedAtMs: sentAtMs },
      event: { type: 'elected', term },
    };
  }
  if (write.record.renewedAtMs === RELEASED) {
    // Our own release: whatever came of it, this process no longer leads.
    return { state: STANDBY, event: { type: 'deposed', term: state.term, reason: 'released' } };
  }
  if (outcome.kind === 'ok')
    return { state: { ...state, revision: outcome.revision, renewedAtMs: sentAtMs } };
  if (outcome.kind === 'conflict')
    return { state: STANDBY, event: { type: 'deposed', term: state.term, reason: 'lost' } };
  return { state };
}

function claimRecord(s: LeaseSettings, term: number, now: number): LeaseRecord {
  const record: LeaseRecord = { v: 1, holder: s.node, term, renewedAtMs: now };
  return s.http === undefined ? record : { ...record, http: s.http };
}

/** Parse a KV value; undefined for anything that is not a lease record (it is then taken over). */
export function decodeLease(bytes: Uint8Array): LeaseRecord | undefined {
  const d = decodeLeader(bytes);
  return d.ok ? d.value : undefined;
}

export const encodeLease = encodeLeader;

// ─── The port ────────────────────────────────────────────────────────────────────────────────────────

/**
 * The KV operations the election needs (collector/cluster/result-feed.ts: JetStream KV). A write that loses
 * the compare-and-set resolves to 'conflict'; one with no answer to 'error'; neither throws.
 */
export interface LeaseKv {
  read(): Promise<LeaseRead>;
  write(w: LeaseWrite): Promise<WriteOutcome>;
}

// ─── The runner ──────────────────────────────────────────────────────────────────────────────────────

/** Why a leader stopped leading: the lease was taken, expired or released; the store was fenced; it failed. */
export type DepositionReason = 'lost' | 'expired' | 'released' | 'fenced' | 'failed';

export interface LeaderElectionDeps {
  readonly kv: LeaseKv;
  readonly clock: Clock;
  readonly log: Logger;
  readonly settings: LeaseSettings;
  /** This process leads from now, with this term (open the store with it, then start pulling). */
  readonly onElected: (term: number) => void;
  /** Called synchronously the moment this process stops leading: stop pulling and dispatching at once. */
  readonly onDeposed: (term: number, reason: DepositionReason) => void;
}

/**
 * Runs the decisions above every `renew`: a standby reads and maybe takes over, the leader renews. One KV
 * operation at a time; a timer at the leader's deadline deposes it even while a renew hangs.
 */
export class LeaderElection {
  readonly #deps: LeaderElectionDeps;
  #state: ElectorState = STANDBY;
  #timer: TimerHandle | undefined;
  #deadlineTimer: TimerHandle | undefined;
  #busy: Promise<void> | undefined;
  #running = false;
  /** Bumped at every change of role: the outcome of a write sent under an older one is ignored. */
  #epoch = 0;
  /** The lease as this process last read or wrote it (who leads, and where it serves HTTP). */
  #lastRecord: LeaseRecord | undefined;

  constructor(deps: LeaderElectionDeps) {
    validateLeaseSettings(deps.settings);
    this.#deps = deps;
  }

  get state(): ElectorState {
    return this.#state;
  }

  /** The term this process leads with, or undefined on a standby. */
  get term(): number | undefined {
    const state = this.#state;
    return state.role === 'leader' ? state.term : undefined;
  }

  /**
   * Who holds the lease as this process last saw it (a standby reads it every `renew`; the leader's is its
   * own write); undefined before the first read, or when the key is absent. Released: renewedAtMs 0.
   */
  get holder(): LeaseRecord | undefined {
    return this.#lastRecord;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#tick();
  }

  /**
   * Step down now for a reason outside the KV (the store refused a write: a newer term exists; or this
   * process could not start leading). The key is left as it is: the newer leader holds it, or a standby
   * takes it over after `lease`.
   */
  stepDown(reason: 'fenced' | 'failed'): void {
    const state = this.#state;
    if (state.role === 'leader') this.#depose(state.term, reason);
  }

  /** Stop the timers; a leader releases the key so a standby takes over at its next read. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#clearTimers();
    await this.#busy;
    const state = this.#state;
    if (state.role !== 'leader') return;
    const { kv, log } = this.#deps;
    this.#depose(state.term, 'released');
    const outcome = await kv.write(releaseWrite(state, this.#deps.settings));
    log.info('alerting lease released', { term: state.term, outcome: outcome.kind });
  }

  #tick(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const { clock, settings } = this.#deps;
    const state = this.#state;
    if (state.role === 'leader' && expired(state, clock.now(), settings)) this.#depose(state.term, 'expired');
    if (!this.#busy) {
      const p = this.#round()
        .catch((err: unknown) =>
          this.#deps.log.error('alerting lease round failed', { error: errorMessage(err) }),
        )
        .finally(() => {
          if (this.#busy === p) this.#busy = undefined;
        });
      this.#busy = p;
    }
    this.#timer = clock.setTimeout(() => this.#tick(), settings.renewMs);
  }

  async #round(): Promise<void> {
    const { clock, kv, settings, log } = this.#deps;
    const epoch = this.#epoch;
    const state = this.#state;
    let write: LeaseWrite | undefined;
    if (state.role === 'leader') {
      write = renewWrite(state, clock.now(), settings);
    } else {
      let read: LeaseRead;
      try {
        read = await kv.read();
      } catch (err) {
        log.warn('cannot read the alerting lease', { error: errorMessage(err) });
        return;
      }
      this.#lastRecord = read?.record;
      const current = this.#state;
      if (epoch !== this.#epoch || current.role !== 'standby' || !this.#running) return;
      const next = afterRead(current, read, clock.now(), settings);
      this.#state = next.state;
      write = next.write;
    }
    if (!write) return;
    const sentAtMs = clock.now();
    const outcome = await kv.write(write);
    if (epoch !== this.#epoch || !this.#running) return;
    if (outcome.kind === 'ok') this.#lastRecord = write.record;
    if (outcome.kind === 'error') log.warn('alerting lease write failed', { error: outcome.message });
    const { state: after, event } = afterWrite(this.#state, write, outcome, sentAtMs);
    // A renew that comes back after the deadline changes nothing: this process has already stepped down.
    if (after.role === 'leader' && expired(after, clock.now(), settings)) return;
    this.#state = after;
    if (event?.type === 'deposed') this.#depose(event.term, event.reason === 'lost' ? 'lost' : 'expired');
    else if (event?.type === 'elected') {
      this.#epoch++;
      log.info('alerting leader elected', { node: settings.node, term: event.term });
      this.#armDeadline();
      this.#deps.onElected(event.term);
    } else if (after.role === 'leader') this.#armDeadline();
  }

  #armDeadline(): void {
    const { clock, settings } = this.#deps;
    if (this.#deadlineTimer) clock.clearTimeout(this.#deadlineTimer);
    const deadline = leaderDeadline(this.#state, settings);
    if (deadline === undefined) return;
    this.#deadlineTimer = clock.setTimeout(
      () => {
        this.#deadlineTimer = undefined;
        const state = this.#state;
        if (state.role === 'leader' && expired(state, clock.now(), settings))
          this.#depose(state.term, 'expired');
      },
      Math.max(0, deadline - clock.now()),
    );
  }

  #depose(term: number, reason: DepositionReason): void {
    this.#state = STANDBY;
    this.#epoch++;
    if (this.#deadlineTimer) this.#deps.clock.clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = undefined;
    this.#deps.log.warn('alerting leader deposed', { node: this.#deps.settings.node, term, reason });
    try {
      this.#deps.onDeposed(term, reason);
    } catch (err) {
      this.#deps.log.error('deposed handler failed', { error: errorMessage(err) });
    }
  }

  #clearTimers(): void {
    const { clock } = this.#deps;
    if (this.#timer) clock.clearTimeout(this.#timer);
    if (this.#deadlineTimer) clock.clearTimeout(this.#deadlineTimer);
    this.#timer = this.#deadlineTimer = undefined;
  }

  /** Timers held now (tests prove stop() leaves none). */
  pendingTimers(): number {
    return (this.#timer ? 1 : 0) + (this.#deadlineTimer ? 1 : 0);
  }
}
