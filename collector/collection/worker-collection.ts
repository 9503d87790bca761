/**
 * Collection on several cores of one process (issue #14): N worker threads share the fleet, each running
 * a whole Collection (scheduler, poller, normalise, its own disk-buffered writer) for its share; the main
 * thread keeps health, incidents, alerting and HTTP, and sees collection through the same port as ever
 * (CollectionPort, collector/monitor.ts).
 *
 *   main thread                                      worker thread k (collection-worker.ts)
 *   WorkerCollection.start(ids) ── split (rendezvous) ──► Collection(share k) ─► samples ─► own writer ─► InfluxDB
 *   health ◄── onProbe ◄── decodeBatch ◄── probe batch (typed arrays, transferred) ◄──┘
 *   health ── requestProbe(id) ── owner of id ──► worker k
 *
 * Why samples stay in the worker: they are the bulk (tens of fields per poll); a probe result is five
 * numbers. Why batches: one message per poll costs a structured clone and an event on both sides.
 * A worker that exits while running (a crash, an out-of-memory, terminate()) is logged by name and
 * started again under the same name after `restartMs` (doubling to 30 s while it keeps failing within a
 * minute of its start): the same devices, polled at their next turns, their unwritten samples on its own
 * disk buffer.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Inventory, ProbeResult, Sample } from '../core/types.ts';
import type { CollectionPort } from '../monitor.ts';
import type { SampleWriterLike, WriterStats } from '../pipeline.ts';
import type { SchedulerLoad, SchedulerStats } from '../scheduler/scheduler.ts';
import type { PollCounts } from './collection.ts';
import type { CollectionConfig } from './collection-parts.ts';
import { PollTally } from './poll-tally.ts';
import { decodeBatch } from './probe-batch.ts';
import type { MainMessage, WorkerInit, WorkerMessage, WorkerStatsMessage } from './worker-protocol.ts';
import { ownerIndex, packSecrets, splitDevices, type WorkerShare } from './worker-plan.ts';

export interface WorkerCollectionDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly inventory: Inventory;
  /** The sections the workers build their poller and writer from. */
  readonly config: CollectionConfig;
  /** The main thread's writer: the other components' health points (extraMetrics) go there. */
  readonly writer: SampleWriterLike;
  readonly onProbe: (probe: ProbeResult) => void;
  readonly extraMetrics?: (() => Sample[]) | undefined;
}

export interface WorkerCollectionSettings {
  readonly workers: number;
  readonly intervalMs: number;
  readonly jitterMs: number;
  /** The in-flight cap of the whole collector; each worker gets its share (rounded up). */
  readonly concurrency: number;
  readonly selfMetricsMs: number;
  /** Probe results are posted at least this often (default 50 ms) or once `batchMax` wait (default 512). */
  readonly batchMs?: number | undefined;
  readonly batchMax?: number | undefined;
  /** First wait before a dead worker is started again (default 1 s). */
  readonly restartMs?: number | undefined;
  /** How long stop() waits for a worker to finish its polls and its writes (default 15 s). */
  readonly stopTimeoutMs?: number | undefined;
}

/** One worker's figures (the API's and the tests' view). */
export interface WorkerView {
  readonly name: string;
  readonly devices: number;
  /** Running and ready (its Collection started). */
  readonly alive: boolean;
  readonly restarts: number;
  /** Its Collection's poll counts (since its last start). */
  readonly polls: PollCounts;
}

interface Slot {
  readonly index: number;
  readonly share: WorkerShare;
  worker: Worker | undefined;
  ready: boolean;
  stats: WorkerStatsMessage | undefined;
  restarts: number;
  startedAtMs: number;
  backoffMs: number;
  restartTimer: TimerHandle | undefined;
  /** Resolves when the current thread has exited. */
  exited: Promise<void> | undefined;
}

const WORKER_URL = new URL('./collection-worker.ts', import.meta.url);
const MAX_BACKOFF_MS = 30_000;

export class WorkerCollection implements CollectionPort {
  readonly #deps: WorkerCollectionDeps;
  readonly #settings: WorkerCollectionSettings;
  #slots: Slot[] = [];
  #owner = new Map<string, number>();
  readonly #tally = new PollTally();
  #running = false;
  #selfTimer: TimerHandle | undefined;
  #stopped: Promise<void> | undefined;

  constructor(deps: WorkerCollectionDeps, settings: WorkerCollectionSettings) {
    if (!Number.isInteger(settings.workers) || settings.workers < 1)
      throw new Error(`WorkerCollection: workers must be a whole number >= 1, got ${settings.workers}`);
    this.#deps = deps;
    this.#settings = settings;
  }

  start(deviceIds: readonly string[]): void {
    this.#running = true;
    this.#stopped = undefined;
    const shares = splitDevices(this.#deps.inventory, deviceIds, this.#settings.workers);
    this.#owner = ownerIndex(shares);
    this.#tally.resize(this.#owner.size);
    this.#slots = shares.map((share, index) => ({
      index,
      share,
      worker: undefined,
      ready: false,
      stats: undefined,
      restarts: 0,
      startedAtMs: 0,
      backoffMs: this.#settings.restartMs ?? 1000,
      restartTimer: undefined,
      exited: undefined,
    }));
    for (const slot of this.#slots) this.#spawn(slot);
    this.#deps.log.info('collection workers started', {
      workers: this.#slots.length,
      devices: this.#slots.map((s) => s.share.deviceIds.length),
    });
    this.#armSelfMetrics();
  }

  stop(): Promise<void> {
    this.#running = false;
    if (this.#selfTimer) this.#deps.clock.clearTimeout(this.#selfTimer);
    this.#selfTimer = undefined;
    for (const slot of this.#slots) {
      if (slot.restartTimer) this.#deps.clock.clearTimeout(slot.restartTimer);
      slot.restartTimer = undefined;
    }
    this.#stopped ??= Promise.all(this.#slots.map((s) => this.#stopSlot(s))).then(() => undefined);
    return this.#stopped;
  }

  requestProbe(deviceId: string, delayMs: number): void {
    if (!this.#running) return;
    const slot = this.#slots[this.#owner.get(deviceId) ?? -1];
    if (!slot?.worker) return; // not polled here, or its worker is being restarted (it polls it then)
    this.#post(slot, { t: 'probe', id: deviceId, delayMs: Math.max(0, delayMs) });
  }

  /** Probe results taken from the workers (ok/failed), and rounds: every device heard from since the last. */
  polls(): PollCounts {
    return this.#tally.counts();
  }

  schedulerStats(): SchedulerStats {
    return mergeSchedulerStats(this.#slots.map((s) => s.stats?.scheduler));
  }

  /** The workers' writers together (the main thread's writer has its own figures). */
  writerStats(): WriterStats {
    return mergeWriterStats(this.#slots.map((s) => s.stats?.writer));
  }

  workers(): WorkerView[] {
    return this.#slots.map((s) => ({
      name: s.share.name,
      devices: s.share.deviceIds.length,
      alive: s.worker !== undefined && s.ready,
      restarts: s.restarts,
      polls: s.stats?.polls ?? { ok: 0, failed: 0, rounds: 0 },
    }));
  }

  /** The thread of worker `index` (diagnostics; a test terminates it to prove the restart). */
  thread(index: number): Worker | undefined {
    return this.#slots[index]?.worker;
  }

  /** The devices worker `index` polls. */
  devicesOf(index: number): readonly string[] {
    return this.#slots[index]?.share.deviceIds ?? [];
  }

  pendingTimers(): number {
    return (this.#selfTimer ? 1 : 0) + this.#slots.filter((s) => s.restartTimer !== undefined).length;
  }

  /** Each worker writes its `monitor` point (tag `node`); the other components' points from here. */
  writeSelfMetrics(): void {
    for (const slot of this.#slots) if (slot.worker) this.#post(slot, { t: 'selfMetrics' });
    this.#writeExtraMetrics();
  }

  #writeExtraMetrics(): void {
    try {
      const extra = this.#deps.extraMetrics?.() ?? [];
      if (extra.length > 0) this.#deps.writer.push(extra);
    } catch (err) {
      this.#deps.log.error('component metrics failed', { error: errorMessage(err) });
    }
  }

  #armSelfMetrics(): void {
    this.#selfTimer = this.#deps.clock.setTimeout(() => {
      this.#writeExtraMetrics();
      if (this.#running) this.#armSelfMetrics();
    }, this.#settings.selfMetricsMs);
  }

  #spawn(slot: Slot): void {
    const { config } = this.#deps;
    const n = this.#slots.length;
    const init: WorkerInit = {
      name: slot.share.name,
      config: packSecrets({
        snmp: config.snmp,
        influx: config.influx,
        // Each worker's unwritten samples in a directory of its own (its restart finds them there).
        writer: { ...config.writer, bufferDir: join(config.writer.bufferDir, slot.share.name) },
      }),
      inventory: packSecrets(slot.share.inventory),
      deviceIds: slot.share.deviceIds,
      settings: {
        intervalMs: this.#settings.intervalMs,
        jitterMs: this.#settings.jitterMs,
        concurrency: Math.max(1, Math.ceil(this.#settings.concurrency / n)),
        selfMetricsMs: this.#settings.selfMetricsMs,
      },
      batchMs: this.#settings.batchMs ?? 50,
      batchMax: this.#settings.batchMax ?? 512,
    };
    const log = this.#deps.log.child({ worker: slot.share.name });
    let worker: Worker;
    try {
      worker = startWorker(init);
    } catch (err) {
      log.error(`${slot.share.name} could not be started`, { error: errorMessage(err) });
      this.#scheduleRestart(slot);
      return;
    }
    slot.worker = worker;
    slot.ready = false;
    slot.startedAtMs = this.#deps.clock.now();
    slot.exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (m: WorkerMessage) => this.#onMessage(slot, worker, m, log));
    worker.on('error', (err) => {
      log.error(`${slot.share.name} failed`, {
        error: errorMessage(err),
        devices: slot.share.deviceIds.length,
      });
    });
    worker.on('exit', (code) => {
      if (slot.worker !== worker) return;
      slot.worker = undefined;
      slot.ready = false;
      if (!this.#running) return;
      log.error(`${slot.share.name} exited (code ${code}) while polling; starting it again`, {
        devices: slot.share.deviceIds.length,
        restartInMs: slot.backoffMs,
      });
      this.#scheduleRestart(slot);
    });
  }

  #scheduleRestart(slot: Slot): void {
    if (!this.#running) return;
    // A worker that ran for a minute was healthy: start again after the first wait, else double it.
    const now = this.#deps.clock.now();
    if (now - slot.startedAtMs > 60_000) slot.backoffMs = this.#settings.restartMs ?? 1000;
    const wait = slot.backoffMs;
    slot.backoffMs = Math.min(MAX_BACKOFF_MS, slot.backoffMs * 2);
    slot.restartTimer = this.#deps.clock.setTimeout(() => {
      slot.restartTimer = undefined;
      if (!this.#running) return;
      slot.restarts++;
      this.#spawn(slot);
    }, wait);
  }

  #onMessage(slot: Slot, worker: Worker, m: WorkerMessage, log: Logger): void {
    if (slot.worker !== worker) return;
    switch (m.t) {
      case 'probes': {
        slot.stats = m.stats;
        const { skipped } = decodeBatch(m.batch, slot.share.deviceIds, (p) => this.#take(p));
        if (skipped > 0) log.error(`${slot.share.name} sent ${skipped} probe results of unknown devices`);
        return;
      }
      case 'stats':
        slot.stats = m.stats;
        return;
      case 'ready':
        slot.ready = true;
        return;
      case 'log':
        log[m.level](m.msg, m.fields);
        return;
      case 'failed':
        log.error(`${slot.share.name} failed: ${m.error}`, { devices: slot.share.deviceIds.length });
        return;
      case 'stopped':
        // Its polls finished and its writer flushed (or kept the rest on disk): nothing left to wait for.
        void worker.terminate();
        return;
    }
  }

  #take(p: ProbeResult): void {
    this.#tally.add(p.deviceId, p.ok);
    try {
      this.#deps.onProbe(p);
    } catch (err) {
      this.#deps.log.error('probe result not applied', { device: p.deviceId, error: errorMessage(err) });
    }
  }

  #post(slot: Slot, m: MainMessage): void {
    try {
      slot.worker?.postMessage(m);
    } catch (err) {
      this.#deps.log.warn(`message to ${slot.share.name} not sent`, { error: errorMessage(err) });
    }
  }

  /** Asks the worker to stop (polls in flight finish, its writer flushes); terminates it after the deadline. */
  async #stopSlot(slot: Slot): Promise<void> {
    const worker = slot.worker;
    if (!worker || !slot.exited) return;
    const exited = slot.exited;
    this.#post(slot, { t: 'stop' });
    const deadline = this.#settings.stopTimeoutMs ?? 15_000;
    let timer: TimerHandle | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = this.#deps.clock.setTimeout(() => resolve('late'), deadline);
    });
    const outcome = await Promise.race([exited.then(() => 'exited' as const), late]);
    if (timer) this.#deps.clock.clearTimeout(timer);
    if (outcome === 'late') {
      this.#deps.log.warn(`${slot.share.name} did not stop within ${deadline} ms: terminated`);
      await worker.terminate();
    }
    slot.worker = undefined;
  }
}

/**
 * A worker thread running collection-worker.ts. The project runs its TypeScript through tsx, whose
 * `--import` loader does not reach worker threads on Node 20 ("Unknown file extension .ts"): the thread
 * starts from a tiny script that registers tsx's hooks in itself, then imports the worker module.
 */
function startWorker(init: WorkerInit): Worker {
  const api = pathToFileURL(
    join(dirname(createRequire(import.meta.url).resolve('tsx')), 'esm/api/index.mjs'),
  ).href;
  const code = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(code, { eval: true, workerData: init, execArgv: [] });
}

/** Several schedulers as one: counts added, the longest lag, overloaded if any is. */
export function mergeSchedulerStats(list: readonly (SchedulerStats | undefined)[]): SchedulerStats {
  let jobs = 0;
  let running = 0;
  let queued = 0;
  let started = 0;
  let overruns = 0;
  let late = 0;
  let maxLagMs = 0;
  const loads: SchedulerLoad[] = [];
  for (const s of list) {
    if (!s) continue;
    jobs += s.jobs;
    running += s.running;
    queued += s.queued;
    started += s.started;
    overruns += s.overruns;
    late += s.late;
    maxLagMs = Math.max(maxLagMs, s.maxLagMs);
    if (s.overload) loads.push(s.overload);
  }
  const overload: SchedulerLoad | undefined =
    loads.length === 0
      ? undefined
      : {
          overloaded: loads.some((l) => l.overloaded),
          duePerSecond: sum(loads.map((l) => l.duePerSecond)),
          completedPerSecond: sum(loads.map((l) => l.completedPerSecond)),
          sustainablePerSecond: sum(loads.map((l) => l.sustainablePerSecond)),
          oldestWaitMs: Math.max(...loads.map((l) => l.oldestWaitMs)),
          // Any worker held: the writer's reason first (memory), as decideAdmission ranks them.
          heldBy: loads.find((l) => l.heldBy === 'writer')?.heldBy ?? loads.find((l) => l.heldBy)?.heldBy,
        };
  return { jobs, running, queued, started, overruns, late, maxLagMs, overload };
}

/** Several writers as one: counts added; the last error of any. */
export function mergeWriterStats(list: readonly (WriterStats | undefined)[]): WriterStats {
  const present = list.filter((w): w is WriterStats => w !== undefined);
  return {
    written: sum(present.map((w) => w.written)),
    buffered: sum(present.map((w) => w.buffered)),
    onDisk: sum(present.map((w) => w.onDisk ?? 0)),
    dropped: sum(present.map((w) => w.dropped)),
    invalid: sum(present.map((w) => w.invalid)),
    failures: sum(present.map((w) => w.failures)),
    lastError: present.find((w) => w.lastError !== undefined)?.lastError,
  };
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
