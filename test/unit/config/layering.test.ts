/**
 * The config layer is data: it may import the domain (collector/core, collector/alerting types, ...) but
 * never the HTTP layer, which imports the config's schemas instead (config/maintenance.ts, config/users.ts,
 * collector/core/api-tokens.ts). Read from the source, so a new import of collector/http fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CONFIG_DIR = join(import.meta.dirname, '../../../config');

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)].map((m) => m[1] ?? '');
}

describe('config layering', () => {
  const files = readdirSync(CONFIG_DIR).filter((f) => f.endsWith('.ts'));

  it('finds the config modules and their imports', () => {
    expect(files).toEqual(expect.arrayContaining(['monitor.ts', 'maintenance.ts', 'cross-check.ts']));
    expect(importsOf(join(CONFIG_DIR, 'monitor.ts'))).toContain('./maintenance.ts');
  });

  it.each(readdirSync(CONFIG_DIR).filter((f) => f.endsWith('.ts')))(
    'config/%s imports nothing of collector/http',
    (file) => {
      const http = importsOf(join(CONFIG_DIR, file)).filter((p) => p.includes('collector/http'));
      expect(http).toEqual([]);
    },
  );

  it('the HTTP layer takes the scope and maintenance schema from the config', () => {
    const http = join(CONFIG_DIR, '../collector/http');
    expect(importsOf(join(http, 'bodies.ts'))).toContain('../../config/maintenance.ts');
    expect(importsOf(join(http, 'scope-preview.ts'))).toContain('../../config/maintenance.ts');
  });
});
