/**
 * SNMP profiles: declarative OID → field maps per vendor, one YAML file per profile in config/profiles/.
 * The SNMP poller reads exactly what a device's profile declares and the decoder maps it onto
 * InterfaceReading / WifiReading by field name, so supporting a new vendor table is a YAML change.
 *
 * The Wi-Fi part is a small language (README "SNMP profiles"): a list of client metrics, each the value of
 * one column or the SUM of several, or a COUNT of a table's rows; labels (ssid, radio) from a column or
 * decoded from the ROW INDEX; rows GROUPED by a label, an index prefix or into one total; and `overrides`
 * that replace a standard IF-MIB value with the vendor's own. It is compiled here, once, into plain
 * objects (WifiMetric, InterfaceOverride, the column list) so the poller's decode does no parsing.
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
export const PROFILE_NAMES = [
  'generic',
  'mikrotik-routeros',
  'unifi-ap',
  'airmax',
  'airfiber',
  'cisco-wlc',
  'openwrt',
  'aruba-instant',
  'aruba-controller',
  'fortiap',
  'ruckus-smartzone',
  'ruckus-zonedirector',
  'ruckus-unleashed',
  'ruckus-ap',
  'aerohive',
  'cambium-epmp',
  'cambium-pmp',
  'ligowave',
  'huawei-wlan',
  'grandstream-gwn',
] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** The inventory's `profile: auto` (the default): detected from sysObjectID/sysDescr (detect.ts). */
export const AUTO_PROFILE = 'auto';
/** What an inventory device may name: a profile, or `auto`. */
export const INVENTORY_PROFILES = [AUTO_PROFILE, ...PROFILE_NAMES] as const;

export const DEFAULT_PROFILES_DIR = fileURLToPath(new URL('./profiles/', import.meta.url));

/** A numeric OID (a leading dot is dropped): the value type of every OID in the config/ YAML files. */
export const OID_RE = /^\.?(0|[1-9]\d*)(\.(0|[1-9]\d*))+$/;
export const oid = z
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

/**
 * A label of a Wi-Fi row: a column read at the same row index (an OID), `index` (the row index as it is),
 * or decoded from the row index: `{ index: string }` (an OCTET STRING index, length-prefixed unless
 * `implied`), `{ index: number, part: N }` (one sub-identifier), or `value` (a counted column's own text).
 */
const labelSchema = z.union([
  oid,
  z.enum(['index', 'value']),
  z.strictObject({
    index: z.literal('string'),
    /** Sub-identifiers to skip before the string (a table indexed by (radio, SSID) skips 1). */
    skip: z.number().int().min(0).max(127).optional(),
    /** RFC 2578 section 7.7: an IMPLIED string has no length prefix. */
    implied: z.boolean().optional(),
  }),
  z.strictObject({ index: z.literal('number'), part: z.number().int().min(0).max(127) }),
]);

const LABELS = ['ssid', 'radio'] as const;
type LabelName = (typeof LABELS)[number];
/** A valid (JavaScript) regular expression. */
export const regex = z.string().refine(
  (r) => {
    try {
      new RegExp(r);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be a valid regular expression' },
);
const labelFilter = z.strictObject({ ssid: regex.optional(), radio: regex.optional() });

const wifiMetricSchema = z
  .strictObject({
    /** Keeps this metric's rows apart from the others' (the reading's index becomes "name/index"). */
    name: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/, { message: 'must be lower-case letters, digits and dashes' })
      .optional(),
    /** A column of station counts (one row per index), or a list of columns SUMMED row by row. */
    clients: z.union([oid, z.array(oid).min(1)]).optional(),
    /** Instead of `clients`: COUNT the rows of this column (a client table: one row per station). */
    count: oid.optional(),
    ssid: labelSchema.optional(),
    radio: labelSchema.optional(),
    /** Sum the rows sharing a label, the first `N` index parts (`{ index: N }`), or all rows (`all`). */
    groupBy: z
      .union([z.enum(['ssid', 'radio', 'all']), z.strictObject({ index: z.number().int().min(1).max(127) })])
      .optional(),
    /** Keep only rows whose label matches (a regular expression per label) ... */
    match: labelFilter.optional(),
    /** ... and drop the rows whose label matches. */
    exclude: labelFilter.optional(),
  })
  .superRefine((m, ctx) => {
    if ((m.clients === undefined) === (m.count === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'give exactly one of clients (a column or a list to sum) or count',
      });
    }
    for (const l of LABELS) {
      if (m[l] === 'value' && m.count === undefined)
        ctx.addIssue({ code: 'custom', path: [l], message: '"value" labels a counted column (count:) only' });
      if (m.groupBy === l && m[l] === undefined)
        ctx.addIssue({ code: 'custom', path: ['groupBy'], message: `grouping by ${l} needs a ${l} label` });
    }
  });
type WifiMetricFile = z.infer<typeof wifiMetricSchema>;

/** Either the original single-table form (`wifi: { clients, ssid, radio }`) or a list of metrics. */
const wifiSchema = z.union([wifiMetricSchema, z.array(wifiMetricSchema).min(1)]);

/**
 * A vendor value that replaces a standard IF-MIB one (airFiber reports eth0's real link state in its own
 * MIB, while IF-MIB's ifOperStatus stays up). The column's row with the same index as the interface, or,
 * with `interface`, its first row for the interface of that ifName/ifDescr. `map`: vendor value → value.
 */
const overrideSchema = z.strictObject({
  field: z.enum(['operStatus', 'adminStatus', 'speed', 'highSpeed']),
  column: oid,
  interface: z.string().min(1).optional(),
  map: z.record(z.string().regex(/^-?\d+$/), z.number().int()).optional(),
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
  overrides: z.array(overrideSchema).nullable().optional(),
});
type ProfileFile = z.infer<typeof profileFileSchema>;

/** The columns of a one-table profile (the original form), for tools that only understand that. */
export interface WifiColumns {
  readonly clients: string;
  readonly ssid?: string | undefined;
  readonly radio?: string | undefined;
}

/** A compiled label (see labelSchema). */
export type WifiLabel =
  | { readonly kind: 'column'; readonly oid: string }
  | { readonly kind: 'index' }
  | { readonly kind: 'value' }
  | { readonly kind: 'indexString'; readonly skip: number; readonly implied: boolean }
  | { readonly kind: 'indexNumber'; readonly part: number };

/** A compiled Wi-Fi client metric: what decode.ts evaluates, with no parsing left to do. */
export interface WifiMetric {
  /** Put before each row index in the reading ("" for an unnamed metric). */
  readonly prefix: string;
  /** Station counts per row: one column, or several summed; or the rows of `count` counted. */
  readonly value:
    | { readonly kind: 'columns'; readonly columns: readonly string[] }
    | { readonly kind: 'count'; readonly column: string };
  readonly ssid?: WifiLabel | undefined;
  readonly radio?: WifiLabel | undefined;
  readonly groupBy?:
    | { readonly kind: 'label'; readonly label: LabelName }
    | { readonly kind: 'all' }
    | { readonly kind: 'indexPrefix'; readonly parts: number }
    | undefined;
  readonly match: readonly { readonly label: LabelName; readonly re: RegExp; readonly keep: boolean }[];
}

export interface InterfaceOverride {
  readonly field: 'operStatus' | 'adminStatus' | 'speed' | 'highSpeed';
  readonly column: string;
  readonly interface?: string | undefined;
  readonly map?: ReadonlyMap<number, number> | undefined;
}

/** A profile with `extends` resolved: what the poller reads. */
export interface Profile {
  readonly name: string;
  readonly description: string;
  readonly scalars: { readonly sysUpTime?: string | undefined };
  readonly interfaces: Readonly<Partial<Record<InterfaceField, string>>>;
  /** Set when the profile's Wi-Fi part is one plain column metric (the original form), else undefined. */
  readonly wifi?: WifiColumns | undefined;
  readonly wifiMetrics: readonly WifiMetric[];
  readonly overrides: readonly InterfaceOverride[];
  /** Every column the poller walks for this profile, without duplicates: interfaces, Wi-Fi, overrides. */
  readonly columns: readonly string[];
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
    const issues = result.error.issues.flatMap(unwrapUnion).map((issue) => {
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

/**
 * zod reports a value that fits no branch of a union as one "invalid input": report the branch that got
 * furthest instead (the deepest path), so `wifi: { clients: MIB::name }` says what is wrong with clients.
 */
function unwrapUnion(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue];
  const depth = (b: readonly z.core.$ZodIssue[]): number => Math.max(...b.map((i) => i.path.length));
  let best = issue.errors[0] ?? [];
  for (const b of issue.errors) if (depth(b) > depth(best)) best = b;
  return best.flatMap((i) => unwrapUnion({ ...i, path: [...issue.path, ...i.path] }));
}

function allowedKeys(path: string[]): string[] {
  const top = path[0];
  if (top === undefined) return Object.keys(profileFileSchema.shape);
  if (top === 'interfaces') return [...INTERFACE_FIELDS];
  if (top === 'wifi') return Object.keys(wifiMetricSchema.shape);
  if (top === 'overrides') return Object.keys(overrideSchema.shape);
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

function compileLabel(l: z.infer<typeof labelSchema> | undefined): WifiLabel | undefined {
  if (l === undefined) return undefined;
  if (l === 'index') return { kind: 'index' };
  if (l === 'value') return { kind: 'value' };
  if (typeof l === 'string') return { kind: 'column', oid: l };
  if (l.index === 'string') return { kind: 'indexString', skip: l.skip ?? 0, implied: l.implied ?? false };
  return { kind: 'indexNumber', part: l.part };
}

function compileMetric(m: WifiMetricFile): WifiMetric {
  const value: WifiMetric['value'] =
    m.count !== undefined
      ? { kind: 'count', column: m.count }
      : { kind: 'columns', columns: Array.isArray(m.clients) ? m.clients : [m.clients ?? ''] };
  // Counting rows without a grouping would give 1 per row: a count is at least one total.
  const g = m.groupBy ?? (m.count !== undefined ? 'all' : undefined);
  const groupBy: WifiMetric['groupBy'] =
    g === undefined
      ? undefined
      : g === 'all'
        ? { kind: 'all' }
        : typeof g === 'string'
          ? { kind: 'label', label: g }
          : { kind: 'indexPrefix', parts: g.index };
  const match: WifiMetric['match'][number][] = [];
  for (const [filter, keep] of [
    [m.match, true],
    [m.exclude, false],
  ] as const) {
    for (const label of LABELS) {
      const re = filter?.[label];
      if (re !== undefined) match.push({ label, re: new RegExp(re), keep });
    }
  }
  return {
    prefix: m.name === undefined ? '' : `${m.name}/`,
    value,
    ssid: compileLabel(m.ssid),
    radio: compileLabel(m.radio),
    groupBy,
    match,
  };
}

/** The original one-table form, when a metric is only that (bench tools read it). */
function legacyColumns(m: WifiMetricFile): WifiColumns | undefined {
  const plain = (l: unknown): l is string | undefined =>
    l === undefined || (typeof l === 'string' && OID_RE.test(l));
  if (typeof m.clients !== 'string' || m.name !== undefined || m.groupBy !== undefined) return undefined;
  if (m.match !== undefined || m.exclude !== undefined || !plain(m.ssid) || !plain(m.radio)) return undefined;
  return { clients: m.clients, ssid: m.ssid, radio: m.radio };
}

function compileOverride(o: z.infer<typeof overrideSchema>): InterfaceOverride {
  return {
    field: o.field,
    column: o.column,
    interface: o.interface,
    map: o.map === undefined ? undefined : new Map(Object.entries(o.map).map(([k, v]) => [Number(k), v])),
  };
}

function columnsOf(
  interfaces: Readonly<Partial<Record<InterfaceField, string>>>,
  metrics: readonly WifiMetric[],
  overrides: readonly InterfaceOverride[],
): string[] {
  const cols: string[] = Object.values(interfaces);
  for (const m of metrics) {
    if (m.value.kind === 'count') cols.push(m.value.column);
    else cols.push(...m.value.columns);
    for (const l of [m.ssid, m.radio]) if (l?.kind === 'column') cols.push(l.oid);
  }
  for (const o of overrides) cols.push(o.column);
  return [...new Set(cols)];
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
    const wifiMetrics =
      data.wifi === null
        ? []
        : data.wifi === undefined
          ? (parent?.wifiMetrics ?? [])
          : (Array.isArray(data.wifi) ? data.wifi : [data.wifi]).map(compileMetric);
    const overrides =
      data.overrides === null
        ? []
        : data.overrides === undefined
          ? (parent?.overrides ?? [])
          : data.overrides.map(compileOverride);
    const wifi =
      data.wifi === undefined
        ? parent?.wifi
        : data.wifi !== null && !Array.isArray(data.wifi)
          ? legacyColumns(data.wifi)
          : undefined;
    const profile: Profile = {
      name,
      description: data.description ?? parent?.description ?? name,
      scalars,
      interfaces,
      wifi,
      wifiMetrics,
      overrides,
      columns: columnsOf(interfaces, wifiMetrics, overrides),
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
