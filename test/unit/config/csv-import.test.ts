import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importSitesCsv } from '../../../config/csv-import.ts';
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
});
