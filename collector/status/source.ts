/**
 * What the status page reads from the running monitor, through its own accessors: each site's state
 * (Monitor.siteState) and the unresolved incidents (IncidentStore). Translation only, into the plain
 * inputs of model.ts; ids stay here to match incidents to sites and never reach the page.
 */
import type { Monitor } from '../app.ts';
import type { Alert } from '../alerting/alert.ts';
import type { Inventory } from '../core/types.ts';
import type { Incident } from '../store/incident-store.ts';
import type { StatusIncidentInput, StatusSiteInput } from './model.ts';

export interface StatusSource {
  sites(): StatusSiteInput[];
  incidents(): StatusIncidentInput[];
}

export function monitorStatusSource(
  monitor: Pick<Monitor, 'siteState'>,
  inventory: Inventory,
  store: { unresolved(): Incident[] } | undefined,
): StatusSource {
  return {
    sites: () =>
      inventory.sites.flatMap((site) => {
        const view = monitor.siteState(site.id);
        if (!view) return [];
        return [
          {
            id: site.id,
            name: site.name,
            category: site.category,
            kecamatan: site.kecamatan,
            desa: site.desa,
            inMaintenance: view.inMaintenance,
            notMonitored: view.state === 'not_monitored',
            devices: view.devices.map((d) => ({ role: d.role, state: d.state, since: d.since })),
          },
        ];
      }),
    incidents: () =>
      (store?.unresolved() ?? []).map((inc) => {
        const alert = inc.data.alert as Partial<Alert> | undefined;
        const listed: unknown = alert?.affectedSites;
        const affected = Array.isArray(listed)
          ? listed.flatMap((s: unknown) => {
              const id = (s as { id?: unknown } | null)?.id;
              return typeof id === 'string' ? [id] : [];
            })
          : [];
        return {
          status: inc.status,
          siteIds: [...(inc.siteId ? [inc.siteId] : []), ...affected],
          openedAt: inc.openedAt,
        };
      }),
  };
}
