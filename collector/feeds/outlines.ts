/**
 * Kecamatan outlines for the console's base map, derived from the project's own data: the project has no
 * official boundary polygons, but it knows where every site is. Each kecamatan's outline is the convex
 * hull of its sites, grown by a buffer (the hull of a circle around every hull vertex), so the map has a
 * recognisable shape per kecamatan offline, with no tile server. Not a legal boundary, and it says so in
 * the feature's properties.
 *
 * Pure: sites in, a GeoJSON FeatureCollection (RFC 7946: [lon, lat], counter-clockwise outer rings) out.
 */
import type { LatLon } from './geo.ts';

export interface OutlineSite extends LatLon {
  readonly kecamatan: string;
}

interface Pt {
  readonly x: number; // lon
  readonly y: number; // lat
}

export interface OutlineFeature {
  readonly type: 'Feature';
  readonly properties: {
    readonly kecamatan: string;
    readonly sites: number;
    readonly derived: 'convex hull of the sites, buffered';
  };
  readonly geometry: { readonly type: 'Polygon'; readonly coordinates: number[][][] };
}

export interface OutlineCollection {
  readonly type: 'FeatureCollection';
  readonly features: OutlineFeature[];
}

/** How far the outline reaches past the outermost sites. */
export const OUTLINE_BUFFER_KM = 1.2;
/** Points of the circle around each hull vertex; more is rounder. */
const CIRCLE_STEPS = 16;
const KM_PER_DEGREE_LAT = 111.32;

const cross = (o: Pt, a: Pt, b: Pt): number => (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);

/**
 * Andrew's monotone chain: the convex hull, counter-clockwise, without collinear points, first point not
 * repeated. Fewer than 3 distinct points give those points.
 */
export function convexHull(points: readonly Pt[]): Pt[] {
  const ps = [...points].sort((a, b) => a.x - b.x || a.y - b.y);
  const uniq = ps.filter((p, i) => i === 0 || p.x !== ps[i - 1]?.x || p.y !== ps[i - 1]?.y);
  if (uniq.length < 3) return uniq;
  const half = (list: readonly Pt[]): Pt[] => {
    const out: Pt[] = [];
    for (const p of list) {
      while (out.length >= 2 && cross(out[out.length - 2] as Pt, out[out.length - 1] as Pt, p) <= 0)
        out.pop();
      out.push(p);
    }
    out.pop();
    return out;
  };
  return [...half(uniq), ...half([...uniq].reverse())];
}

/** The hull grown by `km` in every direction (longitude degrees are shorter by cos(lat)). */
export function bufferedHull(points: readonly Pt[], km: number): Pt[] {
  const hull = convexHull(points);
  const ring: Pt[] = [];
  for (const p of hull) {
    const dy = km / KM_PER_DEGREE_LAT;
    const dx = km / (KM_PER_DEGREE_LAT * Math.cos((p.y * Math.PI) / 180));
    for (let i = 0; i < CIRCLE_STEPS; i++) {
      const a = (2 * Math.PI * i) / CIRCLE_STEPS;
      ring.push({ x: p.x + dx * Math.cos(a), y: p.y + dy * Math.sin(a) });
    }
  }
  return convexHull(ring);
}

const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;

/** One outline per kecamatan that has a site with valid coordinates, in order of first appearance. */
export function kecamatanOutlines(
  sites: readonly OutlineSite[],
  bufferKm: number = OUTLINE_BUFFER_KM,
): OutlineCollection {
  const byKec = new Map<string, Pt[]>();
  for (const s of sites) {
    if (!Number.isFinite(s.lat) || !Number.isFinite(s.lon)) continue;
    const list = byKec.get(s.kecamatan) ?? [];
    list.push({ x: s.lon, y: s.lat });
    byKec.set(s.kecamatan, list);
  }
  const features: OutlineFeature[] = [];
  for (const [kecamatan, pts] of byKec) {
    const ring = bufferedHull(pts, bufferKm).map((p) => [round6(p.x), round6(p.y)]);
    const first = ring[0];
    if (!first) continue;
    features.push({
      type: 'Feature',
      properties: { kecamatan, sites: pts.length, derived: 'convex hull of the sites, buffered' },
      geometry: { type: 'Polygon', coordinates: [[...ring, [...first]]] },
    });
  }
  return { type: 'FeatureCollection', features };
}
