/**
 * kill -9 of one of three nats-server nodes (issue #15), the leader of the results stream for the worst
 * case: no result is lost (each collector's seq has no gap and no repeat in the stream) and polling goes
 * on (every device polled again after the kill; the longest pause any device saw is printed). Real parts:
 * three nats-server nodes with JetStream (stream replicas 3), influxd, the fleet simulator, and three
 * collector processes of collector/main.ts with a `cluster:` config.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultLog, seqGaps, startCollector, streamPlacement } from '../../../scripts/lib/cluster-lab.ts';
import { startClusterFixture, type ClusterFixture } from '../../support/cluster-fixture.ts';
import { waitFor } from '../../support/ports.ts';

const INTERVAL_MS = 2000;

let fx: ClusterFixture;

beforeAll(async () => {
  fx = await startClusterFixture({
    seed: 16,
    sites: 16,
    intervalMs: INTERVAL_MS,
    heartbeat: '1s',
    timeout: '5s',
  });
}, 60_000);

afterAll(async () => {
  await fx?.stop();
});

describe('kill -9 of one of three nats-server nodes', () => {
  it('loses no result and polling goes on', async () => {
    for (const id of ['col-1', 'col-2', 'col-3']) fx.collectors.push(startCollector(fx.lab, id));
    await Promise.all(fx.collectors.map((c) => c.joined));
    const stream = new ResultLog(fx.nats.urls);
    const devices = fx.inventory.devices.map((d) => d.id);
    await waitFor(async () => new Set((await stream.update()).map((r) => r.msg.collector)).size === 3, {
      timeoutMs: 30_000,
      intervalMs: 500,
      what: 'results from all three collectors',
    });
    const { replicas, leader } = await streamPlacement(fx.nats.urls);
    expect(replicas).toBe(3);
    const victim = fx.nats.nodes.find((n) => n.name === leader) ?? fx.nats.nodes[0];
    if (!victim) throw new Error('no nats node');
    const survivors = fx.nats.urls.filter((u) => u !== victim.url);
    const killedAt = Date.now();
    await victim.kill9();

    // Polling goes on: every device polled again after the kill, each collector still publishing.
    await waitFor(
      async () => {
        const after = (await stream.update(survivors)).filter(
          (r) => r.msg.probe.timeMs > killedAt + INTERVAL_MS,
        );
        const polled = new Set(after.map((r) => r.msg.probe.deviceId));
        return devices.every((d) => polled.has(d)) && new Set(after.map((r) => r.msg.collector)).size === 3;
      },
      { timeoutMs: 40_000, intervalMs: 1000, what: 'every device polled after the nats-server kill' },
    );
    await Promise.all(fx.collectors.map((c) => c.stop()));
    for (const c of fx.collectors)
      expect(c.output(), `${c.id} lost results at stop`).not.toContain('results not acked at stop are lost');

    const results = await stream.update(survivors);
    const gaps = seqGaps(results);
    expect(gaps.map((g) => g.run.split('@')[0]).sort()).toEqual(['col-1', 'col-2', 'col-3']);
    for (const g of gaps) {
      expect(g.missing, `${g.run}: seq missing below ${g.max}`).toEqual([]);
      expect(g.repeated, `${g.run}: seq stored twice`).toEqual([]);
    }
    // The longest time any device went without a poll across the kill.
    let pause = 0;
    for (const d of devices) {
      const times = results.filter((r) => r.msg.probe.deviceId === d).map((r) => r.msg.probe.timeMs);
      const before = times.filter((t) => t <= killedAt);
      if (before.length === 0) continue; // not polled yet when the node died
      const next = Math.min(...times.filter((t) => t > killedAt));
      pause = Math.max(pause, next - Math.max(...before));
    }
    process.stdout.write(
      `nats-server kill -9 (${victim.name}, the stream leader: ${victim.name === leader}): ${results.length} results, ` +
        `seq without a gap for ${gaps.map((g) => `${g.run.split('@')[0]} 1..${g.max}`).join(', ')}; ` +
        `longest pause of a device across the kill ${pause} ms (interval ${INTERVAL_MS} ms)\n`,
    );
  }, 150_000);
});
