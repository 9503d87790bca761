/**
 * Counts the fsyncs a process makes through node:fs: fsyncSync, fdatasyncSync, fsync, fdatasync and a
 * FileHandle's sync() and datasync() (fs/promises). Each wrapper still calls the original, so the disk
 * work is real; syncBuiltinESMExports() makes modules that imported the functions by name see the
 * wrappers too. For tests of the writer's disk buffer and its benchmark (scripts/bench/writer-spill.ts).
 */
import fs from 'node:fs';
import { open } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';

type Fn = (...args: unknown[]) => unknown;

export interface FsyncCounter {
  /** fsyncs since start. */
  readonly count: number;
  /** Put the originals back. */
  stop(): void;
}

export async function startFsyncCounter(): Promise<FsyncCounter> {
  let count = 0;
  const restore: (() => void)[] = [];
  const wrap = (target: Record<string, Fn>, name: string): void => {
    const original = target[name];
    if (!original) return;
    target[name] = function (this: unknown, ...args: unknown[]) {
      count++;
      return original.apply(this, args);
    };
    restore.push(() => (target[name] = original));
  };
  const mod = fs as unknown as Record<string, Fn>;
  for (const name of ['fsyncSync', 'fdatasyncSync', 'fsync', 'fdatasync']) wrap(mod, name);
  syncBuiltinESMExports();
  // FileHandle's prototype, reached through a handle (the class is not exported).
  const probe = await open(process.execPath, 'r');
  const proto = Object.getPrototypeOf(probe) as Record<string, Fn>;
  await probe.close();
  for (const name of ['sync', 'datasync']) wrap(proto, name);
  return {
    get count() {
      return count;
    },
    stop() {
      for (const undo of restore.splice(0)) undo();
      syncBuiltinESMExports();
    },
  };
}
