/**
 * What the HTTP API asks of the monitor. The express layer (server.ts) only authenticates, validates and
 * translates; every decision is behind this port, which the Monitor implements (and unit tests fake).
 *
 * Methods that change something take the acting principal's name (from its token) for the timeline and
 * return the changed record, or throw ApiError for a refusal the caller can understand (404, 409).
 */
import type { Scope, Schedule, Weekday } from '../alerting/scope.ts';
import type { DeviceState } from '../core/types.ts';
import type { SiteStateName } from '../health/site-state.ts';
import type { ReportFormat, ReportQuery } from '../reports/generate.ts';
import type { IncidentStatus } from '../store/incident-store.ts';

/**
 * Every time the v1 API sends is ISO 8601 with the offset of Badung's clock, WITA (+08:00):
 * "2026-12-03T22:15:00.000+08:00" (collector/alerting/messages.ts isoWita). Absent times are null.
 */
export type IsoTime = string;

export interface IncidentFilter {
  readonly status?: readonly IncidentStatus[] | undefined;
  readonly siteId?: string | undefined;
  readonly kecamatan?: string | undefined;
  readonly severity?: string | undefined;
  /** Only incidents opened at or after this time (ms). */
  readonly sinceMs?: number | undefined;
  readonly limit: number;
}

export interface Bilingual {
  readonly id: string;
  readonly en: string;
}

/** The window or silence an outage is inside: it paged nobody. */
export interface SilencedView {
  readonly kind: 'silence' | 'maintenance';
  /** The silence's or window's id (DELETE /api/v1/silences/:id ends it). */
  readonly id: string;
  /** Who made it; null for a window from the config file. */
  readonly by: string | null;
  /** When it ends (a window: its current occurrence). */
  readonly until: IsoTime;
  /** The silence's comment, or the window's name. */
  readonly reason: string;
}

/** An incident as the v1 API shows it. */
export interface IncidentView {
  readonly id: string;
  readonly kind: string;
  readonly severity: string;
  /** The lifecycle: open → acknowledged → resolved. */
  readonly status: IncidentStatus;
  /**
   * What it is now: `recovering` while its device answers again but the recovery settles (it is
   * confirmed, and the incident resolved, at `recoveryConfirmAt` if the device stays up); else `status`.
   */
  readonly state: IncidentStatus | 'recovering';
  readonly recoveryConfirmAt: IsoTime | null;
  /** Inside a silence or maintenance window (nobody was paged); null otherwise. */
  readonly silenced: SilencedView | null;
  readonly openedAt: IsoTime;
  readonly acknowledgedAt: IsoTime | null;
  readonly acknowledgedBy: string | null;
  readonly resolvedAt: IsoTime | null;
  readonly clockBreachedAt: IsoTime | null;
  readonly escalationLevel: number;
  readonly deviceId: string | null;
  readonly siteId: string | null;
  readonly siteName: string | null;
  readonly category: string | null;
  readonly kecamatan: string | null;
  readonly desa: string | null;
  /** One line (as the feeds' headline), and the notification's full text, in Bahasa Indonesia and English. */
  readonly title: Bilingual;
  readonly summary: Bilingual;
}

export interface TimelineEventView {
  readonly time: IsoTime;
  readonly type: string;
  readonly actor: string | null;
  readonly note: string | null;
}

export interface IncidentDetail {
  readonly incident: IncidentView;
  readonly timeline: readonly TimelineEventView[];
  /** Notifications sent for it: channel, kind, when. */
  readonly notifications: readonly { channel: string; kind: string; sentAt: IsoTime }[];
}

/**
 * A warning on a device that is not an outage (collector/health/device-state.ts): today only "SNMP not
 * answering", when ping answers and the SNMP agent does not. The device stays `up`; nobody is paged.
 */
export interface DeviceWarningView {
  readonly kind: 'snmp_not_answering';
  readonly since: IsoTime;
  /** "SNMP tidak menjawab" / "SNMP not answering", for people. */
  readonly text: Bilingual;
}

export interface SiteDeviceView {
  readonly id: string;
  readonly role: string;
  readonly state: DeviceState;
  readonly since: IsoTime;
  /** The device's warning, or null. */
  readonly warning: DeviceWarningView | null;
}

export interface SiteState {
  readonly id: string;
  readonly name: string;
  readonly category: string;
  readonly kecamatan: string;
  readonly desa: string;
  /** Where it is (WGS 84), for the console's map. */
  readonly lat: number;
  readonly lon: number;
  /** collector/health/site-state.ts decides it (the same for the feeds, MQTT and InfluxDB). */
  readonly state: SiteStateName;
  /**
   * While a recovery of the site settles: when it is confirmed (RECOVERED sent, incident resolved) if the
   * device stays up; null otherwise. The state is then `recovering`, unless a state ranking above it holds
   * (maintenance, flapping, or another device down).
   */
  readonly recoveryConfirmAt: IsoTime | null;
  readonly devices: readonly SiteDeviceView[];
  /** How many of its devices have a warning (e.g. SNMP not answering); the state does not count them. */
  readonly warnings: number;
}

/** A maintenance window as the v1 API shows it (the schedule as POST takes it, times ISO). */
export interface MaintenanceView {
  readonly id: string;
  readonly name: string;
  readonly scope: Scope;
  readonly schedule:
    | { readonly kind: 'once'; readonly start: IsoTime; readonly end: IsoTime }
    | {
        readonly kind: 'weekly';
        readonly days: readonly Weekday[] | null;
        readonly at: string;
        /** Milliseconds (POST takes this or `90m`, `2h`). */
        readonly duration: number;
        readonly timeZone: string;
        readonly from: IsoTime | null;
        readonly until: IsoTime | null;
      };
  readonly source: 'config' | 'api';
  readonly createdBy: string | null;
  readonly reason: string | null;
}

export interface SilenceView {
  readonly id: string;
  readonly scope: Scope;
  readonly startsAt: IsoTime;
  readonly endsAt: IsoTime;
  readonly createdBy: string;
  readonly comment: string;
}

export interface NewMaintenance {
  readonly name: string;
  readonly scope: Scope;
  readonly schedule: Schedule;
  readonly reason?: string | undefined;
}

export interface NewSilence {
  readonly scope: Scope;
  readonly startsAt: number;
  readonly endsAt: number;
  readonly comment: string;
}

export interface MonitorService {
  health(): { status: 'ok' | 'degraded'; details: Record<string, unknown> };
  sites(filter: { kecamatan?: string | undefined; state?: string | undefined }): SiteState[];
  site(id: string): SiteState | undefined;

  incidents(filter: IncidentFilter): IncidentView[];
  incident(id: string): IncidentDetail | undefined;
  acknowledge(id: string, by: string, note: string | undefined): IncidentView;
  resolve(id: string, by: string, note: string | undefined): IncidentView;

  maintenance(): MaintenanceView[];
  /** Refuses (400) a window already over, or a scope naming what the inventory does not have. */
  addMaintenance(w: NewMaintenance, by: string): MaintenanceView;
  deleteMaintenance(id: string, by: string): void;

  /** The uptime report (collector/reports/): refusals of the query are ApiError 400. */
  availabilityReport(
    q: ReportQuery,
    format: ReportFormat,
  ): Promise<{ body: Buffer; contentType: string; filename: string }>;

  silences(): SilenceView[];
  /** Refuses (400) a scope naming what the inventory does not have. */
  addSilence(s: NewSilence, by: string): SilenceView;
  deleteSilence(id: string, by: string): void;
}

/** A refusal the API reports as is: `status` is the HTTP status (404 not found, 409 conflict, ...). */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}
