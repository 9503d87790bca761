/**
 * The cluster's real servers as the project's starters run them (scripts/lib/servers/): a three-node
 * nats-server JetStream cluster that keeps a replicated stream across a kill -9 of one node, a leaf node
 * with its own JetStream domain behind the test's TCP proxy, and PostgreSQL that keeps committed rows
 * across a kill -9.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import pg from 'pg';
import {
  startNatsCluster,
  startNatsLeaf,
  type NatsCluster,
} from '../../../scripts/lib/servers/nats-server.ts';
import { startPostgres, type Postgres } from '../../../scripts/lib/servers/postgres.ts';
import { startTcpProxy } from '../../../scripts/lib/servers/tcp-proxy.ts';
import { freeLoopbackPort } from '../../../scripts/lib/servers/process.ts';

const dirs: string[] = [];
const tmp = (prefix: string): string => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('nats-server cluster (3 nodes, JetStream)', () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;
  beforeAll(async () => {
    cluster = await startNatsCluster({ dir: tmp('netmon-nats-'), nodes: 3, domain: 'hub' });
    nc = await connect({ servers: [...cluster.urls], reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  }, 60_000);
  afterAll(async () => {
    await nc?.close();
    await cluster?.stop();
  });

  it('keeps a replicated stream through a kill -9 of one node and its return', async () => {
    const jsm = await nc.jetstreamManager();
    await until('stream created', async () =>
      jsm.streams.add({ name: 'T', subjects: ['t.>'], num_replicas: 3 }),
    );
    const js = nc.jetstream();
    for (let i = 0; i < 10; i++) await js.publish('t.a', new TextEncoder().encode(String(i)));
    await cluster.nodes[0]!.kill9();
    // The two left are a majority: publishing goes on.
    for (let i = 10; i < 20; i++)
      await until(`publish ${i}`, async () =>
        js.publish('t.a', new TextEncoder().encode(String(i)), { msgID: `m${i}` }),
      );
    await cluster.nodes[0]!.start();
    const info = await until('stream info', async () => {
      const s = await jsm.streams.info('T');
      return s.state.messages === 20 ? s : undefined;
    });
    expect(info.state.last_seq).toBe(20);
  }, 60_000);
});

describe('leaf node with its own JetStream domain behind a TCP proxy', () => {
  it('connects through the proxy, loses the hub when cut and gets it back when restored', async () => {
    // The hub names the uplink (the proxy) as its leaf address, so the leaf reconnects through it.
    const uplinkPort = await freeLoopbackPort();
    const cluster = await startNatsCluster({
      dir: tmp('netmon-nats-hub-'),
      nodes: 1,
      domain: 'hub',
      leafAdvertise: `127.0.0.1:${uplinkPort}`,
    });
    const proxy = await startTcpProxy('127.0.0.1', cluster.nodes[0]!.leafPort!, uplinkPort);
    const leaf = await startNatsLeaf({
      dir: tmp('netmon-nats-leaf-'),
      hubLeafUrl: `nats-leaf://${proxy.address}`,
      domain: 'edge-kuta-selatan',
    });
    const hub = await connect({ servers: cluster.urls[0] });
    const edge = await connect({ servers: leaf.url });
    try {
      const got: string[] = [];
      const sub = hub.subscribe('edge.>', { callback: (_e, m) => got.push(m.string()) });
      await hub.flush();
      await until('message across the leaf link', async () => {
        edge.publish('edge.ping', 'one');
        await edge.flush();
        return got.includes('one') ? true : undefined;
      });
      // The leaf's own JetStream answers in its domain while the uplink is cut.
      proxy.cut();
      const jsm = await edge.jetstreamManager({ domain: 'edge-kuta-selatan' });
      await jsm.streams.add({ name: 'EDGE', subjects: ['results.edge.>'] });
      await edge.jetstream({ domain: 'edge-kuta-selatan' }).publish('results.edge.x', 'kept');
      edge.publish('edge.ping', 'lost');
      await edge.flush();
      proxy.restore();
      await until('the link back', async () => {
        edge.publish('edge.ping', 'two');
        await edge.flush();
        return got.includes('two') ? true : undefined;
      });
      expect(got).not.toContain('lost');
      expect(proxy.accepted).toBeGreaterThanOrEqual(2);
      sub.unsubscribe();
    } finally {
      await edge.close();
      await hub.close();
      await leaf.stop();
      await proxy.stop();
      await cluster.stop();
    }
  }, 60_000);
});

describe('PostgreSQL 15 on loopback', () => {
  let db: Postgres;
  beforeAll(async () => {
    db = await startPostgres({ dir: tmp('netmon-pg-') });
  }, 60_000);
  afterAll(async () => {
    await db?.stop();
  });

  it('keeps committed rows across a kill -9 and answers on the same URL after start()', async () => {
    const c1 = new pg.Client({ connectionString: db.url });
    await c1.connect();
    await c1.query('CREATE TABLE t (n int)');
    await c1.query('INSERT INTO t VALUES (1), (2), (3)');
    const pid = db.pid;
    c1.on('error', () => undefined);
    await db.kill9();
    await expect(c1.query('SELECT 1')).rejects.toThrow();
    await db.start();
    expect(db.pid).not.toBe(pid);
    const c2 = new pg.Client({ connectionString: db.url });
    await c2.connect();
    const r = await c2.query<{ n: number }>('SELECT n FROM t ORDER BY n');
    expect(r.rows.map((x) => x.n)).toEqual([1, 2, 3]);
    await c2.end();
  }, 60_000);
});
