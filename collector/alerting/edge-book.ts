/**
 * "Monitoring lost" incidents in the incident store (issue #15): what the edge watch judges
 * (collector/cluster/edge-watch.ts: every collector of an edge gone, and back) as an incident of kind
 * `monitoring_lost` with key `edge:<domain>` (at most one open per edge), the edge and its kecamatan in
 * `data`. Like area incidents (area-book.ts) it is fenced like every other write (a deposed leader
 * cannot open or close one), its pages go through the ledger (the dispatcher claims them because the store
 * holds the incident: claimed once, sent once), and a new leader continues it: the book reads the open
 * ones at construction, the leader's edge watch starts from them (no second firing page), and `back`
 * resolves them under their own ids, with one recovery page, also when the edge came back while no
 * leader was up.
 *
 * While an edge is lost its kecamatan are not monitored: `lostSince` answers it for the site states
 * (collector/health/site-state.ts `not_monitored`).
 */
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { Site } from '../core/types.ts';
import {
  monitoringLostNotification,
  monitoringLostText,
  type EdgeEvent,
  type LostEdge,
} from '../cluster/edge-watch.ts';
import type { Notification } from '../notify/notification.ts';
import type { Incident, IncidentStoreLike } from '../store/store.ts';
import { tryStore } from './store-call.ts';

export const MONITORING_LOST_KIND = 'monitoring_lost';
export const edgeKey = (domain: string): string => `edge:${domain}`;

/** What a "monitoring lost" incident keeps in `data` (the rest is the incident's own fields). */
interface EdgeData {
  readonly domain: string;
  readonly kecamatan: readonly string[];
}

/** An open "monitoring lost" incident: the edge, its kecamatan, and when it was lost. */
export interface LostEdgeIncident extends LostEdge {
  readonly kecamatan: readonly string[];
}

export interface EdgeBookDeps {
  /** Absent: the incidents live in memory only (nothing to continue). */
  readonly store?: IncidentStoreLike | undefined;
  readonly clock: Clock;
  readonly log: Logger;
  readonly sites: readonly Site[];
  /** Send a notification, routed like an area incident of the kecamatan (Monitor.notifyCluster). */
  readonly send: (n: Notification, kecamatan: string | undefined) => void;
}

export class EdgeBook {
  readonly #d: EdgeBookDeps;
  /** The open incidents, by edge domain. */
  readonly #lost = new Map<string, LostEdgeIncident>();
  readonly #takenOver: readonly LostEdgeIncident[];

  constructor(deps: EdgeBookDeps) {
    this.#d = deps;
    const taken: LostEdgeIncident[] = [];
    for (const inc of deps.store?.unresolved() ?? []) {
      if (inc.kind !== MONITORING_LOST_KIND) continue;
      const lost = lostEdgeOf(inc);
      if (!lost) {
        deps.log.error('monitoring-lost incident in the store is unreadable: not taken over', {
          incident: inc.id,
        });
        continue;
      }
      this.#lost.set(lost.domain, lost);
      taken.push(lost);
      deps.log.info('monitoring-lost incident taken over', { incident: lost.incidentId, edge: lost.domain });
    }
    this.#takenOver = taken;
  }

  /** The incidents open now: the leader's edge watch starts from these. */
  lost(): LostEdgeIncident[] {
    return [...this.#lost.values()];
  }

  /** Since when the kecamatan has not been monitored (its edge lost); undefined while it is. */
  lostSince(kecamatan: string): number | undefined {
    for (const l of this.#lost.values()) if (l.kecamatan.includes(kecamatan)) return l.lostAtMs;
    return undefined;
  }

  /**
   * The incidents taken over, paged again: in case the last holder died before sending (the ledger skips
   * every channel it went out on, so a page already sent is not sent twice).
   */
  resume(): void {
    for (const l of this.#takenOver) if (this.#lost.get(l.domain) === l) this.#page(eventOf(l, 'lost'));
  }

  /**
   * An edge lost: its incident opened and paged (an incident this book holds open for the edge already is
   * continued: nothing is paged). An edge back: its open incident resolved, under the id the store keeps,
   * and its recovery paged.
   */
  record(ev: EdgeEvent): void {
    const { store, log } = this.#d;
    const domain = ev.edge.domain;
    const ctx = { incident: ev.incidentId, edge: domain };
    if (ev.kind === 'lost') {
      if (this.#lost.has(domain)) return;
      const data: EdgeData = { domain, kecamatan: ev.edge.kecamatan };
      const kept = store
        ? tryStore(log, 'open monitoring-lost incident', ctx, () =>
            store.open({
              id: ev.incidentId,
              kind: MONITORING_LOST_KIND,
              key: edgeKey(domain),
              severity: 'high',
              openedAt: ev.lostAtMs,
              data: { edge: data },
            }),
          )
        : undefined;
      const lost = (kept && lostEdgeOf(kept.incident)) ?? {
        domain,
        kecamatan: ev.edge.kecamatan,
        incidentId: ev.incidentId,
        lostAtMs: ev.lostAtMs,
      };
      this.#lost.set(domain, lost);
      // One open already for the edge (kept.created false): continued under its id; the ledger skips the
      // channels its page already went out on.
      this.#page({ ...ev, incidentId: lost.incidentId, lostAtMs: lost.lostAtMs });
      return;
    }
    const open = this.#lost.get(domain);
    const incidentId = open?.incidentId ?? ev.incidentId;
    const lostAtMs = open?.lostAtMs ?? ev.lostAtMs;
    this.#lost.delete(domain);
    if (store)
      tryStore(log, 'resolve monitoring-lost incident', { ...ctx, incident: incidentId }, () =>
        store.resolve(incidentId, ev.atMs, undefined, `collectors back: ${ev.collectors.join(', ')}`),
      );
    this.#page({ ...ev, incidentId, lostAtMs });
  }

  #page(ev: EdgeEvent): void {
    this.#d.send(monitoringLostNotification(ev, this.#d.sites), ev.edge.kecamatan[0]);
  }
}

function eventOf(l: LostEdgeIncident, kind: EdgeEvent['kind']): EdgeEvent {
  return {
    kind,
    edge: { domain: l.domain, kecamatan: l.kecamatan },
    incidentId: l.incidentId,
    lostAtMs: l.lostAtMs,
    atMs: l.lostAtMs,
    collectors: [],
  };
}

/** The open incident a stored `monitoring_lost` incident is, or undefined when its data is not one. */
export function lostEdgeOf(inc: Incident): LostEdgeIncident | undefined {
  const d = inc.data.edge as Partial<EdgeData> | undefined;
  if (!d || typeof d.domain !== 'string' || !Array.isArray(d.kecamatan)) return undefined;
  const kecamatan = d.kecamatan.filter((k): k is string => typeof k === 'string');
  return { domain: d.domain, kecamatan, incidentId: inc.id, lostAtMs: inc.openedAt };
}

/**
 * What the API and the console show of a stored `monitoring_lost` incident: a one-line title and the
 * notification's text (firing, or resolved once it is). Undefined when its data is not one.
 */
export function monitoringLostTexts(
  inc: Incident,
  sites: readonly Site[],
): { title: { id: string; en: string }; summary: { id: string; en: string } } | undefined {
  const lost = lostEdgeOf(inc);
  if (!lost) return undefined;
  const resolved = inc.status === 'resolved';
  const ev: EdgeEvent = {
    ...eventOf(lost, resolved ? 'back' : 'lost'),
    atMs: resolved ? (inc.resolvedAt ?? inc.openedAt) : inc.openedAt,
  };
  const total = sites.filter((s) => lost.kecamatan.includes(s.kecamatan)).length;
  const where = lost.kecamatan.join(', ');
  const title = resolved
    ? {
        id: `PULIH: pemantauan Kec. ${where} tersambung kembali`,
        en: `RECOVERED: monitoring of ${where} is back`,
      }
    : {
        id: `PEMANTAUAN TERPUTUS: Kec. ${where} (${total} lokasi, status tidak diketahui)`,
        en: `MONITORING LOST: ${where} (${total} sites, state unknown)`,
      };
  return { title, summary: monitoringLostText(ev, total) };
}
