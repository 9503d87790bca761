/**
 * Structural checks of a GeoJSON text against RFC 7946, written from the RFC so tests do not depend on
 * the code under test:
 *
 * - every GeoJSON object has a "type" of the nine (§1.4); no "crs" member (§4: WGS 84 only);
 * - FeatureCollection: "features" is an array of Features (§3.3);
 * - Feature: "geometry" a Geometry or null, "properties" an object or null, "id" a string or number (§3.2);
 * - Geometry: "coordinates" of the right depth (§3.1.2–3.1.7): a position has 2 or 3 finite numbers,
 *   [longitude, latitude] within -180..180 and -90..90 (§3.1.1, §4); a LineString has ≥ 2 positions;
 *   a linear ring ≥ 4 with first = last (§3.1.6); GeometryCollection has "geometries" (§3.1.8);
 * - no GeoJSON member where §7.1 forbids it (e.g. "coordinates" on a Feature, "properties" on a Geometry);
 * - "bbox", if present: 2·n numbers, south ≤ north, and every position of the object inside it (§5).
 *
 * Warnings for what the RFC only recommends: positions beyond 3 elements, exterior rings not
 * counterclockwise (§3.1.6). Optionally, a maximum number of decimals per coordinate (a product rule).
 */

export interface GeoJsonValidation {
  readonly errors: string[];
  readonly warnings: string[];
}

const GEOMETRY_TYPES = [
  'Point',
  'MultiPoint',
  'LineString',
  'MultiLineString',
  'Polygon',
  'MultiPolygon',
  'GeometryCollection',
] as const;
const TYPES = [...GEOMETRY_TYPES, 'Feature', 'FeatureCollection'] as const;

type Json = unknown;
type Obj = Record<string, Json>;

function isObj(v: Json): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface Ctx {
  readonly errors: string[];
  readonly warnings: string[];
  readonly maxDecimals: number | undefined;
}

function decimals(x: number): number {
  const s = String(x);
  if (/e/i.test(s)) return 99;
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

function position(p: Json, path: string, ctx: Ctx, out: number[][]): void {
  if (!Array.isArray(p) || p.length < 2) {
    ctx.errors.push(`${path}: a position is an array of at least 2 numbers`);
    return;
  }
  if (!p.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    ctx.errors.push(`${path}: position ${JSON.stringify(p)} has a non-number`);
    return;
  }
  const nums = p as number[];
  if (nums.length > 3) ctx.warnings.push(`${path}: positions SHOULD NOT have more than 3 elements`);
  const [lon, lat] = nums as [number, number];
  if (Math.abs(lon) > 180) ctx.errors.push(`${path}: longitude ${lon} outside -180..180 (is it [lon, lat]?)`);
  if (Math.abs(lat) > 90) ctx.errors.push(`${path}: latitude ${lat} outside -90..90 (is it [lon, lat]?)`);
  if (ctx.maxDecimals !== undefined && nums.some((x) => decimals(x) > (ctx.maxDecimals ?? 0))) {
    ctx.errors.push(`${path}: ${JSON.stringify(p)} has more than ${ctx.maxDecimals} decimals`);
  }
  out.push(nums);
}

function positions(a: Json, path: string, ctx: Ctx, out: number[][], min: number): number[][] {
  if (!Array.isArray(a)) {
    ctx.errors.push(`${path}: expected an array of positions`);
    return [];
  }
  if (a.length < min) ctx.errors.push(`${path}: ${a.length} positions, at least ${min} required`);
  const mine: number[][] = [];
  a.forEach((p, i) => position(p, `${path}[${i}]`, ctx, mine));
  out.push(...mine);
  return mine;
}

/** Twice the signed area (shoelace); > 0 is counterclockwise in lon/lat. */
function signedArea(ring: number[][]): number {
  let s = 0;
  for (let i = 0; i + 1 < ring.length; i++) {
    const a = ring[i] ?? [0, 0];
    const b = ring[i + 1] ?? [0, 0];
    s += (a[0] ?? 0) * (b[1] ?? 0) - (b[0] ?? 0) * (a[1] ?? 0);
  }
  return s;
}

function polygon(rings: Json, path: string, ctx: Ctx, out: number[][]): void {
  if (!Array.isArray(rings)) {
    ctx.errors.push(`${path}: a Polygon's coordinates are an array of linear rings`);
    return;
  }
  rings.forEach((r, i) => {
    const ring = positions(r, `${path}[${i}]`, ctx, out, 4);
    const first = ring[0];
    const last = ring[ring.length - 1];
    if (ring.length >= 4 && JSON.stringify(first) !== JSON.stringify(last)) {
      ctx.errors.push(`${path}[${i}]: linear ring not closed (first and last positions differ)`);
    }
    const ccw = signedArea(ring) > 0;
    if (ring.length >= 4 && (i === 0) !== ccw) {
      ctx.warnings.push(`${path}[${i}]: ring does not follow the right-hand rule (§3.1.6)`);
    }
  });
}

function forbid(o: Obj, members: readonly string[], path: string, ctx: Ctx): void {
  for (const m of members)
    if (m in o) ctx.errors.push(`${path}: a ${String(o.type)} MUST NOT have "${m}" (§7.1)`);
}

function checkBbox(o: Obj, path: string, ctx: Ctx, pts: number[][]): void {
  if (!('bbox' in o)) return;
  const b = o.bbox;
  if (
    !Array.isArray(b) ||
    b.length < 4 ||
    b.length % 2 !== 0 ||
    !b.every((x) => typeof x === 'number' && Number.isFinite(x))
  ) {
    ctx.errors.push(`${path}.bbox: must be an array of 2·n numbers`);
    return;
  }
  const nums = b as number[];
  const n = nums.length / 2;
  const [w, s, e, north] = [nums[0] ?? 0, nums[1] ?? 0, nums[n] ?? 0, nums[n + 1] ?? 0];
  if (s > north) ctx.errors.push(`${path}.bbox: south ${s} > north ${north}`);
  for (const p of pts) {
    const [lon, lat] = [p[0] ?? 0, p[1] ?? 0];
    const inLon = w <= e ? lon >= w && lon <= e : lon >= w || lon <= e; // w > e crosses the antimeridian
    if (!inLon || lat < s || lat > north) {
      ctx.errors.push(`${path}.bbox: position [${lon}, ${lat}] lies outside [${nums.join(', ')}]`);
      break;
    }
  }
}

function geometry(g: Json, path: string, ctx: Ctx, out: number[][]): void {
  if (!isObj(g)) {
    ctx.errors.push(`${path}: a geometry is an object`);
    return;
  }
  const type = g.type;
  if (!(GEOMETRY_TYPES as readonly Json[]).includes(type)) {
    ctx.errors.push(`${path}.type: ${JSON.stringify(type)} is not a geometry type`);
    return;
  }
  if ('crs' in g) ctx.errors.push(`${path}: "crs" is not part of RFC 7946 (§4)`);
  forbid(g, ['geometry', 'properties', 'features'], path, ctx);
  const pts: number[][] = [];
  const c = g.coordinates;
  const cp = `${path}.coordinates`;
  if (type === 'GeometryCollection') {
    forbid(g, ['coordinates'], path, ctx);
    if (!Array.isArray(g.geometries)) ctx.errors.push(`${path}.geometries: must be an array`);
    else g.geometries.forEach((x, i) => geometry(x, `${path}.geometries[${i}]`, ctx, pts));
  } else if (!('coordinates' in g)) {
    ctx.errors.push(`${path}: a ${String(type)} needs "coordinates"`);
  } else {
    forbid(g, ['geometries'], path, ctx);
    const arr = (x: Json, what: string): Json[] => {
      if (Array.isArray(x)) return x;
      ctx.errors.push(`${cp}: ${what} must be an array`);
      return [];
    };
    if (type === 'Point') position(c, cp, ctx, pts);
    else if (type === 'MultiPoint') positions(c, cp, ctx, pts, 0);
    else if (type === 'LineString') positions(c, cp, ctx, pts, 2);
    else if (type === 'MultiLineString')
      arr(c, 'MultiLineString').forEach((l, i) => positions(l, `${cp}[${i}]`, ctx, pts, 2));
    else if (type === 'Polygon') polygon(c, cp, ctx, pts);
    else arr(c, 'MultiPolygon').forEach((p, i) => polygon(p, `${cp}[${i}]`, ctx, pts));
  }
  checkBbox(g, path, ctx, pts);
  out.push(...pts);
}

function feature(f: Json, path: string, ctx: Ctx, out: number[][]): void {
  if (!isObj(f) || f.type !== 'Feature') {
    ctx.errors.push(`${path}: expected a Feature`);
    return;
  }
  if ('crs' in f) ctx.errors.push(`${path}: "crs" is not part of RFC 7946 (§4)`);
  forbid(f, ['coordinates', 'geometries', 'features'], path, ctx);
  if (!('geometry' in f)) ctx.errors.push(`${path}: a Feature needs "geometry" (an object or null)`);
  const pts: number[][] = [];
  if (f.geometry !== null && f.geometry !== undefined) geometry(f.geometry, `${path}.geometry`, ctx, pts);
  if (!('properties' in f)) ctx.errors.push(`${path}: a Feature needs "properties" (an object or null)`);
  else if (f.properties !== null && !isObj(f.properties))
    ctx.errors.push(`${path}.properties: must be an object or null`);
  if ('id' in f && typeof f.id !== 'string' && typeof f.id !== 'number') {
    ctx.errors.push(`${path}.id: must be a string or a number`);
  }
  checkBbox(f, path, ctx, pts);
  out.push(...pts);
}

/** Validates a GeoJSON text (a string) or its parsed value. */
export function validateGeoJson(doc: Json, opts: { maxDecimals?: number } = {}): GeoJsonValidation {
  const ctx: Ctx = { errors: [], warnings: [], maxDecimals: opts.maxDecimals };
  let v: Json = doc;
  if (typeof doc === 'string') {
    try {
      v = JSON.parse(doc);
    } catch (err) {
      return { errors: [`not JSON: ${(err as Error).message}`], warnings: [] };
    }
  }
  if (!isObj(v) || !(TYPES as readonly Json[]).includes(v.type)) {
    ctx.errors.push(`root: not a GeoJSON object (type ${JSON.stringify(isObj(v) ? v.type : v)})`);
    return ctx;
  }
  const pts: number[][] = [];
  if (v.type === 'FeatureCollection') {
    if ('crs' in v) ctx.errors.push('root: "crs" is not part of RFC 7946 (§4)');
    forbid(v, ['coordinates', 'geometries', 'geometry', 'properties'], 'root', ctx);
    if (!Array.isArray(v.features)) ctx.errors.push('root.features: must be an array');
    else v.features.forEach((f, i) => feature(f, `features[${i}]`, ctx, pts));
    checkBbox(v, 'root', ctx, pts);
  } else if (v.type === 'Feature') {
    feature(v, 'root', ctx, pts);
  } else {
    geometry(v, 'root', ctx, pts);
  }
  return { errors: ctx.errors, warnings: ctx.warnings };
}

export function assertValidGeoJson(doc: Json, opts: { maxDecimals?: number } = {}): void {
  const { errors } = validateGeoJson(doc, opts);
  if (errors.length > 0) throw new Error(`invalid GeoJSON (RFC 7946):\n  ${errors.join('\n  ')}`);
}
