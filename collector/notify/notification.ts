/**
 * What a notifier sends: the alert with its context and texts, as one JSON-able object. The webhook body
 * is exactly this (documented in the README, versioned by `schema`).
 */
import { CATEGORY_INFO } from '../core/categories.ts';
import type { Device, Site } from '../core/types.ts';
import type { Alert } from '../alerting/alert.ts';
import type { AreaIncident } from '../alerting/area.ts';
import { alertText, areaText, type AlertText } from '../alerting/messages.ts';
import type { Suppression } from '../alerting/scope.ts';

export interface Notification {
  readonly schema: 'badung-netmon/alert/v1';
  readonly id: string;
  readonly status: 'firing' | 'resolved';
  readonly kind: Alert['kind'] | 'area_outage' | 'flapping' | 'monitoring_lost';
  readonly severity: Alert['severity'];
  readonly startedAt: string;
  readonly resolvedAt?: string | undefined;
  readonly durationS?: number | undefined;
  readonly cause?: string | undefined;
  /** Absent for an area incident. */
  readonly device?: { readonly id: string; readonly role: string; readonly host: string } | undefined;
  /** Absent for an area incident. */
  readonly site?:
    | {
        readonly id: string;
        readonly name: string;
        readonly category: string;
        readonly categoryName: { readonly id: string; readonly en: string };
        readonly kecamatan: string;
        readonly desa: string;
        readonly lat: number;
        readonly lon: number;
      }
    | undefined;
  /** For an area incident: the kecamatan and the sites down in it. */
  readonly area?:
    | {
        readonly kecamatan: string;
        readonly sitesDown: number;
        readonly sitesTotal: number;
        /** lat/lon (WGS 84) when the inventory knows the site: the feeds draw the area from them. */
        readonly sites: readonly {
          readonly id: string;
          readonly name: string;
          readonly category: string;
          readonly lat?: number | undefined;
          readonly lon?: number | undefined;
        }[];
      }
    | undefined;
  readonly affected: {
    readonly devices: readonly string[];
    readonly sites: readonly { id: string; name: string }[];
  };
  readonly text: AlertText;
  readonly link?: string | undefined;
  /**
   * A firing outage whose device answers again while its recovery settles: since when, and when the
   * recovery is confirmed (the feeds show it as recovering; the RECOVERED notification comes then).
   */
  readonly recovery?: { readonly since: string; readonly confirmAt: string } | undefined;
  /** An outage inside a silence or maintenance window: it paged nobody (the feeds mark it). */
  readonly silenced?:
    | {
        readonly kind: Suppression['kind'];
        readonly id: string;
        /** The window's name or the silence's comment. */
        readonly reason: string;
        readonly by?: string | undefined;
        /** When the cover ends (ISO 8601). */
        readonly until: string;
      }
    | undefined;
  /** Set when this is an escalation: its clock ran out unacknowledged and it goes to the next contact. */
  readonly escalation?:
    { readonly level: number; readonly contact: string; readonly deadline: string } | undefined;
}

export function buildNotification(alert: Alert, site: Site, device: Device, linkBase?: string): Notification {
  const link = linkBase ? `${linkBase.replace(/\/$/, '')}/sites/${encodeURIComponent(site.id)}` : undefined;
  const cat = CATEGORY_INFO[site.category];
  return {
    schema: 'badung-netmon/alert/v1',
    id: alert.id,
    status: alert.status,
    kind: alert.kind,
    severity: alert.severity,
    startedAt: new Date(alert.startedAt).toISOString(),
    resolvedAt: alert.resolvedAt === undefined ? undefined : new Date(alert.resolvedAt).toISOString(),
    durationS:
      alert.resolvedAt === undefined ? undefined : Math.round((alert.resolvedAt - alert.startedAt) / 1000),
    cause: alert.cause,
    device: { id: device.id, role: device.role, host: device.host },
    site: {
      id: site.id,
      name: site.name,
      category: site.category,
      categoryName: { id: cat.id, en: cat.en },
      kecamatan: site.kecamatan,
      desa: site.desa,
      lat: site.lat,
      lon: site.lon,
    },
    affected: { devices: alert.affectedDevices, sites: alert.affectedSites },
    text: alertText(alert, site, device, link),
    link,
    ...(alert.recovery && alert.status === 'firing'
      ? {
          recovery: {
            since: new Date(alert.recovery.sinceMs).toISOString(),
            confirmAt: new Date(alert.recovery.confirmAtMs).toISOString(),
          },
        }
      : {}),
  };
}

/** One notification for a mass outage in a kecamatan (collector/alerting/area.ts). */
export function buildAreaNotification(inc: AreaIncident, linkBase?: string): Notification {
  const link = linkBase
    ? `${linkBase.replace(/\/$/, '')}/areas/${encodeURIComponent(inc.kecamatan)}`
    : undefined;
  return {
    schema: 'badung-netmon/alert/v1',
    id: inc.id,
    status: inc.status,
    kind: 'area_outage',
    severity: 'critical',
    startedAt: new Date(inc.startedAt).toISOString(),
    resolvedAt: inc.resolvedAt === undefined ? undefined : new Date(inc.resolvedAt).toISOString(),
    durationS: inc.resolvedAt === undefined ? undefined : Math.round((inc.resolvedAt - inc.startedAt) / 1000),
    area: {
      kecamatan: inc.kecamatan,
      sitesDown: inc.sites.length,
      sitesTotal: inc.totalSites,
      sites: inc.sites.map((s) => ({ id: s.id, name: s.name, category: s.category, lat: s.lat, lon: s.lon })),
    },
    affected: { devices: [], sites: inc.sites.map((s) => ({ id: s.id, name: s.name })) },
    text: areaText(inc, link),
    link,
  };
}
