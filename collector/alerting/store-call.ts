/**
 * A write of an incident book (area-book.ts, edge-book.ts) to the incident store, which must never throw
 * into alerting: a store that refuses (deposed by a newer term, closed) is logged and the caller goes on
 * in memory. The dispatcher, halted on deposition, then sends nothing.
 */
import { errorMessage } from '../core/errors.ts';
import type { LogFields, Logger } from '../core/log.ts';

export function tryStore<T>(log: Logger, what: string, context: LogFields, call: () => T): T | undefined {
  try {
    return call();
  } catch (err) {
    log.error(`${what} failed: not recorded in the incident store`, { ...context, error: errorMessage(err) });
    return undefined;
  }
}
