import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../collector/alerting/alert.ts';
import { AreaGrouper, type AreaIncident } from '../../../collector/alerting/area.ts';
import { FakeClock } from '../../../collector/core/clock.ts';
import { Topology } from '../../../collector/health/topology.ts';
import { testDevice, testSite } from '../../support/fixtures.ts';

const N = 40;
const sites = [
  ...Array.from({ length: N }, (_, i) => testSite(`p${i}`, { kecamatan: 'Petang' })),
  ...Array.from({ length: 5 }, (_, i) => testSite(`m${i}`, { kecamatan: 'Mengwi' })),
];
const topology = new Topology({ sites, devices: sites.map((s) => testDevice(`${s.id}-r`, s.id, 'router')) });
const alert = (siteId: string, status: 'firing' | 'resolved', t: number): Alert => ({
  id: `${siteId}-r@x`,
  status,
  kind: 'device_down',
  severity: 'low',
  deviceId: `${siteId}-r`,
  role: 'router',
  siteId,
  startedAt: t,
  resolvedAt: status === 'resolved' ? t : undefined,
  affectedDevices: [],
  affectedSites: [],
});

function setup() {
  const clock = new FakeClock(Date.UTC(2026, 10, 23, 2, 0));
  const pages: Alert[] = [];
  const areas: AreaIncident[] = [];
  const g = new AreaGrouper({ windowMs: 60_000, minSites: 30, groupWaitMs: 20_000 }, topology, clock, {
    page: (a) => pages.push(a),
    area: (i) => areas.push(i),
  });
  return { clock, pages, areas, g };
}

describe('AreaGrouper', () => {
  it('an outage on its own pages at once', () => {
    const { g, pages, areas } = setup();
    g.offer(alert('m0', 'firing', 0));
    expect(pages.map((p) => p.siteId)).toEqual(['m0']);
    g.offer(alert('m0', 'resolved', 1));
    expect(pages.map((p) => [p.siteId, p.status])).toEqual([
      ['m0', 'firing'],
      ['m0', 'resolved'],
    ]);
    expect(areas).toEqual([]);
  });

  it('35 sites of one kecamatan within a minute: the first page and one area incident, not 35 pages', () => {
    const { g, pages, areas, clock } = setup();
    for (let i = 0; i < 35; i++) {
      g.offer(alert(`p${i}`, 'firing', clock.now()));
      clock.advance(1_000);
    }
    clock.advance(60_000);
    expect(pages.map((p) => p.siteId)).toEqual(['p0']);
    expect(areas).toHaveLength(1);
    expect(areas[0]).toMatchObject({ status: 'firing', kecamatan: 'Petang', totalSites: N });
    expect(areas[0]?.sites).toHaveLength(30);
    // Recovery: the area resolves once fewer than 15 of its sites are down; no per-site recoveries.
    for (let i = 1; i < 35; i++) g.offer(alert(`p${i}`, 'resolved', clock.now()));
    expect(areas.map((a) => a.status)).toEqual(['firing', 'resolved']);
    clock.advance(60_000);
    expect(pages.map((p) => [p.siteId, p.status])).toEqual([['p0', 'firing']]);
  });

  it('sites still down after the area recovered page on their own after the group wait', () => {
    const { g, pages, areas, clock } = setup();
    for (let i = 0; i < 30; i++) g.offer(alert(`p${i}`, 'firing', clock.now()));
    expect(areas).toHaveLength(1);
    for (let i = 1; i < 28; i++) g.offer(alert(`p${i}`, 'resolved', clock.now()));
    expect(areas.map((a) => a.status)).toEqual(['firing', 'resolved']);
    clock.advance(20_000);
    expect(pages.map((p) => p.siteId).sort()).toEqual(['p0', 'p28', 'p29']);
  });

  it('a few sites down nearby wait, then page on their own when no mass outage follows', () => {
    const { g, pages, areas, clock } = setup();
    g.offer(alert('p0', 'firing', 0));
    g.offer(alert('p1', 'firing', 0));
    g.offer(alert('p2', 'firing', 0));
    expect(pages.map((p) => p.siteId)).toEqual(['p0']);
    clock.advance(20_000);
    expect(pages.map((p) => p.siteId).sort()).toEqual(['p0', 'p1', 'p2']);
    expect(areas).toEqual([]);
  });

  it('a site back before its wait is over pages nothing', () => {
    const { g, pages, clock } = setup();
    g.offer(alert('p0', 'firing', 0));
    g.offer(alert('p1', 'firing', 0));
    clock.advance(5_000);
    g.offer(alert('p1', 'resolved', 5_000));
    clock.advance(30_000);
    expect(pages.map((p) => p.siteId)).toEqual(['p0']);
  });
});
