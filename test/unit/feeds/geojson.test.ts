import { describe, expect, it } from 'vitest';
import { capAlert } from '../../../collector/feeds/cap.ts';
import { outageFeature, outageFeatureCollection } from '../../../collector/feeds/geojson.ts';
import { testSite } from '../../support/fixtures.ts';
import { validateGeoJson } from '../../support/geojson-validate.ts';
import { PETANG_SITES, PUSKESMAS, SENDER, T0, areaIncident, siteAlert, siteOf } from './fixtures.ts';

/** What a client receives: the collection through JSON, validated as RFC 7946 with at most 6 decimals. */
function roundTrip(value: unknown): unknown {
  const text = JSON.stringify(value);
  const { errors } = validateGeoJson(text, { maxDecimals: 6 });
  expect(errors).toEqual([]);
  return JSON.parse(text);
}

describe('outageFeatureCollection', () => {
  const kuta = testSite('kcm-kuta', {
    name: 'Kantor Camat Kuta',
    category: 'kantor_camat',
    criticality: 'high',
    kecamatan: 'Kuta',
    desa: 'Kuta',
    lat: -8.7204567891,
    lon: 115.1698765432,
  });
  const fc = outageFeatureCollection([siteAlert(PUSKESMAS), siteAlert(kuta), areaIncident()]);

  it('is a valid RFC 7946 FeatureCollection that survives JSON unchanged', () => {
    expect(roundTrip(fc)).toEqual(fc);
    expect(fc).not.toHaveProperty('crs');
    expect(fc.features).toHaveLength(3);
  });

  it('puts a site at [longitude, latitude], rounded to 6 decimals', () => {
    expect(fc.features[0]?.geometry).toEqual({ type: 'Point', coordinates: [115.22, -8.3] });
    expect(fc.features[1]?.geometry?.coordinates).toEqual([115.169877, -8.720457]);
  });

  it('carries the incident in the properties, in both languages', () => {
    const f = fc.features[0];
    expect(f?.id).toBe(siteAlert(PUSKESMAS).id);
    expect(f?.properties).toMatchObject({
      incidentId: f?.id,
      kind: 'device_down',
      severity: 'critical',
      state: 'firing',
      since: '2026-11-23T02:15:00.000Z',
      resolvedAt: null,
      siteId: 'pkm-petang-1',
      siteName: 'Puskesmas Petang I',
      category: 'puskesmas',
      categoryName_id: 'Puskesmas',
      categoryName_en: 'community health centre',
      kecamatan: 'Petang',
      desa: 'Petang',
      sitesAffected: 1,
      sitesTotal: null,
      radiusKm: 0.5,
      title_id: 'GANGGUAN: Puskesmas Petang I (Puskesmas, Kec. Petang) terputus',
      title_en: 'OUTAGE: Puskesmas Petang I (community health centre, Petang district) offline',
      link: 'https://netmon.badungkab.go.id/sites/pkm-petang-1',
    });
  });

  it('an ordinary outage is firing, with no confirmAt and not silenced', () => {
    expect(fc.features[0]?.properties).toMatchObject({ state: 'firing', confirmAt: null, silenced: null });
  });

  it('a recovering outage says so, and when its recovery is confirmed', () => {
    const up = T0 + 22_000;
    const f = outageFeature(
      siteAlert(PUSKESMAS, 'firing', { recovery: { sinceMs: up, confirmAtMs: up + 120_000 } }),
    );
    expect(f.properties).toMatchObject({
      state: 'recovering',
      confirmAt: '2026-11-23T02:17:22.000Z',
      resolvedAt: null,
      title_id:
        'MEMULIH: Puskesmas Petang I (Puskesmas, Kec. Petang) terhubung lagi, dipastikan pukul 10:17 WITA, 23-11-2026',
    });
    roundTrip(
      outageFeatureCollection([
        siteAlert(PUSKESMAS, 'firing', { recovery: { sinceMs: up, confirmAtMs: up + 1 } }),
      ]),
    );
  });

  it('a silenced outage is marked: which silence, by whom, until when, in both languages', () => {
    const until = new Date(T0 + 3600_000).toISOString();
    const f = outageFeature({
      ...siteAlert(PUSKESMAS),
      silenced: { kind: 'silence', id: 'sil-1', reason: 'PLN padam', by: 'ops-1', until },
    });
    expect(f.properties.silenced).toEqual({
      kind: 'silence',
      id: 'sil-1',
      by: 'ops-1',
      until,
      reason: 'PLN padam',
      note_id:
        'Dibungkam oleh ops-1 sampai 11:15 WITA, 23-11-2026 (PLN padam): tidak ada petugas yang dipanggil.',
      note_en: 'Silenced by ops-1 until 11:15 WITA, 23-11-2026 (PLN padam): nobody was paged.',
    });
    expect(f.properties.title_en).toMatch(/ \[silenced\]$/);
    expect(f.properties.state).toBe('firing');
  });

  it('counts the sites behind a site that lost their link with it', () => {
    const n = siteAlert(PUSKESMAS, 'firing', {
      affectedSites: [
        { id: 'bjr-pelaga-1', name: 'Banjar Kiadan' },
        { id: 'bjr-pelaga-2', name: 'Banjar Auman' },
      ],
    });
    const p = outageFeatureCollection([n]).features[0]?.properties;
    expect(p?.sitesAffected).toBe(3);
    expect(p?.sites.map((s) => s.id)).toEqual(['pkm-petang-1', 'bjr-pelaga-1', 'bjr-pelaga-2']);
  });

  it('an area outage is one Point at the same centre and radius as its CAP circle, with its sites', () => {
    const f = fc.features[2];
    const circle = /<circle>(\S+),(\S+) (\S+)<\/circle>/.exec(capAlert(areaIncident(), { sender: SENDER }));
    expect(f?.geometry?.coordinates).toEqual([Number(circle?.[2]), Number(circle?.[1])]);
    expect(f?.properties.radiusKm).toBe(Number(circle?.[3]));
    expect(f?.properties).toMatchObject({
      kind: 'area_outage',
      kecamatan: 'Petang',
      siteId: null,
      sitesAffected: 5,
      sitesTotal: 58,
      title_en: 'MASS OUTAGE: 5 of 58 sites in Petang district offline',
    });
    expect(f?.properties.sites).toEqual(
      PETANG_SITES.map((s) => ({ id: s.id, name: s.name, category: s.category, lon: s.lon, lat: s.lat })),
    );
  });

  it('has a bbox [west, south, east, north] around its points', () => {
    expect(fc.bbox).toEqual([115.169877, -8.720457, 115.226, -8.3]);
  });

  it('keeps an incident without coordinates, with geometry null', () => {
    const unlocated = areaIncident(
      'firing',
      PETANG_SITES.map(({ lat: _lat, lon: _lon, ...s }) => s),
    );
    const one = outageFeatureCollection([unlocated]);
    expect(roundTrip(one)).toEqual(one);
    expect(one.features[0]?.geometry).toBeNull();
    expect(one).not.toHaveProperty('bbox');
    const bad = outageFeatureCollection([siteAlert(siteOf('low', { lat: Number.NaN }))]);
    expect(bad.features[0]?.geometry).toBeNull();
    roundTrip(bad);
  });

  it('an empty list is an empty, valid collection', () => {
    const empty = outageFeatureCollection([]);
    expect(roundTrip(empty)).toEqual({ type: 'FeatureCollection', features: [] });
  });
});

describe('the GeoJSON validator rejects broken documents (so a passing test means something)', () => {
  const point = (coordinates: unknown) => ({
    type: 'FeatureCollection',
    features: [{ type: 'Feature', id: 'x', geometry: { type: 'Point', coordinates }, properties: {} }],
  });
  const feature = (f: Record<string, unknown>) => ({ type: 'FeatureCollection', features: [f] });
  const poly = (ring: number[][]) =>
    feature({ type: 'Feature', geometry: { type: 'Polygon', coordinates: [ring] }, properties: null });

  it('accepts well-formed geometry of every kind', () => {
    const ccw = [
      [115.2, -8.4],
      [115.3, -8.4],
      [115.3, -8.3],
      [115.2, -8.3],
      [115.2, -8.4],
    ];
    for (const doc of [
      point([115.22, -8.3]),
      poly(ccw),
      feature({ type: 'Feature', geometry: null, properties: null }),
      {
        type: 'GeometryCollection',
        geometries: [
          { type: 'MultiPoint', coordinates: [[115.2, -8.3]] },
          {
            type: 'LineString',
            coordinates: [
              [115.2, -8.3],
              [115.3, -8.4],
            ],
          },
          { type: 'MultiPolygon', coordinates: [[ccw]] },
        ],
      },
      { ...point([115.22, -8.3]), bbox: [115.22, -8.3, 115.22, -8.3] },
    ]) {
      expect(validateGeoJson(JSON.stringify(doc)).errors).toEqual([]);
    }
  });

  it.each([
    ['not JSON', '{"type": "Feature"', /not JSON/],
    ['unknown type', { type: 'Outage' }, /not a GeoJSON object/],
    ['[lat, lon] instead of [lon, lat]', point([-8.3, 115.22]), /latitude 115.22 outside/],
    ['longitude out of range', point([215.22, -8.3]), /longitude 215.22 outside/],
    ['a position of one number', point([115.22]), /at least 2 numbers/],
    ['a coordinate that is not a number', point([115.22, null]), /non-number/],
    ['a crs member', { ...point([115.22, -8.3]), crs: { type: 'name' } }, /"crs" is not part of RFC 7946/],
    ['features not an array', { type: 'FeatureCollection', features: {} }, /features: must be an array/],
    ['a Feature without geometry', feature({ type: 'Feature', properties: {} }), /needs "geometry"/],
    ['a Feature without properties', feature({ type: 'Feature', geometry: null }), /needs "properties"/],
    [
      'properties as an array',
      feature({ type: 'Feature', geometry: null, properties: [] }),
      /object or null/,
    ],
    [
      'an id that is a boolean',
      feature({ type: 'Feature', id: true, geometry: null, properties: null }),
      /id: must be/,
    ],
    [
      'coordinates on a Feature (§7.1)',
      feature({ type: 'Feature', geometry: null, properties: null, coordinates: [0, 0] }),
      /MUST NOT have "coordinates"/,
    ],
    [
      'properties on a Geometry (§7.1)',
      { type: 'Point', coordinates: [115.22, -8.3], properties: {} },
      /MUST NOT have "properties"/,
    ],
    [
      'a LineString of one position',
      { type: 'LineString', coordinates: [[115.2, -8.3]] },
      /at least 2 required/,
    ],
    [
      'an unclosed ring',
      poly([
        [115.2, -8.4],
        [115.3, -8.4],
        [115.3, -8.3],
        [115.2, -8.3],
      ]),
      /not closed/,
    ],
    [
      'a ring of 3 positions',
      poly([
        [115.2, -8.4],
        [115.3, -8.4],
        [115.2, -8.4],
      ]),
      /at least 4 required/,
    ],
    ['a bbox of 3 numbers', { ...point([115.22, -8.3]), bbox: [115, -8, 116] }, /2·n numbers/],
    ['a bbox south of north', { ...point([115.22, -8.3]), bbox: [115, -8, 116, -9] }, /south -8 > north -9/],
    [
      'a bbox missing a point',
      { ...point([115.22, -8.3]), bbox: [115.3, -8.4, 115.4, -8.2] },
      /lies outside/,
    ],
    [
      'a GeometryCollection without geometries',
      { type: 'GeometryCollection' },
      /geometries: must be an array/,
    ],
  ] as const)('%s', (_name, doc, error) => {
    const { errors } = validateGeoJson(typeof doc === 'string' ? doc : JSON.stringify(doc));
    expect(errors.join('\n')).toMatch(error);
  });

  it('rejects NaN in an object that never went through JSON', () => {
    expect(validateGeoJson(point([Number.NaN, -8.3])).errors.join('\n')).toMatch(/non-number/);
  });

  it('rejects more decimals than asked for, and warns on a clockwise exterior ring', () => {
    expect(validateGeoJson(point([115.1234567, -8.3]), { maxDecimals: 6 }).errors.join('\n')).toMatch(
      /more than 6/,
    );
    const cw = poly([
      [115.2, -8.4],
      [115.2, -8.3],
      [115.3, -8.3],
      [115.3, -8.4],
      [115.2, -8.4],
    ]);
    const v = validateGeoJson(cw);
    expect(v.errors).toEqual([]);
    expect(v.warnings.join('\n')).toMatch(/right-hand rule/);
  });
});
