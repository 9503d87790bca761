/**
 * Structured logging on pino: one JSON object per line (`level` as its name, `time` as ISO 8601 UTC, `msg`,
 * then the bindings and fields), so journald, Loki or `jq` can read it. Logging never throws: a circular
 * field is written "[Circular]", an Error (at any depth) as { name, message, stack, code, cause, errors }
 * with its whole cause chain, and should a line still fail, a short line saying so goes to stderr instead.
 * Secrets are Secret instances and serialise as "[secret]".
 *
 * Secrets that arrive as plain text are redacted from every string a line carries (issue #10: a token sent
 * as `?token=` was logged whole with the request path), before the line is written and in the record
 * handed to `write`:
 *   - query parameters named token, key, access_token, api_key, apikey, password, passwd, secret, sig,
 *     signature (names compared case-insensitively, after %-decoding) keep their name, lose their value;
 *   - API tokens (`bnm_<id>_<secret>`) keep their public id only; anything else starting `bnm_` goes whole;
 *   - the password of a URL's user info (`mqtt://user:pass@host`);
 *   - fields named token, access_token, password, secret, authorization, cookie.
 * Error messages and stacks, and their causes', are redacted the same way.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(bindings: LogFields): Logger;
}

/** A line as an object: redacted like the line, but Errors stay Errors (for tests that look at them). */
export interface LogRecord extends LogFields {
  time: string;
  level: LogLevel;
  msg: string;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go (without their newline), each with its record; default: stdout. */
  write?: (line: string, record: LogRecord) => void;
  bindings?: LogFields;
  now?: () => number;
}

export function createLogger(opts: LoggerOptions): Logger {
  const now = opts.now ?? Date.now;
  // pino writes synchronously within the call that logs, so the record and the time of the line being
  // written are handed over through these two.
  let record: LogRecord | undefined;
  let time = '';
  const write = opts.write;
  const destination: DestinationStream = write
    ? {
        write: (line: string) => {
          const r = record;
          record = undefined;
          if (r) write(line.endsWith('\n') ? line.slice(0, -1) : line, r);
        },
      }
    : process.stdout;
  const root = pino(
    {
      level: opts.level ?? 'info',
      base: undefined,
      messageKey: 'msg',
      timestamp: () => `,"time":"${time}"`,
      formatters: { level: (label) => ({ level: label }) },
      // Errors are already plain objects (errorFields), wherever they are; pino's own `err` would re-wrap one.
      serializers: { err: (v: unknown) => v },
    },
    destination,
  );
  const bindings = redactFields(opts.bindings ?? {});
  return wrap(root.child(lineFields(bindings)), bindings);

  function wrap(p: PinoLogger, bindings: LogFields): Logger {
    const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
      if (!p.isLevelEnabled(level)) return;
      try {
        const own = redactFields(fields ?? {});
        time = new Date(now()).toISOString();
        const text = redactText(msg);
        if (write) record = { time, level, msg: text, ...bindings, ...own };
        // msg inside the object, first, rather than pino's trailing one: lines read time, level, msg, fields.
        p[level]({ msg: text, ...lineFields(own) });
      } catch (err) {
        record = undefined;
        logFailure(level, msg, err);
      }
    };
    return {
      debug: (m, f) => emit('debug', m, f),
      info: (m, f) => emit('info', m, f),
      warn: (m, f) => emit('warn', m, f),
      error: (m, f) => emit('error', m, f),
      child: (b) => {
        try {
          const own = redactFields(b);
          return wrap(p.child(lineFields(own)), { ...bindings, ...own });
        } catch (err) {
          logFailure('warn', 'log child bindings dropped', err);
          return wrap(p, bindings);
        }
      },
    };
  }
}

/** The last resort when a line cannot be written (a field whose getter or toJSON throws, a failing sink). */
function logFailure(level: LogLevel, msg: string, err: unknown): void {
  try {
    const why = err instanceof Error ? err.message : String(err);
    process.stderr.write(
      `${JSON.stringify({ level, time: new Date().toISOString(), msg: redactText(msg), logError: redactText(why) })}\n`,
    );
  } catch {
    // Nothing left to tell.
  }
}

// ---- what a line carries: Errors with their causes and stacks, bigints as strings -------------------------

const MAX_DEPTH = 8;

/** Record fields (already redacted) as the line writes them. */
function lineFields(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) out[k] = lineValue(v, 0, new Set());
  return out;
}

function lineValue(v: unknown, depth: number, seen: Set<object>): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Error) return errorFields(v, depth, seen);
  if (depth > MAX_DEPTH || typeof v !== 'object' || v === null) return v;
  const proto = Object.getPrototypeOf(v) as unknown;
  const plain = Array.isArray(v) || proto === Object.prototype || proto === null;
  if (!plain) return v; // Secret, Date, class instances: their toJSON, or pino's safe stringify
  if (seen.has(v)) return '[Circular]';
  seen.add(v);
  let out: unknown;
  if (Array.isArray(v)) out = v.map((x) => lineValue(x, depth + 1, seen));
  else {
    const o: LogFields = {};
    for (const [k, x] of Object.entries(v)) o[k] = lineValue(x, depth + 1, seen);
    out = o;
  }
  seen.delete(v);
  return out;
}

/** name, message, stack, code, the cause chain and an AggregateError's errors, all redacted. */
function errorFields(e: Error, depth: number, seen: Set<object>): unknown {
  if (seen.has(e)) return '[Circular]';
  if (depth > MAX_DEPTH) return `${e.name}: ${redactText(e.message)}`;
  seen.add(e);
  const out: LogFields = { name: e.name, message: redactText(e.message) };
  if (e.stack) out.stack = redactText(e.stack);
  for (const [k, x] of Object.entries(e)) {
    if (!(k in out)) out[k] = lineValue(redactValue(x, depth + 1), depth + 1, seen);
  }
  if (e.cause !== undefined) out.cause = lineValue(redactValue(e.cause, depth + 1), depth + 1, seen);
  if (e instanceof AggregateError && Array.isArray(e.errors))
    out.errors = e.errors.map((x: unknown) => lineValue(redactValue(x, depth + 1), depth + 1, seen));
  seen.delete(e);
  return out;
}

// ---- redaction -------------------------------------------------------------------------------------------

const SECRET_PARAMS = new Set([
  'token',
  'key',
  'access_token',
  'api_key',
  'apikey',
  'password',
  'passwd',
  'secret',
  'sig',
  'signature',
]);
const SECRET_FIELDS = new Set(['token', 'access_token', 'password', 'secret', 'authorization', 'cookie']);
export const REDACTED = '[redacted]';

// name=value after ?, & or ; (a query string, or one quoted in an error message).
const QUERY_PARAM = /([?&;])([^=&#;?\s"'<>]+)=([^&#;\s"'<>]*)/g;
// A well-formed API token keeps its public id (collector/http/auth.ts TOKEN_RE); any other bnm_ goes whole.
const API_TOKEN = /\bbnm_([a-z2-7]{10})_[A-Za-z0-9_-]+/g;
const BNM_ANY = /\bbnm_(?!(?:[a-z2-7]{10}_)?\[redacted\])[A-Za-z0-9_-]*/g;
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*):[^@\s/]*@/gi;

function paramName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    return raw.toLowerCase();
  }
}

/** `text` without the secrets listed in the header (a URL, a path with its query, an error message). */
export function redactText(text: string): string {
  let out = text;
  if (out.includes('=')) {
    out = out.replace(QUERY_PARAM, (whole, sep: string, name: string, value: string) =>
      value !== '' && SECRET_PARAMS.has(paramName(name)) ? `${sep}${name}=${REDACTED}` : whole,
    );
  }
  if (out.includes('bnm_')) {
    out = out.replace(API_TOKEN, `bnm_$1_${REDACTED}`).replace(BNM_ANY, `bnm_${REDACTED}`);
  }
  if (out.includes('@') && out.includes('://')) out = out.replace(URL_USERINFO, `$1:${REDACTED}@`);
  return out;
}

/** A URL or path for a log line: `redactText` by another name, where the intent reads better. */
export const redactUrl = redactText;

/** The ancestors of the value being redacted: a reference back to one is written "[Circular]". */
type Path = Set<object>;

function redactValue(value: unknown, depth: number, path: Path = new Set()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return value;
  const proto = Object.getPrototypeOf(value) as unknown;
  // Errors, Secrets, Dates, class instances: as they are (errorFields redacts an Error for the line).
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return value;
  if (path.has(value)) return '[Circular]';
  path.add(value);
  const out = Array.isArray(value)
    ? value.map((v) => redactValue(v, depth + 1, path))
    : redactFields(value as LogFields, depth + 1, path);
  path.delete(value);
  return out;
}

function redactFields(fields: LogFields, depth = 0, path: Path = new Set()): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] =
      typeof v === 'string' && v !== '' && SECRET_FIELDS.has(k.toLowerCase())
        ? REDACTED
        : redactValue(v, depth, path);
  }
  return out;
}

/** A logger that keeps records in memory: for tests that assert what was logged. */
export function memoryLogger(level: LogLevel = 'debug'): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const logger = createLogger({ level, write: (_line, r) => records.push(r) });
  return Object.assign(logger, { records });
}
