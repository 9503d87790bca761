/**
 * The collection role on its own, with no alerting behind it: what it emits is all the other side needs
 * (one ProbeResult per poll, failures with their reason), its samples go to the writer, and a probe asked
 * for later is cleared by stop().
 */
import { describe, expect, it } from 'vitest';
import { Collection } from '../../../collector/collection/collection.ts';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { ProbeResult, Sample } from '../../../collector/core/types.ts';
import { Topology } from '../../../collector/health/topology.ts';
import { smallInventory } from '../../support/fixtures.ts';
import { ScriptedPoller, advance } from '../../support/monitor-fakes.ts';
import { processMemoryPoint } from '../../../collector/collection/thread-memory.ts';
import { validateSample } from '../../../collector/sinks/validate.ts';

const MIN = 60_000;

function setup(loopUtilisation?: () => number) {
  const clock = new FakeClock(Date.parse('2026-11-23T10:00:00+08:00'));
  const poller = new ScriptedPoller(clock);
  const probes: ProbeResult[] = [];
  const samples: Sample[] = [];
  const collection = new Collection(
    {
      clock,
      log: memoryLogger('error'),
      topology: new Topology(smallInventory()),
      poller,
      writer: {
        push: (s) => void samples.push(...s),
        start: () => Promise.resolve(),
        stop: () => Promise.resolve(),
        stats: () => ({ written: samples.length, buffered: 0, dropped: 0, invalid: 0, failures: 0 }),
      },
      onProbe: (p) => probes.push(p),
      loopUtilisation,
    },
    { intervalMs: MIN, jitterMs: 0, concurrency: 4, selfMetricsMs: MIN },
  );
  return { clock, poller, probes, samples, collection };
}

describe('Collection', () => {
  it('emits one probe result per poll, failures with their reason, and counts rounds', async () => {
    const { clock, poller, probes, samples, collection } = setup();
    const ids = ['pkm-petang-1-r1', 'pkm-petang-1-ap1', 'pkm-petang-1-ap2', 'bjr-pelaga-1-r1'];
    collection.start(ids);
    await advance(clock, MIN, 1000);
    poller.cut.add('bjr-pelaga-1-r1');
    await advance(clock, MIN, 1000);
    expect(collection.polls()).toMatchObject({ failed: 1, rounds: 2 });
    expect(collection.polls().ok).toBeGreaterThanOrEqual(7);
    const failed = probes.filter((p) => !p.ok);
    expect(failed.map((p) => [p.deviceId, p.source, p.failure?.reason])).toEqual([
      ['bjr-pelaga-1-r1', 'snmp', 'timeout'],
    ]);
    expect(new Set(probes.map((p) => p.deviceId))).toEqual(new Set(ids));
    const down = samples.filter((s) => s.measurement === 'device' && s.fields.reachable === 0);
    expect(down.map((s) => s.tags.device)).toEqual(['bjr-pelaga-1-r1']);
    const heartbeat = samples.filter((s) => s.measurement === 'monitor').at(-1);
    expect(heartbeat?.fields).toMatchObject({ failures_timeout: 1 });
    await collection.stop();
  });

  it('a probe asked for later runs then, and stop() clears one still waiting', async () => {
    const { clock, probes, collection } = setup();
    collection.start(['pkm-petang-1-r1']);
    await advance(clock, 1000, 1000);
    const before = probes.length;
    collection.requestProbe('pkm-petang-1-r1', 5000);
    await advance(clock, 6000, 1000);
    expect(probes.length).toBe(before + 1);
    collection.requestProbe('pkm-petang-1-r1', 5000);
    expect(collection.pendingTimers()).toBe(3); // the recheck, the self-metrics heartbeat, the admission check
    await collection.stop();
    expect(collection.pendingTimers()).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('stop() while the gate holds turns starts none of them (the gate opening on stop is not a turn)', async () => {
    let utilisation = 0;
    const { clock, probes, collection } = setup(() => utilisation);
    collection.start(['pkm-petang-1-r1', 'pkm-petang-1-ap1', 'bjr-pelaga-1-r1']);
    utilisation = 1; // the loop is full from the first check on
    await advance(clock, 300, 100);
    expect(collection.schedulerStats().overload?.heldBy).toBe('event_loop');
    const before = probes.length;
    await advance(clock, 2 * MIN, 1000);
    expect(probes.length).toBe(before); // held: nothing started
    await collection.stop();
    expect(probes.length).toBe(before);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("writes its thread's memory in its monitor point, and the process point validates", async () => {
    const clock = new FakeClock(Date.parse('2026-11-23T10:00:00+08:00'));
    const samples: Sample[] = [];
    const collection = new Collection(
      {
        clock,
        log: memoryLogger('error'),
        topology: new Topology(smallInventory()),
        poller: new ScriptedPoller(clock),
        writer: {
          push: (s) => void samples.push(...s),
          start: () => Promise.resolve(),
          stop: () => Promise.resolve(),
          stats: () => ({ written: 0, buffered: 0, dropped: 0, invalid: 0, failures: 0 }),
        },
        onProbe: () => undefined,
        memory: () => ({ heap_used_mb: 41.5, heap_total_mb: 64 }),
        extraMetrics: () => [processMemoryPoint(clock)],
      },
      { intervalMs: MIN, jitterMs: 0, concurrency: 4, selfMetricsMs: MIN },
    );
    collection.writeSelfMetrics();
    const own = samples.find((s) => s.measurement === 'monitor' && s.tags.component === 'collector');
    expect(own?.fields).toMatchObject({ heap_used_mb: 41.5, heap_total_mb: 64 });
    const proc = samples.find((s) => s.tags.component === 'process');
    expect(Number(proc?.fields.rss_mb)).toBeGreaterThan(1);
    expect(Number(proc?.fields.heap_used_mb)).toBeGreaterThan(1);
    for (const s of samples) expect(validateSample(s)).toEqual({ ok: true });
    await collection.stop();
  });
});
