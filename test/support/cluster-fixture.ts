/**
 * The servers of a cluster test (test/integration/cluster/): three nats-server nodes with JetStream,
 * influxd and the fleet simulator on a small synthetic fleet, a temp dir with the inventory, and the lab
 * settings the collector processes are started with (scripts/lib/cluster-lab.ts). stop() kills every
 * collector the test started and stops the servers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Inventory } from '../../collector/core/types.ts';
import { writeInventory, type CollectorProcess, type LabSettings } from '../../scripts/lib/cluster-lab.ts';
import { startNatsCluster, type NatsCluster } from '../../scripts/lib/servers/nats-server.ts';
import { FleetSimulator } from '../../simulator/fleet.ts';
import { syntheticInventory } from '../../simulator/synthetic-inventory.ts';
import { startTestInfluxd } from './influx.ts';
import { freeUdpPort } from './ports.ts';

export interface ClusterFixture {
  readonly lab: LabSettings;
  readonly nats: NatsCluster;
  readonly inventory: Inventory;
  readonly sim: FleetSimulator;
  /** Collectors the test started: stop() kills any still running. */
  readonly collectors: CollectorProcess[];
  stop(): Promise<void>;
}

export async function startClusterFixture(opts: {
  readonly seed: number;
  readonly sites: number;
  readonly intervalMs: number;
  readonly heartbeat: string;
  readonly timeout: string;
}): Promise<ClusterFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'netmon-cluster-'));
  const port = await freeUdpPort();
  const inventory = syntheticInventory({
    sites: opts.sites,
    port,
    seed: opts.seed,
    hostOctet: 150 + Math.floor(Math.random() * 40),
  });
  const [influx, nats] = await Promise.all([
    startTestInfluxd(),
    startNatsCluster({ nodes: 3, dir: join(dir, 'nats') }),
  ]);
  const sim = new FleetSimulator({ inventory, seed: opts.seed });
  await sim.start();
  writeInventory(dir, inventory, port);
  const collectors: CollectorProcess[] = [];
  return {
    lab: {
      dir,
      natsUrls: nats.urls,
      influxUrl: influx.url,
      database: 'cluster',
      inventory,
      snmpPort: port,
      interval: `${opts.intervalMs}ms`,
      heartbeat: opts.heartbeat,
      timeout: opts.timeout,
    },
    nats,
    inventory,
    sim,
    collectors,
    stop: async () => {
      await Promise.all(collectors.map((c) => c.kill9()));
      await sim.stop();
      await nats.stop();
      await influx.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
