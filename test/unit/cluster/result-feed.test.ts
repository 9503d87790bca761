/**
 * BusProbeFeed (collector/cluster/result-feed.ts), the leader's reading of the results stream, over a fake
 * consumer whose pulls can be ended from outside (as nats.js ends a pull on a subscription error or a
 * consumer deleted under it): a pull that ends by itself is started again, and the results after it still
 * reach the Monitor; a pull ended by stop() is not.
 */
import { setImmediate as tickOnce } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { ProbeResult } from '../../../collector/core/types.ts';
import { BusProbeFeed } from '../../../collector/cluster/result-feed.ts';
import type { BusMessage, ConsumerSource } from '../../../collector/cluster/result-bus.ts';
import { encodeResult } from '../../../collector/cluster/subjects.ts';

const T0 = Date.UTC(2026, 11, 5, 2);
const probe = (i: number): ProbeResult => ({
  deviceId: `dev-${i}`,
  timeMs: T0 + i,
  ok: true,
  durationMs: 5,
  source: 'snmp',
});

/** A consumer whose pulls are driven by the test: deliver(i) to the current pull, fail() ends it. */
function drivenSource() {
  const pulls: { onMessage: (m: BusMessage) => Promise<void>; end: (err?: unknown) => void }[] = [];
  const source: ConsumerSource = {
    consume: async (onMessage) => {
      let end: (err?: unknown) => void = () => undefined;
      const ended = new Promise<unknown>((resolve) => (end = resolve));
      pulls.push({ onMessage, end });
      return { stop: async () => end(undefined), ended };
    },
  };
  const deliver = async (i: number): Promise<void> => {
    const pull = pulls.at(-1);
    if (!pull) throw new Error('no pull running');
    await pull.onMessage({
      subject: 'netmon.results.col-1',
      data: encodeResult({ v: 1, collector: 'col-1', seq: i, startedAtMs: T0, probe: probe(i) }),
      deliveries: 1,
      ack: () => undefined,
      nak: () => undefined,
      term: () => undefined,
    });
  };
  return { source, pulls, deliver };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await tickOnce();
}

describe('BusProbeFeed', () => {
  it('a pull that ends by itself is started again; the results after it still arrive', async () => {
    const { source, pulls, deliver } = drivenSource();
    const log = memoryLogger('warn');
    const feed = new BusProbeFeed(source, new FakeClock(T0), log);
    const seen: string[] = [];
    feed.start((p) => seen.push(p.deviceId));
    await settle();
    expect(pulls).toHaveLength(1);
    await deliver(1);
    pulls[0]?.end(new Error('consumer deleted'));
    await settle();
    expect(pulls).toHaveLength(2);
    await deliver(2);
    expect(seen).toEqual(['dev-1', 'dev-2']);
    expect(log.records.map((r) => [r.msg, r.error])).toEqual([
      ['the results pull ended by itself; pulling again', 'consumer deleted'],
    ]);
    // stop() ends the pull, and nothing starts another.
    await feed.stop();
    await settle();
    expect(pulls).toHaveLength(2);
    expect(log.records).toHaveLength(1);
  });
});
