/**
 * The composition root on fake time, with a scripted poller: the outage logic end to end, without I/O.
 * (The same scenario against the real simulator, InfluxDB and a webhook receiver is in test/e2e.)
 */
import { describe, expect, it } from 'vitest';
import { Monitor } from '../../../collector/monitor.ts';
import { FakeClock } from '../../../collector/core/clock.ts';
import { SnmpError } from '../../../collector/core/errors.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { Sample } from '../../../collector/core/types.ts';
import type { Notification } from '../../../collector/notify/notification.ts';
import type { Notifier } from '../../../collector/notify/notifier.ts';
import type { SampleWriterLike } from '../../../collector/pipeline.ts';
import { smallInventory } from '../../support/fixtures.ts';
import { ScriptedPoller, advance as advanceBy } from '../../support/monitor-fakes.ts';
const advance = (clock: FakeClock, ms: number) => advanceBy(clock, ms, 1000);

class ArrayWriter implements SampleWriterLike {
  readonly samples: Sample[] = [];
  push(s: readonly Sample[]): void {
    this.samples.push(...s);
  }
  start = () => Promise.resolve();
  stop = () => Promise.resolve();
  stats = () => ({ written: this.samples.length, buffered: 0, dropped: 0, invalid: 0, failures: 0 });
}

class CaptureNotifier implements Notifier {
  readonly name = 'capture';
  readonly sent: Notification[] = [];
  send(n: Notification): Promise<void> {
    this.sent.push(n);
    return Promise.resolve();
  }
}

describe('Monitor (fake time, scripted devices)', () => {
  it('a site cut is one page for the router, its APs and downstream site unreachable, one recovery', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 22, 2, 0));
    const poller = new ScriptedPoller(clock);
    const writer = new ArrayWriter();
    const notifier = new CaptureNotifier();
    const monitor = new Monitor(
      {
        clock,
        log: memoryLogger('warn'),
        inventory: smallInventory(),
        poller,
        writer,
        notifiers: [notifier],
      },
      {
        intervalMs: 60_000,
        jitterMs: 0,
        concurrency: 8,
        downAfterFailures: 2,
        recheckMs: 10_000,
        selfMetricsMs: 30_000,
      },
    );
    await monitor.start();
    await advance(clock, 60_000);
    expect(monitor.status().states.up).toBe(4);

    // t=60 s: the puskesmas loses power: its router and both APs stop answering (and so does the banjar behind it).
    for (const id of ['pkm-petang-1-r1', 'pkm-petang-1-ap1', 'pkm-petang-1-ap2', 'bjr-pelaga-1-r1'])
      poller.cut.add(id);
    const cutAt = clock.now();
    await advance(clock, 180_000);
    const firing = notifier.sent.filter((n) => n.status === 'firing');
    expect(firing.map((n) => n.device?.id)).toEqual(['pkm-petang-1-r1']);
    // Detected within one interval plus the recheck.
    expect(Date.parse(firing[0]?.startedAt ?? '') - cutAt).toBeLessThanOrEqual(60_000 + 10_000 + 1_000);
    expect(firing[0]?.affected.sites).toEqual([{ id: 'bjr-pelaga-1', name: 'Banjar Kiadan' }]);
    const states = monitor.health.snapshot();
    expect(states.get('pkm-petang-1-r1')?.state).toBe('down');
    expect(states.get('pkm-petang-1-ap1')?.state).toBe('unreachable');
    expect(states.get('pkm-petang-1-ap2')?.state).toBe('unreachable');
    expect(states.get('bjr-pelaga-1-r1')?.state).toBe('unreachable');

    // Every transition is also a device_state point.
    const stateSamples = writer.samples.filter(
      (s) => s.measurement === 'device_state' && s.fields.state !== 'up',
    );
    for (const id of ['pkm-petang-1-ap1', 'pkm-petang-1-ap2', 'bjr-pelaga-1-r1']) {
      expect(stateSamples.some((s) => s.tags.device === id && s.fields.state === 'unreachable')).toBe(true);
    }
    expect(stateSamples.filter((s) => s.fields.state === 'down').map((s) => s.tags.device)).toEqual([
      'pkm-petang-1-r1',
    ]);

    // Failed polls are written as reachable=0 with the reason.
    const failed = writer.samples.filter((s) => s.measurement === 'device' && s.fields.reachable === 0);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((s) => s.fields.failure === 'timeout')).toBe(true);

    // t≈5 min: power is back.
    poller.cut.clear();
    await advance(clock, 120_000);
    const resolved = notifier.sent.filter((n) => n.status === 'resolved');
    expect(resolved.map((n) => n.device?.id)).toEqual(['pkm-petang-1-r1']);
    expect(resolved[0]?.id).toBe(firing[0]?.id);
    expect(notifier.sent).toHaveLength(2);
    expect(monitor.status().states.up).toBe(4);
    await monitor.stop();
  });

  it('keeps polling the others when one device keeps failing with a bad response', async () => {
    const clock = new FakeClock(0);
    const poller = new ScriptedPoller(clock);
    const writer = new ArrayWriter();
    const log = memoryLogger('warn');
    const monitor = new Monitor(
      { clock, log, inventory: smallInventory(), poller, writer, notifiers: [] },
      {
        intervalMs: 10_000,
        jitterMs: 0,
        concurrency: 2,
        downAfterFailures: 3,
        recheckMs: 2_000,
        selfMetricsMs: 10_000,
      },
    );
    const orig = poller.poll.bind(poller);
    poller.poll = (d) =>
      d.id === 'pkm-petang-1-ap1'
        ? Promise.reject(new SnmpError('decode', 'garbage varbind', { retryable: false }))
        : orig(d);
    await monitor.start();
    await advance(clock, 30_000);
    const ok = writer.samples.filter((s) => s.measurement === 'device' && s.fields.reachable === 1);
    expect(new Set(ok.map((s) => s.tags.device))).toEqual(
      new Set(['pkm-petang-1-r1', 'pkm-petang-1-ap2', 'bjr-pelaga-1-r1']),
    );
    expect(log.records.some((r) => r.msg === 'poll failed' && r.reason === 'decode')).toBe(true);
    // The monitor's own health is written too.
    expect(writer.samples.some((s) => s.measurement === 'monitor')).toBe(true);
    await monitor.stop();
  });
});

describe('Monitor progress counters (what tests wait on instead of the clock)', () => {
  it('counts a poll round only once every polled device has been polled; expedited polls do not make one', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 22, 2, 0));
    const poller = new ScriptedPoller(clock);
    const inventory = smallInventory();
    const monitor = new Monitor(
      { clock, log: memoryLogger('warn'), inventory, poller, writer: new ArrayWriter(), notifiers: [] },
      {
        intervalMs: 60_000,
        jitterMs: 0,
        concurrency: 8,
        downAfterFailures: 2,
        recheckMs: 5_000,
        selfMetricsMs: 30_000,
        clockCheckMs: 10_000,
      },
    );
    await monitor.start();
    expect(monitor.status().polls.rounds).toBe(0);
    // The first turns are spread over one interval: after it, every device was polled once.
    await advance(clock, 60_000);
    const { ok, rounds } = monitor.status().polls;
    expect(ok).toBe(inventory.devices.length);
    expect(rounds).toBe(1);
    // One device failing is rechecked sooner (expedited): many more polls, but a round still needs all.
    poller.cut.add('pkm-petang-1-ap1');
    await advance(clock, 30_000);
    const mid = monitor.status().polls;
    expect(mid.rounds).toBe(1);
    await advance(clock, 30_000);
    expect(monitor.status().polls.rounds).toBe(2);
    // Clock checks: counted, with the monitor time of the last.
    const checks = monitor.status().clockChecks;
    expect(checks.count).toBe(12);
    expect(checks.lastAtMs).toBe(clock.now());
    await monitor.stop();
  });
});
