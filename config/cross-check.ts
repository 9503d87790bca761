/**
 * The config checked against the inventory it names: everything that names an inventory thing must name
 * one that exists, or it would silently match nothing (a maintenance window for `Kutaa` covers no site, a
 * route for `kuta` never pages). Pure: the validated settings and the inventory in, issues out, each with
 * the path in the config (`alerts.routes[2].match.kecamatan[0]`) and the fix, with the nearest name as
 * config/hints.ts gives it for unknown keys. config/monitor.ts's loadConfig adds the file and line.
 *
 * Checked here (the schema already checks names within the config: contacts -> channels, routes ->
 * contacts, see config/monitor.ts):
 *   maintenance[i].scope.{sites, devices, kecamatan, desa, categories}[j]
 *   alerts.routes[i].match.{kecamatan, categories}[j]
 *   cluster.pin.kecamatan[j]
 *   cluster.edges[i].kecamatan[j]
 */
import type { Scope } from '../collector/alerting/scope.ts';
import type { RouteMatch } from '../collector/alerting/oncall.ts';
import type { Inventory } from '../collector/core/types.ts';
import { nearestKey } from './hints.ts';

export interface ConfigIssue {
  /** Path in the config document, as zod gives it. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** `; did you mean 'Kuta'?` when a known name is close enough to be a typo of `value` (case ignored). */
export function didYouMean(value: string, known: Iterable<string>): string {
  const near = nearestKey(value, [...new Set(known)]);
  return near ? `; did you mean '${near}'?` : '';
}

/** What the config is checked against: the names the inventory has. */
interface Known {
  readonly sites: ReadonlySet<string>;
  readonly devices: ReadonlySet<string>;
  readonly kecamatan: ReadonlySet<string>;
  readonly desa: ReadonlySet<string>;
  readonly categories: ReadonlySet<string>;
}

function knownNames(inventory: Pick<Inventory, 'sites' | 'devices'>): Known {
  return {
    sites: new Set(inventory.sites.map((s) => s.id)),
    devices: new Set(inventory.devices.map((d) => d.id)),
    kecamatan: new Set(inventory.sites.map((s) => s.kecamatan)),
    desa: new Set(inventory.sites.map((s) => s.desa)),
    categories: new Set(inventory.sites.map((s) => s.category)),
  };
}

type ListName = keyof Known;

const hint = (value: string, known: ReadonlySet<string>): string => {
  const near = nearestKey(value, [...known]);
  return near ? `did you mean '${near}'? Otherwise ` : '';
};

/** A short list of what there is, for small sets (kecamatan, categories); none for ~1,000 site ids. */
function listing(list: ListName, known: ReadonlySet<string>): string {
  if (list === 'sites' || list === 'devices' || list === 'desa' || known.size > 12) return '';
  return ` (the inventory has: ${[...known].sort().join(', ') || 'none'})`;
}

const NOUN: Record<ListName, string> = {
  sites: 'no site with id',
  devices: 'no device with id',
  kecamatan: 'no site of the inventory is in kecamatan',
  desa: 'no site of the inventory is in desa',
  categories: 'no site of the inventory is of category',
};

const FIX: Record<ListName, string> = {
  sites: 'use a site id of the inventory, or remove it',
  devices: 'use a device id of the inventory, or remove it',
  kecamatan: 'write the name as the inventory does (capitals count), or remove it',
  desa: 'write the name as the inventory does (capitals count), or remove it',
  categories: 'remove it, or add such sites to the inventory first',
};

function checkList(
  values: readonly string[] | undefined,
  list: ListName,
  at: readonly (string | number)[],
  known: Known,
  what: string,
): ConfigIssue[] {
  const have = known[list];
  const out: ConfigIssue[] = [];
  (values ?? []).forEach((value, j) => {
    if (have.has(value)) return;
    out.push({
      path: [...at, j],
      message: `${NOUN[list]} '${value}': ${what} would match nothing; ${hint(value, have)}${FIX[list]}${listing(list, have)}`,
    });
  });
  return out;
}

/** Every name the config gives for a site, device, kecamatan, desa or category the inventory lacks. */
export function crossCheck(
  config: {
    readonly maintenance?: readonly { readonly scope: Scope }[] | undefined;
    readonly alerts: {
      readonly oncall?: { readonly routes: readonly { readonly match: RouteMatch }[] } | undefined;
    };
    readonly cluster?:
      | {
          readonly pin?: { readonly kecamatan: readonly string[] } | undefined;
          readonly edges?: readonly { readonly kecamatan: readonly string[] }[] | undefined;
        }
      | undefined;
  },
  inventory: Pick<Inventory, 'sites' | 'devices'>,
): ConfigIssue[] {
  const known = knownNames(inventory);
  const issues: ConfigIssue[] = [];
  (config.maintenance ?? []).forEach((w, i) => {
    for (const list of ['sites', 'devices', 'kecamatan', 'desa', 'categories'] as const)
      issues.push(...checkList(w.scope[list], list, ['maintenance', i, 'scope', list], known, 'the window'));
  });
  (config.alerts.oncall?.routes ?? []).forEach((r, i) => {
    for (const list of ['kecamatan', 'categories'] as const)
      issues.push(
        ...checkList(r.match[list], list, ['alerts', 'routes', i, 'match', list], known, 'the route'),
      );
  });
  issues.push(
    ...checkList(
      config.cluster?.pin?.kecamatan,
      'kecamatan',
      ['cluster', 'pin', 'kecamatan'],
      known,
      'the pin',
    ),
  );
  (config.cluster?.edges ?? []).forEach((e, i) =>
    issues.push(
      ...checkList(e.kecamatan, 'kecamatan', ['cluster', 'edges', i, 'kecamatan'], known, 'the edge'),
    ),
  );
  return issues;
}
