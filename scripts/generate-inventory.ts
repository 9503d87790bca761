/**
 * Writes the Badung inventory (987 sites) as YAML.
 *
 *   npx tsx scripts/generate-inventory.ts --out var/badung.inventory.yaml [--seed N] [--host-octet 20] [--port 1161]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { generateBadungInventory } from '../config/badung/generate.ts';
import { parseInventory } from '../config/inventory.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    seed: { type: 'string', default: '1' },
    'host-octet': { type: 'string', default: '20' },
    port: { type: 'string', default: '1161' },
  },
});
if (!values.out) {
  console.error('usage: scripts/generate-inventory.ts --out FILE [--seed N] [--host-octet 20] [--port 1161]');
  process.exit(2);
}
const gen = generateBadungInventory({
  mqttSecret: process.env.NETMON_MQTT_SECRET,
  seed: Number(values.seed),
  hostOctet: Number(values['host-octet']),
  port: Number(values.port),
});
// What is written must load: validate before writing.
const inv = parseInventory(gen.yaml, values.out);
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, gen.yaml);
const kec = new Set(inv.sites.map((s) => s.kecamatan)).size;
const desa = new Set(inv.sites.map((s) => s.desa)).size;
console.log(
  `wrote ${values.out}: ${inv.sites.length} sites, ${inv.devices.length} devices, ${kec} kecamatan, ${desa} desa/kelurahan`,
);
