/**
 * Issue #15, the edge uplink cut for two minutes, against real servers and real processes:
 *
 *   hub: one nats-server (JetStream domain `hub`) ── TCP proxy (the uplink the test cuts) ── leaf node
 *   (domain `edge-kuta-selatan`); PostgreSQL, InfluxDB, the fleet simulator, a webhook receiver that
 *   records every page; as processes of collector/main.ts: a central collector and an alerting leader on
 *   the hub, and an edge collector pinned to Kuta Selatan on the leaf.
 *
 * Cut the uplink for two minutes (the poll interval is 2 s), then restore it. An alerting standby waits
 * beside the leader; during the cut the leader is killed -9 and the standby takes over. Asserted: no result
 * lost (every collector's seq complete in NETMON_RESULTS, the edge's in order), exactly one "monitoring
 * lost" incident (in PostgreSQL, one row; its firing page once, from the first leader; its recovery once,
 * from the second, same id), the public status page of whichever leads shows Kuta Selatan's sites as not
 * monitored during the cut and not after, no page about any site or device (the centre never polled Kuta
 * Selatan), and the edge's results from the cut arrive after the link returns (how many, how long they
 * took and how long the takeover took is printed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { edgeStream } from '../../collector/cluster/subjects.ts';
import type { Inventory } from '../../collector/core/types.ts';
import { ResultLog, seqGaps, writeInventory } from '../../scripts/lib/cluster-lab.ts';
import {
  startNatsCluster,
  startNatsLeaf,
  type NatsCluster,
  type NatsNode,
} from '../../scripts/lib/servers/nats-server.ts';
import { startPostgres, type Postgres } from '../../scripts/lib/servers/postgres.ts';
import { freeLoopbackPort } from '../../scripts/lib/servers/process.ts';
import { startTcpProxy, type TcpProxy } from '../../scripts/lib/servers/tcp-proxy.ts';
import { FleetSimulator } from '../../simulator/fleet.ts';
import { syntheticInventory } from '../../simulator/synthetic-inventory.ts';
import { startTestInfluxd, type TestServer } from '../support/influx.ts';
import { freeUdpPort, waitFor } from '../support/ports.ts';
import { endProcess, readLease } from '../support/alerting-candidates.ts';
import { freshDatabase, ledgerSent, sqlRows } from '../support/postgres-db.ts';
import { startWebhookPeer, type WebhookPeer } from '../support/webhook-peer.ts';

const INTERVAL_MS = 2000;
const CUT_MS = 120_000;
const DOMAIN = 'edge-kuta-selatan';
const EDGE_KEC = 'Kuta Selatan';

let dir: string;
let hub: NatsCluster;
let proxy: TcpProxy;
let leaf: NatsNode;
let postgres: Postgres;
let pgUrl: string;
let influx: TestServer;
let sim: FleetSimulator;
let hook: WebhookPeer;
let hubNc: NatsConnection;
let leafNc: NatsConnection;
let inv: Inventory;
const children = new Map<string, ChildProcess>();
/** Each member's HTTP port (a free one: the alerting role serves the API and the status page). */
const httpPorts = new Map<string, number>();

const base = syntheticInventory({
  sites: 6,
  port: 0,
  seed: 21,
  hostOctet: 120 + Math.floor(Math.random() * 20),
});
// Half the sites in Kuta Selatan (the edge's), half in Mengwi (the centre's).
const sites = base.sites.map((s, i) => (i % 2 === 0 ? { ...s, kecamatan: EDGE_KEC } : s));
const ksSites = new Set(sites.filter((s) => s.kecamatan === EDGE_KEC).map((s) => s.id));
const ksDevices = new Set(base.devices.filter((d) => ksSites.has(d.siteId)).map((d) => d.id));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-edge-'));
  chmodSync(dir, 0o755);
  const uplink = await freeLoopbackPort();
  [hub, postgres, influx] = await Promise.all([
    startNatsCluster({
      nodes: 1,
      dir: join(dir, 'hub'),
      domain: 'hub',
      leafAdvertise: `127.0.0.1:${uplink}`,
    }),
    startPostgres({ dir: join(dir, 'pg') }),
    startTestInfluxd(),
  ]);
  proxy = await startTcpProxy('127.0.0.1', hub.nodes[0]?.leafPort ?? 0, uplink);
  leaf = await startNatsLeaf({
    dir: join(dir, 'leaf'),
    hubLeafUrl: `nats-leaf://${proxy.address}`,
    domain: DOMAIN,
  });
  pgUrl = await freshDatabase(postgres.url, 'edge');
  const port = await freeUdpPort();
  inv = { sites, devices: base.devices.map((d) => ({ ...d, port })) };
  sim = new FleetSimulator({ inventory: inv, seed: 21 });
  await sim.start();
  hook = await startWebhookPeer();
  hubNc = await connect({ servers: [...hub.urls], maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  leafNc = await connect({ servers: leaf.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  writeInventory(dir, inv, port);
}, 120_000);

afterAll(async () => {
  for (const child of children.values())
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await hubNc?.close();
  await leafNc?.close();
  await sim?.stop();
  await hook?.stop();
  await leaf?.stop();
  await proxy?.stop();
  await hub?.stop();
  await postgres?.stop();
  await influx?.dispose();
  if (dir && !process.env.NETMON_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
  else if (dir) process.stdout.write(`kept ${dir}\n`);
});

const EDGES = [{ domain: DOMAIN, kecamatan: [EDGE_KEC] }];

/** One member's config: every member lists the edge; the edge collector talks to its leaf only. */
function config(node: string, role: 'collector' | 'alerting' | 'edge', httpPort: number): string {
  const file = join(dir, `${node}.yaml`);
  const cluster =
    role === 'edge'
      ? {
          node,
          roles: ['collector'],
          nats: { servers: [leaf.url] },
          pin: { kecamatan: [EDGE_KEC] },
          domain: DOMAIN,
          hubDomain: 'hub',
        }
      : {
          node,
          roles: [role],
          nats: { servers: [...hub.urls] },
          ...(role === 'alerting' ? { postgres: { url: pgUrl } } : {}),
          hubDomain: 'hub',
        };
  writeFileSync(
    file,
    stringify({
      inventory: 'inventory.yaml',
      influx: { api: 'v1', url: influx.url, database: 'edge' },
      writer: { flushInterval: '500ms', bufferDir: `buffer-${node}` },
      snmp: { interval: `${INTERVAL_MS}ms`, jitter: '0ms', timeout: '400ms', retries: 0 },
      health: { downAfterFailures: 2, recheck: '300ms' },
      incidents: { file: `incidents-${node}.db` },
      http: { host: '127.0.0.1', port: httpPort },
      status: { rebuild: '1s' },
      alerts: { webhooks: [{ name: 'oncall', url: hook.url }], flapping: { settle: '1s' } },
      log: { level: 'info' },
      cluster: {
        ...cluster,
        membership: { heartbeat: '1s', timeout: '4s' },
        leader: { lease: '3s', renew: '500ms' },
        edges: EDGES,
      },
    }),
  );
  return file;
}

/** A member as its own process (collector/main.ts), its log beside its config. */
async function startNode(node: string, role: 'collector' | 'alerting' | 'edge'): Promise<void> {
  const port = await freeLoopbackPort();
  httpPorts.set(node, port);
  const file = config(node, role, port);
  const log = openSync(join(dir, `${node}.log`), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', 'collector/main.ts', '--config', file], {
    stdio: ['ignore', log, 'inherit'],
  });
  closeSync(log);
  children.set(node, child);
}

const logOf = (node: string): string => readFileSync(join(dir, `${node}.log`), 'utf8');

/** kill -9: the process gets no chance to release its lease or finish anything. */
const kill9 = (node: string): Promise<void> => endProcess(children.get(node), 'SIGKILL');

/** How many sites the public status page (/status.json) of `node` counts as not monitored now. */
async function unmonitored(node: string): Promise<number | undefined> {
  const r = await fetch(`http://127.0.0.1:${httpPorts.get(node) ?? 0}/status.json`).catch(() => undefined);
  if (!r?.ok) return undefined;
  return ((await r.json()) as { totals: { unmonitored?: number } }).totals.unmonitored;
}

const stopNode = (node: string): Promise<void> => endProcess(children.get(node), 'SIGTERM');

/** What the ledger in PostgreSQL records as sent to the webhook for an incident. */
const ledger = (incidentId: string): Promise<string[]> => ledgerSent(pgUrl, incidentId);

/** How many results the edge's own stream (in the leaf's domain) holds. */
async function edgeKept(): Promise<number> {
  const jsm = await leafNc.jetstreamManager({ domain: DOMAIN });
  return (await jsm.streams.info(edgeStream(DOMAIN))).state.last_seq;
}

describe('edge collector behind a flaky uplink (real NATS leaf node, proxy, processes)', () => {
  it(
    'the uplink cut for two minutes: no result lost, one "monitoring lost" incident, no site page, the results arrive after',
    async () => {
      // The collectors first, then the leader: an edge not seen within one membership timeout of the
      // leader's start would rightly count as lost (edge-watch.ts), which is not this scenario.
      await startNode('col-1', 'collector');
      await startNode('edge-ks', 'edge');
      for (const node of ['col-1', 'edge-ks'])
        await waitFor(() => logOf(node).includes('collector joined the cluster'), {
          timeoutMs: 90_000,
          what: `${node} joined`,
        });
      await startNode('alert-a', 'alerting');
      await waitFor(() => logOf('alert-a').includes('alerting leader running'), {
        timeoutMs: 90_000,
        what: 'alert-a leading',
      });
      // The standby, ready to take over.
      await startNode('alert-b', 'alerting');
      await waitFor(() => logOf('alert-b').includes('alerting candidate'), {
        timeoutMs: 90_000,
        what: 'alert-b standing by',
      });
      const stream = new ResultLog(hub.urls);
      // Both collectors' results reach the hub's stream (the edge's by sourcing), every device polled.
      await waitFor(
        async () => {
          const all = await stream.update();
          const polled = new Set(all.map((r) => r.msg.probe.deviceId));
          return (
            new Set(all.map((r) => r.msg.collector)).size === 2 && inv.devices.every((d) => polled.has(d.id))
          );
        },
        { timeoutMs: 60_000, intervalMs: 500, what: 'results of both collectors at the hub' },
      );
      expect(hook.received).toEqual([]);

      const cutAt = Date.now();
      const keptAtCut = await edgeKept();
      proxy.cut();
      // The hub sees the edge go silent: one "monitoring lost" incident, within the membership timeout.
      const lost = await waitFor(
        () => hook.received.find((n) => n.kind === 'monitoring_lost' && n.status === 'firing'),
        { timeoutMs: 30_000, what: 'the monitoring-lost page' },
      );
      process.stdout.write(
        `edge: monitoring lost paged ${Date.now() - cutAt} ms after the cut: ${lost.text.en.split('\n')[0] ?? ''}\n`,
      );
      expect(lost.text.id).toMatch(/Pemantauan Kec\. Kuta Selatan terputus/);
      expect(lost.text.en).toMatch(/Monitoring of Kuta Selatan district lost/);
      // An incident in PostgreSQL, its page recorded in the ledger; the sites not monitored on the page.
      await waitFor(async () => (await ledger(lost.id)).includes('firing'), {
        timeoutMs: 10_000,
        what: 'the monitoring-lost page recorded as sent',
      });
      await waitFor(async () => (await unmonitored('alert-a')) === ksSites.size, {
        timeoutMs: 15_000,
        what: "alert-a's status page: Kuta Selatan not monitored",
      });

      // The leader dies during the cut; the standby takes the incident over from PostgreSQL.
      const killedAt = Date.now();
      await kill9('alert-a');
      await waitFor(async () => (await readLease(hubNc).catch(() => undefined))?.holder === 'alert-b', {
        timeoutMs: 30_000,
        intervalMs: 50,
        what: 'alert-b leading',
      });
      await waitFor(() => logOf('alert-b').includes('alerting leader running'), {
        timeoutMs: 30_000,
        what: 'alert-b running',
      });
      const tookOverMs = Date.now() - killedAt;
      await waitFor(async () => (await unmonitored('alert-b')) === ksSites.size, {
        timeoutMs: 15_000,
        what: "alert-b's status page: Kuta Selatan not monitored",
      });
      process.stdout.write(
        `edge: alert-a killed -9 ${killedAt - cutAt} ms into the cut; alert-b leading ${tookOverMs} ms later, the incident continued (status page: ${ksSites.size} sites not monitored after ${Date.now() - killedAt} ms)\n`,
      );
      // The edge keeps polling and keeping its results all through the cut (its leaf stores them).
      await waitFor(async () => (await edgeKept()) > keptAtCut + 10 * ksDevices.size, {
        timeoutMs: 60_000,
        what: 'the edge keeping results during the cut',
      });
      // The cut lasts two minutes (the scenario); the test checks the leaf meanwhile.
      await waitFor(() => Date.now() - cutAt >= CUT_MS, { timeoutMs: CUT_MS + 5000, intervalMs: 1000 });
      const keptAtRestore = await edgeKept();
      const atHubBefore = (await stream.update()).filter((r) => r.msg.collector === 'edge-ks').length;
      expect(hook.received.map((n) => n.kind)).toEqual(['monitoring_lost']);

      const restoredAt = Date.now();
      proxy.restore();
      // Everything the edge kept reaches the hub's stream after the link returns.
      await waitFor(
        async () =>
          (await stream.update()).filter((r) => r.msg.collector === 'edge-ks').length >= keptAtRestore,
        { timeoutMs: 60_000, intervalMs: 250, what: 'the results kept at the edge at the hub' },
      );
      const arrivedMs = Date.now() - restoredAt;
      const back = await waitFor(
        () => hook.received.find((n) => n.kind === 'monitoring_lost' && n.status === 'resolved'),
        { timeoutMs: 30_000, what: 'the monitoring-lost recovery' },
      );
      process.stdout.write(
        `edge: ${keptAtRestore - atHubBefore} results kept through the ${CUT_MS / 1000} s cut reached the hub within ${arrivedMs} ms of the restore; monitoring back after ${back.durationS ?? '?'} s\n`,
      );
      expect(back.id).toBe(lost.id);
      await waitFor(async () => (await unmonitored('alert-b')) === 0, {
        timeoutMs: 15_000,
        what: "alert-b's status page: Kuta Selatan monitored again",
      });

      // Two more rounds after the restore: every device polled again, nothing else paged.
      const after = Date.now();
      await waitFor(
        async () => {
          const fresh = (await stream.update()).filter((r) => r.msg.probe.timeMs > after + INTERVAL_MS);
          const polled = new Set(fresh.map((r) => r.msg.probe.deviceId));
          return inv.devices.every((d) => polled.has(d.id));
        },
        { timeoutMs: 30_000, intervalMs: 500, what: 'a round after the restore' },
      );
      // The leader first: an edge collector's clean stop is itself a loss of the edge's monitoring.
      await stopNode('alert-b');
      await stopNode('edge-ks');
      await stopNode('col-1');

      const all = await stream.update();
      // No result lost: every run's seq complete, none twice.
      const gaps = seqGaps(all);
      expect(gaps.map((g) => [g.run.split('@')[0], g.missing.length, g.repeated.length])).toEqual(
        expect.arrayContaining([
          ['col-1', 0, 0],
          ['edge-ks', 0, 0],
        ]),
      );
      for (const g of gaps) expect([g.run, g.missing, g.repeated]).toEqual([g.run, [], []]);
      // The edge's results in order at the hub, and only the edge polled Kuta Selatan (the centre never).
      const edgeSeqs = all.filter((r) => r.msg.collector === 'edge-ks').map((r) => r.msg.seq);
      expect(edgeSeqs).toEqual([...edgeSeqs].sort((a, b) => a - b));
      expect(all.filter((r) => ksDevices.has(r.msg.probe.deviceId) && r.msg.collector !== 'edge-ks')).toEqual(
        [],
      );
      const duringCut = all.filter(
        (r) => r.msg.collector === 'edge-ks' && r.msg.probe.timeMs > cutAt && r.msg.probe.timeMs < restoredAt,
      );
      expect(duringCut.length).toBeGreaterThanOrEqual(((CUT_MS / INTERVAL_MS) * ksDevices.size) / 2);
      // Exactly one incident (opened and resolved), and no page about any site or device.
      expect(hook.received.map((n) => [n.kind, n.status, n.id])).toEqual([
        ['monitoring_lost', 'firing', lost.id],
        ['monitoring_lost', 'resolved', lost.id],
      ]);
      expect(hook.received.filter((n) => n.device !== undefined || n.site !== undefined)).toEqual([]);
      // One incident in the store, resolved; each page sent once.
      const rows = await sqlRows(pgUrl, "SELECT id, status FROM incidents WHERE kind = 'monitoring_lost'");
      expect(rows.map((r) => [r.id, r.status])).toEqual([[lost.id, 'resolved']]);
      expect(await ledger(lost.id)).toEqual(['firing', 'resolved']);
    },
    CUT_MS + 300_000,
  );
});
