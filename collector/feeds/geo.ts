/**
 * The little geometry the feeds need: where an outage is, and how big a circle covers an area's sites.
 * Shared by the CAP `<circle>` and the GeoJSON point so a map and a CAP reader show the same place.
 * Pure; WGS 84 degrees in, degrees and kilometres out.
 */
import type { Notification } from '../notify/notification.ts';

export interface LatLon {
  readonly lat: number;
  readonly lon: number;
}

/** The circle a site outage covers: the site itself, with room for its Wi-Fi reach. */
export const SITE_RADIUS_KM = 0.5;

/** Mean Earth radius (IUGG), km. Haversine is well within a metre over a regency's distances. */
const EARTH_RADIUS_KM = 6371.0088;

export function isLatLon(lat: number | undefined, lon: number | undefined): boolean {
  return (
    typeof lat === 'number' &&
    typeof lon === 'number' &&
    Number.isFinite(lat) &&
    Number.isFinite(lon) &&
    Math.abs(lat) <= 90 &&
    Math.abs(lon) <= 180
  );
}

export function haversineKm(a: LatLon, b: LatLon): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * The mean of the points. Good enough for sites of one kecamatan (tens of km, far from the poles and
 * the antimeridian); not a general spherical centroid.
 */
export function centroid(points: readonly LatLon[]): LatLon | undefined {
  if (points.length === 0) return undefined;
  let lat = 0;
  let lon = 0;
  for (const p of points) {
    lat += p.lat;
    lon += p.lon;
  }
  return { lat: lat / points.length, lon: lon / points.length };
}

/** Round half away from zero to `decimals` places (6 decimals ≈ 0.1 m: RFC 7946 §11.2). */
export function roundTo(x: number, decimals: number): number {
  const f = 10 ** decimals;
  const r = Math.round(Math.abs(x) * f) / f;
  return x < 0 ? -r : r;
}

export interface Circle {
  readonly centre: LatLon;
  readonly radiusKm: number;
}

/**
 * A circle around the points: centred on their centroid, its radius the farthest point plus each site's
 * own SITE_RADIUS_KM, rounded up to 0.1 km. Centre rounded to 6 decimals, so what the CAP and GeoJSON
 * feeds print is what was measured.
 */
export function coveringCircle(points: readonly LatLon[]): Circle | undefined {
  const c = centroid(points);
  if (!c) return undefined;
  const centre = { lat: roundTo(c.lat, 6), lon: roundTo(c.lon, 6) };
  const farthest = Math.max(0, ...points.map((p) => haversineKm(centre, p)));
  const radiusKm = Math.ceil((farthest + SITE_RADIUS_KM) * 10 - 1e-9) / 10;
  return { centre, radiusKm };
}

/** Where a notification's outage is: the site's point, or a circle around the area's located sites. */
export function outageCircle(n: Notification): Circle | undefined {
  if (n.site) {
    if (!isLatLon(n.site.lat, n.site.lon)) return undefined;
    return {
      centre: { lat: roundTo(n.site.lat, 6), lon: roundTo(n.site.lon, 6) },
      radiusKm: SITE_RADIUS_KM,
    };
  }
  const located = (n.area?.sites ?? []).flatMap((s) =>
    s.lat !== undefined && s.lon !== undefined && isLatLon(s.lat, s.lon) ? [{ lat: s.lat, lon: s.lon }] : [],
  );
  return coveringCircle(located);
}
