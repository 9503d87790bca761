/**
 * Imports sites from a planners' CSV into inventory YAML.
 *
 *   npx tsx scripts/import-sites.ts sites.csv --out sites.yaml [--merge inventory.yaml]
 *
 * Bad rows are printed to stderr by row and column; the good rows are written; the exit code is 1 when any
 * row was bad, 0 otherwise. With --merge, the sites are added to (or replace by id) those of an inventory.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseDocument, stringify } from 'yaml';
import { formatCsvError, importSitesCsv } from '../config/csv-import.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string' }, merge: { type: 'string' } },
});
const file = positionals[0];
if (!file || !values.out) {
  console.error('usage: scripts/import-sites.ts FILE.csv --out FILE.yaml [--merge INVENTORY.yaml]');
  process.exit(2);
}
const { sites, errors } = importSitesCsv(readFileSync(file, 'utf8'), file);
for (const e of errors) console.error(formatCsvError(file, e));

const plain = sites.map((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)));
let out: string;
if (values.merge) {
  const doc = parseDocument(readFileSync(values.merge, 'utf8'));
  const existing = ((doc.toJS() as { sites?: Record<string, unknown>[] }).sites ?? []).map(
    (s) => [String(s.id), s] as const,
  );
  const byId = new Map<string, Record<string, unknown>>(existing);
  for (const s of plain) {
    const old = byId.get(String(s.id));
    byId.set(String(s.id), { ...old, ...s, devices: old?.devices ?? [] });
  }
  doc.set('sites', [...byId.values()]);
  out = doc.toString({ lineWidth: 0 });
} else {
  out = stringify({ sites: plain.map((s) => ({ ...s, devices: [] })) }, { lineWidth: 0 });
}
writeFileSync(values.out, out);
console.log(`${file}: ${sites.length} site(s) imported into ${values.out}, ${errors.length} error(s)`);
process.exitCode = errors.length > 0 ? 1 : 0;
