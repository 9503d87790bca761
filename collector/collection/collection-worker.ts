/**
 * One collection worker thread (started by worker-collection.ts): a whole Collection (scheduler, SNMP
 * poller, normalise, its own disk-buffered writer) for its share of the fleet. Samples go from here to
 * InfluxDB directly (they never cross to the main thread); probe results go to the main thread in
 * batches (probe-batch.ts), where health and alerting run.
 *
 * Messages, main -> worker: { t: 'probe', id, delayMs } | { t: 'selfMetrics' } | { t: 'stop' }.
 * Worker -> main: { t: 'ready' } | { t: 'probes', batch, stats } | { t: 'stats', stats }
 *   | { t: 'log', level, msg, fields } | { t: 'stopped' } | { t: 'failed', error }.
 */
import { eventLoopUtilisation } from '../scheduler/admission.ts';
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { LogFields, Logger, LogLevel } from '../core/log.ts';
import type { Inventory } from '../core/types.ts';
import { Topology } from '../health/topology.ts';
import { Collection, type CollectionSettings } from './collection.ts';
import { collectionParts, type CollectionConfig } from './collection-parts.ts';
import { ProbeBatcher, transferList } from './probe-batch.ts';
import { unpackSecrets } from './worker-plan.ts';
import { threadMemoryFields } from './thread-memory.ts';
import type { MainMessage, WorkerInit, WorkerMessage, WorkerStatsMessage } from './worker-protocol.ts';

/** A Logger whose lines are logged by the main thread's logger (with the worker's name bound there). */
class PostLogger implements Logger {
  readonly #bindings: LogFields;
  readonly #post: (m: WorkerMessage) => void;
  constructor(post: (m: WorkerMessage) => void, bindings: LogFields = {}) {
    this.#post = post;
    this.#bindings = bindings;
  }
  debug(msg: string, fields?: LogFields): void {
    this.#log('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.#log('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.#log('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.#log('error', msg, fields);
  }
  child(bindings: LogFields): Logger {
    return new PostLogger(this.#post, { ...this.#bindings, ...bindings });
  }
  #log(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    const all = { ...this.#bindings, ...fields };
    try {
      this.#post({ t: 'log', level, msg, fields: all });
    } catch {
      // A field structured clone cannot copy (a function, a socket): its text instead.
      this.#post({ t: 'log', level, msg, fields: JSON.parse(JSON.stringify(all)) as LogFields });
    }
  }
}

function run(port: NonNullable<typeof parentPort>, init: WorkerInit): void {
  const post = (m: WorkerMessage, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer);
  const log = new PostLogger(post);
  const clock = systemClock;
  const config = unpackSecrets(init.config) as CollectionConfig;
  const inventory = unpackSecrets(init.inventory) as Inventory;
  const { poller, writer } = collectionParts(config, clock, log);
  const batcher = new ProbeBatcher(init.deviceIds, 256);
  const settings: CollectionSettings = {
    ...init.settings, // Tag `node` (the schema's one tag besides component): each worker's points a series of its own.
    metricTags: { node: init.name },
  };
  const collection = new Collection(
    {
      clock,
      log,
      topology: new Topology(inventory),
      poller,
      writer,
      onProbe: (p) => {
        batcher.add(p);
        if (batcher.size >= init.batchMax) flush();
      },
      // This worker's own loop: a full one holds its polls, not the other workers'.
      loopUtilisation: eventLoopUtilisation(),
      // Each worker's own V8 heap, in its point (the process's RSS is the main thread's point).
      memory: () => threadMemoryFields(false),
    },
    settings,
  );
  const stats = (): WorkerStatsMessage => ({
    polls: collection.polls(),
    scheduler: collection.schedulerStats(),
    writer: writer.stats(),
  });
  const flush = (): void => {
    const batch = batcher.take();
    if (batch) post({ t: 'probes', batch, stats: stats() }, transferList(batch));
    else post({ t: 'stats', stats: stats() });
  };
  let timer: ReturnType<typeof setInterval> | undefined;
  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    if (timer) clearInterval(timer);
    await collection.stop();
    flush();
    poller.close();
    await writer.stop();
    post({ t: 'stopped' });
    port.close();
  };
  port.on('message', (m: MainMessage) => {
    if (m.t === 'probe') collection.requestProbe(m.id, m.delayMs);
    else if (m.t === 'selfMetrics') collection.writeSelfMetrics();
    else if (m.t === 'stop') {
      stopping ??= stop().catch((err: unknown) => {
        post({ t: 'failed', error: `stopping: ${errorMessage(err)}` });
        port.close();
      });
    }
  });
  writer
    .start()
    .then(() => {
      if (stopping) return;
      collection.start(init.deviceIds);
      timer = setInterval(flush, init.batchMs);
      post({ t: 'ready' });
    })
    .catch((err: unknown) => {
      post({ t: 'failed', error: `starting: ${errorMessage(err)}` });
      port.close();
    });
}

if (parentPort) run(parentPort, workerData as WorkerInit);
