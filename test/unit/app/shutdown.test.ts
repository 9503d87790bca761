/**
 * Stopping the monitor is not news about the fleet: polls that fail once stop() has begun (the monitor
 * closing its sockets, or the simulator going away with it) become no sample, no transition, no page.
 */
import { describe, expect, it } from 'vitest';
import { Monitor, type MonitorDeps, type MonitorSettings } from '../../../collector/monitor.ts';
import { FakeClock } from '../../../collector/core/clock.ts';
import { SnmpError } from '../../../collector/core/errors.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { Device, DeviceReading, Sample, Transition } from '../../../collector/core/types.ts';
import type { DevicePoller, SampleWriterLike } from '../../../collector/pipeline.ts';

import { smallInventory } from '../../support/fixtures.ts';
import { RecordingChannel, advance } from '../../support/monitor-fakes.ts';

class ArrayWriter implements SampleWriterLike {
  readonly samples: Sample[] = [];
  push(s: readonly Sample[]): void {
    this.samples.push(...s);
  }
  start = () => Promise.resolve();
  stop = () => Promise.resolve();
  stats = () => ({ written: this.samples.length, buffered: 0, dropped: 0, invalid: 0, failures: 0 });
}

/** Answers at once until `hold` is set; then every poll waits until `fail()` rejects them all. */
class HoldingPoller implements DevicePoller {
  hold = false;
  readonly waiting: ((err: Error) => void)[] = [];
  constructor(private readonly clock: FakeClock) {}
  poll(device: Device): Promise<DeviceReading> {
    if (this.hold) return new Promise((_resolve, reject) => this.waiting.push(reject));
    return Promise.resolve({
      deviceId: device.id,
      timeMs: this.clock.now(),
      sysUpTimeCs: this.clock.now() / 10,
      interfaces: [],
      wifi: [],
    });
  }
  fail(): void {
    for (const reject of this.waiting.splice(0))
      reject(new SnmpError('timeout', 'no answer (socket closed)', { retryable: true }));
  }
  close(): void {}
}

/** A monitor over the small inventory, polled every minute by `poller`; `over` changes its settings. */
function monitorOf(
  clock: FakeClock,
  poller: HoldingPoller,
  over: Partial<MonitorSettings> = {},
  deps: Partial<MonitorDeps> = {},
): Monitor {
  return new Monitor(
    {
      clock,
      log: memoryLogger('error'),
      inventory: smallInventory(),
      poller,
      writer: new ArrayWriter(),
      notifiers: [],
      ...deps,
    },
    {
      intervalMs: 60_000,
      jitterMs: 0,
      concurrency: 8,
      downAfterFailures: 1,
      recheckMs: 10_000,
      selfMetricsMs: 30_000,
      ...over,
    },
  );
}

/** Start, one round answered, the next one failing while running: the transitions it made. */
async function oneRoundFails(
  monitor: Monitor,
  clock: FakeClock,
  poller: HoldingPoller,
): Promise<Transition[]> {
  const transitions: Transition[] = [];
  monitor.onTransition((t) => transitions.push(t));
  await monitor.start();
  await advance(clock, 60_000, 1000);
  poller.hold = true;
  await advance(clock, 60_000, 1000);
  poller.fail();
  await advance(clock, 1000, 1000);
  return transitions;
}

describe('Monitor.stop()', () => {
  it('polls that fail after stop() began are no transition and no reachable=0 sample', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 22, 2, 0));
    const poller = new HoldingPoller(clock);
    const writer = new ArrayWriter();
    const channel = new RecordingChannel('capture');
    const monitor = monitorOf(clock, poller, {}, { writer, notifiers: [channel] });
    const transitions: Transition[] = [];
    monitor.onTransition((t) => transitions.push(t));
    await monitor.start();
    await advance(clock, 60_000, 1000);
    expect(monitor.status().states.up).toBe(4);
    const before = transitions.length;

    // The next round is in flight when the stop begins; then every poll fails.
    poller.hold = true;
    await advance(clock, 60_000, 1000);
    expect(poller.waiting.length).toBe(4);
    const stopped = monitor.stop();
    poller.fail();
    await stopped;

    expect(transitions.slice(before)).toEqual([]);
    expect(writer.samples.filter((s) => s.measurement === 'device' && s.fields.reachable === 0)).toEqual([]);
    expect(monitor.health.snapshot().get('pkm-petang-1-r1')?.state).toBe('up');
    expect(channel.sent).toEqual([]);
  });

  it('the same failures while running are an outage (the test above can fail)', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 22, 2, 0));
    const poller = new HoldingPoller(clock);
    const monitor = monitorOf(clock, poller);
    const transitions = await oneRoundFails(monitor, clock, poller);
    expect(transitions.some((t) => t.to !== 'up')).toBe(true);
    const stopped = monitor.stop();
    poller.fail();
    await stopped;
  });

  it('leaves no timer behind: the recheck a failed poll asked for is cleared too', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 22, 2, 0));
    const poller = new HoldingPoller(clock);
    const monitor = monitorOf(clock, poller, {
      // Two failures make a device down: the first makes it suspect and asks for a recheck in 10 s.
      downAfterFailures: 2,
      flapping: { settleMs: 120_000, flapThreshold: 2 },
      maintenance: [
        {
          id: 'mw-later',
          name: 'later',
          scope: { sites: ['pkm-petang-1'] },
          schedule: { kind: 'once', startMs: clock.now() + 86_400_000, endMs: clock.now() + 90_000_000 },
          source: 'config',
        },
      ],
    });
    const transitions = await oneRoundFails(monitor, clock, poller);
    expect(transitions.some((t) => t.to === 'suspect')).toBe(true);
    // The rechecks are armed (10 s ahead), with the scheduler, self-metrics, site-state, clock and calendar timers.
    expect(monitor.pendingTimers()).toBeGreaterThan(2);
    const stopped = monitor.stop();
    poller.fail();
    await stopped;
    expect(monitor.pendingTimers()).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });
});
