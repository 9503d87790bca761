/**
 * The fleet simulator's command line:
 *
 *   npx tsx simulator/main.ts --inventory FILE --control 127.0.0.1:PORT [--seed N]
 *
 * Loads the inventory with config/inventory.ts, answers SNMP for every device at its own loopback
 * address, serves the control API, prints one JSON line when ready
 * ({"msg":"simulator ready","control":"http://...","devices":N,...}) and stops cleanly on SIGTERM/SIGINT.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { createLogger } from '../collector/core/log.ts';
import { exitOnHelp, usageError } from '../scripts/lib/cli.ts';
import type { Logger } from '../collector/core/log.ts';
import { errorMessage } from '../collector/core/errors.ts';
import type { Inventory } from '../collector/core/types.ts';
import { ControlServer } from './control-http.ts';
import { FleetSimulator } from './fleet.ts';
import { MqttFleet } from './mqtt/mqtt-fleet.ts';
import { DEMO_MQTT_SECRET, mqttPasswordFor } from '../config/badung/mqtt-identity.ts';
import { SimulatorControlError } from './errors.ts';

export type InventoryLoader = (file: string) => Promise<Inventory>;

export interface CliOptions {
  readonly inventory: string;
  readonly controlHost: string;
  readonly controlPort: number;
  readonly seed: number;
  /** Broker URL for the inventory's MQTT devices (none: no MQTT devices). */
  readonly mqtt?: string | undefined;
  /** Serve only this share of the inventory's sites (several processes for a fleet one core cannot answer). */
  readonly shard?: Shard | undefined;
}

/** Share `index` of `count` (0 <= index < count): the sites whose position in the inventory is index mod count. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/**
 * The part of an inventory one simulator process serves: whole sites (a site's devices stay together,
 * so cutting a site works in the process that has it), dealt out in turn. A site's upstream or a device's
 * parent in another share is dropped: reachability across processes is not modelled (benchmarks only).
 */
export function shardInventory(inventory: Inventory, shard: Shard): Inventory {
  if (shard.count === 1) return inventory;
  const sites = inventory.sites.filter((_, i) => i % shard.count === shard.index);
  const siteIds = new Set(sites.map((s) => s.id));
  const devices = inventory.devices.filter((d) => siteIds.has(d.siteId));
  const deviceIds = new Set(devices.map((d) => d.id));
  return {
    sites: sites.map((s) =>
      s.upstream !== undefined && !siteIds.has(s.upstream) ? { ...s, upstream: undefined } : s,
    ),
    devices: devices.map((d) =>
      d.parent !== undefined && !deviceIds.has(d.parent) ? { ...d, parent: undefined } : d,
    ),
  };
}

/** "K/N" → { index: K, count: N }, 0 <= K < N. */
export function parseShard(raw: string): Shard {
  const m = /^(\d{1,4})\/(\d{1,4})$/.exec(raw);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index >= count)
    throw new SimulatorControlError(400, `--shard must be K/N with 0 <= K < N (e.g. 0/2), got "${raw}"`);
  return { index, count };
}

const USAGE =
  'usage: simulator/main.ts --inventory FILE --control 127.0.0.1:PORT [--seed N] [--mqtt mqtt://127.0.0.1:1883] [--shard K/N]';

const HELP = `${USAGE}

  --inventory FILE   the inventory YAML whose devices to simulate (e.g. var/badung.inventory.yaml)
  --control H:PORT   where the control API listens (default 127.0.0.1:0: any free port)
  --seed N           the seed of the simulated traffic and faults (default 1)
  --mqtt URL         the broker the inventory's MQTT devices connect to (none: no MQTT devices)
  --shard K/N        serve only sites K, K+N, K+2N, ... of the inventory (run N processes, K = 0..N-1,
                     when one process cannot answer the whole fleet: ~1 socket per device, one core)
  -h, --help         this text

Prints one JSON line when ready ({"msg":"simulator ready","control":...}); stops on SIGTERM or SIGINT.`;

export function parseCli(argv: readonly string[]): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      inventory: { type: 'string' },
      control: { type: 'string', default: '127.0.0.1:0' },
      seed: { type: 'string', default: '1' },
      mqtt: { type: 'string' },
      shard: { type: 'string' },
    },
    strict: true,
  });
  if (!values.inventory) throw new SimulatorControlError(400, `--inventory is required; ${USAGE}`);
  const m = /^(.+):(\d{1,5})$/.exec(values.control);
  if (!m?.[1] || !m[2]) throw new SimulatorControlError(400, `--control must be HOST:PORT; ${USAGE}`);
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(seed))
    throw new SimulatorControlError(400, `--seed must be an integer; ${USAGE}`);
  return {
    inventory: values.inventory,
    controlHost: m[1].replace(/^\[|\]$/g, ''),
    controlPort: Number(m[2]),
    seed,
    mqtt: values.mqtt,
    shard: values.shard === undefined ? undefined : parseShard(values.shard),
  };
}

/** The config module is written in parallel with this one: load it at run time, by its documented signature. */
async function defaultLoader(): Promise<InventoryLoader> {
  const href = new URL('../config/inventory.ts', import.meta.url).href;
  const mod = (await import(href)) as { loadInventory?: unknown };
  if (typeof mod.loadInventory !== 'function')
    throw new Error('config/inventory.ts does not export loadInventory(file)');
  return mod.loadInventory as InventoryLoader;
}

export interface RunningSimulator {
  readonly sim: FleetSimulator;
  readonly control: ControlServer;
  readonly url: string;
  stop(): Promise<void>;
}

/** Start everything the CLI starts; the caller owns signals and exit codes. */
export async function runSimulator(
  opts: CliOptions,
  load: InventoryLoader,
  log: Logger,
): Promise<RunningSimulator> {
  const started = Date.now();
  const loaded = await load(opts.inventory);
  const inventory = opts.shard ? shardInventory(loaded, opts.shard) : loaded;
  const sim = new FleetSimulator({ inventory, seed: opts.seed });
  const mqtt = opts.mqtt
    ? new MqttFleet({
        url: opts.mqtt,
        inventory,
        sim,
        passwordFor: (id) => mqttPasswordFor(id, process.env.NETMON_MQTT_SECRET ?? DEMO_MQTT_SECRET),
        log,
      })
    : undefined;
  const control = new ControlServer(sim, { host: opts.controlHost, port: opts.controlPort, mqtt, log });
  await sim.start();
  // The broker may start after the simulator (it comes with the monitor): the devices keep retrying.
  mqtt?.start();
  let url: string;
  try {
    url = await control.start();
  } catch (err) {
    await sim.stop();
    throw err;
  }
  log.info('simulator ready', {
    control: url,
    devices: inventory.devices.length,
    sites: inventory.sites.length,
    seed: opts.seed,
    ...(opts.shard ? { shard: `${opts.shard.index}/${opts.shard.count}` } : {}),
    mqttDevices: mqtt?.size ?? 0,
    startupMs: Date.now() - started,
    rssMiB: Math.round(process.memoryUsage().rss / 1048576),
  });
  return {
    sim,
    control,
    url,
    stop: async () => {
      await mqtt?.stop();
      await control.stop();
      await sim.stop();
    },
  };
}

async function main(): Promise<void> {
  const log = createLogger({ bindings: { component: 'simulator' } });
  const argv = process.argv.slice(2);
  exitOnHelp(HELP, argv);
  let opts: CliOptions;
  try {
    opts = parseCli(argv);
  } catch (err) {
    return usageError('simulator', HELP, errorMessage(err));
  }
  const running = await runSimulator(opts, await defaultLoader(), log);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    running.stop().then(
      () => log.info('simulator stopped', { signal }),
      (err: unknown) => {
        log.error('simulator stop failed', { error: errorMessage(err) });
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`simulator: ${errorMessage(err)}\n`);
    process.exitCode = 1;
  });
}
