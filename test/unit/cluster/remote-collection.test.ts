/**
 * The Monitor with its collection as a port (issue #15): probe results from a feed instead of its own
 * polls, de-duplicated by (device, time), stale ones (older than two intervals) paging nobody, and probe
 * requests going out as messages. Fake time; the feed is a scripted fleet of collectors.
 */
import { describe, expect, it } from 'vitest';
import { ProbeGate, RemoteCollection, type ProbeFeed } from '../../../collector/cluster/remote-collection.ts';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { ProbeResult, Sample } from '../../../collector/core/types.ts';
import { Monitor } from '../../../collector/monitor.ts';
import { smallInventory } from '../../support/fixtures.ts';
import { RecordingChannel, advance } from '../../support/monitor-fakes.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 22, 2, 0);
const probe = (deviceId: string, timeMs: number, ok = true, source: ProbeResult['source'] = 'snmp') =>
  ({ deviceId, timeMs, ok, durationMs: 5, source }) as ProbeResult;

describe('ProbeGate', () => {
  const cases: { name: string; seen: ProbeResult[]; p: ProbeResult; now: number; want: string }[] = [
    { name: 'a first probe, fresh', seen: [], p: probe('a', T0), now: T0 + 1000, want: 'fresh' },
    {
      name: 'the same probe again (redelivery)',
      seen: [probe('a', T0)],
      p: probe('a', T0),
      now: T0,
      want: 'duplicate',
    },
    {
      name: 'an older probe after a newer one (out of order)',
      seen: [probe('a', T0 + MIN)],
      p: probe('a', T0),
      now: T0 + MIN,
      want: 'duplicate',
    },
    {
      name: 'the same time from another source is its own probe',
      seen: [probe('a', T0)],
      p: probe('a', T0, true, 'ping'),
      now: T0,
      want: 'fresh',
    },
    {
      name: 'exactly two intervals old: still fresh',
      seen: [],
      p: probe('a', T0),
      now: T0 + 2 * MIN,
      want: 'fresh',
    },
    {
      name: 'older than two intervals: stale',
      seen: [],
      p: probe('a', T0),
      now: T0 + 2 * MIN + 1,
      want: 'stale',
    },
  ];
  it.each(cases)('$name', ({ seen, p, now, want }) => {
    const gate = new ProbeGate(MIN);
    for (const s of seen) gate.admit(s, s.timeMs);
    expect(gate.admit(p, now)).toBe(want);
  });
});

/** Collectors as the alerting side sees them: every device's result each interval, on request sooner. */
class ScriptedFleet implements ProbeFeed {
  readonly cut = new Set<string>();
  /** Devices whose results do not arrive (their collector is cut off). */
  readonly silent = new Set<string>();
  readonly requests: { deviceId: string; delayMs: number }[] = [];
  /** Deliver each result this many times (at-least-once delivery). */
  copies = 1;
  #onProbe: ((p: ProbeResult) => void) | undefined;
  #timer: ReturnType<FakeClock['setTimeout']> | undefined;
  constructor(
    private readonly clock: FakeClock,
    private readonly devices: readonly string[],
  ) {}

  start(onProbe: (p: ProbeResult) => void): void {
    this.#onProbe = onProbe;
    const round = (): void => {
      for (const id of this.devices) if (!this.silent.has(id)) this.emit(id, this.clock.now());
      this.#timer = this.clock.setTimeout(round, MIN);
    };
    round();
  }
  /** Stops the rounds only: emit() still delivers, like messages a feed had buffered when it stopped. */
  stop(): Promise<void> {
    if (this.#timer) this.clock.clearTimeout(this.#timer);
    return Promise.resolve();
  }
  emit(id: string, timeMs: number): void {
    for (let i = 0; i < this.copies; i++) this.#onProbe?.(probe(id, timeMs, !this.cut.has(id)));
  }
  /** A ping result of the owner (the second signal), as a collector member with `ping:` publishes it. */
  emitPing(id: string, timeMs: number, ok: boolean): void {
    this.#onProbe?.(probe(id, timeMs, ok, 'ping'));
  }
  publish(deviceId: string, delayMs: number): void {
    this.requests.push({ deviceId, delayMs });
    this.clock.setTimeout(() => this.emit(deviceId, this.clock.now()), delayMs);
  }
}

function setup() {
  const clock = new FakeClock(T0);
  const inventory = smallInventory();
  const fleet = new ScriptedFleet(
    clock,
    inventory.devices.map((d) => d.id),
  );
  const samples: Sample[] = [];
  const writer = {
    push: (s: readonly Sample[]) => void samples.push(...s),
    start: () => Promise.resolve(),
    stop: () => Promise.resolve(),
    stats: () => ({ written: 0, buffered: 0, dropped: 0, invalid: 0, failures: 0 }),
  };
  const log = memoryLogger('warn');
  let remote = undefined as RemoteCollection | undefined;
  const channel = new RecordingChannel('hook');
  const monitor = new Monitor(
    {
      clock,
      log,
      inventory,
      writer,
      notifiers: [channel],
      collection: ({ onProbe }) =>
        (remote = new RemoteCollection(
          { clock, log, feed: fleet, publishProbe: (id, d) => fleet.publish(id, d), writer, onProbe },
          { intervalMs: MIN, selfMetricsMs: MIN },
        )),
    },
    {
      intervalMs: MIN,
      jitterMs: 0,
      concurrency: 4,
      downAfterFailures: 2,
      recheckMs: 10_000,
      selfMetricsMs: MIN,
    },
  );
  if (!remote) throw new Error('no remote collection');
  return { clock, fleet, monitor, channel, samples, remote };
}

describe('Monitor on a remote collection', () => {
  it('pages once for a router cut from the feed, asks the collectors for the recheck, and recovers', async () => {
    const { clock, fleet, monitor, channel, remote } = setup();
    await monitor.start();
    await advance(clock, MIN, 1000);
    expect(monitor.status().states.up).toBe(4);
    fleet.cut.add('pkm-petang-1-r1');
    await advance(clock, 3 * MIN, 1000);
    expect(channel.sent.map((n) => [n.status, n.device?.id])).toEqual([['firing', 'pkm-petang-1-r1']]);
    // The suspect's recheck went out as a probe request (netmon.probe.<id>), not a local poll.
    expect(fleet.requests).toContainEqual({ deviceId: 'pkm-petang-1-r1', delayMs: 10_000 });
    fleet.cut.delete('pkm-petang-1-r1');
    await advance(clock, 2 * MIN, 1000);
    expect(channel.sent.map((n) => n.status)).toEqual(['firing', 'resolved']);
    expect(monitor.status().polls.rounds).toBeGreaterThanOrEqual(6);
    await monitor.stop();
    expect(monitor.pendingTimers()).toBe(0);
    expect(remote.pendingTimers()).toBe(0);
  });

  it('every result delivered twice: counted once, paged once', async () => {
    const { clock, fleet, monitor, channel, remote } = setup();
    fleet.copies = 2;
    await monitor.start();
    await advance(clock, MIN, 1000);
    fleet.cut.add('pkm-petang-1-r1');
    await advance(clock, 3 * MIN, 1000);
    expect(channel.sent.map((n) => [n.status, n.device?.id])).toEqual([['firing', 'pkm-petang-1-r1']]);
    const c = remote.counts();
    expect(c.duplicate).toBe(c.fresh);
    expect(monitor.status().polls.ok + monitor.status().polls.failed).toBe(c.fresh);
    await monitor.stop();
  });

  it('a backlog of old failures (an edge uplink back after minutes) pages nobody', async () => {
    const { clock, fleet, monitor, channel, remote } = setup();
    await monitor.start();
    await advance(clock, MIN, 1000);
    // The router's collector is cut off for six minutes; the router fails meanwhile, then recovers.
    const silentFrom = clock.now();
    fleet.silent.add('pkm-petang-1-r1');
    await advance(clock, 6 * MIN, 1000);
    // Its results from then arrive now, in order: the first three are older than two intervals.
    fleet.cut.add('pkm-petang-1-r1');
    for (const at of [1, 2, 3]) fleet.emit('pkm-petang-1-r1', silentFrom + at * MIN - 1000);
    expect(remote.counts().stale).toBe(3);
    fleet.cut.delete('pkm-petang-1-r1');
    fleet.silent.delete('pkm-petang-1-r1');
    await advance(clock, 2 * MIN, 1000);
    expect(channel.sent).toEqual([]);
    expect(monitor.health.get('pkm-petang-1-r1')?.state).toBe('up');
    await monitor.stop();
  });

  it('a ping result reaches health but is not a poll: the poll counts and rounds stay as they were', async () => {
    const { clock, fleet, monitor, remote } = setup();
    await monitor.start();
    await advance(clock, MIN, 1000);
    const before = monitor.status().polls;
    const fresh = remote.counts().fresh;
    fleet.emitPing('pkm-petang-1-r1', clock.now() - 900, true);
    fleet.emitPing('pkm-petang-1-r1', clock.now() - 800, true);
    fleet.emitPing('pkm-petang-1-ap1', clock.now() - 700, true);
    expect(remote.counts().fresh).toBe(fresh + 3);
    expect(monitor.status().polls).toEqual(before);
    await monitor.stop();
  });

  it('writes its own health as a monitor point of component alerting', async () => {
    const { clock, monitor, samples } = setup();
    await monitor.start();
    await advance(clock, MIN, 1000);
    const point = samples.find((s) => s.measurement === 'monitor' && s.tags.component === 'alerting');
    // Two rounds of four devices (at the start and at one minute) before the point at one minute.
    expect(point?.fields).toMatchObject({ results_taken: 8, results_duplicate: 0, results_stale: 0 });
    await monitor.stop();
  });

  it('after stop (or halt) nothing from the feed reaches health, and no probe request goes out', async () => {
    const { clock, fleet, monitor } = setup();
    await monitor.start();
    await advance(clock, MIN, 1000);
    monitor.halt();
    const requests = fleet.requests.length;
    fleet.cut.add('pkm-petang-1-r1');
    fleet.emit('pkm-petang-1-r1', clock.now());
    expect(monitor.health.get('pkm-petang-1-r1')?.state).toBe('up');
    expect(fleet.requests.length).toBe(requests);
    await monitor.stop();
  });
});
