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

/** What keeps an outage from paging now: a maintenance window or a silence, who made it, until when. */
export interface Suppression {
  readonly kind: 'maintenance' | 'silence';
  readonly id: string;
  /** The window's name, or the silence's comment. */
  readonly reason: string;
  /** Who made it (absent for a window from the config file). */
  readonly by?: string | undefined;
  /** When the cover ends (ms): the silence's end, or the end of the window's current occurrence. */
  readonly untilMs: number;
}

/**
 * The values a scope names that the inventory does not have, as `scope.<list>` → message: a window or
 * silence for a misspelt site would silently cover nothing.
 */
export function unknownScopeValues(
  scope: Scope,
  inventory: {
    readonly sites: readonly Pick<Site, 'id' | 'category' | 'kecamatan' | 'desa'>[];
    readonly devices: readonly { readonly id: string }[];
  },
): { path: string; message: string }[] {
  const known = {
    sites: new Set(inventory.sites.map((s) => s.id)),
    devices: new Set(inventory.devices.map((d) => d.id)),
    categories: new Set<string>(inventory.sites.map((s) => s.category)),
    kecamatan: new Set(inventory.sites.map((s) => s.kecamatan)),
    desa: new Set(inventory.sites.map((s) => s.desa)),
  };
  const what = {
    sites: 'site',
    devices: 'device',
    categories: 'category (no site of the inventory has it)',
    kecamatan: 'kecamatan',
    desa: 'desa',
  };
  const out: { path: string; message: string }[] = [];
  for (const key of ['sites', 'devices', 'categories', 'kecamatan', 'desa'] as const) {
    const values = scope[key];
    if (!values) continue;
    const unknown = values.filter((v) => !known[key].has(v));
    if (unknown.length > 0)
      out.push({
        path: `scope.${key}`,
        message: `unknown ${what[key]} '${unknown.slice(0, 5).join("', '")}'${unknown.length > 5 ? ` (+${unknown.length - 5} more)` : ''}`,
      });
  }
  return out;
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
