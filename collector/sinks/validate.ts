/**
 * Sample validation against SCHEMA (schema.ts), before a sample is buffered or sent: a sample the
 * database would reject (or store with the wrong type) is rejected on its own, with a reason, so it
 * never fails the batch it travels in. Pure.
 */
import type { Sample } from '../core/types.ts';
import { SCHEMA, type FieldType, type MeasurementSpec } from './schema.ts';

export type Validation = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface InvalidSample {
  readonly sample: Sample;
  readonly reason: string;
}

const OK: Validation = { ok: true };
const SPECS = SCHEMA as Record<string, MeasurementSpec>;
// Line protocol is one point per line: a newline cannot be escaped in a measurement, tag key or value.
const NEWLINE = /[\r\n]/;
// InfluxDB 1.x reads "\," "\=" "\ " as escapes and cannot end a tag value in a backslash: a value with a
// backslash there has no line-protocol form (see line-protocol.ts).
const UNWRITABLE_BACKSLASH = /\\([,= ]|$)/;
/**
 * InfluxDB stores time as signed 64-bit nanoseconds: the last instant it can hold is 2^63 - 1 ns, i.e.
 * 2262-04-11T23:47:16.854Z. A later timeMs (a device sending `ts: 9e15`) fails the whole batch there.
 */
export const MAX_INFLUX_TIME_MS = 9_223_372_036_854;

/** The tag names of each measurement as a set, made once: a lookup per tag, not a scan of the list. */
const TAG_SETS = new Map<MeasurementSpec, ReadonlySet<string>>();

function tagSetOf(spec: MeasurementSpec): ReadonlySet<string> {
  let set = TAG_SETS.get(spec);
  if (set === undefined) {
    set = new Set(spec.tags);
    TAG_SETS.set(spec, set);
  }
  return set;
}

/**
 * Each measurement's field types by name, made once: one hash lookup per field, not two lookups in the
 * spec's object under a name that changes from field to field (a slow, megamorphic load in V8).
 */
const FIELD_TYPES = new Map<MeasurementSpec, ReadonlyMap<string, FieldType>>();

function fieldTypesOf(spec: MeasurementSpec): ReadonlyMap<string, FieldType> {
  let types = FIELD_TYPES.get(spec);
  if (types === undefined) {
    types = new Map(Object.entries(spec.fields).map(([name, field]) => [name, field.type]));
    FIELD_TYPES.set(spec, types);
  }
  return types;
}

export function validateSample(sample: Sample): Validation {
  const spec = Object.hasOwn(SPECS, sample.measurement) ? SPECS[sample.measurement] : undefined;
  if (!spec) return bad(`unknown measurement '${String(sample.measurement)}'`);
  if (!Number.isSafeInteger(sample.timeMs) || sample.timeMs < 0) {
    return bad(
      `${sample.measurement}: timeMs must be a non-negative integer (epoch ms), got ${String(sample.timeMs)}`,
    );
  }
  if (sample.timeMs > MAX_INFLUX_TIME_MS) {
    return bad(
      `${sample.measurement}: timeMs ${sample.timeMs} is after 2262-04-11T23:47:16.854Z, the last time InfluxDB can store (2^63 - 1 ns)`,
    );
  }
  const tags = sample.tags;
  if (validTags.get(tags) !== spec) {
    const problem = tagsProblem(sample.measurement, spec, tags);
    if (problem !== undefined) return bad(problem);
    // Frozen sets only: one that can change could be changed after it was checked.
    if (Object.isFrozen(tags)) validTags.set(tags, spec);
  }
  const fields = sample.fields;
  let fieldCount = 0;
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    fieldCount++;
    const value: unknown = fields[key];
    const type = fieldTypesOf(spec).get(key);
    if (type === undefined) return bad(`${sample.measurement}: unknown field '${key}'`);
    const problem = checkType(type, value);
    if (problem) return bad(`${sample.measurement}.${key}: ${problem}`);
  }
  if (fieldCount === 0) return bad(`${sample.measurement}: no fields`);
  return OK;
}

/**
 * Tag sets that passed, with the measurement they passed for. normalise.ts shares one frozen tag set
 * between the points of every poll of a device (see there): it is checked once, not once per point
 * (issue #14: the tag checks were most of the writer's validation). Weak: a set goes with its points.
 */
const validTags = new WeakMap<object, MeasurementSpec>();

/** Why a tag set cannot be written for this measurement, or undefined when it can. */
function tagsProblem(
  measurement: string,
  spec: MeasurementSpec,
  tags: Readonly<Record<string, unknown>>,
): string | undefined {
  const tagNames = tagSetOf(spec);
  // for...in with an own-property check: the same keys as Object.entries, without an array per sample.
  for (const key in tags) {
    if (!Object.hasOwn(tags, key)) continue;
    const value: unknown = tags[key];
    if (!tagNames.has(key)) return `${measurement}: unknown tag '${key}'`;
    if (typeof value !== 'string') return `${measurement}: tag '${key}' is not a string`;
    if (NEWLINE.test(value)) return `${measurement}: tag '${key}' contains a newline`;
    if (UNWRITABLE_BACKSLASH.test(value)) {
      return `${measurement}: tag '${key}' has a backslash before a comma, equals sign or space, or at the end (InfluxDB cannot store it): ${JSON.stringify(value)}`;
    }
  }
  return undefined;
}

/** Split a batch into the samples to send and the rejected ones, keeping order. */
export function partitionSamples(samples: readonly Sample[]): { valid: Sample[]; invalid: InvalidSample[] } {
  const valid: Sample[] = [];
  const invalid: InvalidSample[] = [];
  for (const sample of samples) {
    const v = validateSample(sample);
    if (v.ok) valid.push(sample);
    else invalid.push({ sample, reason: v.reason });
  }
  return { valid, invalid };
}

function checkType(type: FieldType, value: unknown): string | undefined {
  switch (type) {
    case 'float':
      if (typeof value !== 'number') return `expected float, got ${typeof value}`;
      if (!Number.isFinite(value)) return `expected a finite float, got ${String(value)}`;
      return undefined;
    case 'integer':
      if (typeof value !== 'number') return `expected integer, got ${typeof value}`;
      if (!Number.isSafeInteger(value)) return `expected a safe integer, got ${String(value)}`;
      return undefined;
    case 'string':
      return typeof value === 'string' ? undefined : `expected string, got ${typeof value}`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `expected boolean, got ${typeof value}`;
  }
}

function bad(reason: string): Validation {
  return { ok: false, reason };
}
