/**
 * Structured logging: one JSON object per line, so journald, Loki or `jq` can read it. Secrets are
 * Secret instances and serialise as "[secret]".
 *
 * Secrets that arrive as plain text are redacted from every string a line carries (issue #10: a token sent
 * as `?token=` was logged whole with the request path), before the line is written and in the record
 * handed to `write`:
 *   - query parameters named token, key, access_token, api_key, apikey, password, passwd, secret, sig,
 *     signature (names compared case-insensitively, after %-decoding) keep their name, lose their value;
 *   - API tokens (`bnm_<id>_<secret>`) keep their public id only; anything else starting `bnm_` goes whole;
 *   - the password of a URL's user info (`mqtt://user:pass@host`);
 *   - fields named token, access_token, password, secret, authorization, cookie.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(bindings: LogFields): Logger;
}

export interface LogRecord extends LogFields {
  time: string;
  level: LogLevel;
  msg: string;
}

export function createLogger(opts: {
  level?: LogLevel;
  write?: (line: string, record: LogRecord) => void;
  bindings?: LogFields;
  now?: () => number;
}): Logger {
  const min = ORDER[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const now = opts.now ?? Date.now;
  const bindings = opts.bindings ?? {};
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (ORDER[level] < min) return;
    const record: LogRecord = {
      time: new Date(now()).toISOString(),
      level,
      msg: redactText(msg),
      ...redactFields(bindings),
      ...redactFields(fields ?? {}),
    };
    write(JSON.stringify(record, jsonReplacer), record);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (b) => createLogger({ ...opts, bindings: { ...bindings, ...b } }),
  };
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: redactText(value.message) };
  return value;
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

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactText(value);
  if (depth > 8 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  // Errors, Secrets, Dates, class instances: as they are (the replacer redacts an Error's message).
  if (proto !== Object.prototype && proto !== null) return value;
  return redactFields(value as LogFields, depth + 1);
}

function redactFields(fields: LogFields, depth = 0): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] =
      typeof v === 'string' && v !== '' && SECRET_FIELDS.has(k.toLowerCase())
        ? REDACTED
        : redactValue(v, depth);
  }
  return out;
}

/** A logger that keeps records in memory: for tests that assert what was logged. */
export function memoryLogger(level: LogLevel = 'debug'): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const logger = createLogger({ level, write: (_line, r) => records.push(r) });
  return Object.assign(logger, { records });
}
