/**
 * YAML documents with positions: parse once, then turn a path (`sites.3.devices.1.host`) into
 * `file:line:column`, so every config error says where it is. Also `${VAR}` / `${VAR:-default}`
 * expansion of string values, with the path of a missing variable.
 */
import { LineCounter, isScalar, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../collector/core/errors.ts';

export interface YamlSource {
  readonly file: string;
  readonly data: unknown;
  /** `file:line:col` of the deepest node of `path` that exists. */
  locate(path: readonly PropertyKey[]): string;
}

export function dotted(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out || '(top level)';
}

const VAR_RE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Parse YAML text; throws ConfigError naming line and column on a syntax error. */
export function parseYamlSource(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): YamlSource {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number): string => {
    const { line, col } = lc.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  const yamlErr = doc.errors[0];
  if (yamlErr)
    throw new ConfigError(at(yamlErr.pos[0]), `invalid YAML: ${yamlErr.message.split('\n')[0] ?? ''}`);
  const missing: string[] = [];
  expandVars(doc, env, (name, offset) =>
    missing.push(
      `${at(offset)}: \${${name}} is not set and has no default (write \${${name}:-default} or set it)`,
    ),
  );
  if (missing.length > 0) throw new ConfigError(file, missing.join('\n  '));
  return {
    file,
    data: doc.toJS({ maxAliasCount: 1000 }) as unknown,
    locate(path) {
      const keys = path.filter((k): k is string | number => typeof k === 'string' || typeof k === 'number');
      for (let n = keys.length; n >= 0; n--) {
        const node = doc.getIn(keys.slice(0, n), true) as { range?: [number, number, number] } | undefined;
        if (node && typeof node === 'object' && node.range) return at(node.range[0]);
      }
      return file;
    },
  };
}

function expandVars(
  doc: Document,
  env: NodeJS.ProcessEnv,
  onMissing: (name: string, offset: number) => void,
): void {
  visit(doc, {
    Scalar(_key, node) {
      if (!isScalar(node) || typeof node.value !== 'string' || !node.value.includes('${')) return;
      node.value = node.value.replace(VAR_RE, (_m, name: string, def: string | undefined) => {
        const v = env[name];
        if (v !== undefined && v !== '') return v;
        if (def !== undefined) return def;
        onMissing(name, node.range?.[0] ?? 0);
        return '';
      });
    },
  });
}

/** Validate with zod; all issues (up to 20) in one ConfigError, each with its place and path. */
export function validate<S extends z.ZodType>(src: YamlSource, schema: S, what: string): z.infer<S> {
  const r = schema.safeParse(src.data ?? {});
  if (r.success) return r.data;
  throw new ConfigError(src.file, `invalid ${what}:\n  ${formatIssues(src, r.error.issues).join('\n  ')}`);
}

export function formatIssues(src: YamlSource, issues: readonly z.core.$ZodIssue[]): string[] {
  const out = issues.slice(0, 20).map((issue) => {
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
    const msg =
      issue.code === 'unrecognized_keys'
        ? `unknown key '${issue.keys.join("', '")}' (check the spelling; allowed keys are documented in config/README.md)`
        : issue.message;
    return `${src.locate(path)}: ${dotted(path)}: ${msg}`;
  });
  if (issues.length > 20) out.push(`... and ${issues.length - 20} more`);
  return out;
}

/** "90s", "500ms", "2m", "1h" or a number of milliseconds → ms. */
export function parseDuration(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(v);
  if (!m) return undefined;
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    m[2] as 'ms' | 's' | 'm' | 'h' | 'd'
  ];
  return Math.round(Number(m[1]) * mult);
}

/** "64MiB", "512KiB", "1GiB", "10MB" or a number of bytes → bytes. */
export function parseSize(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|KB|MB|GB)\s*$/.exec(v);
  if (!m) return undefined;
  const mult = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, KB: 1e3, MB: 1e6, GB: 1e9 }[m[2] as 'B'];
  return Math.round(Number(m[1]) * mult);
}
