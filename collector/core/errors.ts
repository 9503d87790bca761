/**
 * Typed errors. Every error that crosses a module boundary says whether retrying can help, so the
 * caller retries only what is retryable (timeouts, 5xx, 429, a server that is away) and logs, counts
 * and drops the rest.
 */
export class NetmonError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(
    code: string,
    message: string,
    opts: { retryable: boolean; retryAfterMs?: number | undefined; cause?: unknown } = { retryable: false },
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = opts.retryable;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** Bad configuration or input file. `where` names the file and the place (line, path, row/column). */
export class ConfigError extends NetmonError {
  readonly where: string;
  constructor(where: string, message: string, opts: { cause?: unknown } = {}) {
    super('config', `${where}: ${message}`, { retryable: false, cause: opts.cause });
    this.where = where;
  }
}

/** Writing to a time-series store failed. */
export class SinkError extends NetmonError {}

/** An SNMP request failed (timeout, auth, bad response). */
export class SnmpError extends NetmonError {}

/** Sending a notification failed. */
export class NotifyError extends NetmonError {}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

export function isRetryable(err: unknown): boolean {
  return err instanceof NetmonError && err.retryable;
}
