/**
 * Current outages as a GeoJSON FeatureCollection (RFC 7946) for maps of the emergency picture.
 * Pure: notifications → a JSON-able object.
 *
 * One Feature per incident, so a map counts what the CAP feed counts:
 * - a site outage is a Point at the site;
 * - an area outage (many sites of one kecamatan) is a Point at the centroid of its located sites, with
 *   the radius of the CAP `<circle>` and the sites themselves (with their coordinates) in `properties`.
 *   A Point rather than a MultiPoint because one marker per incident is what clustering map libraries
 *   and the CAP circle agree on; the site list keeps the detail.
 * - an incident without coordinates keeps its Feature with `geometry: null` (RFC 7946 §3.2).
 *
 * RFC 7946: positions are [longitude, latitude] (§3.1.1), WGS 84 only, so there is no `crs` member (§4);
 * coordinates are rounded to 6 decimals (§11.2: about 10 cm); the collection's `bbox` is
 * [west, south, east, north] (§5).
 */
import type { Notification } from '../notify/notification.ts';
import { isLatLon, outageCircle, roundTo } from './geo.ts';
import { feedState, headline, silencedNote, type FeedState } from './texts.ts';

/** [longitude, latitude]. */
export type Position = readonly [number, number];

export interface PointGeometry {
  readonly type: 'Point';
  readonly coordinates: Position;
}

export interface OutageSite {
  readonly id: string;
  readonly name: string;
  readonly category: string | null;
  readonly lon: number | null;
  readonly lat: number | null;
}

export interface OutageProperties {
  readonly incidentId: string;
  readonly kind: Notification['kind'];
  readonly severity: Notification['severity'];
  /**
   * firing: still down; recovering: answering again while its recovery settles (confirmed at
   * `confirmAt`, when the incident closes); resolved: restored.
   */
  readonly state: FeedState;
  /** While recovering: when the recovery is confirmed if the site stays up (ISO 8601); else null. */
  readonly confirmAt: string | null;
  /** Inside a silence or maintenance window (it paged nobody): which, by whom, until when; else null. */
  readonly silenced: {
    readonly kind: 'silence' | 'maintenance';
    readonly id: string;
    readonly by: string | null;
    readonly until: string;
    readonly reason: string;
    readonly note_id: string;
    readonly note_en: string;
  } | null;
  /** When the outage began, ISO 8601 (UTC). */
  readonly since: string;
  readonly resolvedAt: string | null;
  readonly siteId: string | null;
  readonly siteName: string | null;
  readonly category: string | null;
  readonly categoryName_id: string | null;
  readonly categoryName_en: string | null;
  readonly kecamatan: string | null;
  readonly desa: string | null;
  /** How many sites are without service: the site and those behind it, or the area's sites down. */
  readonly sitesAffected: number;
  /** The area's watched sites (area outage only). */
  readonly sitesTotal: number | null;
  readonly sites: readonly OutageSite[];
  /** Radius (km) of the circle the CAP message draws around the point. */
  readonly radiusKm: number | null;
  readonly title_id: string;
  readonly title_en: string;
  readonly link: string | null;
}

export interface OutageFeature {
  readonly type: 'Feature';
  readonly id: string;
  readonly geometry: PointGeometry | null;
  readonly properties: OutageProperties;
}

export interface OutageFeatureCollection {
  readonly type: 'FeatureCollection';
  /** [west, south, east, north] of the located features; absent when none is located. */
  readonly bbox?: readonly [number, number, number, number];
  readonly features: readonly OutageFeature[];
}

function coord(x: number | undefined, y: number | undefined): { lon: number | null; lat: number | null } {
  return isLatLon(y, x) && x !== undefined && y !== undefined
    ? { lon: roundTo(x, 6), lat: roundTo(y, 6) }
    : { lon: null, lat: null };
}

function sitesOf(n: Notification): OutageSite[] {
  if (n.area) {
    return n.area.sites.map((s) => ({
      id: s.id,
      name: s.name,
      category: s.category || null,
      ...coord(s.lon, s.lat),
    }));
  }
  const own: OutageSite[] = n.site
    ? [{ id: n.site.id, name: n.site.name, category: n.site.category, ...coord(n.site.lon, n.site.lat) }]
    : [];
  return [
    ...own,
    ...n.affected.sites.map((s) => ({ id: s.id, name: s.name, category: null, lon: null, lat: null })),
  ];
}

export function outageFeature(n: Notification): OutageFeature {
  const circle = outageCircle(n);
  const title = headline(n);
  const sites = sitesOf(n);
  return {
    type: 'Feature',
    id: n.id,
    geometry: circle ? { type: 'Point', coordinates: [circle.centre.lon, circle.centre.lat] } : null,
    properties: {
      incidentId: n.id,
      kind: n.kind,
      severity: n.severity,
      state: feedState(n),
      confirmAt: n.status === 'resolved' ? null : (n.recovery?.confirmAt ?? null),
      silenced: silencedProperty(n),
      since: n.startedAt,
      resolvedAt: n.resolvedAt ?? null,
      siteId: n.site?.id ?? null,
      siteName: n.site?.name ?? null,
      category: n.site?.category ?? null,
      categoryName_id: n.site?.categoryName.id ?? null,
      categoryName_en: n.site?.categoryName.en ?? null,
      kecamatan: n.site?.kecamatan ?? n.area?.kecamatan ?? null,
      desa: n.site?.desa ?? null,
      sitesAffected: n.area ? n.area.sitesDown : sites.length,
      sitesTotal: n.area ? n.area.sitesTotal : null,
      sites,
      radiusKm: circle ? circle.radiusKm : null,
      title_id: title.id,
      title_en: title.en,
      link: n.link ?? null,
    },
  };
}

function silencedProperty(n: Notification): OutageProperties['silenced'] {
  const s = n.silenced;
  const note = silencedNote(n);
  if (!s || !note) return null;
  return {
    kind: s.kind,
    id: s.id,
    by: s.by ?? null,
    until: s.until,
    reason: s.reason,
    note_id: note.id,
    note_en: note.en,
  };
}

/** The FeatureCollection of the given incidents (pass the open ones for "current outages"). */
export function outageFeatureCollection(items: readonly Notification[]): OutageFeatureCollection {
  const features = items.map(outageFeature);
  const points = features.flatMap((f) => (f.geometry ? [f.geometry.coordinates] : []));
  if (points.length === 0) return { type: 'FeatureCollection', features };
  const lons = points.map((p) => p[0]);
  const lats = points.map((p) => p[1]);
  return {
    type: 'FeatureCollection',
    bbox: [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)],
    features,
  };
}
