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

/** A batch as a request body: one line per sample, the lines encodeSample gives joined by newlines. */
export function encodeBatch(samples: readonly Sample[]): string {
  const n = writeBatch(samples);
  // One flat string per batch (the request body), read from the bytes in one step.
  return n < 0 ? joinLines(samples) : latin1(out, 0, n);
}

/**
 * The same body as encodeBatch, in pieces of at most PIECE_CHARS characters (cut anywhere: they are
 * written one after the other as one request body). A whole batch is one string of hundreds of KB, which
 * V8 allocates in its old generation; pieces this size are young and die there (issue #14: the writer's
 * bodies made most of the collector's mark-compacts).
 */
export function encodeBatchPieces(samples: readonly Sample[]): string[] {
  const n = writeBatch(samples);
  if (n < 0) return [joinLines(samples)];
  const pieces: string[] = [];
  for (let from = 0; from < n; from += PIECE_CHARS)
    pieces.push(latin1(out, from, Math.min(n, from + PIECE_CHARS)));
  return pieces;
}

/** Under V8's largest young object (128 KB), with room to spare. */
export const PIECE_CHARS = 32 * 1024;

/** The same batch, one string per line joined: for text the byte writer leaves to it (see writeBatch). */
function joinLines(samples: readonly Sample[]): string {
  let body = '';
  for (let i = 0; i < samples.length; i++) {
    const sample = samples[i];
    if (sample === undefined) continue;
    body += i === 0 ? encodeSample(sample) : `\n${encodeSample(sample)}`;
  }
  return body;
}

// ---- the batch writer ------------------------------------------------------------------------------
//
// encodeSample builds a line by string concatenation: a string per tag, per field, per number, about
// 2 KB of garbage per sample, several MB a second at the Badung load (issue #14: a third of the
// collector's CPU was garbage collection). encodeBatch writes the same characters into one reused
// buffer instead and makes one string of it. It takes ASCII only (every tag and name the inventory and
// the profiles give, and every number): a batch with any other character is left to joinLines, so the
// result is the same string either way.

/** The batch being written: grown (doubled) when a batch does not fit, kept for the next one. */
let out = Buffer.allocUnsafe(64 * 1024);
let at = 0;
/** Set when a character above 0x7f (or a tag value that is not a string) was met: the batch is left to joinLines. */
let bail = false;

const latin1Slice = (Buffer.prototype as { latin1Slice?: (start: number, end: number) => string })
  .latin1Slice;
/** Bytes `from` to `to` as a string (Buffer's latin1Slice skips toString's encoding dispatch). */
function latin1(buf: Buffer, from: number, to: number): string {
  return latin1Slice !== undefined ? latin1Slice.call(buf, from, to) : buf.toString('latin1', from, to);
}

function room(bytes: number): void {
  if (at + bytes <= out.length) return;
  let size = out.length * 2;
  while (size < at + bytes) size *= 2;
  const grown = Buffer.allocUnsafe(size);
  out.copy(grown, 0, 0, at);
  out = grown;
}

function putByte(c: number): void {
  room(1);
  out[at++] = c;
}

function putAscii(s: string): void {
  const len = s.length;
  room(len);
  const buf = out;
  let p = at;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) bail = true;
    buf[p++] = c;
  }
  at = p;
}

/**
 * A number as String() writes it: the digits of a safe integer written straight (String(-0) is "0"), any
 * other value through String().
 */
function putNumber(v: number): void {
  if (!Number.isSafeInteger(v)) return putAscii(String(v));
  room(17);
  let x = v;
  if (x < 0) {
    out[at++] = 45; // '-'
    x = -x;
  }
  if (x < 10) {
    out[at++] = 48 + x;
    return;
  }
  const from = at;
  for (; x > 0; x = Math.floor(x / 10)) out[at++] = 48 + (x % 10);
  // The digits went in least significant first: turn them round.
  for (let l = from, r = at - 1; l < r; l++, r--) {
    const t = out[l] ?? 0;
    out[l] = out[r] ?? 0;
    out[r] = t;
  }
}

/** One field value as encodeFieldValue gives it. */
function putFieldValue(value: number | boolean | string, type: FieldType | undefined): void {
  const t = type ?? (typeof value === 'string' ? 'string' : typeof value === 'boolean' ? 'boolean' : 'float');
  if (t === 'integer') {
    putNumber(Math.trunc(Number(value)));
    putByte(105); // 'i'
  } else if (t === 'float') {
    putNumber(Number(value));
  } else {
    putAscii(encodeFieldValue(value, t));
  }
}

/** The batch's bytes into `out`; their count, or -1 when the batch has text the writer leaves (above). */
function writeBatch(samples: readonly Sample[]): number {
  at = 0;
  bail = false;
  for (let i = 0; i < samples.length; i++) {
    const sample = samples[i];
    if (sample === undefined) continue;
    if (i > 0) putByte(10); // '\n'
    putAscii(escapeMeasurement(sample.measurement));
    const tags = sample.tags;
    if (keysSorted(tags)) {
      for (const key in tags) putTag(key, tags[key]);
    } else {
      for (const key of Object.keys(tags).sort()) putTag(key, tags[key]);
    }
    const spec = Object.hasOwn(SPECS, sample.measurement) ? SPECS[sample.measurement] : undefined;
    const fields = sample.fields;
    let sep = SPACE;
    for (const key in fields) {
      const value = fields[key];
      if (value === undefined || !Object.hasOwn(fields, key)) continue;
      const type = spec !== undefined && Object.hasOwn(spec.fields, key) ? spec.fields[key]?.type : undefined;
      putByte(sep);
      putKey(key);
      putByte(EQUALS);
      putFieldValue(value, type);
      sep = COMMA;
    }
    putByte(SPACE);
    putNumber(sample.timeMs);
    if (bail) return -1;
  }
  return at;
}

function putTag(key: string, value: string | undefined): void {
  // InfluxDB has no empty tag value: a point without the tag means the same.
  if (value === undefined || value === '') return;
  if (typeof value !== 'string') {
    bail = true; // not a validated sample: encodeSample's String() of it, via joinLines
    return;
  }
  putByte(COMMA);
  putKey(key);
  putByte(EQUALS);
  putKey(value);
}

/**
 * escapeKey(s) written: copied in one pass that looks for the characters to escape on the way (most
 * names and tag values have none), rather than one pass to look and another to copy.
 */
function putKey(s: string): void {
  const len = s.length;
  room(len);
  const buf = out;
  const start = at;
  let p = start;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c === COMMA || c === SPACE || c === EQUALS) {
      at = start;
      putAscii(memoised(keyMemo, s, escapeKeyNow));
      return;
    }
    if (c > 0x7f) bail = true;
    buf[p++] = c;
  }
  at = p;
}
