/**
 * The monitor's trap receiver (collector/sources/traps) on 127.0.0.1, any free port, for tests: what it
 * asks to poll and what it records are kept in `polls` and `samples`.
 */
import { systemClock } from '../../collector/core/clock.ts';
import { createLogger } from '../../collector/core/log.ts';
import type { Inventory, Sample } from '../../collector/core/types.ts';
import { startTraps, type RunningTraps } from '../../collector/sources/traps/attach.ts';

export interface TestTraps {
  readonly traps: RunningTraps;
  /** Devices the receiver asked to poll, in order. */
  readonly polls: string[];
  readonly samples: Sample[];
}

export async function startTestTraps(inventory: Inventory): Promise<TestTraps> {
  const polls: string[] = [];
  const samples: Sample[] = [];
  const traps = await startTraps(
    { host: '127.0.0.1', port: 0 },
    {
      clock: systemClock,
      log: createLogger({ level: 'error' }),
      inventory,
      health: { requestProbe: (id) => polls.push(id) },
      push: (s) => samples.push(...s),
    },
  );
  return { traps, polls, samples };
}
