/**
 * Sites from a planners' spreadsheet (CSV). Header row required; columns by name, case-insensitive, with
 * Indonesian aliases (nama, kategori, kecamatan, desa/kelurahan, lintang/bujur...). Decimal commas, a
 * byte-order mark and CRLF line ends are accepted. Every bad row is reported by row number and column with
 * the bad value and the fix; the good rows are kept.
 */
import { parse } from 'csv-parse/sync';
import { CATEGORY_INFO } from '../collector/core/categories.ts';
import {
  CATEGORIES,
  CRITICALITIES,
  type Category,
  type Criticality,
  type Site,
} from '../collector/core/types.ts';
import { BOUNDS } from './inventory.ts';

export interface CsvError {
  /** 1-based line of the spreadsheet (the header is row 1). */
  readonly row: number;
  readonly column: string;
  readonly message: string;
}

export interface CsvImport {
  readonly sites: Site[];
  readonly errors: CsvError[];
}

const ALIASES: Record<string, readonly string[]> = {
  id: ['id', 'site_id', 'kode', 'kode_lokasi'],
  name: ['name', 'nama', 'nama_lokasi'],
  category: ['category', 'kategori', 'jenis'],
  kecamatan: ['kecamatan', 'district'],
  desa: ['desa', 'kelurahan', 'desa_kelurahan', 'village'],
  lat: ['lat', 'latitude', 'lintang'],
  lon: ['lon', 'lng', 'longitude', 'bujur'],
  criticality: ['criticality', 'prioritas', 'kekritisan'],
  upstream: ['upstream', 'uplink', 'hulu'],
};
const REQUIRED = ['id', 'name', 'category', 'kecamatan', 'desa', 'lat', 'lon'] as const;
const ID_RE = /^[a-z0-9][a-z0-9._-]*$/;

const norm = (h: string): string =>
  h
    .trim()
    .toLowerCase()
    .replace(/[\s/-]+/g, '_');

export function importSitesCsv(text: string, source: string): CsvImport {
  const errors: CsvError[] = [];
  let rows: string[][];
  const body = text.replace(/^\uFEFF/, '');
  // Spreadsheets set to Indonesian write ';' between columns and ',' in numbers: take the header's delimiter.
  const firstLine = body.split(/\r?\n/, 1)[0] ?? '';
  const delimiter = firstLine.includes(';') ? ';' : ',';
  try {
    const parsed: unknown = parse(body, {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
      delimiter,
    });
    rows = parsed as string[][];
  } catch (err) {
    const e = err as { lines?: number; message?: string };
    return {
      sites: [],
      errors: [
        { row: e.lines ?? 0, column: '-', message: `${source}: not valid CSV: ${e.message ?? String(err)}` },
      ],
    };
  }
  const header = rows[0];
  if (!header)
    return {
      sites: [],
      errors: [{ row: 1, column: '-', message: `${source}: empty file; expected a header row` }],
    };
  const index = new Map<string, number>();
  header.forEach((h, i) => {
    const n = norm(h);
    for (const [key, names] of Object.entries(ALIASES))
      if (names.includes(n) && !index.has(key)) index.set(key, i);
  });
  const missing = REQUIRED.filter((k) => !index.has(k));
  if (missing.length > 0) {
    return {
      sites: [],
      errors: missing.map((k) => ({
        row: 1,
        column: k,
        message: `missing column '${k}' (accepted headers: ${ALIASES[k]?.join(', ')})`,
      })),
    };
  }
  const sites: Site[] = [];
  const seen = new Map<string, number>();
  rows.slice(1).forEach((cells, i) => {
    const row = i + 2;
    const get = (k: string): string => {
      const ix = index.get(k);
      return ix === undefined ? '' : (cells[ix] ?? '').trim();
    };
    const rowErrors: CsvError[] = [];
    const bad = (column: string, message: string): void => {
      rowErrors.push({ row, column, message });
    };
    const id = get('id');
    if (!ID_RE.test(id)) bad('id', `'${id}' is not a valid id: use lower-case letters, digits, dots, dashes`);
    else if (seen.has(id)) bad('id', `'${id}' is already used in row ${seen.get(id)}`);
    const name = get('name');
    if (!name) bad('name', 'empty: give the site a name');
    const catRaw = get('category').toLowerCase().replace(/\s+/g, '_');
    const category = (CATEGORIES as readonly string[]).includes(catRaw) ? (catRaw as Category) : undefined;
    if (!category)
      bad('category', `'${get('category')}' is not a category; expected one of ${CATEGORIES.join(', ')}`);
    const kecamatan = get('kecamatan');
    if (!kecamatan) bad('kecamatan', 'empty: name the kecamatan');
    const desa = get('desa');
    if (!desa) bad('desa', 'empty: name the desa or kelurahan');
    const coord = (k: 'lat' | 'lon', min: number, max: number): number => {
      const raw = get(k);
      const v = Number(raw.replace(',', '.'));
      if (raw === '' || !Number.isFinite(v))
        bad(k, `'${raw}' is not a number (write e.g. ${k === 'lat' ? '-8.55' : '115.17'})`);
      else if (v < min || v > max)
        bad(k, `${v} is outside ${min}..${max} (Bali${k === 'lat' ? '; south is negative' : ''})`);
      return v;
    };
    const lat = coord('lat', BOUNDS.latMin, BOUNDS.latMax);
    const lon = coord('lon', BOUNDS.lonMin, BOUNDS.lonMax);
    const critRaw = get('criticality').toLowerCase();
    if (critRaw && !(CRITICALITIES as readonly string[]).includes(critRaw)) {
      bad(
        'criticality',
        `'${critRaw}' is not a criticality; expected one of ${CRITICALITIES.join(', ')} (or leave empty)`,
      );
    }
    const upstream = get('upstream') || undefined;
    if (rowErrors.length > 0 || !category) {
      errors.push(...rowErrors);
      return;
    }
    seen.set(id, row);
    sites.push({
      id,
      name,
      category,
      kecamatan,
      desa,
      lat,
      lon,
      criticality: (critRaw as Criticality) || CATEGORY_INFO[category].criticality,
      upstream,
    });
  });
  // Upstreams must name a site of this file (or be fixed by hand when merging).
  const ids = new Set(sites.map((s) => s.id));
  for (const s of sites) {
    if (s.upstream && !ids.has(s.upstream)) {
      errors.push({
        row: seen.get(s.id) ?? 0,
        column: 'upstream',
        message: `'${s.upstream}' is not a site id in this file`,
      });
    }
  }
  return { sites, errors };
}

export function formatCsvError(source: string, e: CsvError): string {
  return `${source}: row ${e.row}, column ${e.column}: ${e.message}`;
}
