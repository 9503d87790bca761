/**
 * The fleet simulator's command line:
 *
 *   npx tsx simulator/main.ts --inventory FILE --control 127.0.0.1:PORT [--seed N] [--trap-to H:PORT]
 *                             [--blackhole auto|on|off]
 *
 * Loads the inventory with config/inventory.ts, answers SNMP for every device at its own loopback
 * address, serves the control API, prints one JSON line when ready
 * ({"msg":"simulator ready","control":"http://...","devices":N,...}) and stops cleanly on SIGTERM/SIGINT.
 * With --trap-to, POST /devices/:id/trap sends traps there; with blackholes (root), a cut stops the
 * silenced devices' addresses answering ping too (blackhole.ts); stopping removes them.
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
import { SimulatorControlError, SimulatorStartError } from './errors.ts';
import { Blackholes, flushOwn } from './blackhole.ts';

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
  /** Where POST /devices/:id/trap sends (the monitor's trap receiver); absent: traps answer 409. */
  readonly trapTo?: { readonly host: string; readonly port: number } | undefined;
  /**
   * Blackhole cut devices' addresses so they stop answering ping (needs root or CAP_NET_ADMIN): `on`
   * (fail without the right), `auto` (when the right is there; default of the CLI), `off` (default here).
   */
  readonly blackhole?: 'auto' | 'on' | 'off' | undefined;
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
  'usage: simulator/main.ts --inventory FILE --control 127.0.0.1:PORT [--seed N] [--mqtt mqtt://127.0.0.1:1883] [--shard K/N] [--trap-to 127.0.0.1:10162] [--blackhole auto|on|off]';

const HELP = `${USAGE}

  --inventory FILE   the inventory YAML whose devices to simulate (e.g. var/badung.inventory.yaml)
  --control H:PORT   where the control API listens (default 127.0.0.1:0: any free port)
  --seed N           the seed of the simulated traffic and faults (default 1)
  --mqtt URL         the broker the inventory's MQTT devices connect to (none: no MQTT devices)
  --shard K/N        serve only sites K, K+N, K+2N, ... of the inventory (run N processes, K = 0..N-1,
                     when one process cannot answer the whole fleet: ~1 socket per device, one core)
  --trap-to H:PORT   the monitor's trap receiver (its traps: section; npm start passes it): where
                     POST /devices/:id/trap sends, with the device's own community or SNMPv3 user
  --blackhole MODE   auto (default): as root (or with CAP_NET_ADMIN), a cut blackholes the addresses it
                     silences, so they stop answering ping as on a real network; without the right, a cut
                     stops SNMP only and the address keeps answering ping (the monitor then sees "SNMP not
                     answering", not an outage). on: refuse to start without the right. off: never.
  -h, --help         this text

Every 127.x address answers ping on Linux, so every simulated device answers ping (ping-only devices too).

Control API (on --control; JSON; one command per action, e.g. with C=http://127.0.0.1:8161):
  curl -s $C/status                                    the fleet: counts, cuts, stopped agents
  curl -s $C/devices/ID                                one device: state, SNMP, values now
  curl -X POST $C/sites/ID/cut        (/restore)       a site loses power or uplink
  curl -X POST $C/devices/ID/cut      (/restore)       one device (and what is behind it)
  curl -X POST $C/devices/ID/snmp-stop (/snmp-start)   its SNMP agent stops; it still answers ping
  curl -X POST $C/devices/ID/trap -d '{"type":"linkDown","ifIndex":2}'
                                                       a trap (coldStart, warmStart, linkDown, linkUp,
                                                       authenticationFailure) with its own credentials;
                                                       add "community":"x" or "user":"x" to send wrong ones
  curl -X POST $C/devices/ID/reboot                    sysUpTime and counters restart
  curl -X POST $C/devices/ID/slow -d '{"delayMs":2500}'   answers late (0: prompt again)
  curl -X POST $C/devices/ID/wrap32 -d '{"withinS":60}'   32-bit counters wrap soon
  curl -X POST $C/devices/ID/mqtt-drop (mqtt-disconnect, mqtt-restore)   its MQTT connection
  curl -s "$C/webhook?format=text"                     what the monitor's webhook sent here

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
      'trap-to': { type: 'string' },
      blackhole: { type: 'string', default: 'auto' },
    },
    strict: true,
  });
  if (!values.inventory) throw new SimulatorControlError(400, `--inventory is required; ${USAGE}`);
  const m = /^(.+):(\d{1,5})$/.exec(values.control);
  if (!m?.[1] || !m[2]) throw new SimulatorControlError(400, `--control must be HOST:PORT; ${USAGE}`);
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(seed))
    throw new SimulatorControlError(400, `--seed must be an integer; ${USAGE}`);
  const blackhole = values.blackhole;
  if (blackhole !== 'auto' && blackhole !== 'on' && blackhole !== 'off')
    throw new SimulatorControlError(400, `--blackhole must be auto, on or off, got "${blackhole}"`);
  let trapTo: CliOptions['trapTo'];
  if (values['trap-to'] !== undefined) {
    const t = /^(.+):(\d{1,5})$/.exec(values['trap-to']);
    const port = Number(t?.[2]);
    if (!t?.[1] || port < 1 || port > 65535)
      throw new SimulatorControlError(400, `--trap-to must be HOST:PORT (e.g. 127.0.0.1:10162); ${USAGE}`);
    trapTo = { host: t[1].replace(/^\[|\]$/g, ''), port };
  }
  return {
    inventory: values.inventory,
    controlHost: m[1].replace(/^\[|\]$/g, ''),
    controlPort: Number(m[2]),
    seed,
    mqtt: values.mqtt,
    shard: values.shard === undefined ? undefined : parseShard(values.shard),
    trapTo,
    blackhole,
  };
}

/**
 * The blackholes this simulator may set, or undefined: `auto` tries (removing what a crashed run of this
 * inventory left) and goes without when `ip` is refused; `on` fails then.
 */
async function openBlackholes(
  mode: CliOptions['blackhole'],
  inventory: Inventory,
  log: Logger,
): Promise<Blackholes | undefined> {
  if (mode === undefined || mode === 'off') return undefined;
  const own = new Set(inventory.devices.filter((d) => d.host !== '').map((d) => d.host));
  try {
    await flushOwn(own);
    return new Blackholes();
  } catch (err) {
    if (mode === 'on') throw new SimulatorStartError(`--blackhole on: ${errorMessage(err)}`, { cause: err });
    log.warn('cuts will not stop ping: blackholes need root or CAP_NET_ADMIN', {
      error: errorMessage(err),
      text_id:
        'Pemutusan hanya menghentikan SNMP; alamat tetap menjawab ping (monitor melihat "SNMP tidak menjawab", bukan gangguan).',
      text_en:
        'A cut stops SNMP only; the address still answers ping (the monitor sees "SNMP not answering", not an outage).',
    });
    return undefined;
  }
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
  const blackhole = await openBlackholes(opts.blackhole, inventory, log);
  const control = new ControlServer(sim, {
    host: opts.controlHost,
    port: opts.controlPort,
    mqtt,
    log,
    blackhole,
    traps: opts.trapTo && { to: opts.trapTo },
  });
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
    trapTo: opts.trapTo ? `${opts.trapTo.host}:${opts.trapTo.port}` : null,
    blackholes: blackhole !== undefined,
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
      await blackhole?.removeAll();
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
