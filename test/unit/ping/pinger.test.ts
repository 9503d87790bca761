import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { createLogger, type LogRecord } from '../../../collector/core/log.ts';
import type { ProbeResult, Sample } from '../../../collector/core/types.ts';
import { parseFpingOutput, type FpingParse } from '../../../collector/sources/ping/fping-output.ts';
import { FpingError } from '../../../collector/sources/ping/fping.ts';
import { Pinger, type PingTarget } from '../../../collector/sources/ping/pinger.ts';

const target = (deviceId: string, host: string, intervalMs: number): PingTarget => ({
  deviceId,
  host,
  intervalMs,
  tags: { device: deviceId },
});

/** Waits for the promise chain of a round (the fake batch resolves at once) to settle. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

function harness(opts: { lost?: Set<string>; fail?: boolean; garbage?: boolean } = {}) {
  const clock = new FakeClock(0);
  const logs: LogRecord[] = [];
  const batches: string[][] = [];
  const probes: ProbeResult[] = [];
  const samples: Sample[] = [];
  const batch = (hosts: readonly string[]): Promise<FpingParse> => {
    batches.push([...hosts]);
    if (opts.fail) return Promise.reject(new FpingError('ping_failed', 'fping exited 4'));
    const text = hosts
      .filter((h) => !(opts.garbage && h === '127.0.0.3'))
      .map((h) => `${h} : ${opts.lost?.has(h) ? '- -' : '0.1 0.2'}`)
      .join('\n');
    return Promise.resolve(parseFpingOutput(`${text}\n${opts.garbage ? 'garbage\n' : ''}`, hosts, 2));
  };
  const pinger = new Pinger({
    clock,
    log: createLogger({ level: 'debug', write: (_l, r) => logs.push(r) }),
    batch,
    targets: [
      target('fast', '127.0.0.1', 10_000),
      target('slow', '127.0.0.2', 60_000),
      target('slow-twin', '127.0.0.2', 60_000),
      target('other', '127.0.0.3', 60_000),
    ],
    recheckMs: 2000,
    batchSize: 2,
    parallel: 2,
    observe: (p) => probes.push(p),
    push: (s) => samples.push(...s),
  });
  return { clock, pinger, batches, probes, samples, logs };
}

describe('Pinger', () => {
  it('pings every address at start in batches, one result per device, and a ping sample each', async () => {
    const h = harness();
    h.pinger.start();
    h.clock.advance(0);
    await settle();
    expect(h.batches).toEqual([['127.0.0.1', '127.0.0.2'], ['127.0.0.3']]);
    expect(h.probes.map((p) => `${p.deviceId}:${p.ok}:${p.source}`).sort()).toEqual([
      'fast:true:ping',
      'other:true:ping',
      'slow-twin:true:ping',
      'slow:true:ping',
    ]);
    expect(h.samples[0]).toMatchObject({
      measurement: 'ping',
      fields: { sent: 2, received: 2, loss_pct: 0 },
    });
    await h.pinger.stop();
  });

  it('pings fast targets at their interval, and a lost one again after the recheck', async () => {
    const h = harness({ lost: new Set(['127.0.0.1']) });
    h.pinger.start();
    h.clock.advance(0);
    await settle();
    h.batches.length = 0;
    h.clock.advance(2000);
    await settle();
    expect(h.batches).toEqual([['127.0.0.1']]);
    expect(h.probes.filter((p) => p.deviceId === 'fast').map((p) => p.ok)).toEqual([false, false]);
    await h.pinger.stop();
  });

  it('a request pings that device at once', async () => {
    const h = harness();
    h.pinger.start();
    h.clock.advance(0);
    await settle();
    h.batches.length = 0;
    h.pinger.request('other');
    h.clock.advance(0);
    await settle();
    expect(h.batches).toEqual([['127.0.0.3']]);
    await h.pinger.stop();
  });

  it('a failed fping run is counted and logged, and is no lost ping', async () => {
    const h = harness({ fail: true });
    h.pinger.start();
    h.clock.advance(0);
    await settle();
    expect(h.probes).toEqual([]);
    expect(h.pinger.stats()).toMatchObject({ runs: 2, errors: 2, lastError: 'fping exited 4' });
    expect(h.logs.some((l) => l.msg === 'fping failed')).toBe(true);
    await h.pinger.stop();
  });

  it('output it cannot read is counted; a target without a result is not judged', async () => {
    const h = harness({ garbage: true });
    h.pinger.start();
    h.clock.advance(0);
    await settle();
    expect(h.probes.some((p) => p.deviceId === 'other')).toBe(false);
    // The garbage line of each of the two runs, and 127.0.0.3 without a line.
    expect(h.pinger.stats().badOutput).toBe(3);
    await h.pinger.stop();
  });
});

describe('Pinger.setTargets: the targets follow ownership (a cluster member)', () => {
  const all = {
    fast: target('fast', '127.0.0.1', 10_000),
    slow: target('slow', '127.0.0.2', 60_000),
    'slow-twin': target('slow-twin', '127.0.0.2', 60_000),
    other: target('other', '127.0.0.3', 60_000),
  };
  type Id = keyof typeof all;
  const pick = (ids: readonly Id[]): PingTarget[] => ids.map((id) => all[id]);

  // Start with `before`, let the first round run, move `atMs` on, set `after`, then run what is due by
  // `untilMs`: the addresses pinged after the change, and the devices judged.
  const cases: {
    name: string;
    before: Id[];
    after: Id[];
    atMs: number;
    untilMs: number;
    pinged: string[][];
    judged: string[];
  }[] = [
    {
      name: 'a device taken over is pinged at once; the others keep their schedule',
      before: ['slow'],
      after: ['slow', 'other'],
      atMs: 5000,
      untilMs: 5000,
      pinged: [['127.0.0.3']],
      judged: ['other'],
    },
    {
      name: 'a device handed back is pinged no more',
      before: ['fast', 'other'],
      after: ['other'],
      atMs: 5000,
      untilMs: 30_000,
      pinged: [],
      judged: [],
    },
    {
      name: 'one of two devices on an address handed back: the address stays, one result',
      before: ['slow', 'slow-twin'],
      after: ['slow-twin'],
      atMs: 1000,
      untilMs: 61_000,
      pinged: [['127.0.0.2']],
      judged: ['slow-twin'],
    },
    {
      name: 'everything handed back: nothing is pinged',
      before: ['fast'],
      after: [],
      atMs: 1000,
      untilMs: 50_000,
      pinged: [],
      judged: [],
    },
    {
      name: 'the same targets again change nothing (no extra round)',
      before: ['fast', 'other'],
      after: ['fast', 'other'],
      atMs: 3000,
      untilMs: 9999,
      pinged: [],
      judged: [],
    },
  ];

  for (const c of cases)
    it(c.name, async () => {
      const h = harness();
      h.pinger.setTargets(pick(c.before));
      h.pinger.start();
      h.clock.advance(0);
      await settle();
      h.batches.length = 0;
      h.probes.length = 0;
      h.clock.advance(c.atMs);
      await settle();
      h.pinger.setTargets(pick(c.after));
      expect(h.pinger.deviceIds().sort()).toEqual([...c.after].sort());
      for (let t = c.atMs; t < c.untilMs; t += 1000) {
        h.clock.advance(Math.min(1000, c.untilMs - t));
        await settle();
      }
      h.clock.advance(0);
      await settle();
      expect(h.batches).toEqual(c.pinged);
      expect(h.probes.map((p) => p.deviceId).sort()).toEqual([...c.judged].sort());
      await h.pinger.stop();
    });

  it('after everything was handed back, a device taken is pinged at once', async () => {
    const h = harness();
    h.pinger.setTargets([]);
    h.pinger.start();
    h.clock.advance(30_000);
    await settle();
    expect(h.batches).toEqual([]);
    h.pinger.setTargets(pick(['other']));
    h.clock.advance(0);
    await settle();
    expect(h.batches).toEqual([['127.0.0.3']]);
    await h.pinger.stop();
  });

  it('a request for a device handed back pings nothing', async () => {
    const h = harness();
    h.pinger.start();
    h.clock.advance(0);
    await settle();
    h.batches.length = 0;
    h.pinger.setTargets(pick(['fast']));
    h.pinger.request('other');
    h.clock.advance(0);
    await settle();
    expect(h.batches).toEqual([]);
    await h.pinger.stop();
  });

  it('a result for a device handed back while its round was in flight is neither judged nor written', async () => {
    const clock = new FakeClock(0);
    const probes: ProbeResult[] = [];
    const samples: Sample[] = [];
    let finish: (() => void) | undefined;
    const pinger = new Pinger({
      clock,
      log: createLogger({ level: 'error', write: () => undefined }),
      batch: (hosts) =>
        new Promise<FpingParse>((resolve) => {
          finish = () => resolve(parseFpingOutput(hosts.map((x) => `${x} : 0.1 0.2`).join('\n'), hosts, 2));
        }),
      targets: pick(['fast', 'other']),
      recheckMs: 2000,
      batchSize: 10,
      parallel: 1,
      observe: (p) => probes.push(p),
      push: (s) => samples.push(...s),
    });
    pinger.start();
    clock.advance(0);
    await settle();
    pinger.setTargets(pick(['fast']));
    finish?.();
    await settle();
    expect(probes.map((p) => p.deviceId)).toEqual(['fast']);
    expect(samples.map((s) => s.tags.device)).toEqual(['fast']);
    await pinger.stop();
  });
});
