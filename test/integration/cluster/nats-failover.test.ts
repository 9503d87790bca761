/**
 * kill -9 of one of three nats-server nodes (issue #15), the leader of the results stream for the worst
 * case: no result is lost (each collector's seq has no gap and no repeat in the stream) and polling goes
 * on (every device polled again after the kill; the longest pause any device saw is printed and bounded).
 * Real parts: three nats-server nodes with JetStream (stream replicas 3), influxd, the fleet simulator,
 * and three collector processes of collector/main.ts with a `cluster:` config.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultLog, seqGaps, startCollector, streamPlacement } from '../../../scripts/lib/cluster-lab.ts';
import { startClusterFixture, type ClusterFixture } from '../../support/cluster-fixture.ts';
import { waitFor } from '../../support/ports.ts';

const INTERVAL_MS = 2000;
/** Membership timeout 5 s, an election of the members bucket and an interval, with room for a slow host. */
const PAUSE_LIMIT_MS = 25_000;

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

    // Polling goes on: every device polled again after the kill, each collector still publishing. What was
    // seen last is kept so that a timeout says which devices and collectors were missing, and each
    // collector's log tail says why.
    let seen = 'the stream not read yet';
    let readFailures = 0;
    await waitFor(
      async () => {
        const all = await stream.update(survivors).catch((err: unknown) => {
          readFailures++;
          throw err;
        });
        const after = all.filter((r) => r.msg.probe.timeMs > killedAt + INTERVAL_MS);
        const polled = new Set(after.map((r) => r.msg.probe.deviceId));
        const collectors = new Set(after.map((r) => r.msg.collector));
        const missing = devices.filter((d) => !polled.has(d));
        seen =
          `${after.length} results after the kill, from ${[...collectors].sort().join(', ') || 'no collector'}; ` +
          `${missing.length} of ${devices.length} devices not polled since (${missing.slice(0, 5).join(', ')})`;
        return missing.length === 0 && collectors.size === 3;
      },
      {
        timeoutMs: 40_000,
        intervalMs: 1000,
        what: () =>
          `every device polled after the nats-server kill: ${seen}; ${readFailures} reads of the stream failed`,
      },
    ).catch((err: unknown) => {
      const logs = fx.collectors.map((c) => `--- ${c.id}, last lines:\n${c.output().slice(-2500)}`);
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${logs.join('\n')}`);
    });
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
    // The longest time any device polled before the kill went without a poll from then on: across the kill
    // itself and through the elections after it (the stream's, the members bucket's).
    let pause = 0;
    for (const d of devices) {
      const times = results
        .filter((r) => r.msg.probe.deviceId === d)
        .map((r) => r.msg.probe.timeMs)
        .sort((x, y) => x - y);
      for (let i = 1; i < times.length; i++) {
        const [prev, next] = [times[i - 1] ?? 0, times[i] ?? 0];
        if (next > killedAt && prev > 0) pause = Math.max(pause, next - prev);
      }
    }
    process.stdout.write(
      `nats-server kill -9 (${victim.name}, the stream leader: ${victim.name === leader}): ${results.length} results, ` +
        `seq without a gap for ${gaps.map((g) => `${g.run.split('@')[0]} 1..${g.max}`).join(', ')}; ` +
        `longest pause of a device from the kill on ${pause} ms (interval ${INTERVAL_MS} ms)\n`,
    );
    // Every member fences itself while the members bucket elects its leader (puts fail for longer than
    // timeout - heartbeat), so a few intervals go unpolled; a members watch left stalled on the dead server
    // kept one collector's devices unpolled for 30 s and more (fixed in collector/cluster/membership.ts).
    expect(pause, 'longest pause of a device after the kill').toBeLessThan(PAUSE_LIMIT_MS);
  }, 150_000);
});
