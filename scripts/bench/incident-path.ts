/**
 * The monitor's transition path with its incident store and the console's live feed, wired as `npm start`
 * wires them (collector/app.ts: the SQLite incident store opened through the console back end, whose live
 * feed is attached to the Monitor; synchronous=FULL on a real file), on fake time with a scripted poller
 * (no SNMP, no database of samples). The CPU of this process per device transition, in phases:
 *
 *   first round   every SNMP device's unknown -> up (the live feed asks for each one's open incident)
 *   outage        the router of every Nth site cut: down and unreachable, incidents opened, pages claimed,
 *                 sent to a recording channel and marked sent in the ledger
 *   recovery      the routers back: up, recovering, and after the 2 min settle of the example config the
 *                 incidents resolved and their recovery notices sent
 *   quiet round   a poll round without a transition (what the phases above cost besides the polls)
 *
 * For A/B comparisons of the store and the feed (issue #14): nothing but this process is measured, and
 * the phases repeat --cycles times. Not a test.
 *
 *   npx tsx scripts/bench/incident-path.ts [--size 1] [--cut-every 4] [--cycles 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FakeClock } from '../../collector/core/clock.ts';
import { memoryLogger } from '../../collector/core/log.ts';
import { startConsoleBackend } from '../../collector/http/console-backend.ts';
import { Monitor } from '../../collector/monitor.ts';
import { consoleSchema } from '../../config/console.ts';
import { parseInventory } from '../../config/inventory.ts';
import { RecordingChannel, ScriptedPoller, advance, nullWriter } from '../../test/support/monitor-fakes.ts';
import { parseCommandLine } from '../lib/cli.ts';
import { inventoryYaml, makeFleet } from './fleet-inventory.ts';

const USAGE = 'usage: npx tsx scripts/bench/incident-path.ts [--size 1] [--cut-every 4] [--cycles 3]';
const { values } = parseCommandLine('incident-path', USAGE, {
  size: { type: 'string', default: '1' },
  'cut-every': { type: 'string', default: '4' },
  cycles: { type: 'string', default: '3' },
});
const SIZE = Number(values.size);
const CUT_EVERY = Number(values['cut-every']);
const CYCLES = Number(values.cycles);

const dir = mkdtempSync(join(tmpdir(), 'incident-path-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const fleet = makeFleet(SIZE, 200, 161);
const inventory = parseInventory(inventoryYaml(fleet, fleet.sites), join(dir, 'inventory.yaml'));
const snmpDevices = inventory.devices.filter((d) => d.snmp !== undefined).length;
const clock = new FakeClock(Date.parse('2026-11-22T10:00:00+08:00'));
const log = memoryLogger('error');
const backend = await startConsoleBackend(consoleSchema(dir).parse({}), { clock, log });
const store = backend.openIncidentStore(join(dir, 'incidents.db'));
const poller = new ScriptedPoller(clock);
const channel = new RecordingChannel('hook');
const monitor = new Monitor(
  {
    clock,
    log,
    inventory,
    poller,
    writer: nullWriter(),
    notifiers: [channel],
    store,
  },
  // As the example config: polls every 30 s, a recovery settles after 2 min up (flapping: settle 2m).
  {
    intervalMs: 30_000,
    jitterMs: 5000,
    concurrency: 256,
    downAfterFailures: 2,
    recheckMs: 5000,
    selfMetricsMs: 60_000,
    flapping: { settleMs: 120_000, flapThreshold: 2 },
  },
);
backend.attach({ monitor, inventory });
let transitions = 0;
monitor.onTransition(() => void transitions++);
await monitor.start();

const routers = inventory.sites.flatMap((site, i) => {
  if (i % CUT_EVERY !== 0) return [];
  const r = inventory.devices.find((d) => d.siteId === site.id && d.role === 'router');
  return r ? [r.id] : [];
});

interface Phase {
  name: string;
  transitions: number;
  cpuMs: number;
  realMs: number;
  opened: number;
  sent: number;
}
const phases: Phase[] = [];
async function phase(name: string, fakeMs: number, before?: () => void): Promise<void> {
  before?.();
  const t0 = transitions;
  const sent0 = channel.sent.length;
  const opened0 = store.list({ limit: 1_000_000 }).length;
  const cpu0 = process.cpuUsage();
  const real0 = performance.now();
  await advance(clock, fakeMs, 250);
  const cpu = process.cpuUsage(cpu0);
  phases.push({
    name,
    transitions: transitions - t0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    realMs: performance.now() - real0,
    opened: store.list({ limit: 1_000_000 }).length - opened0,
    sent: channel.sent.length - sent0,
  });
}

await phase('first round', 35_000);
for (let c = 0; c < CYCLES; c++) {
  await phase('outage', 60_000, () => routers.forEach((id) => poller.cut.add(id)));
  await phase('recovery', 180_000, () => poller.cut.clear());
  await phase('quiet round', 30_000);
}
await monitor.stop();
await backend.close();
store.close();

console.log(
  `incident-path: ${inventory.sites.length} sites, ${snmpDevices} SNMP devices, ${routers.length} routers cut per outage; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(
  '| phase | transitions | incidents opened | notifications | CPU ms | CPU us/transition | real ms |',
);
console.log(
  '| ----- | ----------- | ---------------- | ------------- | ------ | ----------------- | ------- |',
);
for (const p of phases)
  console.log(
    `| ${p.name} | ${p.transitions} | ${p.opened} | ${p.sent} | ${p.cpuMs.toFixed(0)} | ${
      p.transitions > 0 ? ((p.cpuMs * 1000) / p.transitions).toFixed(0) : '-'
    } | ${p.realMs.toFixed(0)} |`,
  );
const sum = (name: string, f: (p: Phase) => number) =>
  phases.filter((p) => p.name === name).reduce((s, p) => s + f(p), 0);
for (const name of ['outage', 'recovery']) {
  const tr = sum(name, (p) => p.transitions);
  console.log(
    `${name} total: ${tr} transitions, ${((sum(name, (p) => p.cpuMs) * 1000) / tr).toFixed(0)} CPU us per transition`,
  );
}
console.log(
  JSON.stringify({
    sites: inventory.sites.length,
    devices: snmpDevices,
    load: loadavg()[0],
    phases: phases.map((p) => ({ ...p, cpuMs: Math.round(p.cpuMs), realMs: Math.round(p.realMs) })),
  }),
);
