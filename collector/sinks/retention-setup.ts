/**
 * Keeps the retention setup (retention.ts, influx-retention.ts) applied from the monitor's start: one
 * attempt before the first samples are written; while InfluxDB is away (a retryable failure) it tries again
 * every `retryMs` in the background, so a monitor started before its database still ends up with the
 * policies and rollups. A refusal that retrying cannot fix is logged once as an error; samples keep
 * flowing either way (into the default policy).
 */
import type { Clock } from '../core/clock.ts';
import { errorMessage, NetmonError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { applyRetention, type InfluxV1Endpoint } from './influx-retention.ts';
import type { RetentionOptions } from './retention.ts';

export interface RetentionSetup {
  /** Settles after the first attempt, whatever its outcome. */
  readonly firstAttempt: Promise<void>;
  stop(): void;
}

export function keepRetention(
  endpoint: InfluxV1Endpoint,
  options: RetentionOptions,
  deps: { log: Logger; clock: Clock; retryMs?: number },
): RetentionSetup {
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  let stopped = false;
  const attempt = async (): Promise<void> => {
    try {
      const changes = await applyRetention(endpoint, options);
      deps.log.info('influx retention ready', {
        database: options.database,
        changes: changes.map((c) => `${c.kind} ${c.name}`),
      });
    } catch (err) {
      const retryable = err instanceof NetmonError && err.retryable;
      if (!retryable) {
        deps.log.error('influx retention setup refused; raw samples stay in the default policy', {
          database: options.database,
          error: errorMessage(err),
        });
        return;
      }
      deps.log.warn('influx retention setup failed, will retry', { error: errorMessage(err) });
      if (!stopped) timer = deps.clock.setTimeout(() => void attempt(), deps.retryMs ?? 30_000);
    }
  };
  return {
    firstAttempt: attempt(),
    stop: () => {
      stopped = true;
      if (timer) deps.clock.clearTimeout(timer);
    },
  };
}
