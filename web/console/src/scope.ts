/** A maintenance or silence scope as the API takes it, and whether it covers a site (alerting/scope.ts). */
import type { SiteView } from './store.ts';

export interface Scope {
  readonly sites?: readonly string[];
  readonly devices?: readonly string[];
  readonly categories?: readonly string[];
  readonly kecamatan?: readonly string[];
  readonly desa?: readonly string[];
}

export function scopeCoversSite(scope: Scope, s: SiteView): boolean {
  if (scope.sites && !scope.sites.includes(s.id)) return false;
  if (scope.categories && !scope.categories.includes(s.category)) return false;
  if (scope.kecamatan && !scope.kecamatan.includes(s.kecamatan)) return false;
  if (scope.desa && !scope.desa.includes(s.desa)) return false;
  if (scope.devices && !s.devices.some((d) => scope.devices?.includes(d.id))) return false;
  return true;
}

export function scopeText(scope: Scope): string {
  return Object.entries(scope)
    .filter(([, v]) => Array.isArray(v) && v.length > 0)
    .map(([k, v]) => `${k}: ${(v as string[]).join(', ')}`)
    .join('; ');
}
