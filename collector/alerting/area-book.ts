/**
 * Area incidents in the incident store (issue #15): the AreaBook of collector/alerting/area.ts over an
 * IncidentStoreLike, SQLite in one process or PostgreSQL in a cluster. An area incident is an incident of
 * kind `area_outage` with key `area:<kecamatan>` (so at most one open per kecamatan), its sites in `data`,
 * and on its timeline which device alerts it folded (`area_fold`) and which came back (`area_unfold`), the
 * alert's incident id in the note. So it is fenced like every other write (a deposed leader cannot open or
 * close one), its pages go through the ledger (claimed once, sent once), and a new leader or a restarted
 * process continues it where the last one stopped.
 *
 * A store that refuses (deposed, closed) is logged here and never throws into the grouper: the grouper
 * goes on in memory and the dispatcher, halted on deposition, sends nothing.
 */
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { Incident, IncidentStoreLike } from '../store/store.ts';
import type { Alert } from './alert.ts';
import type { AreaBook, AreaIncident, AreaRestore, AreaSite } from './area.ts';
import { tryStore } from './store-call.ts';

export const AREA_INCIDENT_KIND = 'area_outage';
export const areaKey = (kecamatan: string): string => `area:${kecamatan}`;
const FOLD = 'area_fold';
const UNFOLD = 'area_unfold';

/** What an area incident keeps in `data` (the rest is the incident's own fields). */
interface AreaData {
  readonly kecamatan: string;
  readonly sites: readonly AreaSite[];
  readonly totalSites: number;
}

export class StoredAreas implements AreaBook {
  readonly #store: IncidentStoreLike;
  readonly #clock: Clock;
  readonly #log: Logger;

  constructor(store: IncidentStoreLike, clock: Clock, log: Logger) {
    this.#store = store;
    this.#clock = clock;
    this.#log = log;
  }

  opened(incident: AreaIncident, folded: readonly Alert[]): AreaIncident {
    return (
      this.#try('open area incident', incident, () => {
        const area: AreaData = {
          kecamatan: incident.kecamatan,
          sites: incident.sites,
          totalSites: incident.totalSites,
        };
        const kept = this.#store.open({
          id: incident.id,
          kind: AREA_INCIDENT_KIND,
          key: areaKey(incident.kecamatan),
          severity: 'critical',
          openedAt: incident.startedAt,
          data: { area },
        }).incident;
        const now = this.#clock.now();
        for (const a of folded)
          this.#store.addEvent({ incidentId: kept.id, timeMs: now, type: FOLD, note: a.id });
        return areaOf(kept) ?? incident;
      }) ?? incident
    );
  }

  folded(incident: AreaIncident, alert: Alert): void {
    this.#mark(incident, FOLD, alert);
  }

  unfolded(incident: AreaIncident, alert: Alert): void {
    this.#mark(incident, UNFOLD, alert);
  }

  resolved(incident: AreaIncident): void {
    this.#try('resolve area incident', incident, () =>
      this.#store.resolve(incident.id, incident.resolvedAt ?? this.#clock.now()),
    );
  }

  restore(): AreaRestore {
    const areas: { incident: AreaIncident; folded: Alert[] }[] = [];
    const open: Alert[] = [];
    for (const inc of this.#store.unresolved()) {
      if (inc.kind === 'device_down') {
        const a = alertOf(inc);
        if (a) open.push(a);
        continue;
      }
      if (inc.kind !== AREA_INCIDENT_KIND) continue;
      const incident = areaOf(inc);
      if (!incident) {
        this.#log.error('area incident in the store is unreadable: not taken over', { incident: inc.id });
        continue;
      }
      const ids = new Set<string>();
      for (const ev of this.#store.timeline(inc.id)) {
        if (ev.note === undefined) continue;
        if (ev.type === FOLD) ids.add(ev.note);
        else if (ev.type === UNFOLD) ids.delete(ev.note);
      }
      const folded = [...ids].flatMap((id) => {
        const dev = this.#store.get(id);
        const a = dev && dev.status !== 'resolved' ? alertOf(dev) : undefined;
        return a ? [a] : [];
      });
      areas.push({ incident, folded });
      this.#log.info('area incident taken over', {
        incident: incident.id,
        kecamatan: incident.kecamatan,
        folded: folded.length,
      });
    }
    return { areas, open };
  }

  /** One alert folded into the area incident, or out of it: an event on its timeline. */
  #mark(incident: AreaIncident, type: typeof FOLD | typeof UNFOLD, alert: Alert): void {
    this.#try(`${type} ${alert.id}`, incident, () =>
      this.#store.addEvent({ incidentId: incident.id, timeMs: this.#clock.now(), type, note: alert.id }),
    );
  }

  #try<T>(what: string, incident: AreaIncident, call: () => T): T | undefined {
    return tryStore(this.#log, what, { incident: incident.id, kecamatan: incident.kecamatan }, call);
  }
}

/** The open device alert a stored `device_down` incident holds (as AlertBook takes it over). */
function alertOf(inc: Incident): Alert | undefined {
  const a = inc.data.alert as Alert | undefined;
  return a && typeof a === 'object' ? { ...a, id: inc.id, status: 'firing' } : undefined;
}

/** The area incident a stored `area_outage` incident is, or undefined when its data is not one. */
export function areaOf(inc: Incident): AreaIncident | undefined {
  const d = inc.data.area as Partial<AreaData> | undefined;
  if (!d || typeof d.kecamatan !== 'string' || !Array.isArray(d.sites) || typeof d.totalSites !== 'number')
    return undefined;
  return {
    id: inc.id,
    status: inc.status === 'resolved' ? 'resolved' : 'firing',
    kecamatan: d.kecamatan,
    startedAt: inc.openedAt,
    ...(inc.resolvedAt === undefined ? {} : { resolvedAt: inc.resolvedAt }),
    sites: d.sites,
    totalSites: d.totalSites,
  };
}
