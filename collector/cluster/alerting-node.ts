/**
 * The alerting role in a cluster (issue #15): every alerting candidate runs the election
 * (collector/cluster/leader.ts); only the leader does anything that writes or pages.
 *
 *   standby ── LeaderElection ── elected(term) ──► open the PostgreSQL store fenced with `term`
 *                                                  ─► Monitor (health, incidents, alert pipeline, dispatcher)
 *                                                     on the results feed (RemoteCollection) ─► start pulling
 *   leader ─── deposed ──► at once: stop pulling, halt the dispatcher (nothing more is sent, not a retry)
 *                          then: stop the Monitor, close the store; back to standby
 *   store refuses a write (a newer term fenced it) ──► step down (same as deposed)
 *
 * A standby holds no store, no Monitor and no consumer: it serves nothing that writes. Each term gets a
 * fresh Monitor: its device states start unknown and come back from the results within one interval,
 * while the open incidents, the ledger and the suppressions come from the store (as after a restart of
 * one process: no incident lost, no page twice, collector/store/).
 */
import type { Clock } from '../core/clock.ts';
import { NetmonError, errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { sleep } from '../core/retry.ts';
import { LeaderElection, RELEASED, type LeaseKv, type LeaseSettings } from './leader.ts';

/** What the node needs of a term's store: it is closed when the term ends. */
export interface TermStore {
  close(): Promise<void> | void;
}

/** What the node needs of a term's Monitor (collector/monitor.ts). */
export interface TermMonitor {
  start(): Promise<void>;
  /** Deposed: stop pulling and dispatching now (synchronous). */
  halt(): void;
  stop(): Promise<void>;
}

export interface AlertingNodeDeps<S extends TermStore, M extends TermMonitor> {
  readonly clock: Clock;
  readonly log: Logger;
  readonly lease: LeaseKv;
  readonly settings: LeaseSettings;
  /**
   * Open the incident store fenced with `term` (PgIncidentStore.open). `fenced` is called when the store
   * finds a newer term in PostgreSQL: the node steps down. Rejects while PostgreSQL is unreachable (the
   * node tries again every `retryMs` while it still leads).
   */
  readonly openStore: (term: number, fenced: () => void) => Promise<S>;
  /** The Monitor of one term, on that term's store (its collection: the results feed). */
  readonly buildMonitor: (store: S, term: number) => M;
  /** Pause between attempts to open the store. Default 1 s. */
  readonly retryMs?: number | undefined;
  /** Told when this process is elected, before its store opens (its HTTP says "starting" meanwhile). */
  readonly onElected?: ((term: number) => void) | undefined;
  /** Told when a term's Monitor runs (pulling) and when it has stopped (tests, the status line). */
  readonly onLeading?: ((term: number, monitor: M, store: S) => void) | undefined;
  readonly onStandby?: ((term: number) => void) | undefined;
  /**
   * Called synchronously the moment this process stops leading (with the Monitor halted): whatever serves
   * the term (its HTTP routes) stops writing now, before the term's Monitor and store are closed.
   */
  readonly onDeposed?: ((term: number) => void) | undefined;
}

/** Who leads the alerting, as this node last saw the lease: the holder, its term and HTTP address. */
export interface LeaderView {
  readonly node: string;
  readonly term: number;
  readonly http?: string | undefined;
}

interface Term<S, M> {
  readonly term: number;
  halted: boolean;
  store?: S | undefined;
  monitor?: M | undefined;
  /** The start of the term (open, build, start): the stop waits for it. */
  started: Promise<void>;
}

export type AlertingRole = 'standby' | 'starting' | 'leader';

export class AlertingNode<S extends TermStore, M extends TermMonitor> {
  readonly #deps: AlertingNodeDeps<S, M>;
  readonly #election: LeaderElection;
  #current: Term<S, M> | undefined;
  /** The end of the last term (stop, close): a new term starts after it. */
  #ended: Promise<void> = Promise.resolve();
  #stopping = false;

  constructor(deps: AlertingNodeDeps<S, M>) {
    this.#deps = deps;
    this.#election = new LeaderElection({
      kv: deps.lease,
      clock: deps.clock,
      log: deps.log.child({ component: 'leader' }),
      settings: deps.settings,
      onElected: (term) => this.#elected(term),
      onDeposed: (term) => this.#deposed(term),
    });
  }

  /** Join the election; a term's Monitor starts when this process is elected. */
  start(): void {
    this.#deps.log.info('alerting candidate', { node: this.#deps.settings.node });
    this.#election.start();
  }

  /** Leave cleanly: a leader stops its Monitor (pending pages delivered), closes the store, releases the lease. */
  async stop(): Promise<void> {
    this.#stopping = true;
    const t = this.#current;
    // A clean stop drains a running Monitor (pending notifications go out) while it still leads; a term
    // still opening its store is simply ended (the election's stop deposes it).
    if (t && !t.halted && t.monitor) await t.monitor.stop();
    await this.#election.stop();
    await this.#ended;
  }

  get role(): AlertingRole {
    const t = this.#current;
    if (!t || t.halted) return 'standby';
    return t.monitor ? 'leader' : 'starting';
  }

  get term(): number | undefined {
    return this.#election.term;
  }

  /** The leader as the lease last said (this node once it leads); undefined: none known, or released. */
  leader(): LeaderView | undefined {
    const r = this.#election.holder;
    if (!r || r.renewedAtMs === RELEASED) return undefined;
    return { node: r.holder, term: r.term, http: r.http };
  }

  pendingTimers(): number {
    return this.#election.pendingTimers();
  }

  #elected(term: number): void {
    if (this.#stopping) return;
    const t: Term<S, M> = { term, halted: false, started: Promise.resolve() };
    this.#current = t;
    try {
      this.#deps.onElected?.(term);
    } catch (err) {
      this.#deps.log.error('elected hook failed', { term, error: errorMessage(err) });
    }
    // After the previous term has fully ended (its store closed): never two stores at once here.
    t.started = this.#ended
      .then(() => this.#startTerm(t))
      .catch((err: unknown) =>
        this.#deps.log.error('alerting term did not start', { error: errorMessage(err) }),
      );
  }

  async #startTerm(t: Term<S, M>): Promise<void> {
    const { log, openStore, buildMonitor, clock } = this.#deps;
    while (!t.halted) {
      try {
        t.store = await openStore(t.term, () => this.#fenced(t));
        break;
      } catch (err) {
        // A newer term already holds the fence: this term is over before it began.
        if (err instanceof NetmonError && err.code === 'store_deposed') {
          log.warn('the store is held by a newer term: stepping down', { term: t.term, error: err.message });
          this.#election.stepDown('fenced');
          return;
        }
        log.warn('cannot open the incident store; trying again', { term: t.term, error: errorMessage(err) });
        await sleep(clock, this.#deps.retryMs ?? 1000);
      }
    }
    if (t.halted || !t.store) return;
    const monitor = buildMonitor(t.store, t.term);
    t.monitor = monitor;
    try {
      await monitor.start();
    } catch (err) {
      log.error('alerting monitor did not start; stepping down', { term: t.term, error: errorMessage(err) });
      this.#election.stepDown('failed');
      return;
    }
    // Deposed while starting: #deposed halted it already if the monitor existed; make sure.
    if (t.halted) monitor.halt();
    else {
      log.info('alerting leader running', { term: t.term });
      this.#deps.onLeading?.(t.term, monitor, t.store);
    }
  }

  /** Synchronous: the moment the election says so, nothing more is pulled or sent. */
  #deposed(term: number): void {
    const t = this.#current;
    if (!t || t.term !== term || t.halted) return;
    t.halted = true;
    t.monitor?.halt();
    try {
      this.#deps.onDeposed?.(term);
    } catch (err) {
      this.#deps.log.error('deposed hook failed', { term, error: errorMessage(err) });
    }
    this.#ended = this.#ended
      .then(() => this.#endTerm(t))
      .catch((err: unknown) =>
        this.#deps.log.error('alerting term did not end', { error: errorMessage(err) }),
      );
  }

  async #endTerm(t: Term<S, M>): Promise<void> {
    await t.started;
    t.monitor?.halt();
    try {
      await t.monitor?.stop();
    } catch (err) {
      this.#deps.log.error('stopping the deposed monitor failed', { term: t.term, error: errorMessage(err) });
    }
    try {
      await t.store?.close();
    } catch (err) {
      this.#deps.log.error('closing the deposed store failed', { term: t.term, error: errorMessage(err) });
    }
    this.#deps.log.info('alerting standby', { term: t.term });
    this.#deps.onStandby?.(t.term);
  }

  #fenced(t: Term<S, M>): void {
    if (this.#current !== t || t.halted) return;
    this.#deps.log.warn('the store was fenced by a newer term: stepping down', { term: t.term });
    this.#election.stepDown('fenced');
  }
}
