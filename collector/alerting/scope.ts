/**
 * What a maintenance window, a silence or a routing rule applies to, and the window and silence records
 * themselves. Types and the one scope matcher only; the schedule arithmetic lives in maintenance.ts.
 *
 * A scope matches a site when every list it names contains the site's value (lists not named do not
 * restrict); a scope that names nothing matches every site. `devices` narrows to single devices.
 */
import type { Category, Site } from '../core/types.ts';

export interface Scope {
  readonly sites?: readonly string[] | undefined;
  readonly devices?: readonly string[] | undefined;
  readonly categories?: readonly Category[] | undefined;
  readonly kecamatan?: readonly string[] | undefined;
  readonly desa?: readonly string[] | undefined;
}

/** What a scope is matched against: a site, and optionally one device of it. */
export interface ScopeTarget {
  readonly site: Pick<Site, 'id' | 'category' | 'kecamatan' | 'desa'>;
  readonly deviceId?: string | undefined;
}

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * When a maintenance window is open.
 * - once: [startMs, endMs).
 * - weekly: on each listed day at `at` ("HH:MM", local time in `timeZone`) for `durationMs`;
 *   `days` empty or absent means every day. Optional `fromMs`/`untilMs` bound the recurrence.
 */
export type Schedule =
  | { readonly kind: 'once'; readonly startMs: number; readonly endMs: number }
  | {
      readonly kind: 'weekly';
      readonly days?: readonly Weekday[] | undefined;
      readonly at: string;
      readonly durationMs: number;
      /** IANA zone; Badung is Asia/Makassar (WITA, UTC+8, no daylight saving). */
      readonly timeZone: string;
      readonly fromMs?: number | undefined;
      readonly untilMs?: number | undefined;
    };

export interface MaintenanceWindow {
  readonly id: string;
  readonly name: string;
  readonly scope: Scope;
  readonly schedule: Schedule;
  /** config: from the YAML (read-only over the API); api: created over the HTTP API. */
  readonly source: 'config' | 'api';
  readonly createdBy?: string | undefined;
  readonly reason?: string | undefined;
}

/** An ad-hoc silence: no pages for what it covers until it ends (or is deleted). */
export interface Silence {
  readonly id: string;
  readonly scope: Scope;
  readonly startsAt: number;
  readonly endsAt: number;
  readonly createdBy: string;
  readonly comment: string;
}

export function scopeMatches(scope: Scope, target: ScopeTarget): boolean {
  const { site, deviceId } = target;
  if (scope.sites && !scope.sites.includes(site.id)) return false;
  if (scope.categories && !scope.categories.includes(site.category)) return false;
  if (scope.kecamatan && !scope.kecamatan.includes(site.kecamatan)) return false;
  if (scope.desa && !scope.desa.includes(site.desa)) return false;
  if (scope.devices && (deviceId === undefined || !scope.devices.includes(deviceId))) return false;
  return true;
}
