/**
 * The public status of the regency's Wi-Fi (pure): what citizens and BPBD may see, built from the
 * monitor's site states and its unresolved incidents. It is the one place that decides what is public,
 * so it copies only what is meant to be seen: site name, desa, kecamatan, category, since when, whether
 * someone is on it. Never a device id, address, contact, token or note: those are not even read here
 * (the inputs below do not carry them), so no later edit of a renderer can leak them.
 *
 * A site's Wi-Fi works when its router answers (or, without a router, any device) and, if it has access
 * points, at least one of them does. Suspect devices (one failed poll, not confirmed) still count as
 * working: the page says what is known, not what might be.
 */
import { CATEGORY_INFO } from '../core/categories.ts';
import { isoWitaMinute } from '../core/time-zone.ts';
import { CATEGORIES, type Category } from '../core/types.ts';

export const STATUS_SCHEMA = 'badung-netmon/status/v1';

/** What the status page reads of a site (collector/app.ts Monitor.siteState, the inventory). */
export interface StatusSiteInput {
  readonly id: string;
  readonly name: string;
  readonly category: Category;
  readonly kecamatan: string;
  readonly desa: string;
  readonly inMaintenance: boolean;
  /**
   * Nothing monitors it now (its kecamatan's edge collector is cut off: "monitoring lost"): what its
   * devices last showed is stale, so the page says neither working nor down.
   */
  readonly notMonitored?: boolean | undefined;
  /** Role and state of each device; ids are used to match incidents and never copied out. */
  readonly devices: readonly { readonly role: string; readonly state: string; readonly since: number }[];
}

/** What the status page reads of an unresolved incident: which sites it covers and whether it is handled. */
export interface StatusIncidentInput {
  readonly status: string;
  /** The failing device's site, and the sites that lost their connection through it. */
  readonly siteIds: readonly string[];
  readonly openedAt: number;
}

/** Availability of one kecamatan (or of all) over the last 30 and 90 days; null: nothing observed. */
export interface AvailabilityWindow {
  readonly pct: number | null;
  readonly fromMs: number;
  readonly toMs: number;
}

export interface StatusAvailability {
  readonly computedAtMs: number;
  readonly overall: { readonly d30: AvailabilityWindow; readonly d90: AvailabilityWindow };
  readonly byKecamatan: ReadonlyMap<
    string,
    { readonly d30: AvailabilityWindow; readonly d90: AvailabilityWindow }
  >;
}

export interface StatusInput {
  readonly nowMs: number;
  readonly sites: readonly StatusSiteInput[];
  readonly incidents: readonly StatusIncidentInput[];
  /** Absent until the first background computation finished (or when there is no InfluxDB 1.x API). */
  readonly availability?: StatusAvailability | undefined;
}

export type PublicSiteStatus = 'working' | 'down' | 'maintenance' | 'unknown' | 'unmonitored';

export interface Counts {
  readonly sites: number;
  readonly working: number;
  readonly down: number;
  readonly maintenance: number;
  readonly unknown: number;
  /** Not monitored now ("monitoring lost": the edge collector of its kecamatan is cut off). */
  readonly unmonitored: number;
}

export interface PublicOutage {
  readonly site: string;
  readonly desa: string;
  readonly kecamatan: string;
  readonly category: Category;
  readonly categoryName: { readonly id: string; readonly en: string };
  /** Since when the site has no Wi-Fi (ms), the earliest failure among its devices. */
  readonly sinceMs: number;
  /** Someone acknowledged the incident behind it: it is being handled. */
  readonly handled: boolean;
  /** The site is inside a maintenance window (planned work). */
  readonly maintenance: boolean;
}

export interface PublicStatus {
  readonly generatedAtMs: number;
  readonly totals: Counts;
  readonly byKecamatan: readonly (Counts & {
    readonly kecamatan: string;
    readonly availability30d: number | null;
    readonly availability90d: number | null;
  })[];
  readonly byCategory: readonly (Counts & {
    readonly category: Category;
    readonly name: { readonly id: string; readonly en: string };
  })[];
  /** Longest first. */
  readonly outages: readonly PublicOutage[];
  readonly availability:
    | {
        readonly computedAtMs: number;
        readonly overall30d: number | null;
        readonly overall90d: number | null;
      }
    | undefined;
}

/** States in which a device is taken to work (`recovering`: back, not yet settled). */
const WORKING_STATES: ReadonlySet<string> = new Set(['up', 'suspect', 'recovering']);

/** One site's public status, and since when it is down (when it is). */
export function siteStatus(s: StatusSiteInput): { status: PublicSiteStatus; sinceMs?: number } {
  if (s.notMonitored) return { status: 'unmonitored' };
  const known = s.devices.filter((d) => d.state !== 'unknown');
  const routers = s.devices.filter((d) => d.role === 'router');
  const aps = s.devices.filter((d) => d.role === 'ap');
  const uplink = routers.length > 0 ? routers : s.devices.filter((d) => d.role !== 'sensor');
  const works = (list: typeof s.devices) => list.some((d) => WORKING_STATES.has(d.state));
  if (known.length === 0) return { status: s.inMaintenance ? 'maintenance' : 'unknown' };
  const uplinkUnknown = uplink.length > 0 && uplink.every((d) => d.state === 'unknown');
  if (uplinkUnknown) return { status: s.inMaintenance ? 'maintenance' : 'unknown' };
  const working = (uplink.length === 0 || works(uplink)) && (aps.length === 0 || works(aps));
  if (working) return { status: s.inMaintenance ? 'maintenance' : 'working' };
  const failed = [...uplink, ...aps].filter((d) => d.state !== 'unknown' && !WORKING_STATES.has(d.state));
  const sinceMs = failed.length > 0 ? Math.min(...failed.map((d) => d.since)) : undefined;
  return { status: s.inMaintenance ? 'maintenance' : 'down', sinceMs };
}

const zero = (): { -readonly [K in keyof Counts]: Counts[K] } => ({
  sites: 0,
  working: 0,
  down: 0,
  maintenance: 0,
  unknown: 0,
  unmonitored: 0,
});

export function buildPublicStatus(input: StatusInput): PublicStatus {
  const handledSites = new Set<string>();
  for (const inc of input.incidents)
    if (inc.status === 'acknowledged') for (const id of inc.siteIds) handledSites.add(id);

  const totals = zero();
  const byKec = new Map<string, ReturnType<typeof zero>>();
  const byCat = new Map<Category, ReturnType<typeof zero>>();
  const outages: PublicOutage[] = [];
  for (const s of input.sites) {
    const { status, sinceMs } = siteStatus(s);
    let kec = byKec.get(s.kecamatan);
    if (!kec) byKec.set(s.kecamatan, (kec = zero()));
    let cat = byCat.get(s.category);
    if (!cat) byCat.set(s.category, (cat = zero()));
    for (const c of [totals, kec, cat]) {
      c.sites++;
      c[status]++;
    }
    // A site in maintenance whose Wi-Fi is off is listed too, marked as planned work.
    const off = status === 'down' || (status === 'maintenance' && sinceMs !== undefined);
    if (off) {
      const info = CATEGORY_INFO[s.category];
      outages.push({
        site: s.name,
        desa: s.desa,
        kecamatan: s.kecamatan,
        category: s.category,
        categoryName: { id: info.id, en: info.en },
        sinceMs: sinceMs ?? input.nowMs,
        handled: handledSites.has(s.id),
        maintenance: status === 'maintenance',
      });
    }
  }
  outages.sort((a, b) => a.sinceMs - b.sinceMs || a.site.localeCompare(b.site));
  const av = input.availability;
  return {
    generatedAtMs: input.nowMs,
    totals,
    byKecamatan: [...byKec.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kecamatan, c]) => ({
        kecamatan,
        ...c,
        availability30d: av?.byKecamatan.get(kecamatan)?.d30.pct ?? null,
        availability90d: av?.byKecamatan.get(kecamatan)?.d90.pct ?? null,
      })),
    byCategory: CATEGORIES.flatMap((category) => {
      const c = byCat.get(category);
      const info = CATEGORY_INFO[category];
      return c ? [{ category, name: { id: info.id, en: info.en }, ...c }] : [];
    }),
    outages,
    availability: av && {
      computedAtMs: av.computedAtMs,
      overall30d: av.overall.d30.pct,
      overall90d: av.overall.d90.pct,
    },
  };
}

/**
 * The JSON beside the page (`/status.json`): the same facts, times as ISO 8601 in WITA, percentages
 * rounded to 2 decimals. Times are to the minute, so the document (and its ETag) only changes when
 * something shown changes or a minute passes.
 */
export function statusJson(s: PublicStatus): unknown {
  const pct = (p: number | null) => (p === null ? null : Math.round(p * 100) / 100);
  return {
    schema: STATUS_SCHEMA,
    generatedAt: isoWitaMinute(s.generatedAtMs),
    totals: s.totals,
    byKecamatan: s.byKecamatan.map((k) => ({
      ...k,
      availability30d: pct(k.availability30d),
      availability90d: pct(k.availability90d),
    })),
    byCategory: s.byCategory,
    outages: s.outages.map((o) => ({
      site: o.site,
      desa: o.desa,
      kecamatan: o.kecamatan,
      category: o.category,
      categoryName: o.categoryName,
      since: isoWitaMinute(o.sinceMs),
      handled: o.handled,
      maintenance: o.maintenance,
    })),
    availability: s.availability
      ? {
          computedAt: isoWitaMinute(s.availability.computedAtMs),
          overall30d: pct(s.availability.overall30d),
          overall90d: pct(s.availability.overall90d),
        }
      : null,
  };
}
