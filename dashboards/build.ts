/**
 * Writes the dashboard JSON from the builders (dashboards/src/) into dashboards/json/, which Grafana's
 * provisioning loads. The JSON is committed; test/unit/dashboards/drift.test.ts fails when it differs.
 *
 *   npx tsx dashboards/build.ts           write
 *   npx tsx dashboards/build.ts --check   exit 1 and name the files that differ
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandArgs } from '../scripts/lib/cli.ts';
import { DASHBOARDS, dashboardJson } from './src/index.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'json');
const { check } = parseCommandArgs(
  'dashboards/build',
  'usage: dashboards/build.ts [--check]\n\n  (none)      write dashboards/json/ from the builders\n  --check     exit 1 and name the files that differ from their builders\n  -h, --help  this text',
  { check: { type: 'boolean', default: false } },
);
let stale = 0;
mkdirSync(dir, { recursive: true });
for (const d of DASHBOARDS) {
  const path = join(dir, d.file);
  const json = dashboardJson(d.build());
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    // not written yet
  }
  if (current === json) continue;
  if (check) {
    console.error(`${path} differs from its builder: run npx tsx dashboards/build.ts`);
    stale++;
  } else {
    writeFileSync(path, json);
    console.log(`wrote ${path}`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
