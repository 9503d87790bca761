/**
 * The `--agent simulator` side of scripts/bench-snmp.ts: the project's fleet simulator (one SNMP agent
 * per device of a synthetic Badung inventory, each at its own 127.20.x.y address) in a process of its own,
 * so that its CPU is measured like snmpd's, from /proc.
 *
 *   argv[2]  {"sites":N,"port":P,"community":"..."}
 *   stdout   {"ready":true,"devices":[{"id","host","port","profile"}...]}  once every socket is bound
 * Stops on SIGTERM or SIGINT.
 */
import { Secret } from '../../collector/core/secret.ts';
import { FleetSimulator } from '../../simulator/fleet.ts';
import { syntheticInventory } from '../../simulator/synthetic-inventory.ts';

export interface SimulatorAgentConfig {
  readonly sites: number;
  readonly port: number;
  readonly community: string;
}

export interface SimulatorAgentReady {
  readonly ready: true;
  readonly devices: readonly { id: string; host: string; port: number; profile: string }[];
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as SimulatorAgentConfig;
const inventory = syntheticInventory({
  sites: cfg.sites,
  port: cfg.port,
  credentials: { version: '2c', community: new Secret(cfg.community) },
});
const sim = new FleetSimulator({ inventory });
await sim.start();
const stop = (): void => {
  void sim.stop().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
const ready: SimulatorAgentReady = {
  ready: true,
  devices: inventory.devices
    .filter((d) => d.role !== 'sensor')
    .map((d) => ({ id: d.id, host: d.host, port: d.port, profile: d.profile })),
};
process.stdout.write(`${JSON.stringify(ready)}\n`);
