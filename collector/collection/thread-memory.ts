/**
 * The collector's own memory, for its `monitor` points (issue #14: RSS bounded at 100k devices): the V8 heap
 * of the thread that asks (each worker thread has its own), and with `rss`, the whole process's resident
 * memory. Read at the edge (process and V8 figures), in MB.
 */
import { getHeapStatistics } from 'node:v8';
import type { Sample } from '../core/types.ts';
import type { Clock } from '../core/clock.ts';

const MB = 1024 * 1024;
const mb = (bytes: number): number => Math.round((bytes / MB) * 10) / 10;

/** `heap_used_mb` and `heap_total_mb` of this thread's V8 heap; with `rss`, `rss_mb` of the process. */
export function threadMemoryFields(rss: boolean): Record<string, number> {
  const h = getHeapStatistics();
  const fields: Record<string, number> = {
    heap_used_mb: mb(h.used_heap_size),
    heap_total_mb: mb(h.total_heap_size),
  };
  if (rss) fields.rss_mb = mb(process.memoryUsage.rss());
  return fields;
}

/** The `monitor` point of component process: the process's RSS and the main thread's heap. */
export function processMemoryPoint(clock: Clock): Sample {
  return {
    measurement: 'monitor',
    tags: { component: 'process' },
    fields: threadMemoryFields(true),
    timeMs: clock.now(),
  };
}
