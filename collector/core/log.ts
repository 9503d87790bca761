/**
 * Structured logging: one JSON object per line, so journald, Loki or `jq` can read it. Secrets are
 * Secret instances and serialise as "[secret]".
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
    const record: LogRecord = { time: new Date(now()).toISOString(), level, msg, ...bindings, ...fields };
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
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/** A logger that keeps records in memory: for tests that assert what was logged. */
export function memoryLogger(level: LogLevel = 'debug'): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const logger = createLogger({ level, write: (_line, r) => records.push(r) });
  return Object.assign(logger, { records });
}
