/**
 * Issue #15, SNMP traps on collector members, against real servers (a `nats-server` with JetStream,
 * InfluxDB, the fleet simulator): a trap received by one collector for a device another collector owns
 * makes the owner poll it at once (through `netmon.probe.<id>`, the way the alerting leader asks), well
 * before the device's aligned slot; the receiver records the `trap` point through its own writer.
 *
 * The two collectors run in this process (startClusterRuntime, what main.ts runs with `cluster:`); the
 * trap is a real SNMPv2c datagram from the device's own loopback address (simulator/traps.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startClusterRuntime, type ClusterRuntime } from '../../../collector/app.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { nextSlot } from '../../../collector/scheduler/scheduler.ts';
import { loadConfig } from '../../../config/monitor.ts';
import { ResultLog, writeInventory } from '../../../scripts/lib/cluster-lab.ts';
import { startNatsCluster } from '../../../scripts/lib/servers/nats-server.ts';
import { FleetSimulator } from '../../../simulator/fleet.ts';
import { sendTrap } from '../../../simulator/traps.ts';
import { syntheticInventory } from '../../../simulator/synthetic-inventory.ts';
import { influxRows, startTestInfluxd, type TestServer } from '../../support/influx.ts';
import { freeUdpPort, waitFor } from '../../support/ports.ts';

const INTERVAL_MS = 20_000;
const DB = 'trapscluster';

let dir: string;
let nats: Awaited<ReturnType<typeof startNatsCluster>>;
let influx: TestServer;
let sim: FleetSimulator;
const members = new Map<string, ClusterRuntime>();
const base = syntheticInventory({
  sites: 6,
  port: 0,
  seed: 17,
  hostOctet: 180 + Math.floor(Math.random() * 20),
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-traps-cluster-'));
  [nats, influx] = await Promise.all([
    startNatsCluster({ nodes: 1, dir: join(dir, 'nats') }),
    startTestInfluxd(),
  ]);
  const port = await freeUdpPort();
  const inv = { sites: base.sites, devices: base.devices.map((d) => ({ ...d, port })) };
  sim = new FleetSimulator({ inventory: inv, seed: 17 });
  await sim.start();
  writeInventory(dir, inv, port);
  for (const node of ['col-1', 'col-2']) {
    const file = join(dir, `${node}.yaml`);
    writeFileSync(
      file,
      stringify({
        inventory: 'inventory.yaml',
        influx: { api: 'v1', url: influx.url, database: DB },
        writer: { flushInterval: '200ms', bufferDir: `buffer-${node}` },
        snmp: { interval: `${INTERVAL_MS}ms`, jitter: '0ms', timeout: '500ms', retries: 0 },
        incidents: { file: `incidents-${node}.db` },
        log: { level: 'warn' },
        // Only col-1 receives traps (any free port).
        ...(node === 'col-1' ? { traps: { host: '127.0.0.1', port: 0 } } : {}),
        cluster: {
          node,
          roles: ['collector'],
          nats: { servers: nats.urls },
          membership: { heartbeat: '500ms', timeout: '2s' },
        },
      }),
    );
    members.set(node, await startClusterRuntime(await loadConfig(file), { log: memoryLogger('warn') }));
  }
});

afterAll(async () => {
  for (const m of members.values()) await m.stop().catch(() => undefined);
  await sim?.stop();
  await nats?.stop();
  await influx?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('SNMP traps on collector members', () => {
  it("a trap at one collector makes the device's owner poll it at once, before its aligned slot", async () => {
    const receiver = members.get('col-1');
    const owner = members.get('col-2');
    const port = receiver?.traps?.port;
    if (!receiver || !owner || !port) throw new Error('members not started');
    expect(owner.traps).toBeUndefined();
    // Both members settled: each owns a share, together every device.
    await waitFor(
      () =>
        (receiver.collector?.owned().length ?? 0) + (owner.collector?.owned().length ?? 0) ===
          base.devices.length && (owner.collector?.owned().length ?? 0) > 0,
      { timeoutMs: 20_000, what: 'the fleet shared between col-1 and col-2' },
    );
    // col-2's device whose next aligned poll is the furthest away: a poll before it is the trap's.
    const now = Date.now();
    const [device] = (owner.collector?.owned() ?? [])
      .map((id) => ({ id, slot: nextSlot(id, INTERVAL_MS, now) }))
      .sort((a, b) => b.slot - a.slot);
    const d = base.devices.find((x) => x.id === device?.id);
    if (!device || !d) throw new Error('col-2 owns nothing');
    expect(device.slot - now).toBeGreaterThan(3000);

    const log = new ResultLog(nats.urls);
    const sentAt = Date.now();
    await sendTrap({
      from: d.host,
      to: { host: '127.0.0.1', port },
      community: 'public',
      type: 'linkDown',
      uptimeCs: 1000,
      ifIndex: 2,
    });
    const polled = await waitFor(
      async () =>
        (await log.update()).find(
          (r) => r.msg.collector === 'col-2' && r.msg.probe.deviceId === d.id && r.msg.probe.timeMs >= sentAt,
        ),
      { timeoutMs: 10_000, intervalMs: 200, what: `a poll of ${d.id} by col-2 after the trap` },
    );
    process.stdout.write(
      `trap: ${d.id} polled by its owner ${polled.msg.probe.timeMs - sentAt} ms after the trap (its slot was ${Math.round(device.slot - sentAt)} ms away)\n`,
    );
    expect(polled.msg.probe.timeMs).toBeLessThan(device.slot);
    // The receiver never polls a device it does not own.
    expect(
      log.all.some(
        (r) => r.msg.collector === 'col-1' && r.msg.probe.deviceId === d.id && r.msg.probe.timeMs >= sentAt,
      ),
    ).toBe(false);
    expect(receiver.traps?.stats().accepted).toBe(1);
    await waitFor(
      async () =>
        (await influxRows(influx.url, DB, `SELECT * FROM "trap" WHERE device = '${d.id}'`)).length === 1,
      { timeoutMs: 10_000, what: `the trap point of ${d.id} in InfluxDB` },
    );
  });
});
