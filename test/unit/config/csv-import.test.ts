import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importSitesCsv, sitesToInventoryYaml } from '../../../config/csv-import.ts';
import { parseInventory } from '../../../config/inventory.ts';

const CSV = [
  'ID;Nama;Kategori;Kecamatan;Desa;Lintang;Bujur;Prioritas',
  'sd-kuta-1;SD Negeri 1 Kuta;sd;Kuta;Kuta;-8,7181;115,1702;',
  'pkm-x;Puskesmas X;sekolah;Kuta;Kuta;-8.7;115.17;',
  'bjr-1;Banjar Satu;banjar;Mengwi;Kapal;115.17;-8.55;',
  'bjr-2;Banjar Dua;banjar;Mengwi;Kapal;-8.55;115.17;urgent',
  'sd-kuta-1;Dup;sd;Kuta;Kuta;-8.7;115.17;',
  'ow-1;Pantai Kuta;obyek_wisata;Kuta;Kuta;-8.72;115.168;high',
].join('\r\n');

const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'scripts/import-sites.ts', ...args], { encoding: 'utf8' });

describe('CSV import', () => {
  it('keeps good rows and reports bad ones by row and column with the fix', () => {
    const r = importSitesCsv('\uFEFF' + CSV, 'sites.csv');
    expect(r.sites.map((s) => [s.id, s.lat, s.lon, s.criticality])).toEqual([
      ['sd-kuta-1', -8.7181, 115.1702, 'medium'],
      ['ow-1', -8.72, 115.168, 'high'],
    ]);
    const errs = r.errors.map((e) => `${e.row}:${e.column}: ${e.message}`);
    expect(errs).toEqual([
      expect.stringMatching(/^3:category: 'sekolah' is not a category; expected one of kantor_camat/),
      expect.stringMatching(/^4:lat: 115\.17 is outside -9\.\.-8/),
      expect.stringMatching(/^4:lon: -8\.55 is outside/),
      expect.stringMatching(/^5:criticality: 'urgent' is not a criticality/),
      expect.stringMatching(/^6:id: 'sd-kuta-1' is already used in row 2/),
    ]);
  });

  it('a missing column is reported with the headers it accepts', () => {
    const r = importSitesCsv('id,name,category,kecamatan,desa,lat\nx,X,sd,Kuta,Kuta,-8.7\n', 'sites.csv');
    expect(r.sites).toEqual([]);
    expect(r.errors[0]).toMatchObject({ row: 1, column: 'lon' });
    expect(r.errors[0]?.message).toMatch(/accepted headers: lon, lng, longitude, bujur/);
  });

  it('the CLI writes the good rows as inventory YAML and exits 1 when rows were bad', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netmon-csv-'));
    try {
      writeFileSync(join(dir, 'sites.csv'), CSV);
      const r = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          'scripts/import-sites.ts',
          join(dir, 'sites.csv'),
          '--out',
          join(dir, 'sites.yaml'),
        ],
        { encoding: 'utf8' },
      );
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/sites\.csv: row 3, column category: 'sekolah' is not a category/);
      const inv = parseInventory(readFileSync(join(dir, 'sites.yaml'), 'utf8'), 'sites.yaml');
      expect(inv.sites.map((s) => s.id)).toEqual(['sd-kuta-1', 'ow-1']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads comma-separated files with quoted decimal commas and LF line ends', () => {
    const r = importSitesCsv(
      'Nama,ID,Kategori,Kecamatan,Kelurahan,Lintang,Bujur,Hulu\n' +
        '"Lingkungan Kuta Kaja",lkg-kuta-1,lingkungan,Kuta,Kuta,"-8,7181","115,1702",klr-kuta\n' +
        'Kantor Lurah Kuta,klr-kuta,kantor_lurah,Kuta,Kuta,-8.72,115.17,\n',
      'sites.csv',
    );
    expect(r.errors).toEqual([]);
    expect(r.sites.map((s) => [s.id, s.name, s.lat, s.lon, s.upstream, s.criticality])).toEqual([
      ['lkg-kuta-1', 'Lingkungan Kuta Kaja', -8.7181, 115.1702, 'klr-kuta', 'low'],
      ['klr-kuta', 'Kantor Lurah Kuta', -8.72, 115.17, undefined, 'medium'],
    ]);
  });

  it('--merge updates sites of an inventory by id, keeps their devices and adds the new ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netmon-csv-'));
    try {
      writeFileSync(
        join(dir, 'inv.yaml'),
        [
          'credentials: { c: { version: 2c, community: public } }',
          'defaults: { credentials: c }',
          'sites:',
          '  - { id: sd-kuta-1, name: Old name, category: sd, kecamatan: Kuta, desa: Kuta, lat: -8.7, lon: 115.17,',
          '      devices: [{ id: sd-kuta-1-rtr, role: router, host: 127.0.0.1 }] }',
          '',
        ].join('\n'),
      );
      writeFileSync(
        join(dir, 'sites.csv'),
        'id,name,category,kecamatan,desa,lat,lon\nsd-kuta-1,SD Negeri 1 Kuta,sd,Kuta,Kuta,-8.7181,115.1702\n' +
          'ow-1,Pantai Kuta,obyek_wisata,Kuta,Kuta,-8.72,115.168\n',
      );
      const out = join(dir, 'merged.yaml');
      const r = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          'scripts/import-sites.ts',
          join(dir, 'sites.csv'),
          '--merge',
          join(dir, 'inv.yaml'),
          '--out',
          out,
        ],
        { encoding: 'utf8' },
      );
      expect(r.stderr).not.toMatch(/row \d/);
      expect(r.status).toBe(0);
      const inv = parseInventory(readFileSync(out, 'utf8'), 'merged.yaml', {});
      expect(inv.sites.map((s) => [s.id, s.name])).toEqual([
        ['sd-kuta-1', 'SD Negeri 1 Kuta'],
        ['ow-1', 'Pantai Kuta'],
      ]);
      expect(inv.devices.map((d) => d.id)).toEqual(['sd-kuta-1-rtr']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a row whose upstream is unknown or a rejected row, and the rows behind it in turn', () => {
    const r = importSitesCsv(
      [
        'id,name,category,kecamatan,desa,lat,lon,upstream',
        'kds-a,Kantor Desa A,kantor_desa,Mengwi,A,-8.55,115.17,',
        'kds-b,Kantor Desa B,kantor desa,Mengwi,B,-8.55,115.17,', // category with a space: accepted
        'kds-c,Kantor Desa C,kantor,Mengwi,C,-8.55,115.17,', // bad category
        'bjr-c-1,Banjar C 1,banjar,Mengwi,C,-8.55,115.17,kds-c', // behind the rejected row 4
        'bjr-c-2,Banjar C 2,banjar,Mengwi,C,-8.55,115.17,bjr-c-1', // behind row 5
        'bjr-a-1,Banjar A 1,banjar,Mengwi,A,-8.55,115.17,kds-a',
        'bjr-x-1,Banjar X 1,banjar,Mengwi,X,-8.55,115.17,kds-x', // unknown
        'bjr-y-1,Banjar Y 1,banjar,Mengwi,Y,-8.55,115.17,bjr-y-1', // itself
        'bjr-k-1,Banjar K 1,banjar,Mengwi,K,-8.55,115.17,kds-known',
      ].join('\n'),
      'sites.csv',
      { knownSiteIds: new Set(['kds-known']) },
    );
    expect(r.sites.map((s) => s.id)).toEqual(['kds-a', 'kds-b', 'bjr-a-1', 'bjr-k-1']);
    expect(r.errors.map((e) => `${e.row}:${e.column}: ${e.message}`)).toEqual([
      expect.stringMatching(/^4:category: 'kantor' is not a category/),
      "5:upstream: 'kds-c' is the site of row 4, which was rejected; fix that row",
      "6:upstream: 'bjr-c-1' is the site of row 5, which was rejected; fix that row",
      expect.stringMatching(
        /^8:upstream: 'kds-x' is not a site id in this file or the inventory; expected the id/,
      ),
      "9:upstream: 'bjr-y-1' is the row's own id; leave it empty",
    ]);
    expect(r.columns).toContain('upstream');
    expect(r.columns).not.toContain('criticality');
  });

  it('merging keeps comments, layout, devices and the keys the CSV has no column for', () => {
    const inventory = [
      '# Badung sites (kept by hand)',
      'sites:',
      '  # the school',
      '  - { id: sd-1, name: Old, category: sd, kecamatan: Kuta, desa: Kuta, lat: -8.7, lon: 115.17, criticality: high, upstream: kds-1,',
      '      devices: [{ id: sd-1-rtr, role: router, host: 127.0.0.1, credentials: c }] }',
      '  - id: kds-1',
      '    name: Kantor Desa Satu',
      '    category: kantor_desa',
      '    kecamatan: Kuta',
      '    desa: Kuta',
      '    lat: -8.7',
      '    lon: 115.17',
      'credentials: { c: { version: 2c, community: "${COMMUNITY}" } }',
      '',
    ].join('\n');
    const imported = importSitesCsv(
      'id,nama,kategori,kecamatan,desa,lat,lon,hulu\nsd-1,SD Negeri 1 Kuta,sd,Kuta,Kuta,-8.71,115.171,\n',
      'sites.csv',
    );
    const merged = sitesToInventoryYaml(imported, { text: inventory, source: 'inv.yaml' });
    expect(merged).toContain('# Badung sites (kept by hand)');
    expect(merged).toContain('# the school');
    expect(merged).toContain('community: "${COMMUNITY}"');
    const inv = parseInventory(merged, 'merged.yaml', { COMMUNITY: 'public' });
    // upstream: the column is there and empty, so it is removed; criticality: no column, kept.
    expect(inv.sites.find((s) => s.id === 'sd-1')).toMatchObject({
      name: 'SD Negeri 1 Kuta',
      lat: -8.71,
      criticality: 'high',
      upstream: undefined,
    });
    expect(inv.devices.map((d) => d.id)).toEqual(['sd-1-rtr']);
    expect(inv.sites.map((s) => s.id)).toEqual(['sd-1', 'kds-1']);
  });

  it('the CLI refuses a merge that would not load: nothing written, exit 1, the inventory error printed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netmon-csv-'));
    try {
      writeFileSync(
        join(dir, 'inv.yaml'),
        'sites:\n  - { id: kds-1, name: K, category: kantor_desa, kecamatan: Kuta, desa: Kuta, lat: -8.7, lon: 115.17, upstream: bjr-1 }\n' +
          '  - { id: bjr-1, name: B, category: banjar, kecamatan: Kuta, desa: Kuta, lat: -8.7, lon: 115.17 }\n',
      );
      // bjr-1 behind kds-1 while kds-1 is behind bjr-1: a cycle only the merged inventory shows.
      writeFileSync(
        join(dir, 'sites.csv'),
        'id,name,category,kecamatan,desa,lat,lon,upstream\nbjr-1,B,banjar,Kuta,Kuta,-8.7,115.17,kds-1\n',
      );
      const out = join(dir, 'out.yaml');
      const r = cli(join(dir, 'sites.csv'), '--merge', join(dir, 'inv.yaml'), '--out', out);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        /out\.yaml:\d+:\d+: sites\[0\]\.upstream: upstream cycle: kds-1 → bjr-1 → kds-1/,
      );
      expect(readdirSync(dir).sort()).toEqual(['inv.yaml', 'sites.csv']);
      // A missing input is a usage problem (exit 2), not a stack trace.
      const missing = cli(join(dir, 'nope.csv'), '--out', out);
      expect(missing.status).toBe(2);
      expect(missing.stderr).toMatch(/nope\.csv: cannot read \(ENOENT\)/);
      expect(cli(join(dir, 'sites.csv')).stderr).toMatch(
        /^import-sites: --out FILE\.yaml is required\nusage: /,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
