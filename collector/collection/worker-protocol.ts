/**
 * The messages between the main thread (worker-collection.ts) and a collection worker thread
 * (collection-worker.ts). Types only.
 */
import type { LogFields, LogLevel } from '../core/log.ts';
import type { WriterStats } from '../pipeline.ts';
import type { SchedulerStats } from '../scheduler/scheduler.ts';
import type { CollectionSettings, PollCounts } from './collection.ts';
import type { ProbeBatch } from './probe-batch.ts';

/** The worker's `workerData`: its share of the fleet and the config it needs (Secrets packed). */
export interface WorkerInit {
  readonly name: string;
  /** CollectionConfig with packSecrets applied; its writer buffers in a directory of its own. */
  readonly config: unknown;
  /** Inventory (its devices and their sites) with packSecrets applied. */
  readonly inventory: unknown;
  readonly deviceIds: readonly string[];
  readonly settings: Omit<CollectionSettings, 'metricTags'>;
  /** Probe results are posted at least this often (ms)... */
  readonly batchMs: number;
  /** ...or as soon as this many are waiting. */
  readonly batchMax: number;
}

export type MainMessage =
  | { readonly t: 'probe'; readonly id: string; readonly delayMs: number }
  | { readonly t: 'selfMetrics' }
  | { readonly t: 'stop' };

export interface WorkerStatsMessage {
  readonly polls: PollCounts;
  readonly scheduler: SchedulerStats;
  readonly writer: WriterStats;
}

export type WorkerMessage =
  | { readonly t: 'ready' }
  | { readonly t: 'probes'; readonly batch: ProbeBatch; readonly stats: WorkerStatsMessage }
  | { readonly t: 'stats'; readonly stats: WorkerStatsMessage }
  | { readonly t: 'log'; readonly level: LogLevel; readonly msg: string; readonly fields: LogFields }
  | { readonly t: 'stopped' }
  | { readonly t: 'failed'; readonly error: string };
