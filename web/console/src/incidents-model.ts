/** The incident as the API sends it (collector/store/incident-store.ts), and how to talk about it. */
import { lang, t, type TextKey } from './i18n.ts';
import { siteById } from './store.ts';

type Maybe<T> = T | null | undefined;

export interface Bilingual {
  readonly id: string;
  readonly en: string;
}

export interface Incident {
  readonly id: string;
  readonly kind: string;
  readonly key?: string;
  readonly severity: string;
  readonly status: 'open' | 'acknowledged' | 'resolved';
  /** `recovering` while a recovery settles (until recoveryConfirmAt); else the status. */
  readonly state?: string;
  readonly recoveryConfirmAt?: Maybe<string | number>;
  readonly silenced?: Maybe<{ kind: string; id: string; by: Maybe<string>; until: string; reason: string }>;
  readonly openedAt: string | number;
  readonly acknowledgedAt?: Maybe<string | number>;
  readonly acknowledgedBy?: Maybe<string>;
  readonly resolvedAt?: Maybe<string | number>;
  readonly escalationLevel?: number;
  readonly siteId?: Maybe<string>;
  readonly siteName?: Maybe<string>;
  readonly deviceId?: Maybe<string>;
  readonly kecamatan?: Maybe<string>;
  readonly desa?: Maybe<string>;
  readonly title?: Bilingual;
  readonly summary?: Bilingual;
  readonly data?: Record<string, unknown>;
}

/** The text in the console's language. */
export function inLang(b: Bilingual | undefined): string | undefined {
  return b ? (lang() === 'id' ? b.id : b.en) : undefined;
}

export interface TimelineEntry {
  readonly incidentId?: string;
  readonly time?: string | number;
  readonly timeMs?: string | number;
  readonly type: string;
  readonly actor?: string | null;
  readonly note?: string | null;
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
  const title = inLang(i.title);
  if (title) return title;
  const site = i.siteId ? siteById(i.siteId) : undefined;
  const what =
    site?.name ?? i.siteName ?? i.siteId ?? (typeof i.data?.['area'] === 'string' ? i.data['area'] : i.key);
  return `${what} — ${i.kind}${i.deviceId ? ` (${i.deviceId})` : ''}`;
}
