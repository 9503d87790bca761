/**
 * The edge's way to the hub over real nats-server (issue #15): a hub with its own JetStream domain, a
 * leaf node with the edge's domain, and the test's TCP proxy as the uplink between them. An edge member's
 * bus (collector/cluster/nats.ts) publishes its results to NETMON_EDGE_<DOMAIN> in the leaf's domain and its
 * heartbeats to the members bucket in the hub's domain; a hub member's bus makes NETMON_RESULTS source the
 * edge stream. Cut the uplink: the edge keeps taking results (the leaf stores them), its heartbeats fail;
 * restore it: every result reaches NETMON_RESULTS once, in order, and the heartbeats go through again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, type Bus } from '../../../collector/cluster/nats.ts';
import { ResultPublisher } from '../../../collector/cluster/result-bus.ts';
import { encodeMember } from '../../../collector/cluster/subjects.ts';
import { systemClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { ResultLog, seqGaps } from '../../../scripts/lib/cluster-lab.ts';
import {
  startNatsCluster,
  startNatsLeaf,
  type NatsCluster,
  type NatsNode,
} from '../../../scripts/lib/servers/nats-server.ts';
import { freeLoopbackPort } from '../../../scripts/lib/servers/process.ts';
import { startTcpProxy, type TcpProxy } from '../../../scripts/lib/servers/tcp-proxy.ts';
import { waitFor } from '../../support/ports.ts';

const DOMAIN = 'edge-kuta-selatan';
let dir: string;
let hub: NatsCluster;
let proxy: TcpProxy;
let leaf: NatsNode;
let central: Bus;
let edge: Bus;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-edge-bus-'));
  const uplink = await freeLoopbackPort();
  hub = await startNatsCluster({
    nodes: 1,
    dir: join(dir, 'hub'),
    domain: 'hub',
    leafAdvertise: `127.0.0.1:${uplink}`,
  });
  proxy = await startTcpProxy('127.0.0.1', hub.nodes[0]?.leafPort ?? 0, uplink);
  leaf = await startNatsLeaf({
    dir: join(dir, 'leaf'),
    hubLeafUrl: `nats-leaf://${proxy.address}`,
    domain: DOMAIN,
  });
  const log = memoryLogger('warn');
  central = await connectBus({ servers: hub.urls, name: 'central', log, edgeDomains: [DOMAIN] });
  edge = await connectBus({
    servers: [leaf.url],
    name: 'edge',
    log,
    domain: DOMAIN,
    hubDomain: 'hub',
    node: 'edge-ks',
  });
}, 60_000);

afterAll(async () => {
  await edge?.close();
  await central?.close();
  await leaf?.stop();
  await proxy?.stop();
  await hub?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const probe = (i: number) => ({
  deviceId: `ks-${i % 5}`,
  timeMs: 1_800_000_000_000 + i * 1000,
  ok: true,
  durationMs: 3,
  source: 'snmp' as const,
});

describe('edge bus: leaf domain, hub sourcing, heartbeats across the uplink', () => {
  it('keeps results through a cut and delivers them once, in order, when the link returns', async () => {
    expect(edge.resultSubject).toBe(`netmon.edge.${DOMAIN}.edge-ks`);
    const publisher = new ResultPublisher({
      bus: edge.publisher,
      clock: systemClock,
      log: memoryLogger('warn'),
      collector: 'edge-ks',
      startedAtMs: Date.now(),
      subject: edge.resultSubject,
    });
    const members = await edge.members();
    await members.put(
      'edge-ks',
      encodeMember({ v: 1, id: 'edge-ks', roles: ['collector'], pins: ['Kuta Selatan'], startedAtMs: 1 }),
    );
    const hubKv = await central.js.views.kv('netmon_members');
    expect((await hubKv.get('edge-ks'))?.operation).toBe('PUT');

    const stream = new ResultLog(hub.urls);
    for (let i = 0; i < 20; i++) publisher.publish(probe(i));
    await waitFor(async () => (await stream.update()).length >= 20, {
      timeoutMs: 20_000,
      what: 'the first 20 at the hub',
    });

    proxy.cut();
    for (let i = 20; i < 60; i++) publisher.publish(probe(i));
    // The leaf stores them while the uplink is cut: the publisher's queue empties without the hub.
    await waitFor(() => publisher.stats().queued === 0 && publisher.stats().acked === 60, {
      timeoutMs: 20_000,
      what: 'the edge results acked by the leaf during the cut',
    });
    await expect(
      members.put(
        'edge-ks',
        encodeMember({ v: 1, id: 'edge-ks', roles: ['collector'], pins: ['Kuta Selatan'], startedAtMs: 2 }),
      ),
    ).rejects.toThrow();
    expect((await stream.update()).length).toBe(20);

    const restoredAt = Date.now();
    proxy.restore();
    await waitFor(async () => (await stream.update()).length >= 60, {
      timeoutMs: 30_000,
      what: 'the kept results at the hub',
    });
    process.stdout.write(
      `edge bus: 40 kept results reached the hub ${Date.now() - restoredAt} ms after the restore\n`,
    );
    const all = await stream.update();
    expect(all).toHaveLength(60);
    expect(all.map((r) => r.msg.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(seqGaps(all).map((g) => [g.missing, g.repeated])).toEqual([[[], []]]);
    await waitFor(
      async () => {
        try {
          await members.put(
            'edge-ks',
            encodeMember({
              v: 1,
              id: 'edge-ks',
              roles: ['collector'],
              pins: ['Kuta Selatan'],
              startedAtMs: 3,
            }),
          );
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 20_000, what: 'heartbeats through again' },
    );
    await publisher.close(5000);
  });
});
