/** The incident as the API sends it (collector/store/incident-store.ts), and how to talk about it. */
import { t, type TextKey } from './i18n.ts';
import { siteById } from './store.ts';

export interface Incident {
  readonly id: string;
  readonly kind: string;
  readonly key: string;
  readonly severity: string;
  readonly status: 'open' | 'acknowledged' | 'resolved';
  readonly openedAt: string | number;
  readonly acknowledgedAt?: string | number;
  readonly acknowledgedBy?: string;
  readonly resolvedAt?: string | number;
  readonly escalationLevel?: number;
  readonly siteId?: string;
  readonly deviceId?: string;
  readonly data?: Record<string, unknown>;
}

export interface TimelineEntry {
  readonly incidentId?: string;
  readonly time?: string | number;
  readonly timeMs?: string | number;
  readonly type: string;
  readonly actor?: string;
  readonly note?: string;
}

export interface IncidentDetail {
  readonly incident: Incident;
  readonly timeline: readonly TimelineEntry[];
  readonly notifications: readonly {
    channel: string;
    kind: string;
    sentAt?: string | number;
    time?: string | number;
  }[];
}

export function statusText(s: string): string {
  return ['open', 'acknowledged', 'resolved'].includes(s) ? t(s as TextKey) : s;
}

/** A line that says what is out: the site's name when we know it, else the incident's key. */
export function incidentTitle(i: Incident): string {
  const site = i.siteId ? siteById(i.siteId) : undefined;
  const what = site?.name ?? i.siteId ?? (typeof i.data?.['area'] === 'string' ? i.data['area'] : i.key);
  return `${what} — ${i.kind}${i.deviceId ? ` (${i.deviceId})` : ''}`;
}
