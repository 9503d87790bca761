/** The InfluxDB schema as Markdown, for the README (a test keeps the README in step with SCHEMA). */
import { SCHEMA, type MeasurementSpec } from './schema.ts';

export function schemaMarkdown(): string {
  const out: string[] = [];
  for (const [name, spec] of Object.entries(SCHEMA as Record<string, MeasurementSpec>)) {
    out.push(
      `#### \`${name}\``,
      '',
      spec.description,
      '',
      `Tags: ${spec.tags.map((t) => `\`${t}\``).join(', ')}`,
      '',
    );
    out.push('| field | type | unit | meaning |', '|---|---|---|---|');
    for (const [f, fs] of Object.entries(spec.fields))
      out.push(`| \`${f}\` | ${fs.type} | ${fs.unit} | ${fs.description} |`);
    out.push('');
  }
  return out.join('\n').trimEnd();
}

// `npx tsx collector/sinks/schema-doc.ts` prints it.
if (import.meta.url === `file://${process.argv[1] ?? ''}`) console.log(schemaMarkdown());
