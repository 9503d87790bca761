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
 * The old generation grows to 1.5 times what the last mark-compact left, not to V8's own factor (up to
 * four times on a large heap that allocates fast). At 100k devices with two collection workers
 * (`--sizes 30 --interval 60 --window 60 --sink null --workers 2`), the main thread's heap swung between
 * 137 and 418 MB and the process's RSS was 1,760 MB; with 50 % growth, 139-209 MB and 1,604 MB, at the same
 * 0.40-0.41 CPU-ms per poll. At the Badung load it made no difference beyond the noise (0.49-0.50 with it,
 * 0.47-0.53 without, alternated). 25 % went further (1,530 MB) but cost half as much CPU again (0.61).
 *
 * Set at run time: V8 reads these flags when it collects garbage, so they hold from the next collection on.
 */
import { setFlagsFromString } from 'node:v8';

let applied = false;

export function applyV8Tuning(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString('--no-allocation-site-pretenuring');
  setFlagsFromString('--heap-growing-percent=50');
}

applyV8Tuning();
