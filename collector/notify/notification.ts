/**
 * What a notifier sends: the alert with its context and texts, as one JSON-able object. The webhook body
 * is exactly this (documented in the README, versioned by `schema`).
 */
import { CATEGORY_INFO } from '../core/categories.ts';
import type { Device, Site } from '../core/types.ts';
import type { Alert } from '../alerting/alert.ts';
import { alertText, type AlertText } from '../alerting/messages.ts';

export interface Notification {
  readonly schema: 'badung-netmon/alert/v1';
  readonly id: string;
  readonly status: 'firing' | 'resolved';
  readonly kind: Alert['kind'];
  readonly severity: Alert['severity'];
  readonly startedAt: string;
  readonly resolvedAt?: string | undefined;
  readonly durationS?: number | undefined;
  readonly cause?: string | undefined;
  readonly device: { readonly id: string; readonly role: string; readonly host: string };
  readonly site: {
    readonly id: string;
    readonly name: string;
    readonly category: string;
    readonly categoryName: { readonly id: string; readonly en: string };
    readonly kecamatan: string;
    readonly desa: string;
    readonly lat: number;
    readonly lon: number;
  };
  readonly affected: {
    readonly devices: readonly string[];
    readonly sites: readonly { id: string; name: string }[];
  };
  readonly text: AlertText;
  readonly link?: string | undefined;
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
  };
}
