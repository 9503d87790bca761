import { describe, expect, it } from 'vitest';
import { generateBadungInventory } from '../../../config/badung/generate.ts';
import { KECAMATAN } from '../../../config/badung/areas.ts';
import { bufferedHull, convexHull, kecamatanOutlines } from '../../../collector/feeds/outlines.ts';

/** Ray casting: is (x, y) inside the closed ring? */
function inside(ring: readonly number[][], x: number, y: number): boolean {
  let yes = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi = 0, yi = 0] = ring[i] ?? [];
    const [xj = 0, yj = 0] = ring[j] ?? [];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) yes = !yes;
  }
  return yes;
}

/** Shoelace: positive for counter-clockwise. */
function signedArea(ring: readonly number[][]): number {
  let a = 0;
  for (let i = 0; i < ring.length - 1; i++) {
    const [x1 = 0, y1 = 0] = ring[i] ?? [];
    const [x2 = 0, y2 = 0] = ring[i + 1] ?? [];
    a += x1 * y2 - x2 * y1;
  }
  return a / 2;
}

describe('convexHull', () => {
  it.each([
    [
      'a square with a point inside and one on an edge',
      [
        [0, 0],
        [2, 0],
        [2, 2],
        [0, 2],
        [1, 1],
        [1, 0],
      ],
      [
        [0, 0],
        [2, 0],
        [2, 2],
        [0, 2],
      ],
    ],
    [
      'duplicates',
      [
        [0, 0],
        [0, 0],
        [1, 0],
        [0, 1],
      ],
      [
        [0, 0],
        [1, 0],
        [0, 1],
      ],
    ],
    [
      'two points',
      [
        [1, 1],
        [0, 0],
      ],
      [
        [0, 0],
        [1, 1],
      ],
    ],
    ['one point', [[3, 4]], [[3, 4]]],
  ])('%s', (_name, input, want) => {
    const hull = convexHull(input.map(([x = 0, y = 0]) => ({ x, y })));
    expect(hull.map((p) => [p.x, p.y])).toEqual(want);
  });
});

describe('bufferedHull', () => {
  it('grows a single point into a circle of the buffer radius', () => {
    const ring = bufferedHull([{ x: 115.2, y: -8.6 }], 1);
    expect(ring.length).toBe(16);
    const kmPerDeg = 111.32;
    for (const p of ring) {
      const dx = (p.x - 115.2) * kmPerDeg * Math.cos((-8.6 * Math.PI) / 180);
      const dy = (p.y + 8.6) * kmPerDeg;
      expect(Math.hypot(dx, dy)).toBeCloseTo(1, 6);
    }
  });
});

describe('kecamatanOutlines on the Badung inventory', () => {
  const sites = generateBadungInventory({ seed: 1 }).sites;
  const fc = kecamatanOutlines(sites);

  it('gives one closed, counter-clockwise polygon per kecamatan', () => {
    expect(fc.features.map((f) => f.properties.kecamatan).sort()).toEqual(
      KECAMATAN.map((k) => k.name).sort(),
    );
    for (const f of fc.features) {
      const ring = f.geometry.coordinates[0] ?? [];
      expect(ring.length).toBeGreaterThan(4);
      expect(ring[0]).toEqual(ring[ring.length - 1]);
      expect(signedArea(ring)).toBeGreaterThan(0); // RFC 7946 3.1.6: exterior rings counter-clockwise
    }
    expect(fc.features.reduce((n, f) => n + f.properties.sites, 0)).toBe(sites.length);
  });

  it("contains every site of the kecamatan, and its kecamatan's centre", () => {
    for (const f of fc.features) {
      const ring = f.geometry.coordinates[0] ?? [];
      const own = sites.filter((s) => s.kecamatan === f.properties.kecamatan);
      for (const s of own)
        expect(inside(ring, s.lon, s.lat), `${s.id} in ${f.properties.kecamatan}`).toBe(true);
      const k = KECAMATAN.find((x) => x.name === f.properties.kecamatan);
      expect(k && inside(ring, k.lon, k.lat)).toBe(true);
    }
  });

  it('leaves out sites without coordinates and kecamatan without sites', () => {
    const out = kecamatanOutlines([
      { kecamatan: 'A', lat: -8.6, lon: 115.2 },
      { kecamatan: 'B', lat: Number.NaN, lon: 115.2 },
    ]);
    expect(out.features.map((f) => f.properties.kecamatan)).toEqual(['A']);
  });
});
