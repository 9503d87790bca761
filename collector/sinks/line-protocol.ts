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
import { fieldType, type FieldType } from './schema.ts';

export function escapeMeasurement(s: string): string {
  return s.replace(/[, ]/g, '\\$&');
}

export function escapeKey(s: string): string {
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

export function encodeSample(sample: Sample): string {
  let line = escapeMeasurement(sample.measurement);
  // Sorted tags: InfluxDB's recommendation, and a stable series key for the same tag set.
  for (const key of Object.keys(sample.tags).sort()) {
    const value = sample.tags[key];
    if (value === undefined || value === '') continue;
    line += `,${escapeKey(key)}=${escapeKey(value)}`;
  }
  let sep = ' ';
  for (const [key, value] of Object.entries(sample.fields)) {
    line += `${sep}${escapeKey(key)}=${encodeFieldValue(value, fieldType(sample.measurement, key))}`;
    sep = ',';
  }
  return `${line} ${sample.timeMs}`;
}

/** A batch as a request body: one line per sample. */
export function encodeBatch(samples: readonly Sample[]): string {
  return samples.map(encodeSample).join('\n');
}
