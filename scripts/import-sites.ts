/**
 * Imports sites from a planners' CSV into inventory YAML.
 *
 *   npx tsx scripts/import-sites.ts sites.csv --out sites.yaml [--merge inventory.yaml]
 *
 * Bad rows are printed to stderr by row and column; the good rows are written; the exit code is 1 when any
 * row was bad, 0 otherwise, 2 on a usage error or an unreadable file. With --merge, the sites are added to
 * (or update by id) those of an inventory, which keeps its devices, comments and layout. What is written is
 * validated as an inventory first: if it would not load, nothing is written and the error is printed.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ConfigError, errorMessage } from '../collector/core/errors.ts';
import { formatCsvError, importSitesCsv, sitesToInventoryYaml } from '../config/csv-import.ts';
import { parseInventory } from '../config/inventory.ts';
import { parseCommandLine, usageError } from './lib/cli.ts';

const COMMAND = 'import-sites';
const usage = `usage: scripts/import-sites.ts FILE.csv --out FILE.yaml [--merge INVENTORY.yaml]

  FILE.csv               the planners' sites (one row a site; bad rows are reported by row and column)
  --out FILE.yaml        where to write the sites as inventory YAML
  --merge INVENTORY.yaml add to (or update by id) the sites of this inventory, keeping its devices
  -h, --help             this text

Exit 0: all rows good; 1: some rows bad (the good ones are written); 2: usage error or unreadable file.`;
const { values, positionals } = parseCommandLine(COMMAND, usage, {
  out: { type: 'string' },
  merge: { type: 'string' },
});
const file = positionals[0];
const out = values.out;
if (!file || positionals.length > 1) usageError(COMMAND, usage, 'give exactly one FILE.csv');
if (!out) usageError(COMMAND, usage, '--out FILE.yaml is required');

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    console.error(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`);
    process.exit(2);
  }
}

// The output keeps its ${VAR} references; validating it must not need the secrets they stand for.
const placeholders = new Proxy(process.env, {
  get: (env, name) => (typeof name === 'string' ? env[name] || 'placeholder-for-validation' : undefined),
});

function check<T>(what: () => T): T {
  try {
    return what();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}

const merge = values.merge === undefined ? undefined : { text: read(values.merge), source: values.merge };
const known = merge && check(() => parseInventory(merge.text, merge.source, placeholders));
const imported = importSitesCsv(read(file), file, {
  knownSiteIds: known && new Set(known.sites.map((s) => s.id)),
});
for (const e of imported.errors) console.error(formatCsvError(file, e));

const yaml = check(() => {
  const text = sitesToInventoryYaml(imported, merge);
  parseInventory(text, out, placeholders);
  return text;
});
const tmp = `${out}.${process.pid}.tmp`;
writeFileSync(tmp, yaml);
renameSync(tmp, out);
console.log(
  `${file}: ${imported.sites.length} site(s) ${merge ? `merged into ${merge.source}, written to` : 'written to'} ${out}, ${new Set(imported.errors.map((e) => e.row)).size} bad row(s)`,
);
process.exitCode = imported.errors.length > 0 ? 1 : 0;
