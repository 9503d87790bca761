/**
 * Poll counts and complete rounds, from probe results as they arrive: a round is complete when every
 * device of the set has been heard from at least once since the last (MonitorStatus.polls; tests wait on
 * rounds instead of sleeping). Pure.
 */
import type { PollCounts } from './collection.ts';

export class PollTally {
  readonly #seen = new Set<string>();
  #size: number;
  #counts = { ok: 0, failed: 0, rounds: 0 };

  /** `size`: the devices a round needs. */
  constructor(size = 0) {
    this.#size = size;
  }

  resize(size: number): void {
    this.#size = size;
  }

  add(deviceId: string, ok: boolean): void {
    if (ok) this.#counts.ok++;
    else this.#counts.failed++;
    this.#seen.add(deviceId);
    if (this.#seen.size >= this.#size) {
      this.#counts.rounds++;
      this.#seen.clear();
    }
  }

  counts(): PollCounts {
    return { ...this.#counts };
  }
}
