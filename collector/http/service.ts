/**
 * What the HTTP API asks of the monitor. The express layer (server.ts) only authenticates, validates and
 * translates; every decision is behind this port, which the Monitor implements (and unit tests fake).
 *
 * Methods that change something take the acting principal's name (from its token) for the timeline and
 * return the changed record, or throw ApiError for a refusal the caller can understand (404, 409).
 */
import type { IncidentEvent, Incident, IncidentStatus } from '../store/incident-store.ts';
import type { MaintenanceWindow, Scope, Schedule, Silence } from '../alerting/scope.ts';
import type { DeviceState } from '../core/types.ts';
import type { ReportFormat, ReportQuery } from '../reports/generate.ts';

export interface IncidentFilter {
  readonly status?: readonly IncidentStatus[] | undefined;
  readonly siteId?: string | undefined;
  readonly kecamatan?: string | undefined;
  readonly severity?: string | undefined;
  /** Only incidents opened at or after this time (ms). */
  readonly sinceMs?: number | undefined;
  readonly limit: number;
}

export interface IncidentDetail {
  readonly incident: Incident;
  readonly timeline: readonly IncidentEvent[];
  /** Notifications sent for it: channel, kind, when. */
  readonly notifications: readonly { channel: string; kind: string; sentAt: number }[];
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
  readonly state: DeviceState | 'maintenance' | 'flapping';
  readonly devices: readonly { id: string; role: string; state: DeviceState; since: number }[];
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

  incidents(filter: IncidentFilter): Incident[];
  incident(id: string): IncidentDetail | undefined;
  acknowledge(id: string, by: string, note: string | undefined): Incident;
  resolve(id: string, by: string, note: string | undefined): Incident;

  maintenance(): MaintenanceWindow[];
  addMaintenance(w: NewMaintenance, by: string): MaintenanceWindow;
  deleteMaintenance(id: string, by: string): void;

  /** The uptime report (collector/reports/): refusals of the query are ApiError 400. */
  availabilityReport(
    q: ReportQuery,
    format: ReportFormat,
  ): Promise<{ body: Buffer; contentType: string; filename: string }>;

  silences(): Silence[];
  addSilence(s: NewSilence, by: string): Silence;
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
