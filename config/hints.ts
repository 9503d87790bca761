/**
 * Hints for config errors: which key was probably meant (`intervall` -> `interval`) and how to write a
 * value of the right type (`retries: "1"` -> write it without quotes). Pure: a schema, a path and the value
 * found there in, text out. config/yaml-source.ts puts them after zod's message.
 */
import type { z } from 'zod';

/** Optimal string alignment distance (Damerau-Levenshtein where a transposition counts once). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, at(i - 2, j - 2) + 1);
      d[i * cols + j] = v;
    }
  }
  return at(a.length, b.length);
}

/**
 * The allowed key closest to `key`, when it is close enough to be a typo: case is ignored, and at most one
 * edit per three characters (at least one, at most three) is allowed. Ties go to the first allowed key.
 * Failing that, a key of three or more letters that `key` starts with (`lattitude` -> `lat`).
 */
export function nearestKey(key: string, allowed: readonly string[]): string | undefined {
  const k = key.toLowerCase();
  const limit = Math.min(3, Math.max(1, Math.floor(k.length / 3)));
  let best: string | undefined;
  let bestD = Infinity;
  for (const candidate of allowed) {
    if (candidate === key) continue;
    const dist = editDistance(k, candidate.toLowerCase());
    if (dist <= limit && dist < bestD) {
      best = candidate;
      bestD = dist;
    }
  }
  if (best) return best;
  // A long form of a short key: `latitude`/`lattitude` for `lat`, `longitude` for `lon`.
  return allowed.find((c) => c.length >= 3 && c !== key && k.startsWith(c.toLowerCase()));
}

/** Where the keys allowed at a path come from: a schema, or a function for documents validated in pieces. */
export type KeysAt = (path: readonly PropertyKey[], data: unknown) => readonly string[] | undefined;

interface Def {
  readonly type: string;
  readonly shape?: Record<string, z.ZodType>;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly discriminator?: string;
  readonly element?: z.ZodType;
  readonly valueType?: z.ZodType;
  readonly left?: z.ZodType;
  readonly right?: z.ZodType;
  readonly getter?: () => z.ZodType;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

const child = (v: unknown, k: PropertyKey): unknown =>
  v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;

/** The object schemas that may describe the value at `path` (several for a union the data does not settle). */
function objectsAt(schema: z.ZodType, path: readonly PropertyKey[], data: unknown, depth = 0): Def[] {
  if (depth > 64) return [];
  const def = defOf(schema);
  const next = (s: z.ZodType | undefined, p = path, v = data): Def[] =>
    s ? objectsAt(s, p, v, depth + 1) : [];
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return next(def.innerType);
    case 'pipe':
      return next(def.in);
    case 'lazy':
      return next(def.getter?.());
    case 'intersection':
      return [...next(def.left), ...next(def.right)];
    case 'union': {
      const options = def.options ?? [];
      if (def.discriminator) {
        // A discriminated union: the option the data names, when it names one.
        const tag = child(data, def.discriminator);
        const picked = options.filter((o) =>
          objectsAt(o, [], data, depth + 1).some((d) => {
            const lit = d.shape?.[def.discriminator ?? ''];
            const values = lit ? (defOf(lit) as { values?: unknown[] }).values : undefined;
            return values?.includes(tag) ?? false;
          }),
        );
        if (picked.length > 0) return picked.flatMap((o) => next(o));
      }
      return options.flatMap((o) => next(o));
    }
    case 'object': {
      if (path.length === 0) return [def];
      const [head, ...rest] = path;
      const field = typeof head === 'string' ? def.shape?.[head] : undefined;
      return next(field, rest, child(data, head ?? ''));
    }
    case 'array': {
      if (path.length === 0) return [];
      const [head, ...rest] = path;
      return next(def.element, rest, child(data, head ?? 0));
    }
    case 'record': {
      if (path.length === 0) return [];
      const [head, ...rest] = path;
      return next(def.valueType, rest, child(data, head ?? ''));
    }
    default:
      return [];
  }
}

/** The keys a schema allows for the object at `path` of `data` (undefined: not an object there). */
export function allowedKeys(
  schema: z.ZodType,
  path: readonly PropertyKey[],
  data: unknown,
): string[] | undefined {
  const objects = objectsAt(schema, path, data);
  if (objects.length === 0) return undefined;
  return [...new Set(objects.flatMap((d) => Object.keys(d.shape ?? {})))];
}

/** A KeysAt for one schema. */
export const keysOf =
  (schema: z.ZodType): KeysAt =>
  (path, data) =>
    allowedKeys(schema, path, data);

/** The value at `path` in `data`. */
export function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let v = data;
  for (const k of path) v = child(v, k);
  return v;
}

/** `unknown key 'intervall' (check the spelling): did you mean 'interval'? Allowed here: ...` */
export function unknownKeyMessage(key: string, allowed: readonly string[] | undefined): string {
  if (!allowed || allowed.length === 0)
    return `unknown key '${key}' (check the spelling; allowed keys are documented in config/README.md)`;
  const near = nearestKey(key, allowed);
  const list = allowed.length <= 12 ? allowed.join(', ') : `${allowed.slice(0, 12).join(', ')}, ...`;
  const head = `unknown key '${key}' (check the spelling)`;
  return near ? `${head}: did you mean '${near}'? Allowed here: ${list}` : `${head}; allowed here: ${list}`;
}

const yamlScalar = (v: unknown): string =>
  typeof v === 'string' ? (/^[\w./:@-]+$/.test(v) ? v : JSON.stringify(v)) : String(v);

/**
 * How to write a value zod found of the wrong type, as a line of YAML (`write it without quotes:
 * retries: 1`); undefined when there is nothing better to say than zod's message.
 */
export function typeHint(expected: string, key: PropertyKey | undefined, value: unknown): string | undefined {
  const name = typeof key === 'string' ? key : undefined;
  const line = (v: string): string => (name ? `${name}: ${v}` : v);
  if (value === undefined) return name ? `add it: ${name}: ...` : undefined;
  if (value === null)
    return expected === 'object'
      ? `write its keys below it, indented, or ${line('{}')} for none`
      : expected === 'array'
        ? `write the items below it ('- item'), or ${line('[]')} for none`
        : `give it a value (${name ?? 'it'} is empty)`;
  switch (expected) {
    case 'number':
    case 'int':
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
        return `write it without quotes: ${line(String(Number(value)))}`;
      return `write a number, without quotes${typeof value === 'string' ? ` (not '${value}')` : ''}`;
    case 'boolean': {
      if (typeof value === 'string') {
        const t = value.trim().toLowerCase();
        if (['true', 'yes', 'on', 'y'].includes(t))
          return `write true or false without quotes: ${line('true')}`;
        if (['false', 'no', 'off', 'n'].includes(t))
          return `write true or false without quotes: ${line('false')}`;
      }
      return `write true or false without quotes: ${line('true')}`;
    }
    case 'string':
      if (typeof value === 'number' || typeof value === 'boolean')
        return `put it in quotes: ${line(`"${String(value)}"`)}`;
      return Array.isArray(value) ? 'write one value, not a list' : 'write one value, not a mapping';
    case 'array':
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        const items = String(value)
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
          .map(yamlScalar);
        return `write a list: ${line(`[${items.join(', ')}]`)}`;
      }
      return `write a list: ${line('[a, b]')} or one '- item' per line below it`;
    case 'object':
      return `write a mapping: the keys indented below ${name ? `'${name}:'` : 'it'}, or ${line('{ key: value }')}`;
    default:
      return undefined;
  }
}
