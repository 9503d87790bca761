/**
 * Area correlation: when many sites of one kecamatan go down within a short window, that is a power cut,
 * a flood or an earthquake, not many separate faults. A site alert pages at once when it is the only site
 * down in its kecamatan; when others are down nearby it waits `groupWaitMs`, and if meanwhile `minSites`
 * sites of the kecamatan are down (counted over `windowMs`) the waiting ones are folded into one severe area
 * incident ("mass outage in Petang: 41 of 58 sites") and page nobody on their own: a 30-site cut is the
 * first site's page and the area incident. Sites that fail while the area incident is open join it
 * silently. The area incident resolves when fewer than half of `minSites` of its sites are still down; those
 * still down then page on their own unless they too come back within the group wait.
 *
 * Time comes from the injected clock; output goes to the two callbacks. No I/O here: an AreaBook (given by
 * `keepIn`; collector/alerting/area-book.ts keeps it in the incident store) records each area incident and
 * which alerts it folded, so a restarted process or a new alerting leader (issue #15) continues an open
 * area incident: its sites fold into it again in silence, nobody is paged twice, and its recovery goes
 * out once.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Topology } from '../health/topology.ts';
import type { Alert } from './alert.ts';

export interface AreaPolicy {
  /** Sites of one kecamatan down within this window count together. */
  readonly windowMs: number;
  /** How many sites make an area incident. */
  readonly minSites: number;
  /** How long a site alert waits for others before it pages on its own. */
  readonly groupWaitMs: number;
}

export interface AreaSite {
  readonly id: string;
  readonly name: string;
  readonly category: string;
  readonly criticality: string;
  /** WGS 84, from the inventory; absent only for a site the topology does not know. */
  readonly lat?: number | undefined;
  readonly lon?: number | undefined;
}

export interface AreaIncident {
  readonly id: string;
  readonly status: 'firing' | 'resolved';
  readonly kecamatan: string;
  readonly startedAt: number;
  readonly resolvedAt?: number | undefined;
  /** Sites down (at firing: all down in the window; at resolution: those that were part of it). */
  readonly sites: readonly AreaSite[];
  /** Sites the monitor watches in that kecamatan. */
  readonly totalSites: number;
}

/**
 * Where the open area incidents are kept (the incident store: collector/alerting/area-book.ts). Called
 * before the grouper tells anybody, so what was said is always on record.
 */
export interface AreaBook {
  /** An area incident opened with these alerts folded into it: answers the incident as kept (its id). */
  opened(incident: AreaIncident, folded: readonly Alert[]): AreaIncident;
  /** A site failed while the area incident was open: it joined in silence. */
  folded(incident: AreaIncident, alert: Alert): void;
  /** A folded site came back. */
  unfolded(incident: AreaIncident, alert: Alert): void;
  /** The area incident ended (`incident` is the resolved one). */
  resolved(incident: AreaIncident): void;
  /**
   * What a new holder takes over: the open area incidents, each with the alerts folded into it, and every
   * open device alert (those of an area's kecamatan that are not folded were paged on their own).
   */
  restore(): AreaRestore;
}

export interface AreaRestore {
  readonly areas: readonly { readonly incident: AreaIncident; readonly folded: readonly Alert[] }[];
  readonly open: readonly Alert[];
}

export interface AreaOutput {
  page(alert: Alert): void;
  area(incident: AreaIncident): void;
}

interface Held {
  readonly alert: Alert;
  readonly kecamatan: string;
  readonly since: number;
  timer: TimerHandle;
}

export class AreaGrouper {
  readonly #policy: AreaPolicy;
  readonly #topology: Topology;
  readonly #clock: Clock;
  readonly #out: AreaOutput;
  /** kecamatan → site id → when its alert fired. */
  readonly #down = new Map<string, Map<string, number>>();
  readonly #held = new Map<string, Held>();
  readonly #paged = new Set<string>();
  /** Open area incidents by kecamatan, with the alerts folded into them. */
  readonly #areas = new Map<string, { incident: AreaIncident; folded: Map<string, Alert> }>();
  readonly #totals = new Map<string, number>();
  #book: AreaBook | undefined;

  constructor(policy: AreaPolicy, topology: Topology, clock: Clock, out: AreaOutput) {
    this.#policy = policy;
    this.#topology = topology;
    this.#clock = clock;
    this.#out = out;
    for (const id of topology.siteIds()) {
      const k = topology.site(id)?.kecamatan;
      if (k) this.#totals.set(k, (this.#totals.get(k) ?? 0) + 1);
    }
  }

  open(): AreaIncident[] {
    return [...this.#areas.values()].map((a) => a.incident);
  }

  /**
   * Keep area incidents in `book` from now on, and take over the ones it holds open: their folded alerts
   * fold again in silence when they fire again (a new process sees them fail anew), and the open alerts of
   * their kecamatan that were paged on their own keep their own recovery. Returns the area incidents taken
   * over (their firing notice may be re-offered: the ledger skips what was sent). Call before any offer.
   */
  keepIn(book: AreaBook): AreaIncident[] {
    this.#book = book;
    const { areas, open } = book.restore();
    const folded = new Set<string>();
    for (const { incident, folded: alerts } of areas) {
      this.#areas.set(incident.kecamatan, { incident, folded: new Map(alerts.map((a) => [a.id, a])) });
      for (const a of alerts) folded.add(a.id);
    }
    for (const a of open) {
      const kec = this.#topology.site(a.siteId)?.kecamatan;
      if (!kec) continue;
      const down = this.#down.get(kec) ?? new Map<string, number>();
      this.#down.set(kec, down);
      down.set(a.siteId, a.startedAt);
      if (this.#areas.has(kec) && !folded.has(a.id)) this.#paged.add(a.id);
    }
    return areas.map((a) => a.incident);
  }

  offer(alert: Alert): void {
    const site = this.#topology.site(alert.siteId);
    const kec = site?.kecamatan;
    if (!kec) return this.#out.page(alert);
    if (alert.status === 'firing') this.#firing(alert, kec);
    else this.#resolved(alert, kec);
  }

  /** Release every held alert now (shutdown): nothing waits in memory unsent. */
  flush(): void {
    for (const [id, h] of this.#held) {
      this.#clock.clearTimeout(h.timer);
      this.#held.delete(id);
      this.#paged.add(id);
      this.#out.page(h.alert);
    }
  }

  #firing(alert: Alert, kec: string): void {
    const now = this.#clock.now();
    const down = this.#down.get(kec) ?? new Map<string, number>();
    this.#down.set(kec, down);
    down.set(alert.siteId, now);
    const area = this.#areas.get(kec);
    if (area && this.#paged.has(alert.id)) {
      // Paged on its own before the area incident opened, and firing again after a takeover: it stays its
      // own (the ledger skips the page that was sent), so its recovery goes out too.
      return this.#out.page(alert);
    }
    if (area) {
      if (!area.folded.has(alert.id)) {
        area.folded.set(alert.id, alert);
        this.#keep((b) => b.folded(area.incident, alert));
      }
      return;
    }
    const recent = [...down].filter(([, t]) => t >= now - this.#policy.windowMs).map(([id]) => id);
    if (recent.length === 1) {
      // The only site down in its kecamatan: an ordinary outage, paged at once (no added delay).
      this.#paged.add(alert.id);
      return this.#out.page(alert);
    }
    // Others are down nearby: this may be the start of a mass outage. Wait before paging; while the
    // cluster keeps growing, every waiting alert of the kecamatan waits a little longer (up to the window).
    this.#held.set(alert.id, { alert, kecamatan: kec, since: now, timer: this.#arm(alert, now, now) });
    for (const h of this.#held.values()) {
      if (h.kecamatan !== kec || h.alert.id === alert.id) continue;
      this.#clock.clearTimeout(h.timer);
      h.timer = this.#arm(h.alert, h.since, now);
    }
    if (recent.length >= this.#policy.minSites) this.#openArea(kec, recent, now);
  }

  #arm(alert: Alert, since: number, now: number): TimerHandle {
    const at = Math.min(now + this.#policy.groupWaitMs, since + this.#policy.windowMs);
    return this.#clock.setTimeout(
      () => {
        this.#held.delete(alert.id);
        this.#paged.add(alert.id);
        this.#out.page(alert);
      },
      Math.max(0, at - now),
    );
  }

  #openArea(kec: string, siteIds: readonly string[], now: number): void {
    const folded = new Map<string, Alert>();
    for (const [id, h] of this.#held) {
      if (h.kecamatan !== kec) continue;
      this.#clock.clearTimeout(h.timer);
      this.#held.delete(id);
      folded.set(id, h.alert);
    }
    const fresh: AreaIncident = {
      id: `area:${kec}@${new Date(now).toISOString()}`,
      status: 'firing',
      kecamatan: kec,
      startedAt: now,
      sites: siteIds.map((id) => this.#siteInfo(id)),
      totalSites: this.#totals.get(kec) ?? siteIds.length,
    };
    const incident = this.#keep((b) => b.opened(fresh, [...folded.values()])) ?? fresh;
    this.#areas.set(kec, { incident, folded });
    this.#out.area(incident);
  }

  #resolved(alert: Alert, kec: string): void {
    this.#down.get(kec)?.delete(alert.siteId);
    const held = this.#held.get(alert.id);
    if (held) {
      // Back before its page went out: nothing to say.
      this.#clock.clearTimeout(held.timer);
      this.#held.delete(alert.id);
      return;
    }
    const area = this.#areas.get(kec);
    if (area?.folded.delete(alert.id)) {
      this.#keep((b) => b.unfolded(area.incident, alert));
      const stillDown = [...area.folded.values()].length;
      if (stillDown < this.#policy.minSites / 2) this.#closeArea(kec);
      return;
    }
    // Paged before (by this process, or before a restart: the incident store knows): its recovery goes out.
    this.#paged.delete(alert.id);
    this.#out.page(alert);
  }

  #closeArea(kec: string): void {
    const area = this.#areas.get(kec);
    if (!area) return;
    this.#areas.delete(kec);
    const resolved: AreaIncident = { ...area.incident, status: 'resolved', resolvedAt: this.#clock.now() };
    this.#keep((b) => b.resolved(resolved));
    this.#out.area(resolved);
    // Sites still down after the area recovered are outages of their own, unless they follow the rest
    // back within the group wait.
    const now = this.#clock.now();
    for (const alert of area.folded.values()) {
      this.#held.set(alert.id, { alert, kecamatan: kec, since: now, timer: this.#arm(alert, now, now) });
    }
  }

  /** A call of the book, when there is one (the book reports its own failures: it never throws here). */
  #keep<T>(call: (book: AreaBook) => T): T | undefined {
    return this.#book ? call(this.#book) : undefined;
  }

  #siteInfo(id: string): AreaSite {
    const s = this.#topology.site(id);
    return {
      id,
      name: s?.name ?? id,
      category: s?.category ?? '',
      criticality: s?.criticality ?? '',
      lat: s?.lat,
      lon: s?.lon,
    };
  }
}
