import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  ProbeBatcher,
  decodeBatch,
  transferList,
  type ProbeBatch,
} from '../../../collector/collection/probe-batch.ts';
import type { ProbeResult } from '../../../collector/core/types.ts';

const ids = ['d-a', 'd-b', 'd-c'];

function decodeAll(b: ProbeBatch, list = ids): { out: ProbeResult[]; skipped: number } {
  const out: ProbeResult[] = [];
  const { skipped } = decodeBatch(b, list, (p) => out.push(p));
  return { out, skipped };
}

describe('ProbeBatcher and decodeBatch', () => {
  const results: ProbeResult[] = [
    { deviceId: 'd-b', timeMs: 1_700_000_000_123, ok: true, durationMs: 4.5, source: 'snmp' },
    {
      deviceId: 'd-a',
      timeMs: 1_700_000_000_456,
      ok: false,
      durationMs: 500,
      source: 'snmp',
      failure: { reason: 'timeout', message: 'no answer in 500 ms' },
    },
    { deviceId: 'd-c', timeMs: 1_700_000_001_000, ok: true, durationMs: 0.25, source: 'ping' },
    { deviceId: 'd-b', timeMs: 1_700_000_002_000, ok: true, durationMs: 3, source: 'mqtt' },
  ];

  it('gives back exactly the results it took, in order, failures with their reason and message', () => {
    const b = new ProbeBatcher(ids, 1); // capacity 1: grows on the way
    for (const r of results) expect(b.add(r)).toBe(true);
    expect(b.size).toBe(4);
    const batch = b.take();
    if (!batch) throw new Error('no batch');
    expect(batch.count).toBe(4);
    expect(decodeAll(batch)).toEqual({ out: results, skipped: 0 });
    // Taken: a fresh start.
    expect(b.size).toBe(0);
    expect(b.take()).toBeUndefined();
  });

  it('refuses a device not in its list', () => {
    const b = new ProbeBatcher(ids);
    expect(b.add({ deviceId: 'elsewhere', timeMs: 1, ok: true, durationMs: 1, source: 'snmp' })).toBe(false);
    expect(b.take()).toBeUndefined();
  });

  it('skips and counts rows naming a device outside the list', () => {
    const b = new ProbeBatcher(ids);
    for (const r of results) b.add(r);
    const batch = b.take();
    if (!batch) throw new Error('no batch');
    const { out, skipped } = decodeAll(batch, ['d-a', 'd-b']); // d-c is index 2: not in this list
    expect(skipped).toBe(1);
    expect(out.map((p) => p.deviceId)).toEqual(['d-b', 'd-a', 'd-b']);
  });

  it('survives postMessage with its buffers transferred (the sender keeps nothing)', () => {
    const b = new ProbeBatcher(ids);
    for (const r of results) b.add(r);
    const batch = b.take();
    if (!batch) throw new Error('no batch');
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(batch, transferList(batch));
    expect(batch.timeMs.byteLength).toBe(0); // moved, not copied
    const got = receiveMessageOnPort(port2)?.message as ProbeBatch;
    port1.close();
    expect(decodeAll(got).out).toEqual(results);
  });

  it('batches taken one after another do not share buffers', () => {
    const b = new ProbeBatcher(ids);
    b.add(results[0] as ProbeResult);
    const first = b.take();
    b.add(results[2] as ProbeResult);
    const second = b.take();
    if (!first || !second) throw new Error('no batch');
    expect(decodeAll(first).out).toEqual([results[0]]);
    expect(decodeAll(second).out).toEqual([results[2]]);
  });
});
