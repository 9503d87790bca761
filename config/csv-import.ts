/**
 * Sites from a planners' spreadsheet (CSV). Header row required; columns by name, case-insensitive, with
 * Indonesian aliases (nama, kategori, kecamatan, desa/kelurahan, lintang/bujur...). Decimal commas, a
 * byte-order mark and CRLF line ends are accepted. Every bad row is reported by row number and column with
 * the bad value and the fix; the good rows are kept.
 */
import { parse } from 'csv-parse/sync';
import { isMap, isSeq, parseDocument, stringify, type YAMLMap } from 'yaml';
import { CATEGORY_INFO } from '../collector/core/categories.ts';
import {
  CATEGORIES,
  CRITICALITIES,
  type Category,
  type Criticality,
  type Site,
} from '../collector/core/types.ts';
import { ConfigError } from '../collector/core/errors.ts';
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
  /** The canonical columns the header had (id, name, ..., criticality?, upstream?). */
  readonly columns: readonly SiteColumn[];
}

export interface CsvImportOptions {
  /**
   * Site ids that exist outside the file (the inventory being merged into): an upstream may name them.
   * Without it, an upstream must name a site of the file.
   */
  readonly knownSiteIds?: ReadonlySet<string> | undefined;
}

export type SiteColumn =
  'id' | 'name' | 'category' | 'kecamatan' | 'desa' | 'lat' | 'lon' | 'criticality' | 'upstream';

const ALIASES: Record<SiteColumn, readonly string[]> = {
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

export function importSitesCsv(text: string, source: string, opts: CsvImportOptions = {}): CsvImport {
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
      columns: [],
      errors: [
        { row: e.lines ?? 0, column: '-', message: `${source}: not valid CSV: ${e.message ?? String(err)}` },
      ],
    };
  }
  const header = rows[0];
  if (!header)
    return {
      sites: [],
      columns: [],
      errors: [{ row: 1, column: '-', message: `${source}: empty file; expected a header row` }],
    };
  const index = new Map<SiteColumn, number>();
  header.forEach((h, i) => {
    const n = norm(h);
    for (const [key, names] of Object.entries(ALIASES) as [SiteColumn, readonly string[]][])
      if (names.includes(n) && !index.has(key)) index.set(key, i);
  });
  const columns = [...index.keys()];
  const missing = REQUIRED.filter((k) => !index.has(k));
  if (missing.length > 0) {
    return {
      sites: [],
      columns,
      errors: missing.map((k) => ({
        row: 1,
        column: k,
        message: `missing column '${k}' (accepted headers: ${ALIASES[k].join(', ')})`,
      })),
    };
  }
  const sites: Site[] = [];
  const seen = new Map<string, number>();
  rows.slice(1).forEach((cells, i) => {
    const row = i + 2;
    const get = (k: SiteColumn): string => {
      const ix = index.get(k);
      return ix === undefined ? '' : (cells[ix] ?? '').trim();
    };
    const rowErrors: CsvError[] = [];
    const bad = (column: string, message: string): void => {
      rowErrors.push({ row, column, message });
    };
    const id = get('id');
    if (!ID_RE.test(id))
      bad('id', `'${id}' is not a valid id: use lower-case letters, digits, dots, dashes or underscores`);
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
    if (upstream !== undefined && upstream === id)
      bad('upstream', `'${upstream}' is the row's own id; leave it empty`);
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
  // An upstream must name a kept site of this file or a known one; a row naming a rejected or unknown site
  // is rejected too (and so on, until every kept site's upstream exists), so what is written loads.
  const known = opts.knownSiteIds ?? new Set<string>();
  const rejectedRows = new Map<string, number>();
  for (const e of errors) {
    const idCell = rows[e.row - 1]?.[index.get('id') ?? -1]?.trim();
    if (idCell && !seen.has(idCell)) rejectedRows.set(idCell, e.row);
  }
  let kept = sites;
  for (;;) {
    const ids = new Set(kept.map((s) => s.id));
    const next = kept.filter((s) => {
      if (s.upstream === undefined || ids.has(s.upstream) || known.has(s.upstream)) return true;
      const row = seen.get(s.id) ?? 0;
      const why = rejectedRows.has(s.upstream)
        ? `'${s.upstream}' is the site of row ${rejectedRows.get(s.upstream)}, which was rejected; fix that row`
        : `'${s.upstream}' is not a site id in this file${opts.knownSiteIds ? ' or the inventory' : ''}; expected the id of the site this one reaches the internet through`;
      errors.push({ row, column: 'upstream', message: why });
      rejectedRows.set(s.id, row);
      return false;
    });
    if (next.length === kept.length) break;
    kept = next;
  }
  errors.sort((a, b) => a.row - b.row);
  return { sites: kept, errors, columns };
}

export function formatCsvError(source: string, e: CsvError): string {
  return `${source}: row ${e.row}, column ${e.column}: ${e.message}`;
}

function siteFields(s: Site): Record<string, unknown> {
  const o: Record<string, unknown> = {
    id: s.id,
    name: s.name,
    category: s.category,
    kecamatan: s.kecamatan,
    desa: s.desa,
    lat: s.lat,
    lon: s.lon,
  };
  // The category's default is left implicit, so a later change of defaults reaches these sites too.
  if (s.criticality !== CATEGORY_INFO[s.category].criticality) o.criticality = s.criticality;
  if (s.upstream !== undefined) o.upstream = s.upstream;
  return o;
}

/**
 * The imported sites as inventory YAML: a fragment of sites without devices, or, given the text of an
 * inventory, that inventory with the sites merged in by id. A merged site keeps its devices and every key
 * the CSV has no column for; an optional column (criticality, upstream) that is present but empty for the
 * row removes the key. The rest of the document (comments, flow style, other sites) is left as it was.
 */
export function sitesToInventoryYaml(
  imported: Pick<CsvImport, 'sites' | 'columns'>,
  mergeInto?: { readonly text: string; readonly source: string },
): string {
  if (mergeInto === undefined)
    return stringify(
      { sites: imported.sites.map((s) => ({ ...siteFields(s), devices: [] })) },
      { lineWidth: 0 },
    );
  const doc = parseDocument(mergeInto.text);
  if (doc.errors.length > 0)
    throw new ConfigError(mergeInto.source, `invalid YAML: ${doc.errors[0]?.message.split('\n')[0] ?? ''}`);
  let seq = doc.get('sites', true);
  if (!isSeq(seq)) {
    seq = doc.createNode([]);
    doc.set('sites', seq);
  }
  if (!isSeq(seq)) throw new ConfigError(mergeInto.source, 'sites: expected a list');
  const byId = new Map<string, YAMLMap>();
  for (const item of seq.items) {
    const id: unknown = isMap(item) ? item.get('id') : undefined;
    if (isMap(item) && typeof id === 'string') byId.set(id, item);
  }
  for (const s of imported.sites) {
    const fields = siteFields(s);
    const node = byId.get(s.id);
    if (!node) {
      seq.items.push(doc.createNode({ ...fields, devices: [] }));
      continue;
    }
    for (const [k, v] of Object.entries(fields)) node.set(k, v);
    for (const k of ['criticality', 'upstream'] as const)
      if (imported.columns.includes(k) && !(k in fields)) node.delete(k);
  }
  return doc.toString({ lineWidth: 0 });
}
