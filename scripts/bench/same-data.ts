/**
 * "Did both pollers read the same thing?" Both sides are turned into one map, instance OID → value, and
 * compared. Pure: no I/O.
 *
 * - The exporter's side comes from its Prometheus text output (one sample per column and ifIndex; a
 *   DisplayString is a label of the same name with the value 1, as snmp_exporter writes it).
 * - Our side comes from the varbinds the poller received (see collector-worker.ts / bench-snmp.ts).
 * The two reads are milliseconds apart, so counters and sysUpTime may have moved: those are "moved", not
 * a mismatch. A differing name, status or speed is a mismatch.
 */
import { inSubtree } from '../../collector/sources/snmp/walk.ts';
import type { VarBind } from '../../collector/sources/snmp/session.ts';
import type { ExporterModule } from './exporter-module.ts';

export type InstanceValue = number | string;
/** Instance OID ("1.3.6.1.2.1.2.2.1.2.4") → value. */
export type InstanceMap = ReadonlyMap<string, InstanceValue>;

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL_RE = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;

function unescapeLabel(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function parseValue(s: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  return Number(s); // NaN for "NaN" and for garbage; the caller checks.
}

/** Prometheus text exposition format 0.0.4 → samples. Throws naming the line on a malformed one. */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE_RE.exec(line);
    const value = m ? parseValue(m[3] ?? '') : NaN;
    if (!m || (Number.isNaN(value) && m[3] !== 'NaN')) {
      throw new Error(`exposition line ${i + 1}: not a sample: ${line.slice(0, 120)}`);
    }
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    LABEL_RE.lastIndex = 0;
    while (LABEL_RE.lastIndex < body.length) {
      const at = LABEL_RE.lastIndex;
      const l = LABEL_RE.exec(body);
      if (!l)
        throw new Error(
          `exposition line ${i + 1}: bad labels at column ${at + 1}: ${body.slice(at, at + 60)}`,
        );
      labels[l[1] ?? ''] = unescapeLabel(l[2] ?? '');
    }
    out.push({ name: m[1] ?? '', labels, value });
  }
  return out;
}

/** The exporter's samples of `module`'s metrics as instance OIDs; its own snmp_* metrics are left out. */
export function exporterInstances(
  module: ExporterModule,
  samples: readonly Sample[],
): Map<string, InstanceValue> {
  const byName = new Map(module.metrics.map((m) => [m.name, m]));
  const out = new Map<string, InstanceValue>();
  for (const s of samples) {
    const metric = byName.get(s.name);
    if (!metric) continue;
    let suffix = '0'; // a scalar: the generator's OID is the object, the instance is .0
    if (metric.indexes && metric.indexes.length > 0) {
      const idx = s.labels[metric.indexes[0]?.labelname ?? ''];
      if (idx === undefined)
        throw new Error(`exporter sample ${s.name} has no ${metric.indexes[0]?.labelname} label`);
      suffix = idx;
    }
    const value = metric.type === 'DisplayString' ? s.labels[metric.name] : s.value;
    if (value === undefined)
      throw new Error(`exporter sample ${s.name}{${suffix}} has no ${metric.name} label`);
    out.set(`${metric.oid}.${suffix}`, value);
  }
  return out;
}

/**
 * The varbinds a poller received, as instance OIDs: GET results and every walked varbind inside one of
 * `columns` (a GETBULK reply runs past the end of a column; those varbinds are not part of the read).
 * Exceptions (noSuchObject, endOfMibView...) are not values. Text is decoded as UTF-8, as the exporter
 * does; 64-bit counters become doubles, as the exporter's float64 samples are.
 */
export function ourInstances(
  varbinds: readonly VarBind[],
  opts: { readonly gets: readonly string[]; readonly columns: readonly string[] },
): Map<string, InstanceValue> {
  const out = new Map<string, InstanceValue>();
  for (const vb of varbinds) {
    if (!opts.gets.includes(vb.oid) && !opts.columns.some((c) => inSubtree(c, vb.oid))) continue;
    if (typeof vb.value === 'number' || typeof vb.value === 'bigint') out.set(vb.oid, Number(vb.value));
    else if (Buffer.isBuffer(vb.value)) out.set(vb.oid, vb.value.toString('utf8'));
    else if (typeof vb.value === 'string') out.set(vb.oid, vb.value);
  }
  return out;
}

export interface SameDataReport {
  readonly ours: number;
  readonly exporter: number;
  readonly common: number;
  readonly equal: number;
  /** Counters and sysUpTime that changed between the two reads. */
  readonly moved: number;
  readonly onlyOurs: readonly string[];
  readonly onlyExporter: readonly string[];
  /** Non-volatile values that differ: "oid: ours ≠ exporter". */
  readonly mismatched: readonly string[];
  readonly interfaces: { readonly ours: number; readonly exporter: number };
}

/**
 * Compare two reads. `volatileBases` are the object OIDs whose values may move between the reads
 * (counters, sysUpTime); `rowColumn` is a column every interface row has (to count interfaces).
 */
export function compareReads(
  ours: InstanceMap,
  exporter: InstanceMap,
  opts: { readonly volatileBases: readonly string[]; readonly rowColumn: string },
): SameDataReport {
  const onlyOurs = [...ours.keys()].filter((k) => !exporter.has(k));
  const onlyExporter = [...exporter.keys()].filter((k) => !ours.has(k));
  let equal = 0;
  let moved = 0;
  const mismatched: string[] = [];
  for (const [oid, a] of ours) {
    const b = exporter.get(oid);
    if (b === undefined) continue;
    if (a === b) equal++;
    else if (
      typeof a === 'number' &&
      typeof b === 'number' &&
      opts.volatileBases.some((v) => inSubtree(v, oid))
    )
      moved++;
    else mismatched.push(`${oid}: ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`);
  }
  const rows = (m: InstanceMap): number => [...m.keys()].filter((k) => inSubtree(opts.rowColumn, k)).length;
  return {
    ours: ours.size,
    exporter: exporter.size,
    common: ours.size - onlyOurs.length,
    equal,
    moved,
    onlyOurs,
    onlyExporter,
    mismatched,
    interfaces: { ours: rows(ours), exporter: rows(exporter) },
  };
}

/** True when both read the same OIDs and every non-volatile value agrees. */
export function sameData(r: SameDataReport): boolean {
  return r.onlyOurs.length === 0 && r.onlyExporter.length === 0 && r.mismatched.length === 0 && r.ours > 0;
}
