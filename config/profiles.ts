/**
 * SNMP profiles: declarative OID → field maps per vendor, one YAML file per profile in config/profiles/.
 * The SNMP poller reads exactly what a device's profile declares and the decoder maps it onto
 * InterfaceReading / WifiReading by field name, so supporting a new vendor table is a YAML change.
 *
 * Loading validates completely: unknown keys, malformed OIDs, unknown or cyclic `extends`, and missing
 * standard profiles are errors (ConfigError) that name the file, the line and the path.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../collector/core/errors.ts';

/** The profile names the inventory and the simulator use. Each must exist in config/profiles/. */
export const PROFILE_NAMES = ['generic', 'mikrotik-routeros', 'unifi-ap', 'airmax', 'cisco-wlc'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export const DEFAULT_PROFILES_DIR = fileURLToPath(new URL('./profiles/', import.meta.url));

const OID_RE = /^\.?(0|[1-9]\d*)(\.(0|[1-9]\d*))+$/;
const oid = z
  .string()
  .regex(OID_RE, { message: 'must be a numeric OID such as 1.3.6.1.2.1.2.2.1.10 (no MIB names)' })
  .transform((s) => (s.startsWith('.') ? s.slice(1) : s));

/** IF-MIB columns a profile may map (RFC 2863). `null` removes a column inherited through `extends`. */
export const INTERFACE_FIELDS = [
  'descr',
  'name',
  'alias',
  'type',
  'adminStatus',
  'operStatus',
  'speed',
  'highSpeed',
  'inOctets',
  'outOctets',
  'hcInOctets',
  'hcOutOctets',
  'inUcastPkts',
  'outUcastPkts',
  'hcInUcastPkts',
  'hcOutUcastPkts',
  'inErrors',
  'outErrors',
  'inDiscards',
  'outDiscards',
] as const;
export type InterfaceField = (typeof INTERFACE_FIELDS)[number];

const interfacesSchema = z.strictObject(
  Object.fromEntries(INTERFACE_FIELDS.map((f) => [f, oid.nullable().optional()])) as Record<
    InterfaceField,
    z.ZodOptional<z.ZodNullable<typeof oid>>
  >,
);

const wifiSchema = z.strictObject({
  /** Column of associated-station counts; its index is the row (radio, VAP, WLAN). */
  clients: oid,
  ssid: oid.optional(),
  radio: oid.optional(),
});

const scalarsSchema = z.strictObject({
  sysUpTime: oid.nullable().optional(),
});

const profileFileSchema = z.strictObject({
  description: z.string().optional(),
  extends: z.string().optional(),
  scalars: scalarsSchema.optional(),
  interfaces: interfacesSchema.optional(),
  wifi: wifiSchema.nullable().optional(),
});
type ProfileFile = z.infer<typeof profileFileSchema>;

export interface WifiColumns {
  readonly clients: string;
  readonly ssid?: string | undefined;
  readonly radio?: string | undefined;
}

/** A profile with `extends` resolved: what the poller reads. */
export interface Profile {
  readonly name: string;
  readonly description: string;
  readonly scalars: { readonly sysUpTime?: string | undefined };
  readonly interfaces: Readonly<Partial<Record<InterfaceField, string>>>;
  readonly wifi?: WifiColumns | undefined;
}

export type ProfileSet = ReadonlyMap<string, Profile>;

export interface ProfileSource {
  /** Shown in errors: a path relative to the working directory, or any label. */
  readonly file: string;
  readonly text: string;
}

const NAME_RE = /^[a-z0-9][a-z0-9-]*$/;

/** The line of the deepest node of `path` that exists in the document (1-based), if any. */
function lineOf(
  lc: LineCounter,
  doc: ReturnType<typeof parseDocument>,
  path: PropertyKey[],
): number | undefined {
  const keys = path.filter((k): k is string | number => typeof k === 'string' || typeof k === 'number');
  for (let n = keys.length; n >= 0; n--) {
    const node = doc.getIn(keys.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}

function parseOne(src: ProfileSource): ProfileFile {
  const lc = new LineCounter();
  const doc = parseDocument(src.text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const yamlErr = doc.errors[0];
  if (yamlErr) {
    const { line } = lc.linePos(yamlErr.pos[0]);
    throw new ConfigError(`${src.file}:${line}`, `invalid YAML: ${yamlErr.message}`);
  }
  const result = profileFileSchema.safeParse(doc.toJS() ?? {});
  if (!result.success) {
    const issues = result.error.issues.map((issue) => {
      const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
      const dotted = path.map(String).join('.') || '(top level)';
      const hint =
        issue.code === 'unrecognized_keys'
          ? ` (allowed here: ${allowedKeys(issue.path.map(String)).join(', ')})`
          : '';
      return { line: lineOf(lc, doc, path), text: `${dotted}: ${issue.message}${hint}` };
    });
    issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    const [first] = issues;
    if (issues.length === 1 && first) {
      throw new ConfigError(first.line === undefined ? src.file : `${src.file}:${first.line}`, first.text);
    }
    throw new ConfigError(
      src.file,
      issues.map((i) => (i.line === undefined ? i.text : `line ${i.line}: ${i.text}`)).join('; '),
    );
  }
  return result.data;
}

function allowedKeys(path: string[]): string[] {
  const top = path[0];
  if (top === undefined) return Object.keys(profileFileSchema.shape);
  if (top === 'interfaces') return [...INTERFACE_FIELDS];
  if (top === 'wifi') return Object.keys(wifiSchema.shape);
  if (top === 'scalars') return Object.keys(scalarsSchema.shape);
  return [];
}

function dropNulls<K extends string>(
  rec: Partial<Record<K, string | null | undefined>>,
): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const [k, v] of Object.entries(rec) as [K, string | null | undefined][]) {
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}

/** Validate and resolve profile documents (pure: no file I/O). */
export function parseProfiles(sources: readonly ProfileSource[]): ProfileSet {
  const files = new Map<string, { src: ProfileSource; data: ProfileFile }>();
  for (const src of sources) {
    const name = basename(src.file).replace(/\.ya?ml$/, '');
    if (!NAME_RE.test(name)) {
      throw new ConfigError(src.file, `profile name "${name}" must be lower-case letters, digits and dashes`);
    }
    if (files.has(name)) throw new ConfigError(src.file, `profile "${name}" is defined twice`);
    files.set(name, { src, data: parseOne(src) });
  }

  const resolved = new Map<string, Profile>();
  const resolve = (name: string, chain: string[]): Profile => {
    const done = resolved.get(name);
    if (done) return done;
    const entry = files.get(name);
    if (!entry) throw new Error(`unknown profile ${name}`); // guarded by the caller
    const { src, data } = entry;
    let parent: Profile | undefined;
    if (data.extends !== undefined) {
      if (!files.has(data.extends)) {
        throw new ConfigError(
          `${src.file}: extends`,
          `unknown profile "${data.extends}" (known: ${[...files.keys()].sort().join(', ')})`,
        );
      }
      if (chain.includes(data.extends)) {
        throw new ConfigError(`${src.file}: extends`, `cycle: ${[...chain, name, data.extends].join(' → ')}`);
      }
      parent = resolve(data.extends, [...chain, name]);
    }
    const interfaces = dropNulls<InterfaceField>({ ...parent?.interfaces, ...data.interfaces });
    const scalars = dropNulls<'sysUpTime'>({ ...parent?.scalars, ...data.scalars });
    const wifi = data.wifi === null ? undefined : (data.wifi ?? parent?.wifi);
    const profile: Profile = {
      name,
      description: data.description ?? parent?.description ?? name,
      scalars,
      interfaces,
      wifi,
    };
    resolved.set(name, profile);
    return profile;
  };
  for (const name of files.keys()) resolve(name, []);
  return resolved;
}

/** Read and validate every *.yaml in `dir`; the standard PROFILE_NAMES must all be there. */
export function loadProfiles(dir: string = DEFAULT_PROFILES_DIR): ProfileSet {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  } catch (err) {
    throw new ConfigError(dir, 'cannot read the profiles directory', { cause: err });
  }
  const label = (f: string): string => relative(process.cwd(), join(dir, f)) || f;
  const set = parseProfiles(
    names.sort().map((f) => ({ file: label(f), text: readFileSync(join(dir, f), 'utf8') })),
  );
  const missing = PROFILE_NAMES.filter((n) => !set.has(n));
  if (missing.length > 0) {
    throw new ConfigError(dir, `missing standard profile(s): ${missing.join(', ')} (add ${missing[0]}.yaml)`);
  }
  return set;
}
