/**
 * YAML documents with positions: parse once, then turn a path (`sites.3.devices.1.host`) into
 * `file:line:column`, so every config error says where it is. Also `${VAR}` / `${VAR:-default}`
 * expansion of string values, with the place and path of a missing variable.
 *
 * One parser, `yaml`: its nodes carry source ranges, so the document parsed once both gives the data and
 * answers `locate`. YAML 1.2 core schema; duplicate keys and unknown tags are errors.
 */
import { isMap, isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../collector/core/errors.ts';
import { keysOf, typeHint, unknownKeyMessage, valueAt, type KeysAt } from './hints.ts';

export interface YamlSource {
  readonly file: string;
  readonly data: unknown;
  /**
   * `file:line:col` of the deepest node of `path` that exists; with `key`, of the last key of the path
   * itself rather than its value (where an unknown key is written).
   */
  locate(path: readonly PropertyKey[], opts?: { readonly key?: boolean }): string;
}

export function dotted(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out || '(top level)';
}

const VAR_RE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

interface Located {
  readonly doc: Document;
  readonly at: (offset: number) => string;
}

function positioned(text: string, file: string): Located {
  const lc = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lc,
    uniqueKeys: true,
    prettyErrors: false,
    schema: 'core',
  });
  return {
    doc,
    at: (offset) => {
      const { line, col } = lc.linePos(offset);
      return `${file}:${line}:${col}`;
    },
  };
}

/** Parse YAML text; throws ConfigError naming line and column on a syntax error or a missing variable. */
export function parseYamlSource(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): YamlSource {
  const located = positioned(text, file);
  // An unknown tag (`!foo`) is only a warning to `yaml`; a config has none, so it is an error here too.
  const problem = located.doc.errors[0] ?? located.doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (problem)
    throw new ConfigError(
      located.at(problem.pos[0]),
      `invalid YAML: ${problem.message.split('\n')[0] ?? ''}`,
    );
  let data: unknown;
  try {
    data = located.doc.toJS();
  } catch (err) {
    // An alias without its anchor, or too many aliases (a "billion laughs" document): `yaml` finds these
    // only when it builds the data; point at the first unresolved alias when there is one.
    let at = file;
    visit(located.doc, {
      Alias: (_key, node) => {
        if (node.resolve(located.doc) !== undefined) return undefined;
        if (node.range) at = located.at(node.range[0]);
        return visit.BREAK;
      },
    });
    throw new ConfigError(at, `invalid YAML: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  const locate = (path: readonly PropertyKey[], opts?: { readonly key?: boolean }): string => {
    const keys = path.filter((k): k is string | number => typeof k === 'string' || typeof k === 'number');
    const last = keys.at(-1);
    if (opts?.key && last !== undefined) {
      const parent = located.doc.getIn(keys.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
        const range = isScalar(pair?.key) ? pair.key.range : undefined;
        if (range) return located.at(range[0]);
      }
    }
    for (let n = keys.length; n >= 0; n--) {
      const node = located.doc.getIn(keys.slice(0, n), true) as
        { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return located.at(node.range[0]);
    }
    return file;
  };
  const missing: string[] = [];
  data = expandVars(data, [], env, (name, path) => {
    if (missing.length < 20)
      missing.push(
        `${locate(path)}: ${dotted(path)}: \${${name}} is not set and has no default (write \${${name}:-default} or set it)`,
      );
  });
  if (missing.length > 0) throw new ConfigError(file, missing.join('\n  '));
  return { file, data, locate };
}

/** Replace `${VAR}` in every string value (not in keys); returns the same structure with new strings. */
function expandVars(
  v: unknown,
  path: PropertyKey[],
  env: NodeJS.ProcessEnv,
  onMissing: (name: string, path: readonly PropertyKey[]) => void,
): unknown {
  if (typeof v === 'string') {
    if (!v.includes('${')) return v;
    return v.replace(VAR_RE, (_m, name: string, def: string | undefined) => {
      const e = env[name];
      if (e !== undefined && e !== '') return e;
      if (def !== undefined) return def;
      onMissing(name, path);
      return '';
    });
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = expandVars(v[i], [...path, i], env, onMissing);
    return v;
  }
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = expandVars(o[k], [...path, k], env, onMissing);
    return o;
  }
  return v;
}

/** Validate with zod; all issues (up to 20) in one ConfigError, each with its place and path. */
export function validate<S extends z.ZodType>(src: YamlSource, schema: S, what: string): z.infer<S> {
  const r = schema.safeParse(src.data ?? {});
  if (r.success) return r.data;
  throw new ConfigError(
    src.file,
    `invalid ${what}:\n  ${formatIssues(src, r.error.issues, keysOf(schema)).join('\n  ')}`,
  );
}

/**
 * One line per issue: `file:line:col: path: message`, with a hint where one helps: the nearest allowed key
 * for an unknown one (given `keysAt`, the keys the schema allows there), how to write a value of the
 * expected type for a type error.
 */
export function formatIssues(
  src: YamlSource,
  issues: readonly z.core.$ZodIssue[],
  keysAt?: KeysAt,
): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      // One line per key, each at its own place, each with its own suggestion.
      const allowed = keysAt?.(issue.path, valueAt(src.data, issue.path));
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        lines.push(`${src.locate(path, { key: true })}: ${dotted(path)}: ${unknownKeyMessage(key, allowed)}`);
      }
      continue;
    }
    let msg = issue.message;
    if (issue.code === 'invalid_type') {
      const hint = typeHint(issue.expected, issue.path.at(-1), valueAt(src.data, issue.path));
      if (hint) msg = `${msg}; ${hint}`;
    }
    lines.push(`${src.locate(issue.path)}: ${dotted(issue.path)}: ${msg}`);
  }
  if (lines.length > 20) return [...lines.slice(0, 20), `... and ${lines.length - 20} more`];
  return lines;
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
