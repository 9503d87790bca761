/**
 * InfluxDB line protocol encoding, precision ms. Pure. Field types come from SCHEMA (schema.ts): an
 * integer field gets the `i` suffix, so it is stored as an integer, not a float.
 *
 * Escaping, as InfluxDB 1.x parses it (models/points.go; checked against influxd 1.6 in the storage
 * integration test):
 *   measurement:                       comma, space
 *   tag keys, tag values, field keys:  comma, equals sign, space
 *   string field values:               double quote and backslash, inside the double quotes
 * A backslash in a name or tag value is literal and stays as it is: influxd does not turn "\\" back
 * into one backslash there. A backslash right before a comma, equals sign or space, or at the end,
 * cannot be written at all; validateSample() rejects such a tag value.
 * Callers pass samples that validateSample() accepted; empty tag values are left out (InfluxDB has no
 * empty tag value: a point without the tag means the same).
 */
import type { Sample } from '../core/types.ts';
import { SCHEMA, type FieldType, type MeasurementSpec } from './schema.ts';

const COMMA = 44;
const SPACE = 32;
const EQUALS = 61;

/** Whether `s` holds a comma or a space (and, with `equals`, an equals sign): most names hold none. */
function needsEscape(s: string, equals: boolean): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === COMMA || c === SPACE || (equals && c === EQUALS)) return true;
  }
  return false;
}

/**
 * Escaped forms of the names and tag values that need escaping (site names have spaces, and they are the
 * same strings poll after poll): worked out once, looked up after. Only strings that need escaping are
 * kept, so the memo holds about one entry per site name, not one per device; past MEMO_LIMIT it starts
 * over, so it stays bounded whatever goes through it. A cache of a pure function: the output is the same
 * with or without it.
 */
const MEMO_LIMIT = 50_000;
const keyMemo = new Map<string, string>();
const measurementMemo = new Map<string, string>();

function memoised(memo: Map<string, string>, s: string, escape: (s: string) => string): string {
  let escaped = memo.get(s);
  if (escaped === undefined) {
    escaped = escape(s);
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(s, escaped);
  }
  return escaped;
}

export function escapeMeasurement(s: string): string {
  return needsEscape(s, false) ? memoised(measurementMemo, s, escapeMeasurementNow) : s;
}

function escapeMeasurementNow(s: string): string {
  return s.replace(/[, ]/g, '\\$&');
}

export function escapeKey(s: string): string {
  return needsEscape(s, true) ? memoised(keyMemo, s, escapeKeyNow) : s;
}

function escapeKeyNow(s: string): string {
  return s.replace(/[,= ]/g, '\\$&');
}

export function quoteString(s: string): string {
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** One field value as line protocol, typed by the schema (or by the JS type when the schema is silent). */
export function encodeFieldValue(value: number | boolean | string, type: FieldType | undefined): string {
  const t = type ?? (typeof value === 'string' ? 'string' : typeof value === 'boolean' ? 'boolean' : 'float');
  switch (t) {
    case 'integer':
      return `${Math.trunc(Number(value))}i`;
    case 'float':
      return encodeFloat(Number(value));
    case 'boolean':
      return value === true ? 'true' : 'false';
    case 'string':
      return quoteString(String(value));
  }
}

function encodeFloat(v: number): string {
  // String() gives "5" for 5.0: without an `i` suffix InfluxDB reads it as a float, which is right.
  return String(v);
}

const SPECS = SCHEMA as Record<string, MeasurementSpec>;

export function encodeSample(sample: Sample): string {
  let line = escapeMeasurement(sample.measurement);
  // Sorted tags: InfluxDB's recommendation, and a stable series key for the same tag set. normalise.ts
  // builds its tags in sorted order, so the common case walks them as they are, with no key array built
  // and sorted per sample; any other order is sorted here.
  const tags = sample.tags;
  if (keysSorted(tags)) {
    for (const key in tags) line = appendTag(line, key, tags[key]);
  } else {
    for (const key of Object.keys(tags).sort()) line = appendTag(line, key, tags[key]);
  }
  const spec = Object.hasOwn(SPECS, sample.measurement) ? SPECS[sample.measurement] : undefined;
  const fields = sample.fields;
  let sep = ' ';
  for (const key in fields) {
    const value = fields[key];
    if (value === undefined || !Object.hasOwn(fields, key)) continue;
    const type = spec !== undefined && Object.hasOwn(spec.fields, key) ? spec.fields[key]?.type : undefined;
    line += `${sep}${escapeKey(key)}=${encodeFieldValue(value, type)}`;
    sep = ',';
  }
  return `${line} ${sample.timeMs}`;
}

function appendTag(line: string, key: string, value: string | undefined): string {
  // InfluxDB has no empty tag value: a point without the tag means the same.
  if (value === undefined || value === '') return line;
  return `${line},${escapeKey(key)}=${escapeKey(value)}`;
}

/** Whether an object's own keys come in the order Array.prototype.sort() would put them. */
function keysSorted(o: object): boolean {
  let prev: string | undefined;
  for (const key in o) {
    if (!Object.hasOwn(o, key)) return false;
    if (prev !== undefined && !(prev < key)) return false;
    prev = key;
  }
  return true;
}

/** A batch as a request body: one line per sample, built as one string. */
export function encodeBatch(samples: readonly Sample[]): string {
  let body = '';
  for (let i = 0; i < samples.length; i++) {
    const sample = samples[i];
    if (sample === undefined) continue;
    body += i === 0 ? encodeSample(sample) : `\n${encodeSample(sample)}`;
  }
  return body;
}
