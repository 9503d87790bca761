/**
 * What each device costs the collector in memory, part by part (issue #14: 100k devices under 1.5 GB).
 * Builds the collector's per-device structures in this process, one after the other, and measures the V8
 * heap retained by each (process.memoryUsage().heapUsed after a full garbage collection), per device:
 *
 *   inventory   the parsed inventory (config/inventory.ts) of a SIZE x Badung fleet, and the heap the
 *               parse needed at its peak (YAML document, zod) before it was collected
 *   topology    collector/health/topology.ts
 *   health      collector/health/health-tracker.ts, after one answered poll per device
 *   scheduler   collector/scheduler/scheduler.ts, every device added
 *   poller      the SNMP poller's per-device state after one real poll each (sessions, detection, learned
 *               repetitions) against the fleet simulator in this process, for the first --poll devices
 *   counter     what collection keeps of each device's last reading for its rates (normalise/counter-memory.ts),
 *               each reading put through normalise as collection does (its tag sets are kept per device and
 *               counted with the poller's part)
 *
 *   npx tsx scripts/bench/memory-per-device.ts [--size 3] [--poll 3000]
 *
 * Prints one line per part (MB and KB per device) and one JSON line. Loopback only; needs no servers.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { systemClock } from '../../collector/core/clock.ts';
import type { Logger } from '../../collector/core/log.ts';
import type { Device, Inventory } from '../../collector/core/types.ts';
import { HealthTracker } from '../../collector/health/health-tracker.ts';
import { Topology } from '../../collector/health/topology.ts';
import { CounterMemory } from '../../collector/normalise/counter-memory.ts';
import { normalise } from '../../collector/normalise/normalise.ts';
import { Scheduler } from '../../collector/scheduler/scheduler.ts';
import { AutoProfilePoller } from '../../collector/sources/snmp/detect.ts';
import { SnmpPoller } from '../../collector/sources/snmp/poller.ts';
import { loadDetectionTable } from '../../config/detection.ts';
import { parseInventory } from '../../config/inventory.ts';
import { loadProfiles } from '../../config/profiles.ts';
import { FleetSimulator } from '../../simulator/fleet.ts';
import { freeUdpPort } from '../../test/support/ports.ts';
import { parseCommandArgs, usageError } from '../lib/cli.ts';
import { inventoryYaml, makeFleet } from './fleet-inventory.ts';

const USAGE = 'usage: npx tsx scripts/bench/memory-per-device.ts [--size 3] [--poll 3000]';
const args = parseCommandArgs(
  'memory-per-device',
  `${USAGE}\n\n  --size N   fleet of N x Badung (3,350 SNMP devices each; default 3)\n  --poll N   devices polled for the poller and counter-memory parts (default 3000; one simulator socket each)`,
  {
    size: { type: 'string', default: '3' },
    poll: { type: 'string', default: '3000' },
  },
);
const SIZE = Number(args.size);
const POLL = Number(args.poll);
if (!Number.isInteger(SIZE) || SIZE < 1 || SIZE > 30)
  usageError('memory-per-device', USAGE, `--size must be 1..30, got "${args.size}"`);
if (!Number.isInteger(POLL) || POLL < 100 || POLL > 15_000)
  usageError('memory-per-device', USAGE, `--poll must be 100..15000, got "${args.poll}"`);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMb = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1048576;
};

const quiet: Logger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => quiet,
} as unknown as Logger;

interface Part {
  readonly name: string;
  readonly mb: number;
  readonly devices: number;
}

const parts: Part[] = [];
const report = (name: string, mb: number, devices: number): void => {
  parts.push({ name, mb, devices });
  console.log(
    `${name.padEnd(34)} ${mb.toFixed(1).padStart(8)} MB  ${((mb * 1024) / devices).toFixed(2).padStart(7)} KB/device  (${devices} devices)`,
  );
};

async function main(): Promise<void> {
  const port = await freeUdpPort();
  const fleet = makeFleet(SIZE, 150, port);
  const text = inventoryYaml(fleet, fleet.sites);
  console.log(
    `memory per device: ${SIZE} x Badung = ${fleet.devices} SNMP devices (inventory ${(text.length / 1048576).toFixed(1)} MB of YAML)`,
  );

  const h0 = heapMb();
  const inventory: Inventory = parseInventory(text, 'fleet.inventory.yaml', {});
  const peak = process.memoryUsage().heapUsed / 1048576;
  const h1 = heapMb();
  const n = inventory.devices.length;
  report('inventory (parsed, retained)', h1 - h0, n);
  report('inventory parse, peak before GC', peak - h0, n);

  const topology = new Topology(inventory);
  const h2 = heapMb();
  report('topology', h2 - h1, n);

  const health = new HealthTracker(
    topology,
    { downAfterFailures: 2, recheckMs: 5000 },
    { onTransition: () => undefined, requestProbe: () => undefined },
    Date.now(),
  );
  for (const d of inventory.devices)
    health.observe({ deviceId: d.id, timeMs: Date.now(), ok: true, durationMs: 5, source: 'snmp' });
  const h3 = heapMb();
  report('health (after one ok poll each)', h3 - h2, n);

  const scheduler = new Scheduler({
    clock: systemClock,
    log: quiet,
    intervalMs: 60_000,
    jitterMs: 5000,
    concurrency: 256,
    run: async () => undefined,
  });
  for (const d of inventory.devices) scheduler.add(d.id);
  const h4 = heapMb();
  report('scheduler', h4 - h3, n);

  // The poller's per-device state, against the simulator in this process (whole sites, first devices).
  const polled: Device[] = inventory.devices.slice(0, POLL);
  const siteIds = new Set(polled.map((d) => d.siteId));
  const simDevices = inventory.devices.filter((d) => siteIds.has(d.siteId));
  const sim = new FleetSimulator({
    inventory: { sites: inventory.sites.filter((s) => siteIds.has(s.id)), devices: simDevices },
    seed: 1,
  });
  await sim.start();
  const snmp = new SnmpPoller({ timeoutMs: 2000, retries: 1, maxRepetitions: 25, profiles: loadProfiles() });
  const poller = new AutoProfilePoller(snmp, {
    table: loadDetectionTable(),
    client: { timeoutMs: 2000, retries: 1 },
    log: quiet,
  });
  const previous = new CounterMemory();
  const pollAll = async (list: readonly Device[]): Promise<number> => {
    let failed = 0;
    for (let i = 0; i < list.length; i += 64)
      await Promise.all(
        list.slice(i, i + 64).map(async (d) => {
          try {
            const reading = await poller.poll(d);
            const site = topology.siteOfDevice(d.id);
            if (site !== undefined) normalise(previous.get(d.id), reading, { site, device: d });
            previous.set(reading);
          } catch {
            failed++;
          }
        }),
      );
    return failed;
  };
  // Warm-up (code, pools, the socket pool) before the baseline: the first 64 devices.
  const warm = polled.slice(0, 64);
  const rest = polled.slice(64);
  await pollAll(warm);
  for (const d of warm) previous.delete(d.id);
  const h5 = heapMb();
  const failed = await pollAll(rest);
  const h6 = heapMb();
  const kept = previous.size;
  for (const d of rest) previous.delete(d.id);
  const h7 = heapMb();
  report('poller (sessions, detection) + tag sets', h7 - h5, rest.length);
  report('counter memory', h6 - h7, kept);
  if (failed > 0) console.log(`(${failed} polls failed: their readings are missing from the last line)`);

  // Polling twice more: what stays per device once every device has been polled a few times.
  await pollAll(rest);
  await pollAll(rest);
  const h8 = heapMb();
  report('poller + counter memory after 2 more', h8 - h5, rest.length);

  poller.close();
  await sim.stop();
  const perDevice = parts.filter((p) => !p.name.includes('peak') && !p.name.includes('after 2'));
  const total = perDevice.reduce((a, p) => a + (p.mb * 1024) / p.devices, 0);
  console.log(`sum of the retained parts: ${total.toFixed(2)} KB per device`);
  console.log(
    JSON.stringify({
      bench: 'memory-per-device',
      size: SIZE,
      devices: n,
      polled: rest.length,
      parts: parts.map((p) => ({
        name: p.name,
        mb: Number(p.mb.toFixed(2)),
        kbPerDevice: Number(((p.mb * 1024) / p.devices).toFixed(3)),
      })),
      retainedKbPerDevice: Number(total.toFixed(2)),
    }),
  );
  // Keep the structures alive until the end, so nothing above is collected early.
  void [topology, health, scheduler];
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`memory-per-device: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
