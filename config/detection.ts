/**
 * The vendor detection table (config/detect.yaml): which profile `profile: auto` polls a device with,
 * from its sysObjectID, its sysDescr and, where those are shared by several products, one OID it answers.
 * Kept as data; validated completely at load (unknown keys, bad OIDs and regular expressions, profiles
 * that do not exist), with errors naming the file, the line and the fix. Matching is in
 * collector/sources/snmp/detect.ts.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../collector/core/errors.ts';
import { PROFILE_NAMES, oid, regex } from './profiles.ts';

export const DEFAULT_DETECT_FILE = fileURLToPath(new URL('./detect.yaml', import.meta.url));

const ruleSchema = z
  .strictObject({
    vendor: z.string().min(1),
    profile: z.enum(PROFILE_NAMES, { message: `expected one of ${PROFILE_NAMES.join(', ')}` }),
    sysObjectID: oid.optional(),
    sysDescr: regex.min(1).optional(),
    has: oid.optional(),
  })
  .refine((r) => r.sysObjectID !== undefined || r.sysDescr !== undefined, {
    message: 'a rule needs sysObjectID or sysDescr (has: alone would probe every device)',
  });

const fileSchema = z.strictObject({ rules: z.array(ruleSchema).min(1) });

export interface DetectionRule {
  readonly vendor: string;
  readonly profile: string;
  readonly sysObjectID?: string | undefined;
  readonly sysDescr?: RegExp | undefined;
  readonly has?: string | undefined;
  /** Position in the file (1-based), shown by scripts/detect.ts. */
  readonly line: number;
}

/** The rules in the order they are tried (see detect.yaml's header). */
export type DetectionTable = readonly DetectionRule[];

/** Validate and order a detection table (pure: no file I/O). */
export function parseDetectionTable(file: string, text: string): DetectionTable {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const yamlErr = doc.errors[0];
  if (yamlErr)
    throw new ConfigError(`${file}:${lc.linePos(yamlErr.pos[0]).line}`, `invalid YAML: ${yamlErr.message}`);
  const lineOf = (path: readonly PropertyKey[]): number => {
    const keys = path.filter((k): k is string | number => typeof k === 'string' || typeof k === 'number');
    for (let n = keys.length; n >= 0; n--) {
      const node = doc.getIn(keys.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return lc.linePos(node.range[0]).line;
    }
    return 1;
  };
  const parsed = fileSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path =
      issue?.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : (issue?.path ?? []);
    const hint =
      issue?.code === 'unrecognized_keys' ? ' (allowed: vendor, profile, sysObjectID, sysDescr, has)' : '';
    throw new ConfigError(
      `${file}:${lineOf(path)}`,
      `${path.map(String).join('.') || '(top level)'}: ${issue?.message ?? 'invalid'}${hint}`,
    );
  }
  const rules: DetectionRule[] = parsed.data.rules.map((r, i) => ({
    vendor: r.vendor,
    profile: r.profile,
    sysObjectID: r.sysObjectID,
    sysDescr: r.sysDescr === undefined ? undefined : new RegExp(r.sysDescr, 'i'),
    has: r.has,
    line: lineOf(['rules', i]),
  }));
  const depth = (r: DetectionRule): number => r.sysObjectID?.split('.').length ?? 0;
  const conditions = (r: DetectionRule): number =>
    Number(r.sysObjectID !== undefined) + Number(r.sysDescr !== undefined) + Number(r.has !== undefined);
  // Enterprise prefixes first, longest first, the more specific rule first among equals; then sysDescr
  // alone, in file order (Array.prototype.sort is stable).
  return rules.sort((a, b) => depth(b) - depth(a) || conditions(b) - conditions(a));
}

export function loadDetectionTable(file: string = DEFAULT_DETECT_FILE): DetectionTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, 'cannot read the detection table', { cause: err });
  }
  return parseDetectionTable(relative(process.cwd(), file) || file, text);
}
