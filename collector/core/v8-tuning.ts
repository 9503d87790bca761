/**
 * V8 settings for the collector's process, set once, before anything is polled (main.ts imports this
 * first). Process-wide: collection worker threads share them.
 *
 * No allocation-site pretenuring (issue #14). V8 watches, per place in the code that makes objects, how
 * many of them survive a young-generation collection, and from a high share on it allocates that
 * place's objects straight in the old generation. A collector's short-lived objects (a poll's varbinds,
 * its points and their fields, waiting up to one flush interval for the writer) survive a scavenge often
 * enough to be judged long-lived, so they went to the old generation and died there, and only a
 * mark-compact of the whole heap could free them. Measured at the Badung load (1x, 30 s, three
 * alternating runs each: `npx tsx scripts/bench-fleet.ts --sizes 1 --interval 30 --window 60`, with and
 * without `--node-args=--no-allocation-site-pretenuring`): 0.60-0.65 CPU-ms per poll with pretenuring,
 * 0.53-0.56 without; with --trace-gc, the old generation grew 0.44 MB/s with it and 0.23 MB/s without,
 * and the main thread's garbage collection fell from 4.9 to 2.1 ms a second.
 *
 * Set at run time: V8 reads this flag when it collects garbage, so it holds from the next collection on.
 */
import { setFlagsFromString } from 'node:v8';

let applied = false;

export function applyV8Tuning(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString('--no-allocation-site-pretenuring');
}

applyV8Tuning();
