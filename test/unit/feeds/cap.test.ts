import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { capAtomFeed } from '../../../collector/feeds/cap-atom.ts';
import {
  CAP_NAMESPACE,
  DEFAULT_RESTRICTION,
  capAlert,
  capDateTime,
  capMessage,
  capProfile,
  originalRef,
  type CapOptions,
} from '../../../collector/feeds/cap.ts';
import { haversineKm } from '../../../collector/feeds/geo.ts';
import type { Notification } from '../../../collector/notify/notification.ts';
import { testSite } from '../../support/fixtures.ts';
import { assertValidCap, validateCap } from '../../support/cap-validate.ts';
import { PETANG_SITES, PUSKESMAS, SENDER, T0, T_END, areaIncident, siteAlert, siteOf } from './fixtures.ts';

const XSD = fileURLToPath(new URL('../../fixtures/cap/CAP-v1.2.xsd', import.meta.url));
const OPTS: CapOptions = { sender: SENDER, senderName: 'Dinas Kominfo Kabupaten Badung' };

/** The OASIS XSD, through libxml2's xmllint (Debian libxml2-utils). */
function xsdCheck(xml: string): { ok: boolean; output: string } {
  const r = spawnSync('xmllint', ['--noout', '--schema', XSD, '-'], { input: xml, encoding: 'utf8' });
  if (r.error)
    throw new Error(
      `xmllint is needed for the CAP schema test (apt-get install libxml2-utils): ${r.error.message}`,
    );
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

function expectValid(xml: string): void {
  assertValidCap(xml);
  const xsd = xsdCheck(xml);
  expect(xsd.output, 'xmllint --schema CAP-v1.2.xsd').toContain('validates');
  expect(xsd.ok).toBe(true);
}

type Node = Record<string, unknown>;
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  isArray: (n) => ['info', 'parameter', 'entry'].includes(n),
});
function parse(xml: string): Node {
  return parser.parse(xml) as Node;
}
function infos(xml: string): Node[] {
  return ((parse(xml).alert as Node).info ?? []) as Node[];
}
function params(info: Node): Record<string, string> {
  return Object.fromEntries((info.parameter as Node[]).map((p) => [String(p.valueName), String(p.value)]));
}

describe('capMessage: a new site outage', () => {
  const n = siteAlert(PUSKESMAS);
  const m = capMessage(n, OPTS);

  it('validates against the CAP 1.2 rules and the OASIS XSD', () => {
    expectValid(m.xml);
  });

  it('is an Alert from the sender, sent at the outage start in WITA, restricted to the agencies', () => {
    const a = parse(m.xml).alert as Node;
    expect(a['@xmlns']).toBe(CAP_NAMESPACE);
    expect(a.sender).toBe(SENDER);
    expect(a.sent).toBe('2026-11-23T10:15:00+08:00');
    expect(a.status).toBe('Actual');
    expect(a.msgType).toBe('Alert');
    expect(a.scope).toBe('Restricted');
    expect(a.restriction).toBe(DEFAULT_RESTRICTION);
    expect(a.references).toBeUndefined();
    expect(m.ref).toEqual({ sender: SENDER, identifier: a.identifier, sent: a.sent });
    expect(m.references).toEqual([]);
  });

  it("has an id-ID and an en-US info block with the incident's texts, place and circle", () => {
    const [id, en] = infos(m.xml);
    expect(id?.language).toBe('id-ID');
    expect(en?.language).toBe('en-US');
    for (const info of [id, en] as Node[]) {
      expect(info.category).toBe('Infra');
      expect([info.urgency, info.severity, info.certainty, info.responseType]).toEqual([
        'Immediate',
        'Severe',
        'Observed',
        'Monitor',
      ]);
      expect(info.onset).toBe('2026-11-23T10:15:00+08:00');
      expect(info.web).toBe('https://netmon.badungkab.go.id/sites/pkm-petang-1');
      expect(info.senderName).toBe('Dinas Kominfo Kabupaten Badung');
      expect((info.area as Node).circle).toBe('-8.300000,115.220000 0.5');
      expect(params(info)).toMatchObject({
        incidentId: n.id,
        siteId: 'pkm-petang-1',
        kecamatan: 'Petang',
        desa: 'Petang',
        category: 'puskesmas',
      });
    }
    expect(id?.description).toBe(n.text.id);
    expect(en?.description).toBe(n.text.en);
    expect(id?.headline).toBe('GANGGUAN: Puskesmas Petang I (Puskesmas, Kec. Petang) terputus');
    expect(en?.headline).toBe(
      'OUTAGE: Puskesmas Petang I (community health centre, Petang district) offline',
    );
    expect((id?.area as Node).areaDesc).toBe(
      'Puskesmas Petang I, Petang, Kecamatan Petang, Kabupaten Badung, Bali',
    );
    expect((en?.area as Node).areaDesc).toBe(
      'Puskesmas Petang I, Petang, Petang district, Badung regency, Bali',
    );
  });

  it('renders the same notification to the same bytes (a retry or a re-poll is a duplicate)', () => {
    expect(capAlert(n, OPTS)).toBe(m.xml);
  });
});

describe('capProfile: urgency, severity, certainty and response from the incident', () => {
  it.each([
    ['area outage', areaIncident(), ['Immediate', 'Severe', 'Observed', 'Monitor']],
    [
      'critical site (puskesmas)',
      siteAlert(siteOf('critical')),
      ['Immediate', 'Severe', 'Observed', 'Monitor'],
    ],
    ['high (kantor camat)', siteAlert(siteOf('high')), ['Immediate', 'Moderate', 'Observed', 'Monitor']],
    ['medium (school)', siteAlert(siteOf('medium')), ['Future', 'Minor', 'Observed', 'None']],
    ['low (banjar)', siteAlert(siteOf('low')), ['Future', 'Minor', 'Observed', 'None']],
    ['restored site', siteAlert(siteOf('critical'), 'resolved'), ['Past', 'Minor', 'Observed', 'AllClear']],
    ['restored area', areaIncident('resolved'), ['Past', 'Minor', 'Observed', 'AllClear']],
  ] as const)('%s', (_name, n, want) => {
    const p = capProfile(n);
    expect([p.urgency, p.severity, p.certainty, p.responseType]).toEqual(want);
    expectValid(capAlert(n, OPTS));
  });
});

describe('restoration and change', () => {
  const firing = siteAlert(PUSKESMAS);
  const alert = capMessage(firing, OPTS);

  it('a restoration is an Update with AllClear that references the original Alert', () => {
    const m = capMessage(siteAlert(PUSKESMAS, 'resolved'), { ...OPTS, prior: alert.ref });
    expectValid(m.xml);
    const a = parse(m.xml).alert as Node;
    expect(a.msgType).toBe('Update');
    expect(a.sent).toBe(capDateTime(T_END));
    expect(a.references).toBe(`${SENDER},${alert.ref.identifier},${alert.ref.sent}`);
    expect(infos(m.xml).map((i) => i.responseType)).toEqual(['AllClear', 'AllClear']);
    expect(m.ref.identifier).not.toBe(alert.ref.identifier);
  });

  it('without a remembered prior (after a restart) it references the same original, recomputed', () => {
    expect(originalRef(firing, OPTS)).toEqual(alert.ref);
    const m = capMessage(siteAlert(PUSKESMAS, 'resolved'), OPTS);
    expect(m.references).toEqual([alert.ref]);
  });

  it('a change to an open incident is an Update at its own time, referencing the original', () => {
    expect(() => capMessage(firing, { ...OPTS, prior: alert.ref })).toThrow(/needs sentMs/);
    const m = capMessage(firing, { ...OPTS, prior: alert.ref, sentMs: T0 + 600_000 });
    expectValid(m.xml);
    expect(m.msgType).toBe('Update');
    expect(m.ref.sent).toBe('2026-11-23T10:25:00+08:00');
    expect(m.references).toEqual([alert.ref]);
    expect(infos(m.xml).map((i) => i.responseType)).toEqual(['Monitor', 'Monitor']);
  });
});

describe('recovering and silenced outages', () => {
  const firing = siteAlert(PUSKESMAS);
  const alert = capMessage(firing, OPTS);
  const UP_AT = T0 + 22_000;
  const recovering = siteAlert(PUSKESMAS, 'firing', {
    recovery: { sinceMs: UP_AT, confirmAtMs: UP_AT + 120_000 },
  });

  it('a recovering outage is an Update, sent when it answered again, saying when it is confirmed', () => {
    const m = capMessage(recovering, OPTS);
    expectValid(m.xml);
    expect(m.msgType).toBe('Update');
    expect(m.ref.identifier).toMatch(/:recovering:20261123T021522Z$/);
    expect(m.ref.sent).toBe('2026-11-23T10:15:22+08:00');
    expect(m.references).toEqual([alert.ref]);
    const [id, en] = infos(m.xml);
    expect(id?.headline).toBe(
      'MEMULIH: Puskesmas Petang I (Puskesmas, Kec. Petang) terhubung lagi, dipastikan pukul 10:17 WITA, 23-11-2026',
    );
    expect(en?.headline).toBe(
      'RECOVERING: Puskesmas Petang I (community health centre, Petang district) back online, confirmed at 10:17 WITA, 23-11-2026',
    );
    expect(String(id?.description)).toMatch(
      /^MEMULIH: .*setelah gangguan 22 detik; dinyatakan pulih pukul 10:17 WITA/,
    );
    expect(String(en?.description)).toMatch(
      /^RECOVERING: .*after 22 s down; confirmed recovered at 10:17 WITA/,
    );
    expect(en?.urgency).toBe('Past');
    expect(en?.responseType).toBe('Monitor');
    expect(params(en!)).toMatchObject({
      recoveringSince: '2026-11-23T10:15:22+08:00',
      recoveryConfirmAt: '2026-11-23T10:17:22+08:00',
    });
    // The same message however often the feed is read.
    expect(capMessage(recovering, OPTS).xml).toBe(m.xml);
  });

  it('a silenced outage says who silenced it and until when, and that nobody was paged', () => {
    const silenced: Notification = {
      ...firing,
      silenced: {
        kind: 'silence',
        id: 'sil-1',
        reason: 'PLN padam / power cut',
        by: 'ops-1',
        until: new Date(T0 + 3 * 3600_000).toISOString(),
      },
    };
    const m = capMessage(silenced, OPTS);
    expectValid(m.xml);
    const [id, en] = infos(m.xml);
    expect(String(id?.description)).toMatch(
      /\nDibungkam oleh ops-1 sampai 13:15 WITA, 23-11-2026 \(PLN padam \/ power cut\): tidak ada petugas yang dipanggil\.$/,
    );
    expect(String(en?.description)).toMatch(
      /\nSilenced by ops-1 until 13:15 WITA, 23-11-2026 .*nobody was paged\.$/,
    );
    expect(String(en?.headline)).toMatch(/ \[silenced\]$/);
    expect(params(en!).silenced).toBe('silence sil-1 by ops-1 until 2026-11-23T13:15:00+08:00');
    // An ordinary outage carries none of it.
    expect(alert.xml).not.toMatch(/silenced|Dibungkam|RECOVERING/i);
  });
});

describe('area incidents', () => {
  it('draw a circle around the centroid of the sites that covers every one of them', () => {
    const n = areaIncident();
    const xml = capAlert(n, OPTS);
    expectValid(xml);
    const [id, en] = infos(xml);
    const circle = String((id?.area as Node).circle);
    const m = /^(-?[\d.]+),(-?[\d.]+) ([\d.]+)$/.exec(circle);
    expect(m, circle).not.toBeNull();
    const [lat, lon, r] = [Number(m?.[1]), Number(m?.[2]), Number(m?.[3])];
    const meanLat = PETANG_SITES.reduce((s, x) => s + (x.lat ?? 0), 0) / PETANG_SITES.length;
    const meanLon = PETANG_SITES.reduce((s, x) => s + (x.lon ?? 0), 0) / PETANG_SITES.length;
    expect(lat).toBeCloseTo(meanLat, 6);
    expect(lon).toBeCloseTo(meanLon, 6);
    for (const s of PETANG_SITES) {
      expect(haversineKm({ lat, lon }, { lat: s.lat ?? 0, lon: s.lon ?? 0 }) + 0.5).toBeLessThanOrEqual(r);
    }
    expect(r).toBeLessThan(10);
    expect((id?.area as Node).areaDesc).toBe('Kecamatan Petang, Kabupaten Badung, Bali');
    expect((en?.area as Node).areaDesc).toBe('Petang district, Badung regency, Bali');
    expect(params(id ?? {})).toMatchObject({ kecamatan: 'Petang', sitesDown: '5', sitesTotal: '58' });
    expect(id?.headline).toBe('GANGGUAN MASSAL: 5 dari 58 lokasi di Kec. Petang terputus');
  });

  it('without coordinates keep an area with its description and no circle', () => {
    const n = areaIncident(
      'firing',
      PETANG_SITES.map(({ lat: _lat, lon: _lon, ...s }) => s),
    );
    const xml = capAlert(n, OPTS);
    expectValid(xml);
    expect((infos(xml)[0]?.area as Node).circle).toBeUndefined();
  });

  it('a kecamatan with a space still gives identifiers without spaces', () => {
    const n: Notification = { ...areaIncident(), id: `area:Kuta Selatan@${new Date(T0).toISOString()}` };
    const m = capMessage(n, OPTS);
    expectValid(m.xml);
    expect(m.ref.identifier).toMatch(/^[^\s,<&]+$/);
    expect(m.ref.identifier).toContain('Kuta_Selatan');
  });
});

describe('escaping and options', () => {
  it('escapes markup in names and texts, and the text comes back unchanged', () => {
    const site = testSite('bjr-x', {
      name: 'Banjar "Tegal" & <Kaja> \'Kelod\'',
      kecamatan: 'Mengwi',
      desa: 'Kapal',
    });
    const n = siteAlert(site);
    const xml = capAlert(n, OPTS);
    expectValid(xml);
    expect(xml).not.toContain('& <Kaja>');
    const [id] = infos(xml);
    expect(params(id ?? {}).siteName).toBe('Banjar "Tegal" & <Kaja> \'Kelod\'');
    expect(id?.description).toBe(n.text.id);
  });

  it('drops characters XML 1.0 cannot carry', () => {
    const n = siteAlert(testSite('bjr-y', { name: 'Banjar\u0000 Bell\u0007' }));
    const xml = capAlert(n, OPTS);
    expectValid(xml);
    expect(xml).toContain('Banjar Bell');
  });

  it('scope Public has no restriction; status Exercise for drills; a contact when given', () => {
    const xml = capAlert(siteAlert(PUSKESMAS), {
      ...OPTS,
      scope: 'Public',
      status: 'Exercise',
      contact: '+62 361 000',
    });
    expectValid(xml);
    const a = parse(xml).alert as Node;
    expect([a.scope, a.restriction, a.status]).toEqual(['Public', undefined, 'Exercise']);
    expect(infos(xml)[1]?.contact).toBe('+62 361 000');
  });

  it('refuses a sender CAP cannot carry, and a notification without a start time', () => {
    expect(() => capAlert(siteAlert(PUSKESMAS), { sender: 'kominfo badung' })).toThrow(RangeError);
    expect(() => capAlert(siteAlert(PUSKESMAS), { sender: 'a,b' })).toThrow(/commas/);
    expect(() => capAlert({ ...siteAlert(PUSKESMAS), startedAt: 'yesterday' }, OPTS)).toThrow(/not a time/);
  });

  it('leaves out a web link that is not an absolute http(s) URL', () => {
    const xml = capAlert({ ...siteAlert(PUSKESMAS), link: '/sites/x' }, OPTS);
    expectValid(xml);
    expect(infos(xml)[0]?.web).toBeUndefined();
    const fallback = capAlert(
      { ...siteAlert(PUSKESMAS), link: undefined },
      { ...OPTS, web: 'https://bpbd.badungkab.go.id/' },
    );
    expect(infos(fallback)[0]?.web).toBe('https://bpbd.badungkab.go.id/');
  });

  it('capDateTime writes WITA with a numeric offset, whole seconds', () => {
    expect(capDateTime(Date.UTC(2026, 11, 31, 16, 0, 0, 999))).toBe('2027-01-01T00:00:00+08:00');
    expect(capDateTime(T0)).toBe('2026-11-23T10:15:00+08:00');
    expect(() => capDateTime(NaN)).toThrow(RangeError);
  });
});

describe('capAtomFeed: the index of current CAP messages', () => {
  const alertMsg = capMessage(siteAlert(PUSKESMAS), OPTS);
  const areaMsg = capMessage(areaIncident(), { ...OPTS, sentMs: T0 + 60_000, prior: undefined });
  const restored = capMessage(siteAlert(siteOf('low'), 'resolved'), OPTS);
  const url = (id: string) => `https://netmon.badungkab.go.id/feeds/cap/${encodeURIComponent(id)}.xml`;
  const xml = capAtomFeed([alertMsg, restored, areaMsg], {
    id: 'https://netmon.badungkab.go.id/feeds/cap.atom',
    title: 'badung-netmon: gangguan jaringan / network outages',
    selfUrl: 'https://netmon.badungkab.go.id/feeds/cap.atom',
    updatedMs: T_END,
    authorName: 'Dinas Kominfo Kabupaten Badung',
    messageUrl: (m) => url(m.ref.identifier),
  });
  const feed = parse(xml).feed as Node;
  const entries = feed.entry as Node[];

  it('is an Atom feed with the required feed members', () => {
    expect(feed['@xmlns']).toBe('http://www.w3.org/2005/Atom');
    expect(feed.id).toBe('https://netmon.badungkab.go.id/feeds/cap.atom');
    expect(feed.updated).toBe(capDateTime(T_END));
    expect((feed.author as Node).name).toBe('Dinas Kominfo Kabupaten Badung');
    expect((feed.link as Node)['@rel']).toBe('self');
  });

  it('lists one entry per message, newest first, each linking to its CAP document', () => {
    expect(entries.map((e) => e.id)).toEqual([
      url(restored.ref.identifier),
      url(areaMsg.ref.identifier),
      url(alertMsg.ref.identifier),
    ]);
    for (const e of entries) {
      const link = e.link as Node;
      expect(link['@rel']).toBe('alternate');
      expect(link['@type']).toBe('application/cap+xml');
      expect(link['@href']).toBe(e.id);
      expect(String(e.updated)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    }
    expect(entries[2]?.title).toBe(alertMsg.headline.id);
    expect(String(entries[2]?.summary)).toContain(alertMsg.headline.en);
  });

  it('escapes URLs in attributes', () => {
    const x = capAtomFeed([alertMsg], {
      id: 'urn:x',
      title: 't',
      selfUrl: 'https://h/feed?a=1&b="2"',
      updatedMs: T0,
      authorName: 'a',
      messageUrl: () => 'https://h/m?a=1&b=2',
    });
    expect(x).toContain('href="https://h/feed?a=1&amp;b=&quot;2&quot;"');
    expect(((parse(x).feed as Node).link as Node)['@href']).toBe('https://h/feed?a=1&b="2"');
  });
});

describe('the CAP validator rejects broken documents (so a passing test means something)', () => {
  const good = capAlert(siteAlert(PUSKESMAS), OPTS);
  const update = capAlert(siteAlert(PUSKESMAS, 'resolved'), OPTS);

  it('accepts the good ones, and a polygon area', () => {
    expect(validateCap(good).errors).toEqual([]);
    expect(validateCap(update).errors).toEqual([]);
    const poly = good.replace(
      /<circle>[^<]*<\/circle>/,
      '<polygon>-8.30,115.20 -8.30,115.25 -8.35,115.25 -8.30,115.20</polygon>',
    );
    expect(validateCap(poly).errors).toEqual([]);
    expect(xsdCheck(poly).ok).toBe(true);
  });

  const cases: [name: string, from: string, mutate: (x: string) => string, error: RegExp, xsdToo: boolean][] =
    [
      ['not well-formed', 'good', (x) => x.replace('</alert>', ''), /not well-formed/, true],
      [
        'wrong namespace (CAP 1.1)',
        'good',
        (x) => x.replace(':cap:1.2"', ':cap:1.1"'),
        /expected <alert> in urn/,
        true,
      ],
      [
        'missing identifier',
        'good',
        (x) => x.replace(/<identifier>[^<]*<\/identifier>/, ''),
        /missing required <identifier>/,
        true,
      ],
      [
        'missing scope',
        'good',
        (x) => x.replace(/<scope>[^<]*<\/scope>/, ''),
        /missing required <scope>/,
        true,
      ],
      [
        'sent in UTC with Z',
        'good',
        (x) => x.replace(/<sent>[^<]*</, '<sent>2026-11-23T02:15:00Z<'),
        /uses "Z"/,
        true,
      ],
      [
        'sent with fractions',
        'good',
        (x) => x.replace(/<sent>[^<]*</, '<sent>2026-11-23T10:15:00.000+08:00<'),
        /not YYYY/,
        true,
      ],
      [
        'sent without offset',
        'good',
        (x) => x.replace(/<sent>[^<]*</, '<sent>2026-11-23T10:15:00<'),
        /not YYYY/,
        true,
      ],
      [
        'sent not a date',
        'good',
        (x) => x.replace(/<sent>[^<]*</, '<sent>2026-02-30T10:15:00+08:00<'),
        /not a real date/,
        true,
      ],
      [
        'onset with Z',
        'good',
        (x) => x.replace(/<onset>[^<]*</, '<onset>2026-11-23T02:15:00Z<'),
        /onset: .*"Z"/,
        true,
      ],
      [
        'status outside the enumeration',
        'good',
        (x) => x.replace('<status>Actual<', '<status>Real<'),
        /"Real" is not one of/,
        true,
      ],
      [
        'msgType outside',
        'good',
        (x) => x.replace('<msgType>Alert<', '<msgType>Notice<'),
        /"Notice" is not one of/,
        true,
      ],
      [
        'scope outside',
        'good',
        (x) => x.replace('<scope>Restricted<', '<scope>Internal<'),
        /"Internal" is not one of/,
        true,
      ],
      [
        'category outside',
        'good',
        (x) => x.replace('<category>Infra<', '<category>Network<'),
        /"Network" is not one of/,
        true,
      ],
      [
        'responseType outside',
        'good',
        (x) => x.replace('<responseType>Monitor<', '<responseType>Watch<'),
        /"Watch" is not one of/,
        true,
      ],
      [
        'urgency outside',
        'good',
        (x) => x.replace('<urgency>Immediate<', '<urgency>Now<'),
        /"Now" is not one of/,
        true,
      ],
      [
        'severity outside',
        'good',
        (x) => x.replace('<severity>Severe<', '<severity>Critical<'),
        /"Critical" is not one of/,
        true,
      ],
      [
        'certainty outside',
        'good',
        (x) => x.replace('<certainty>Observed<', '<certainty>Sure<'),
        /"Sure" is not one of/,
        true,
      ],
      [
        'alert elements out of order',
        'good',
        (x) => x.replace(/(<identifier>[^<]*<\/identifier>)(\s*)(<sender>[^<]*<\/sender>)/, '$3$2$1'),
        /out of order/,
        true,
      ],
      [
        'info elements out of order',
        'good',
        (x) => x.replace(/(<urgency>[^<]*<\/urgency>)(\s*)(<severity>[^<]*<\/severity>)/, '$3$2$1'),
        /out of order/,
        true,
      ],
      [
        'an unknown element',
        'good',
        (x) => x.replace('<scope>', '<priority>1</priority><scope>'),
        /not a CAP 1.2 element/,
        true,
      ],
      [
        'a repeated event',
        'good',
        (x) => x.replace(/(<event>[^<]*<\/event>)/, '$1$1'),
        /occurs 2 times/,
        true,
      ],
      [
        'missing event',
        'good',
        (x) => x.replace(/<event>[^<]*<\/event>/g, ''),
        /missing required <event>/,
        true,
      ],
      [
        'missing areaDesc',
        'good',
        (x) => x.replace(/<areaDesc>[^<]*<\/areaDesc>/g, ''),
        /missing required <areaDesc>/,
        true,
      ],
      [
        'identifier with a space',
        'good',
        (x) => x.replace(/<identifier>/, '<identifier>a b'),
        /identifier: .*whitespace/,
        false,
      ],
      [
        'identifier with a comma',
        'good',
        (x) => x.replace(/<identifier>/, '<identifier>a,b'),
        /identifier: .*comma/,
        false,
      ],
      ['sender with &', 'good', (x) => x.replace(/<sender>/, '<sender>a&amp;b'), /sender: .*"&"/, false],
      [
        'Restricted without restriction',
        'good',
        (x) => x.replace(/<restriction>[^<]*<\/restriction>/, ''),
        /needs <restriction>/,
        false,
      ],
      [
        'Update without references',
        'update',
        (x) => x.replace(/<references>[^<]*<\/references>/, ''),
        /needs <references>/,
        false,
      ],
      [
        'references not triplets',
        'update',
        (x) => x.replace(/<references>[^<]*</, '<references>a,b<'),
        /not "sender,identifier,sent"/,
        false,
      ],
      [
        'references with a Z date',
        'update',
        (x) => x.replace(/<references>([^,<]*),([^,<]*),[^<]*</, '<references>$1,$2,2026-11-23T02:15:00Z<'),
        /references: .*"Z"/,
        false,
      ],
      [
        'circle without radius',
        'good',
        (x) => x.replace(/<circle>[^<]*</, '<circle>-8.3,115.22<'),
        /not "lat,lon radius"/,
        false,
      ],
      [
        'circle as "lat lon radius"',
        'good',
        (x) => x.replace(/<circle>[^<]*</, '<circle>-8.3 115.22 0.5<'),
        /not "lat,lon radius"/,
        false,
      ],
      [
        'circle latitude out of range',
        'good',
        (x) => x.replace(/<circle>[^<]*</, '<circle>-98.3,115.22 0.5<'),
        /latitude -98.3/,
        false,
      ],
      [
        'circle [lon,lat] swapped',
        'good',
        (x) => x.replace(/<circle>[^<]*</, '<circle>115.22,-8.3 0.5<'),
        /latitude 115.22/,
        false,
      ],
      [
        'circle negative radius',
        'good',
        (x) => x.replace(/<circle>[^<]*</, '<circle>-8.3,115.22 -1<'),
        /radius/,
        false,
      ],
      [
        'polygon of 3 pairs',
        'good',
        (x) => x.replace(/<circle>[^<]*<\/circle>/, '<polygon>-8.3,115.2 -8.3,115.3 -8.3,115.2</polygon>'),
        /at least 4/,
        false,
      ],
      [
        'polygon not closed',
        'good',
        (x) =>
          x.replace(
            /<circle>[^<]*<\/circle>/,
            '<polygon>-8.3,115.2 -8.3,115.3 -8.4,115.3 -8.4,115.2</polygon>',
          ),
        /not closed/,
        false,
      ],
      [
        'polygon pair malformed',
        'good',
        (x) =>
          x.replace(
            /<circle>[^<]*<\/circle>/,
            '<polygon>-8.3;115.2 -8.3,115.3 -8.4,115.3 -8.3;115.2</polygon>',
          ),
        /not "lat,lon"/,
        false,
      ],
      [
        'language not xs:language',
        'good',
        (x) => x.replace('<language>id-ID<', '<language>id_ID<'),
        /not xs:language/,
        true,
      ],
      [
        'relative web link',
        'good',
        (x) => x.replace(/<web>[^<]*</, '<web>/sites/x<'),
        /not an absolute URI/,
        false,
      ],
      [
        'ceiling without altitude',
        'good',
        (x) => x.replace(/(<circle>[^<]*<\/circle>)/, '$1<ceiling>100</ceiling>'),
        /needs <altitude>/,
        false,
      ],
    ];

  it.each(cases)('%s', (_name, from, mutate, error, xsdToo) => {
    const original = from === 'good' ? good : update;
    const bad = mutate(original);
    expect(bad, 'the mutation must change the document').not.toBe(original);
    const { errors } = validateCap(bad);
    expect(errors.join('\n')).toMatch(error);
    if (xsdToo) expect(xsdCheck(bad).ok, 'xmllint must reject it too').toBe(false);
  });

  it('warns on a headline of 160 characters or more', () => {
    const long = good.replace(/<headline>[^<]*</, `<headline>${'x'.repeat(170)}<`);
    const v = validateCap(long);
    expect(v.errors).toEqual([]);
    expect(v.warnings.join('\n')).toMatch(/< 160/);
  });
});
