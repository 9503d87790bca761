import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCHEMA } from '../../../collector/sinks/schema.ts';
import { schemaMarkdown } from '../../../collector/sinks/schema-doc.ts';

describe('schema documentation', () => {
  it('lists every measurement and field', () => {
    const md = schemaMarkdown();
    for (const [m, spec] of Object.entries(SCHEMA)) {
      expect(md).toContain(`#### \`${m}\``);
      for (const f of Object.keys(spec.fields)) expect(md).toContain(`| \`${f}\` |`);
    }
  });

  it('the README carries the current schema (regenerate: npx tsx collector/sinks/schema-doc.ts)', () => {
    // Prettier pads the README's tables: compare without the padding.
    const squash = (t: string): string => t.replace(/ *\| */g, '|').replace(/-{3,}/g, '---');
    expect(squash(readFileSync('README.md', 'utf8'))).toContain(squash(schemaMarkdown()));
  });
});
