import { describe, expect, it } from 'vitest';
import {
  buildPublicStatus,
  siteStatus,
  statusJson,
  type StatusSiteInput,
} from '../../../collector/status/model.ts';
import { isoWitaMinute } from '../../../collector/core/time-zone.ts';
import { renderStatusHtml } from '../../../collector/status/render-html.ts';

const T0 = Date.parse('2026-12-03T06:00:00Z'); // 14:00 WITA

function site(
  id: string,
  states: [role: string, state: string, since?: number][],
  extra: Partial<StatusSiteInput> = {},
): StatusSiteInput {
  return {
    id,
    name: `Site ${id}`,
    category: 'sd',
    kecamatan: 'Kuta',
    desa: 'Kedonganan',
    inMaintenance: false,
    devices: states.map(([role, state, since]) => ({ role, state, since: since ?? T0 - 3600_000 })),
    ...extra,
  };
}

describe('siteStatus', () => {
  const cases: [string, [string, string, number?][], boolean, string][] = [
    [
      'router and AP up',
      [
        ['router', 'up'],
        ['ap', 'up'],
      ],
      false,
      'working',
    ],
    [
      'router suspect (not confirmed)',
      [
        ['router', 'suspect'],
        ['ap', 'up'],
      ],
      false,
      'working',
    ],
    [
      'recovering counts as working',
      [
        ['router', 'recovering'],
        ['ap', 'up'],
      ],
      false,
      'working',
    ],
    [
      'router down',
      [
        ['router', 'down'],
        ['ap', 'unreachable'],
      ],
      false,
      'down',
    ],
    [
      'router unreachable (upstream down)',
      [
        ['router', 'unreachable'],
        ['ap', 'unreachable'],
      ],
      false,
      'down',
    ],
    [
      'router up, every AP down: no Wi-Fi',
      [
        ['router', 'up'],
        ['ap', 'down'],
        ['ap', 'down'],
      ],
      false,
      'down',
    ],
    [
      'router up, one AP of two down',
      [
        ['router', 'up'],
        ['ap', 'down'],
        ['ap', 'up'],
      ],
      false,
      'working',
    ],
    [
      'nothing polled yet',
      [
        ['router', 'unknown'],
        ['ap', 'unknown'],
      ],
      false,
      'unknown',
    ],
    [
      'router not polled yet, AP up',
      [
        ['router', 'unknown'],
        ['ap', 'up'],
      ],
      false,
      'unknown',
    ],
    [
      'a sensor does not carry Wi-Fi',
      [
        ['router', 'up'],
        ['sensor', 'down'],
      ],
      false,
      'working',
    ],
    ['in maintenance, down', [['router', 'down']], true, 'maintenance'],
    ['in maintenance, up', [['router', 'up']], true, 'maintenance'],
    ['no router: its AP decides', [['ap', 'down']], false, 'down'],
  ];
  it.each(cases)('%s', (_what, states, inMaintenance, want) => {
    expect(siteStatus(site('a', states, { inMaintenance })).status).toBe(want);
  });

  it('a down site is down since its earliest failed device', () => {
    const s = siteStatus(
      site('a', [
        ['router', 'down', T0 - 600_000],
        ['ap', 'unreachable', T0 - 500_000],
      ]),
    );
    expect(s).toEqual({ status: 'down', sinceMs: T0 - 600_000 });
  });
});

describe('buildPublicStatus', () => {
  const sites = [
    site(
      'a',
      [
        ['router', 'down', T0 - 7200_000],
        ['ap', 'unreachable'],
      ],
      { name: 'SD Negeri 1 Kuta' },
    ),
    site('b', [['router', 'unreachable', T0 - 3600_000]], {
      name: 'Banjar <Tegal> & Co',
      category: 'banjar',
    }),
    site(
      'c',
      [
        ['router', 'up'],
        ['ap', 'up'],
      ],
      { kecamatan: 'Petang', desa: 'Belok Sidan', category: 'puskesmas' },
    ),
    site('d', [['router', 'down', T0 - 60_000]], { kecamatan: 'Petang', inMaintenance: true }),
    site('e', [['router', 'unknown']], { kecamatan: 'Petang' }),
  ];
  const status = buildPublicStatus({
    nowMs: T0,
    sites,
    incidents: [
      { status: 'acknowledged', siteIds: ['x', 'b'], openedAt: T0 - 3600_000 },
      { status: 'open', siteIds: ['a'], openedAt: T0 - 7200_000 },
    ],
  });

  it('counts per kecamatan and category, and in total', () => {
    expect(status.totals).toEqual({
      sites: 5,
      working: 1,
      down: 2,
      maintenance: 1,
      unknown: 1,
      unmonitored: 0,
    });
    expect(
      status.byKecamatan.map((k) => [k.kecamatan, k.sites, k.working, k.down, k.maintenance, k.unknown]),
    ).toEqual([
      ['Kuta', 2, 0, 2, 0, 0],
      ['Petang', 3, 1, 0, 1, 1],
    ]);
    expect(status.byCategory.map((c) => [c.category, c.sites])).toEqual([
      ['banjar', 1],
      ['sd', 3],
      ['puskesmas', 1],
    ]);
    expect(status.byCategory.find((c) => c.category === 'puskesmas')?.name).toEqual({
      id: 'Puskesmas',
      en: 'community health centre',
    });
  });

  it('lists outages, longest first, handled when an acknowledged incident covers the site', () => {
    expect(status.outages.map((o) => [o.site, o.handled, o.maintenance, o.sinceMs])).toEqual([
      ['SD Negeri 1 Kuta', false, false, T0 - 7200_000],
      ['Banjar <Tegal> & Co', true, false, T0 - 3600_000],
      ['Site d', false, true, T0 - 60_000],
    ]);
  });

  it('availability is absent until computed', () => {
    expect(status.availability).toBeUndefined();
    expect(status.byKecamatan.every((k) => k.availability30d === null)).toBe(true);
  });

  it('the JSON carries no site or device id, times in WITA', () => {
    const json = JSON.stringify(statusJson(status));
    for (const id of ['"a"', '"b"', '"x"']) expect(json).not.toContain(id);
    expect(json).not.toMatch(/"id":"(a|b|c|d|e)"/);
    const doc = statusJson(status) as { schema: string; generatedAt: string; outages: { since: string }[] };
    expect(doc.schema).toBe('badung-netmon/status/v1');
    expect(doc.generatedAt).toBe('2026-12-03T14:00:00+08:00');
    expect(doc.outages[0]?.since).toBe('2026-12-03T12:00:00+08:00');
  });

  it('the page is bilingual, escapes names and lists the outages', () => {
    const html = renderStatusHtml(status);
    expect(html).toContain('Banjar &lt;Tegal&gt; &amp; Co');
    expect(html).not.toContain('<Tegal>');
    expect(html).toContain('Sedang ditangani');
    expect(html).toContain('Being handled');
    expect(html).toContain('Belum ditangani');
    expect(html).toContain('Pemeliharaan terjadwal');
    expect(html).toContain('03-12-2026');
    expect(html).toContain('12:00 WITA');
    expect(html).toContain('Gangguan saat ini');
    expect(html).toContain('Current outages');
    expect(html).toContain('<meta http-equiv="refresh"');
    expect(html).toContain('name="viewport"');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('dari 5 lokasi berfungsi');
    expect(html).toContain('of 5 sites working');
  });

  it('with no outage, says so', () => {
    const calm = buildPublicStatus({ nowMs: T0, sites: [sites[2]!], incidents: [] });
    expect(calm.outages).toEqual([]);
    expect(renderStatusHtml(calm)).toContain('Tidak ada gangguan saat ini.');
  });

  it('sites nobody monitors (their edge lost) are neither working nor down: "Pemantauan terputus"', () => {
    const lost = buildPublicStatus({
      nowMs: T0,
      sites: [
        // Its router was down when last heard: stale, so it is not listed as an outage.
        site('k1', [['router', 'down', T0 - 600_000]], { kecamatan: 'Kuta Selatan', notMonitored: true }),
        site('k2', [['router', 'up']], { kecamatan: 'Kuta Selatan', notMonitored: true }),
        sites[2]!,
      ],
      incidents: [],
    });
    expect(lost.totals).toMatchObject({ sites: 3, working: 1, down: 0, unmonitored: 2 });
    expect(lost.outages).toEqual([]);
    expect(lost.byKecamatan.map((k) => [k.kecamatan, k.working, k.unmonitored])).toEqual([
      ['Kuta Selatan', 0, 2],
      ['Petang', 1, 0],
    ]);
    const html = renderStatusHtml(lost);
    expect(html).toContain('Pemantauan terputus');
    expect(html).toContain('Monitoring lost');
    expect(html).toContain('2 lokasi: status tidak diketahui, bukan berarti mati');
    expect(html).toContain('2 sites: state unknown, which does not mean they are down');
    expect(statusJson(lost)).toMatchObject({ totals: { unmonitored: 2 } });
    // Nothing of it when every site is monitored.
    expect(renderStatusHtml(status)).not.toContain('Pemantauan terputus');
  });

  it('isoWitaMinute drops seconds', () => {
    expect(isoWitaMinute(Date.parse('2026-12-31T16:59:59.900Z'))).toBe('2027-01-01T00:59:00+08:00');
  });
});
