/**
 * What a maintenance window's or a silence's scope would cover, before it is made: the console's form
 * shows "this covers 14 sites, 52 devices" while the operator types.
 *
 *   POST /api/v1/scope/preview  (viewer)  body: a scope { sites?, devices?, categories?, kecamatan?, desa? }
 *   200 { sites: n, devices: n, sample: [site names, at most 10], unknown: [{ field, value }] }
 *
 * Matching is the alerting's own (collector/alerting/scope.ts scopeMatches); `unknown` names values that
 * match nothing in the inventory (a typo in a kecamatan), which the console can point at. A viewer may
 * ask: it reads, it changes nothing (the CSRF rule still applies to a cookie POST). The scope is the one
 * schema of windows and silences (config/maintenance.ts).
 */
import type { Router } from 'express';
import { scopeMatches, type Scope } from '../alerting/scope.ts';
import type { Inventory } from '../core/types.ts';
import { scopeSchema } from '../../config/maintenance.ts';
import { RequestProblem } from './bodies.ts';
import type { RouteKit } from './routes/kit.ts';

const SAMPLE = 10;

export interface ScopePreview {
  readonly sites: number;
  readonly devices: number;
  readonly sample: string[];
  readonly unknown: { field: string; value: string }[];
}

/** Pure: the sites and devices of `inventory` that `scope` covers. */
export function previewScope(inventory: Inventory, scope: Scope): ScopePreview {
  let sites = 0;
  let devices = 0;
  const sample: string[] = [];
  const devicesBySite = new Map<string, string[]>();
  for (const d of inventory.devices) {
    const list = devicesBySite.get(d.siteId) ?? [];
    list.push(d.id);
    devicesBySite.set(d.siteId, list);
  }
  for (const site of inventory.sites) {
    const own = devicesBySite.get(site.id) ?? [];
    let covered: number;
    if (scope.devices) {
      // A device scope covers those devices only; a site counts when one of its devices is named.
      covered = own.filter((deviceId) => scopeMatches(scope, { site, deviceId })).length;
      if (covered === 0) continue;
    } else {
      if (!scopeMatches(scope, { site })) continue;
      covered = own.length;
    }
    sites++;
    devices += covered;
    if (sample.length < SAMPLE) sample.push(site.name);
  }
  const known = {
    sites: new Set(inventory.sites.map((s) => s.id)),
    devices: new Set(inventory.devices.map((d) => d.id)),
    kecamatan: new Set(inventory.sites.map((s) => s.kecamatan)),
    desa: new Set(inventory.sites.map((s) => s.desa)),
  };
  const unknown: { field: string; value: string }[] = [];
  for (const field of ['sites', 'devices', 'kecamatan', 'desa'] as const)
    for (const value of scope[field] ?? []) if (!known[field].has(value)) unknown.push({ field, value });
  return { sites, devices, sample, unknown };
}

/** POST /scope/preview (viewer). */
export function registerScopePreviewRoutes(router: Router, kit: RouteKit, inventory: () => Inventory): void {
  router.post('/scope/preview', kit.need('viewer'), ...kit.jsonBody, (req, res) => {
    const r = scopeSchema.safeParse(req.body ?? undefined);
    if (!r.success) {
      const issues = r.error.issues.slice(0, 20).map((i) => ({
        path:
          i.code === 'unrecognized_keys'
            ? (i.keys[0] ?? '(body)')
            : i.path.length > 0
              ? i.path.map(String).join('.')
              : '(body)',
        message: i.code === 'unrecognized_keys' ? 'unknown field' : i.message,
      }));
      const first = issues[0];
      throw new RequestProblem(
        400,
        'invalid_body',
        `invalid scope: ${first?.path}: ${first?.message}`,
        issues,
      );
    }
    res.json(previewScope(inventory(), r.data));
  });
}
