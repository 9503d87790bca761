/**
 * Collection in two worker threads against the fleet simulator and a real influxd: every device polled
 * once per interval by exactly one worker (none twice, none missing), a probe request reaches the owning
 * worker, and a worker killed with terminate() is started again and its devices are polled again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerCollection } from '../../../collector/collection/worker-collection.ts';
import type { CollectionConfig } from '../../../collector/collection/collection-parts.ts';
import { systemClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { Inventory, ProbeResult, Sample } from '../../../collector/core/types.ts';
import type { SampleWriterLike } from '../../../collector/pipeline.ts';
import { FleetSimulator } from '../../../simulator/fleet.ts';
import { syntheticInventory } from '../../../simulator/synthetic-inventory.ts';
import { influxRows, startTestInfluxd, type TestServer } from '../../support/influx.ts';
import { freeUdpPort, waitFor } from '../../support/ports.ts';

const INTERVAL_MS = 2000;
const JITTER_MS = 100;
const DB = 'netmon_workers';

let influx: TestServer;
let sim: FleetSimulator;
let dir: string;
let inventory: Inventory;
let collection: WorkerCollection;
const log = memoryLogger('info');
/** Every probe result the main thread received, in order. */
const probes: ProbeResult[] = [];
const mainPoints: Sample[] = [];

/** The main thread's writer: only the extra metrics reach it (the workers write their own samples). */
const mainWriter: SampleWriterLike = {
  push: (s) => void mainPoints.push(...s),
  start: () => Promise.resolve(),
  stop: () => Promise.resolve(),
  stats: () => ({ written: 0, buffered: 0, dropped: 0, invalid: 0, failures: 0 }),
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-workers-'));
  influx = await startTestInfluxd();
  const port = await freeUdpPort();
  const inv = syntheticInventory({
    sites: 60,
    port,
    seed: 7,
    hostOctet: 120 + Math.floor(Math.random() * 20),
  });
  inventory = { sites: inv.sites, devices: inv.devices.map((d) => ({ ...d, port })) };
  sim = new FleetSimulator({ inventory, seed: 7 });
  await sim.start();
  const config: CollectionConfig = {
    snmp: {
      intervalMs: INTERVAL_MS,
      jitterMs: JITTER_MS,
      timeoutMs: 500,
      retries: 0,
      concurrency: 32,
      maxRepetitions: 25,
    },
    influx: { api: 'v1', url: influx.url, database: DB, timeoutMs: 5000 },
    writer: {
      batchSize: 500,
      flushIntervalMs: 200,
      bufferDir: join(dir, 'buffer'),
      maxBufferBytes: 16 << 20,
    },
  };
  collection = new WorkerCollection(
    {
      clock: systemClock,
      log,
      inventory,
      config,
      writer: mainWriter,
      onProbe: (p) => void probes.push(p),
      extraMetrics: () => [
        { measurement: 'monitor', tags: { component: 'mqtt' }, fields: { x: 1 }, timeMs: 1 },
      ],
    },
    {
      workers: 2,
      intervalMs: INTERVAL_MS,
      jitterMs: JITTER_MS,
      concurrency: 32,
      selfMetricsMs: 1000,
      restartMs: 200,
    },
  );
  collection.start(inventory.devices.map((d) => d.id));
}, 120_000);

afterAll(async () => {
  await collection?.stop();
  await sim?.stop();
  await influx?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Probe times of each device since `fromMs` (probe time, monitor clock). */
function timesByDevice(fromMs: number): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const p of probes) {
    if (p.timeMs < fromMs) continue;
    const list = out.get(p.deviceId) ?? [];
    list.push(p.timeMs);
    out.set(p.deviceId, list);
  }
  return out;
}

describe('WorkerCollection (2 worker threads, fleet simulator, influxd)', () => {
  it('splits the fleet: every device in exactly one worker', () => {
    const a = collection.devicesOf(0);
    const b = collection.devicesOf(1);
    expect(a.length).toBeGreaterThan(inventory.devices.length / 4);
    expect(b.length).toBeGreaterThan(inventory.devices.length / 4);
    expect(new Set([...a, ...b]).size).toBe(inventory.devices.length);
    expect(a.length + b.length).toBe(inventory.devices.length);
  });

  it('polls every device once per interval: none missing, none twice', async () => {
    // Two whole rounds once the workers are up (a deadline, not a wait: a busy machine starts them slowly),
    // then four and a half intervals of probe results.
    await waitFor(() => collection.polls().rounds >= 2, { timeoutMs: 120_000, what: 'two poll rounds' });
    const from = Date.now();
    await waitFor(() => Date.now() >= from + 4.5 * INTERVAL_MS, { timeoutMs: 20_000, intervalMs: 100 });
    const times = timesByDevice(from);
    // Due 4 or 5 times in the window; a turn late from before it may add one. A device polled by both
    // workers (or a turn run twice) would have twice that: 8 or more.
    const missing = inventory.devices.filter((d) => (times.get(d.id)?.length ?? 0) < 3).map((d) => d.id);
    const twice = [...times]
      .filter(([, list]) => list.length > 6)
      .map(([id, list]) => `${id} (${list.length})`);
    expect(missing).toEqual([]);
    expect(twice).toEqual([]);
    // Answers decoded in the workers; on a starved machine a poll may time out, nothing else may fail.
    expect(probes.filter((p) => p.ok).length).toBeGreaterThan(probes.length / 2);
    expect(probes.filter((p) => !p.ok && p.failure?.reason !== 'timeout')).toEqual([]);
    const scheduler = collection.schedulerStats();
    expect(scheduler.jobs).toBe(inventory.devices.length);
    expect(collection.workers().map((w) => w.alive)).toEqual([true, true]);
    // Every probe result came from a worker's Collection: their poll counts add up to what arrived.
    const byWorkers = collection.workers().reduce((n, w) => n + w.polls.ok + w.polls.failed, 0);
    expect(byWorkers).toBeLessThanOrEqual(probes.length);
    expect(byWorkers).toBeGreaterThan(probes.length - 2 * inventory.devices.length);
  }, 240_000);

  it("writes each worker's samples and monitor points to InfluxDB, the other components' from the main thread", async () => {
    const rows = await waitFor(
      async () => {
        const r = await influxRows(
          influx.url,
          DB,
          'SELECT count("reachable") FROM "device" GROUP BY "device"',
        );
        return r.length === inventory.devices.length ? r : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500, what: 'a device point of every device in InfluxDB' },
    );
    expect(rows).toHaveLength(inventory.devices.length);
    const workers = await waitFor(
      async () => {
        const r = await influxRows(influx.url, DB, 'SHOW TAG VALUES FROM "monitor" WITH KEY = "node"');
        return r.length === 2 ? r : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500, what: 'monitor points of both workers' },
    );
    expect(workers.map((r) => r.value).sort()).toEqual(['collection-worker-1', 'collection-worker-2']);
    // Each worker's point carries its own V8 heap (the memory goal of issue #14, per thread).
    const heaps = await influxRows(
      influx.url,
      DB,
      `SELECT last("heap_used_mb") AS used, last("heap_total_mb") AS total FROM "monitor" WHERE "component" = 'collector' GROUP BY "node"`,
    );
    expect(heaps).toHaveLength(2);
    for (const h of heaps) {
      expect(Number(h.used)).toBeGreaterThan(1);
      expect(Number(h.total)).toBeGreaterThanOrEqual(Number(h.used));
    }
    collection.writeSelfMetrics();
    expect(mainPoints.some((p) => p.tags.component === 'mqtt')).toBe(true);
  });

  it('a probe request reaches the worker that owns the device', async () => {
    for (const index of [0, 1]) {
      const id = collection.devicesOf(index)[0];
      if (id === undefined) throw new Error(`worker ${index} has no device`);
      // Right after its turn, so the next one is a whole interval away: a probe soon after is the request's.
      const seen = probes.length;
      await waitFor(() => probes.slice(seen).some((p) => p.deviceId === id), {
        timeoutMs: 3 * INTERVAL_MS,
        what: `a turn of ${id}`,
      });
      const askedAt = Date.now();
      const before = probes.length;
      collection.requestProbe(id, 0);
      const probe = await waitFor(() => probes.slice(before).find((p) => p.deviceId === id), {
        timeoutMs: INTERVAL_MS,
        what: `the requested probe of ${id} (worker ${index + 1})`,
      });
      expect(probe.timeMs - askedAt).toBeLessThan(INTERVAL_MS / 2);
    }
  });

  it('a worker killed with terminate() is started again and its devices are polled again', async () => {
    const victim = collection.thread(0);
    if (!victim) throw new Error('worker 1 is not running');
    const own = collection.devicesOf(0);
    await victim.terminate();
    const killedAt = Date.now();
    await waitFor(() => collection.workers()[0]?.restarts === 1 && collection.workers()[0]?.alive, {
      timeoutMs: 90_000,
      what: 'collection-worker-1 started again',
    });
    expect(collection.thread(0)).not.toBe(victim);
    // Within two intervals of its restart every one of its devices has a new probe result.
    const restartedAt = Date.now();
    await waitFor(
      () => {
        const times = timesByDevice(killedAt);
        return own.every((id) => (times.get(id)?.length ?? 0) > 0);
      },
      {
        timeoutMs: 2 * INTERVAL_MS + 5000,
        what: () => {
          const times = timesByDevice(killedAt);
          return `every device of worker 1 polled again (${own.filter((id) => times.has(id)).length}/${own.length})`;
        },
      },
    );
    expect(Date.now() - restartedAt).toBeLessThan(2 * INTERVAL_MS + 5000);
    const exit = log.records.find((r) => r.level === 'error' && r.msg.includes('collection-worker-1 exited'));
    expect(exit?.worker).toBe('collection-worker-1');
    expect(exit?.devices).toBe(own.length);
    // The other worker kept polling all along.
    expect(collection.workers()[1]?.restarts).toBe(0);
  }, 180_000);

  it('stop() ends both threads and leaves no timer', async () => {
    await collection.stop();
    expect(collection.thread(0)).toBeUndefined();
    expect(collection.thread(1)).toBeUndefined();
    expect(collection.pendingTimers()).toBe(0);
    const after = probes.length;
    collection.requestProbe(collection.devicesOf(0)[0] ?? '', 0);
    expect(probes.length).toBe(after);
  });
});
