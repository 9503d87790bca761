/**
 * What a probe result costs to cross from a collection worker thread to the main thread
 * (collector/collection/probe-batch.ts): postMessage + receive of plain ProbeResult objects (one
 * message per result, and arrays of them) against the compact batch with transferred buffers.
 * Serialising and deserialising both happen in this thread (receiveMessageOnPort), so the figure is
 * the sum of the two sides' CPU.
 *
 *   npx tsx scripts/bench/probe-clone.ts [--results 200000] [--batch 512]
 */
import { parseArgs } from 'node:util';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { ProbeBatcher, decodeBatch, transferList } from '../../collector/collection/probe-batch.ts';
import type { ProbeResult } from '../../collector/core/types.ts';

const { values } = parseArgs({
  options: { results: { type: 'string', default: '200000' }, batch: { type: 'string', default: '512' } },
});
const total = Number(values.results);
const batchSize = Number(values.batch);
const ids = Array.from({ length: 10_000 }, (_, i) => `site-${String(i).padStart(4, '0')}-ap${i % 7}`);
const results: ProbeResult[] = Array.from({ length: total }, (_, i) => ({
  deviceId: ids[i % ids.length] ?? '',
  timeMs: 1_780_000_000_000 + i,
  ok: i % 50 !== 0,
  durationMs: 3 + (i % 17),
  source: 'snmp',
  ...(i % 50 === 0 ? { failure: { reason: 'timeout' as const, message: 'no answer in 2000 ms' } } : {}),
}));

const { port1, port2 } = new MessageChannel();
function usPerResult(run: () => void): number {
  run(); // warm
  const t0 = process.cpuUsage();
  run();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / total;
}

const one = usPerResult(() => {
  for (const r of results) {
    port1.postMessage(r);
    receiveMessageOnPort(port2);
  }
});
const arrays = usPerResult(() => {
  for (let i = 0; i < total; i += batchSize) {
    port1.postMessage(results.slice(i, i + batchSize));
    receiveMessageOnPort(port2);
  }
});
const compact = usPerResult(() => {
  const b = new ProbeBatcher(ids, batchSize);
  let sink = 0;
  for (let i = 0; i < total; i += batchSize) {
    for (let j = i; j < Math.min(total, i + batchSize); j++) b.add(results[j] as ProbeResult);
    const batch = b.take();
    if (!batch) continue;
    port1.postMessage(batch, transferList(batch));
    const got = receiveMessageOnPort(port2)?.message as typeof batch;
    decodeBatch(got, ids, () => sink++);
  }
});
port1.close();
console.log(
  JSON.stringify({
    results: total,
    batch: batchSize,
    usPerResult: {
      onePerMessage: +one.toFixed(3),
      plainArrays: +arrays.toFixed(3),
      compactBatch: +compact.toFixed(3),
    },
  }),
);
