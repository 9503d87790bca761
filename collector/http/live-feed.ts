/**
 * What the console's live events say, taken from the monitor as it decides (no polling of the API):
 *
 *   Monitor.onTransition ─► device event; the site's state recomputed ─► site event when it changed
 *   incident store changes (ObservedIncidentStore: opened, acknowledged, resolved by hand or by a settled
 *     recovery) ─► incident event; the site's state recomputed (a settled recovery ends `recovering`)
 *   a device back up while its incident stays open (the recovery settles) ─► incident event `recovering`
 *   maintenance or silence added or removed over the API ─► every site recomputed
 *   HealthTracker.onWarning ("SNMP not answering" raised or cleared; not a transition, the device stays
 *     up) ─► device event with `warning` (the warning, or null when cleared) and no `previous`
 *
 *   Monitor.onSiteChange (a maintenance window or silence opened or closed on its schedule, a recovery
 *     confirmed) ─► the site's state recomputed
 *
 * The site's state is the monitor's own (Monitor.siteState: one rule for every surface); this module only
 * notices when it changes. As a safety net every site is also re-read every `reconcileMs` (default: a
 * minute, or 5 s for a monitor that does not announce site changes; ~10 ms for the 987 sites). That re-read grows with the fleet (~0.2-0.5 s for 30,000 sites on a busy machine),
 * so it is budgeted: the next comes no sooner than the last one's duration / `reconcileBudget` (default
 * 0.02, at most 2 % of a core).
 *
 * Times in events are ISO 8601 in WITA (+08:00), as everywhere in the v1 API.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { isoWita } from '../core/time-zone.ts';
import type { Transition } from '../core/types.ts';
import type { Incident, IncidentStoreLike } from '../store/store.ts';
import type { LiveEventType } from './events.ts';

/** What the feed needs of the Monitor (collector/app.ts). */
export interface LiveMonitor {
  onTransition(listener: (t: Transition) => void): () => void;
  siteState(siteId: string):
    | {
        readonly state: string;
        readonly devices: readonly { readonly since: number }[];
      }
    | undefined;
  readonly topology: { siteIds(): string[] };
  /** A site's state may have changed without a transition (collector/monitor.ts); absent: re-reads only. */
  onSiteChange?(listener: (siteId: string, timeMs: number) => void): () => void;
  /** Warnings that are not transitions (collector/health/health-tracker.ts); absent: none are sent. */
  readonly health?: {
    onWarning(
      listener: (w: {
        deviceId: string;
        siteId: string;
        kind: string;
        raised: boolean;
        timeMs: number;
      }) => void,
    ): () => void;
    get(deviceId: string): { readonly state: string } | undefined;
  };
}

export interface SiteLive {
  readonly id: string;
  readonly state: string;
  readonly since: string;
  readonly recoveryConfirmAt?: string | undefined;
}

interface Known {
  state: string;
  sinceMs: number;
  recoveryConfirmAt?: string | undefined;
}

export interface IncidentChange {
  readonly incident: Incident;
  readonly atMs: number;
}

export class LiveFeed {
  readonly #monitor: LiveMonitor;
  readonly #publish: (type: LiveEventType, data: unknown) => void;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #reconcileMs: number;
  readonly #reconcileBudget: number;
  readonly #elapsedMs: () => number;
  /** How long the last re-read of every site took (ms of #elapsedMs). */
  #lastRecheckAllMs = 0;
  readonly #sites = new Map<string, Known>();
  readonly #openIncidentOf: ((deviceId: string) => Incident | undefined) | undefined;
  #unsubscribe: (() => void) | undefined;
  #unsubscribeWarnings: (() => void) | undefined;
  #unsubscribeSites: (() => void) | undefined;
  #timer: TimerHandle | undefined;

  constructor(deps: {
    monitor: LiveMonitor;
    publish: (type: LiveEventType, data: unknown) => void;
    clock: Clock;
    log: Logger;
    reconcileMs?: number | undefined;
    /** The share of a core the periodic re-read of every site may take, (0, 1]. Default 0.02. */
    reconcileBudget?: number | undefined;
    /** Monotonic ms to measure a re-read (tests inject one). Default performance.now. */
    elapsedMs?: (() => number) | undefined;
    /** The unresolved incident of a device, if any (for `recovering` incident events). */
    openIncidentOf?: ((deviceId: string) => Incident | undefined) | undefined;
  }) {
    this.#openIncidentOf = deps.openIncidentOf;
    this.#monitor = deps.monitor;
    this.#publish = deps.publish;
    this.#clock = deps.clock;
    this.#log = deps.log;
    // With the monitor announcing site changes, the re-read is only a safety net: once a minute.
    this.#reconcileMs = deps.reconcileMs ?? (deps.monitor.onSiteChange ? 60_000 : 5000);
    this.#reconcileBudget = deps.reconcileBudget ?? 0.02;
    if (!(this.#reconcileBudget > 0 && this.#reconcileBudget <= 1))
      throw new RangeError('LiveFeed: reconcileBudget must be in (0, 1]');
    this.#elapsedMs = deps.elapsedMs ?? (() => performance.now());
  }

  start(): void {
    for (const id of this.#monitor.topology.siteIds()) {
      const view = this.#monitor.siteState(id);
      if (!view) continue;
      // Before the first change seen here, a site has been in its state since its last device changed.
      const sinceMs = sinceOf(view) ?? Math.max(0, ...view.devices.map((d) => d.since));
      this.#sites.set(id, { state: view.state, sinceMs, recoveryConfirmAt: confirmAtOf(view) });
    }
    this.#unsubscribe = this.#monitor.onTransition((t) => this.#onTransition(t));
    this.#unsubscribeSites = this.#monitor.onSiteChange?.((siteId, timeMs) => {
      try {
        this.recheck(siteId, timeMs);
      } catch (err) {
        this.#log.error('site state re-read failed', { site: siteId, error: errorMessage(err) });
      }
    });
    const health = this.#monitor.health;
    if (health)
      this.#unsubscribeWarnings = health.onWarning((w) => {
        try {
          // The console keeps the device's state and `since`: a warning changes neither.
          this.#publish('device', {
            id: w.deviceId,
            siteId: w.siteId,
            state: health.get(w.deviceId)?.state ?? 'unknown',
            warning: w.raised ? { kind: w.kind, since: isoWita(w.timeMs) } : null,
            at: isoWita(w.timeMs),
          });
        } catch (err) {
          this.#log.error('warning event failed', { device: w.deviceId, error: errorMessage(err) });
        }
      });
    this.#arm();
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#unsubscribeWarnings?.();
    this.#unsubscribeWarnings = undefined;
    this.#unsubscribeSites?.();
    this.#unsubscribeSites = undefined;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The `snapshot` event: every site's state now. */
  snapshot(): { sites: SiteLive[] } {
    this.recheckAll(this.#clock.now());
    const sites: SiteLive[] = [];
    for (const [id, k] of this.#sites) {
      sites.push({
        id,
        state: k.state,
        since: isoWita(k.sinceMs),
        ...(k.recoveryConfirmAt ? { recoveryConfirmAt: k.recoveryConfirmAt } : {}),
      });
    }
    return { sites };
  }

  /** An incident opened, was acknowledged or resolved (ObservedIncidentStore). */
  incidentChanged(change: IncidentChange): void {
    const { incident: i, atMs } = change;
    this.#publish('incident', {
      id: i.id,
      status: i.status,
      ...(i.siteId ? { siteId: i.siteId } : {}),
      kind: i.kind,
      at: isoWita(atMs),
    });
    // A settled recovery resolves the incident without a transition: the site leaves `recovering`.
    if (i.siteId) this.recheck(i.siteId, atMs);
  }

  /** Re-read every site (after maintenance or silences changed, and every reconcileMs). */
  recheckAll(atMs: number): void {
    const started = this.#elapsedMs();
    for (const id of this.#sites.keys()) this.recheck(id, atMs);
    this.#lastRecheckAllMs = this.#elapsedMs() - started;
  }

  /** When the periodic re-read comes next: every reconcileMs, or less often when it is slow. */
  nextRecheckInMs(): number {
    return Math.max(this.#reconcileMs, Math.round(this.#lastRecheckAllMs / this.#reconcileBudget));
  }

  /** Re-read one site's state; a `site` event when it changed. */
  recheck(siteId: string, atMs: number): void {
    const view = this.#monitor.siteState(siteId);
    const known = this.#sites.get(siteId);
    if (!view || !known) return;
    const confirmAt = confirmAtOf(view);
    if (view.state === known.state && confirmAt === known.recoveryConfirmAt) return;
    const previous = known.state;
    const changed = view.state !== known.state;
    if (changed) known.sinceMs = sinceOf(view) ?? atMs;
    known.state = view.state;
    known.recoveryConfirmAt = confirmAt;
    this.#publish('site', {
      id: siteId,
      state: view.state,
      previous,
      since: isoWita(known.sinceMs),
      ...(confirmAt ? { recoveryConfirmAt: confirmAt } : {}),
      at: isoWita(atMs),
    });
  }

  #onTransition(t: Transition): void {
    this.#publish('device', {
      id: t.deviceId,
      siteId: t.siteId,
      state: t.to,
      previous: t.from,
      at: isoWita(t.timeMs),
    });
    // A router's change moves its dependents (other sites' APs) too; their own transitions follow.
    this.recheck(t.siteId, t.timeMs);
    // Back up while its incident stays open: the recovery is settling (resolved once it has held).
    if (t.to === 'up') {
      const open = this.#openIncidentOf?.(t.deviceId);
      if (open)
        this.#publish('incident', {
          id: open.id,
          status: 'recovering',
          ...(open.siteId ? { siteId: open.siteId } : {}),
          kind: open.kind,
          at: isoWita(t.timeMs),
        });
    }
  }

  #arm(): void {
    this.#timer = this.#clock.setTimeout(() => {
      try {
        this.recheckAll(this.#clock.now());
      } catch (err) {
        this.#log.error('site state re-read failed', { error: errorMessage(err) });
      }
      if (this.#unsubscribe) this.#arm();
    }, this.nextRecheckInMs());
  }
}

/** `recoveryConfirmAt` of a site view that has one (ms or ISO), as ISO in WITA. */
function confirmAtOf(view: object): string | undefined {
  const v = (view as { recoveryConfirmAt?: unknown }).recoveryConfirmAt;
  if (typeof v === 'number' && Number.isFinite(v)) return isoWita(v);
  if (typeof v === 'string') {
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? undefined : isoWita(ms);
  }
  return undefined;
}

/** `since` of a site view that has one (ms or ISO). */
function sinceOf(view: object): number | undefined {
  const v = (view as { since?: unknown }).since;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/** What observeIncidentStore adds to a store: one listener for its incident changes. */
export interface IncidentChanges {
  onChange(listener: ((c: IncidentChange) => void) | undefined): void;
}

/** An incident store (SQLite or PostgreSQL) that tells a listener of its incident changes. */
export type ObservedIncidentStore<S extends IncidentStoreLike = IncidentStoreLike> = S & IncidentChanges;

/**
 * The incident store, telling a listener when an incident opens, is acknowledged or resolved, whoever
 * did it (the alert book, a settled recovery, an operator over the API). A listener must not throw; one
 * that does is logged by the caller's wrapper, never the store's transaction.
 *
 * A decorator over any IncidentStoreLike (SQLite in one process, PgIncidentStore on a cluster's leader):
 * `open`, `acknowledge` and `resolve` are watched; every other member, including ones a store has beyond
 * the interface (and ones added to it later), passes through to the store itself, bound to it (the stores
 * keep their state in #private fields, which only the store itself may read).
 */
export function observeIncidentStore<S extends IncidentStoreLike>(inner: S): ObservedIncidentStore<S> {
  let listener: ((c: IncidentChange) => void) | undefined;
  const emit = (incident: Incident, atMs: number | undefined): void => {
    try {
      listener?.({ incident, atMs: atMs ?? Date.now() });
    } catch {
      // the listener (LiveFeed) logs its own failures; a store change must never fail because of it
    }
  };
  const onChange: IncidentChanges['onChange'] = (l) => {
    listener = l;
  };
  const writes: Pick<IncidentStoreLike, 'open' | 'acknowledge' | 'resolve'> = {
    open: (input) => {
      const r = inner.open(input);
      if (r.created) emit(r.incident, r.incident.openedAt);
      return r;
    },
    acknowledge: (id, by, timeMs, note) => {
      const before = inner.get(id)?.status;
      const r = inner.acknowledge(id, by, timeMs, note);
      if (r && r.status !== before) emit(r, r.acknowledgedAt);
      return r;
    },
    resolve: (id, timeMs, actor, note) => {
      const before = inner.get(id)?.status;
      const r = inner.resolve(id, timeMs, actor, note);
      if (r && r.status !== before) emit(r, r.resolvedAt);
      return r;
    },
  };
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'onChange') return onChange;
      if (prop === 'open' || prop === 'acknowledge' || prop === 'resolve') return writes[prop];
      // Getters and methods run on the store itself: its #private fields are not the proxy's.
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      let b = bound.get(prop);
      if (b === undefined) {
        b = (v as (...a: unknown[]) => unknown).bind(target);
        bound.set(prop, b);
      }
      return b;
    },
  }) as ObservedIncidentStore<S>;
}
