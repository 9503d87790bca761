/**
 * A stop in named steps, taken in order, that knows which part it waits on while it waits: a stop that
 * hangs names its part (collector/main.ts logs it when the stop is slow and when a second signal comes)
 * instead of leaving an operator, or start.sh's kill after its timeout, with no clue.
 *
 * A step that fails is logged and the stop goes on with the next one: a part that cannot close must not
 * keep the later ones (the writer's flush) from closing. The first failure is thrown at the end.
 */
import type { Clock } from './clock.ts';
import { errorMessage } from './errors.ts';
import type { Logger } from './log.ts';

/** The part a stop is waiting on, and since how long. */
export interface StopProgress {
  readonly part: string;
  readonly forMs: number;
}

export class Shutdown {
  readonly #clock: Clock;
  readonly #log: Logger;
  #part: string | undefined;
  #since = 0;
  #failure: unknown;
  #failed = false;

  constructor(clock: Clock, log: Logger) {
    this.#clock = clock;
    this.#log = log;
  }

  /** Runs one step; its time is logged at debug level, its failure at error level. */
  async step(part: string, run: () => unknown): Promise<void> {
    this.#part = part;
    this.#since = this.#clock.now();
    try {
      await run();
      this.#log.debug('part stopped', { part, ms: this.#clock.now() - this.#since });
    } catch (err) {
      this.#log.error('part failed to stop', { part, error: errorMessage(err) });
      if (!this.#failed) this.#failure = err;
      this.#failed = true;
    } finally {
      this.#part = undefined;
    }
  }

  /** After the last step: the first failure, if any step failed. */
  done(): void {
    if (this.#failed) throw this.#failure;
  }

  /** The step running now; undefined between steps and once done. */
  progress(): StopProgress | undefined {
    if (this.#part === undefined) return undefined;
    return { part: this.#part, forMs: this.#clock.now() - this.#since };
  }
}
