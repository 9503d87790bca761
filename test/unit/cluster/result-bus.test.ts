/**
 * The result bus (collector/cluster/result-bus.ts) over fakes: the publisher numbers results, keeps them
 * in order through an outage and retries with the same message id, bounds its queue with a counted drop;
 * the consumer helper acks after the handler, terminates a bad message and has a failed one redelivered.
 */
import { setImmediate as tickOnce } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { ProbeResult } from '../../../collector/core/types.ts';
import {
  ResultPublisher,
  consumeResults,
  type BusMessage,
  type ConsumerSource,
} from '../../../collector/cluster/result-bus.ts';
import { encodeResult } from '../../../collector/cluster/subjects.ts';
import { FakeStream } from '../../support/cluster-fakes.ts';

const T0 = Date.UTC(2026, 11, 3, 12);
const probe = (i: number): ProbeResult => ({
  deviceId: `dev-${i}`,
  timeMs: T0 + i,
  ok: true,
  durationMs: 5,
  source: 'snmp',
});

async function settle(clock: FakeClock, ms: number, step = 50): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    for (let i = 0; i < 5; i++) await tickOnce();
  }
}

function publisher(stream: FakeStream, clock: FakeClock, maxQueue?: number) {
  const log = memoryLogger('debug');
  const p = new ResultPublisher({
    bus: stream,
    clock,
    log,
    collector: 'col-1',
    startedAtMs: T0,
    maxQueue,
    window: 4,
  });
  return { p, log };
}

describe('ResultPublisher', () => {
  it('publishes each result once, numbered 1, 2, 3 ..., with its poll as message id', async () => {
    const clock = new FakeClock(T0);
    const stream = new FakeStream();
    const { p } = publisher(stream, clock);
    for (let i = 1; i <= 10; i++) p.publish(probe(i));
    expect(await p.flush(1000)).toBe(true);
    expect(stream.stored.map((s) => s.msg.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(stream.stored[0]).toEqual({
      subject: 'netmon.results.col-1',
      msgId: `dev-1:${T0 + 1}:snmp`,
      msg: { v: 1, collector: 'col-1', seq: 1, startedAtMs: T0, probe: probe(1) },
    });
    expect(p.stats()).toMatchObject({ seq: 10, acked: 10, queued: 0, dropped: 0, retries: 0 });
  });

  it('holds results in order while NATS is away and sends them when it is back: no gap, no repeat', async () => {
    const clock = new FakeClock(T0);
    const stream = new FakeStream();
    const { p, log } = publisher(stream, clock);
    p.publish(probe(1));
    await p.flush(1000);
    stream.up = false;
    for (let i = 2; i <= 20; i++) p.publish(probe(i));
    await settle(clock, 5000);
    expect(p.stats().queued).toBe(19);
    expect(p.stats().retries).toBeGreaterThan(2);
    // Backing off: doubling pauses up to 2 s, not a busy loop.
    expect(stream.attempts).toBeLessThan(60);
    stream.up = true;
    await settle(clock, 2100);
    expect(p.stats().queued).toBe(0);
    expect(stream.stored.map((s) => s.msg.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(log.records.filter((r) => r.msg === 'publishing results failed; retrying in order')).toHaveLength(
      1,
    );
    expect(log.records.some((r) => r.msg === 'results go through again')).toBe(true);
  });

  it('a lost ack is retried with the same id; the stream keeps one copy', async () => {
    const clock = new FakeClock(T0);
    const stream = new FakeStream();
    stream.loseAcks = 2;
    const { p } = publisher(stream, clock);
    for (let i = 1; i <= 3; i++) p.publish(probe(i));
    await settle(clock, 1000);
    expect(stream.stored.map((s) => s.msg.seq)).toEqual([1, 2, 3]);
    expect(p.stats()).toMatchObject({ acked: 3, queued: 0 });
    expect(p.stats().duplicates).toBeGreaterThan(0);
    expect(stream.attempts).toBeGreaterThan(3);
  });

  it('past maxQueue new results are dropped and counted, logged once per episode', async () => {
    const clock = new FakeClock(T0);
    const stream = new FakeStream();
    stream.up = false;
    const { p, log } = publisher(stream, clock, 5);
    for (let i = 1; i <= 8; i++) p.publish(probe(i));
    expect(p.stats()).toMatchObject({ seq: 8, queued: 5, dropped: 3 });
    expect(log.records.filter((r) => r.level === 'error')).toHaveLength(1);
    stream.up = true;
    await settle(clock, 2100);
    // The gap (6, 7, 8) is visible to whoever checks seq: a loss is never silent.
    expect(stream.stored.map((s) => s.msg.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('close waits for the queue; what NATS never took is counted as dropped', async () => {
    const clock = new FakeClock(T0);
    const stream = new FakeStream();
    stream.up = false;
    const { p, log } = publisher(stream, clock);
    p.publish(probe(1));
    p.publish(probe(2));
    const closing = p.close(1000);
    await settle(clock, 1100);
    await closing;
    expect(p.stats()).toMatchObject({ queued: 0, dropped: 2 });
    expect(log.records.some((r) => r.msg === 'results not acked at stop are lost' && r.results === 2)).toBe(
      true,
    );
    p.publish(probe(3));
    expect(p.stats().seq).toBe(2);
  });
});

/** A consumer of canned messages, recording what was acked, nak'ed and terminated. */
function cannedSource(payloads: Uint8Array[]) {
  const outcome: string[] = [];
  const source: ConsumerSource = {
    consume: async (onMessage) => {
      for (const [i, data] of payloads.entries()) {
        const m: BusMessage = {
          subject: 'netmon.results.col-1',
          data,
          deliveries: 1,
          ack: () => outcome.push(`ack ${i}`),
          nak: (ms) => outcome.push(`nak ${i} ${ms}`),
          term: () => outcome.push(`term ${i}`),
        };
        await onMessage(m);
      }
      let stopped: () => void = () => undefined;
      const ended = new Promise<unknown>((resolve) => (stopped = () => resolve(undefined)));
      return { stop: async () => stopped(), ended };
    },
  };
  return { source, outcome };
}

describe('consumeResults', () => {
  it('acks after the handler; a bad message is terminated and counted; a failed handler is redelivered', async () => {
    const good = (seq: number) => encodeResult({ v: 1, collector: 'col-1', seq, probe: probe(seq) });
    const { source, outcome } = cannedSource([
      good(1),
      new TextEncoder().encode('garbage'),
      good(2),
      good(3),
    ]);
    const seen: number[] = [];
    const log = memoryLogger('debug');
    const feed = await consumeResults(source, {
      log,
      retryMs: 500,
      handler: async (msg) => {
        if (msg.seq === 2) throw new Error('database away');
        seen.push(msg.seq);
      },
    });
    expect(seen).toEqual([1, 3]);
    expect(outcome).toEqual(['ack 0', 'term 1', 'nak 2 500', 'ack 3']);
    expect(feed.stats()).toEqual({ handled: 2, bad: 1, failed: 1 });
    expect(log.records.find((r) => r.msg === 'bad result message skipped')?.error).toMatch(/not JSON/);
    await feed.stop();
  });
});
