/**
 * Writes the Badung inventory (987 sites) as YAML, validated before it is written; the file is replaced
 * atomically, so running it again (or while the simulator reads) is safe.
 *
 *   npx tsx scripts/generate-inventory.ts --out var/badung.inventory.yaml [--seed N] [--host-octet 20] [--port 1161]
 *                                         [--isp-every 10]
 *
 * The file is 0600 (its folder 0700): it holds the devices' MQTT password hashes.
 * The MQTT demo passwords derive from env NETMON_MQTT_SECRET (default: config/badung/mqtt-identity.ts).
 */
import { renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateBadungInventory } from '../config/badung/generate.ts';
import { parseInventory } from '../config/inventory.ts';
import { ensurePrivateDir, PRIVATE_FILE_MODE, tightenFile } from '../collector/core/private-fs.ts';
import { intOption, parseCommandArgs, usageError } from './lib/cli.ts';

const COMMAND = 'generate-inventory';
const usage = `usage: scripts/generate-inventory.ts --out FILE [--seed N] [--host-octet 20] [--port 1161] [--isp-every 10]

  --out FILE        where to write the inventory YAML (replaced atomically)
  --seed N          the seed of the generated fleet (default 1)
  --host-octet B    devices get the loopback addresses 127.B.x.y (default 20)
  --port N          the UDP port every device answers SNMP on (default 1161)
  --isp-every N     every Nth banjar and tourist site is ping-only: an ISP's router without SNMP
                    (ping: only), watched by ping alone (default 10; 0: none, for a config without ping:)
  -h, --help        this text`;
const values = parseCommandArgs(COMMAND, usage, {
  out: { type: 'string' },
  seed: { type: 'string', default: '1' },
  'host-octet': { type: 'string', default: '20' },
  port: { type: 'string', default: '1161' },
  'isp-every': { type: 'string', default: '10' },
});
if (!values.out) usageError(COMMAND, usage, '--out FILE is required');
const seed = intOption(COMMAND, usage, 'seed', values.seed, 0, 2 ** 32 - 1);
const hostOctet = intOption(COMMAND, usage, 'host-octet', values['host-octet'], 0, 255);
const port = intOption(COMMAND, usage, 'port', values.port, 1, 65535);
const ispRouterEvery = intOption(COMMAND, usage, 'isp-every', values['isp-every'], 0, 1000);

let t = performance.now();
const gen = generateBadungInventory({
  mqttSecret: process.env.NETMON_MQTT_SECRET,
  seed,
  hostOctet,
  port,
  ispRouterEvery,
});
const genMs = performance.now() - t;
// What is written must load: validate before writing (variables resolve to their defaults here).
t = performance.now();
const inv = parseInventory(gen.yaml, values.out, {});
const loadMs = performance.now() - t;
// The inventory holds the devices' MQTT password hashes: only the monitor's user reads it (0600 in a 0700
// folder). The temporary file is made 0600 before anything is written to it, and renamed over the old one.
ensurePrivateDir(dirname(values.out));
const tmp = `${values.out}.${process.pid}.tmp`;
writeFileSync(tmp, gen.yaml, { mode: PRIVATE_FILE_MODE });
tightenFile(tmp); // a stale tmp of the same pid keeps its old mode: writeFileSync sets the mode only on create
renameSync(tmp, values.out);
const kec = new Set(inv.sites.map((s) => s.kecamatan)).size;
const desa = new Set(inv.sites.map((s) => s.desa)).size;
console.log(
  `wrote ${values.out}: ${inv.sites.length} sites, ${inv.devices.length} devices ` +
    `(${inv.devices.filter((d) => d.ping === 'only').length} ping-only), ${kec} kecamatan, ` +
    `${desa} desa/kelurahan (seed ${seed}; generated in ${genMs.toFixed(0)} ms, validated in ${loadMs.toFixed(0)} ms)`,
);
