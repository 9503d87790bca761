/**
 * The monitor's whole-fleet surfaces in one process, on fake time with a scripted poller (no SNMP, no
 * writer): how long the first poll round (every device's unknown -> up transition) and the second take in
 * real time, and what one read of every site costs through each surface (Monitor.siteState, the status
 * page's build, the console live feed's re-read, the health copies). For comparing fleet sizes: a cost that
 * grows faster than the fleet shows here. Not a test; the figures are real time of this process.
 *
 *   npx tsx scripts/bench/periodic-surfaces.ts INVENTORY.yaml [BUILD_BUDGET] [CUT_EVERY_NTH_SITE]
 *
 * BUILD_BUDGET is the status page's buildBudget (default 0.05; 1 builds back to back, as before budgets);
 * CUT_EVERY_NTH_SITE cuts the router of every Nth site after the first round, waits 90 s of fake time (the
 * outages open their incidents) and times one read of every site then. Make a fleet's inventory with
 * scripts/bench/fleet-inventory.ts (makeFleet, inventoryYaml), as bench-fleet.ts does.
 */
import { performance } from 'node:perf_hooks';
import { Monitor } from '../../collector/monitor.ts';
import { FakeClock } from '../../collector/core/clock.ts';
import { memoryLogger } from '../../collector/core/log.ts';
import { loadInventory } from '../../config/inventory.ts';
import { ScriptedPoller, RecordingChannel, advance } from '../../test/support/monitor-fakes.ts';
import { StatusPage } from '../../collector/status/status-page.ts';
import { monitorStatusSource } from '../../collector/status/source.ts';
import { LiveFeed } from '../../collector/http/live-feed.ts';

const file = process.argv[2];
if (!file) {
  process.stderr.write(
    'usage: npx tsx scripts/bench/periodic-surfaces.ts INVENTORY.yaml [BUILD_BUDGET] [CUT_EVERY_NTH_SITE]\n',
  );
  process.exit(2);
}
let t = performance.now();
const inventory = await loadInventory(file);
console.log(
  'inventory',
  inventory.devices.length,
  'devices',
  inventory.sites.length,
  'sites',
  Math.round(performance.now() - t),
  'ms',
);
const clock = new FakeClock(Date.parse('2026-11-22T10:00:00+08:00'));
const poller = new ScriptedPoller(clock);
let pushed = 0;
t = performance.now();
const monitor = new Monitor(
  {
    clock,
    log: memoryLogger('error'),
    inventory,
    poller,
    writer: {
      push: (s) => void (pushed += s.length),
      start: () => Promise.resolve(),
      stop: () => Promise.resolve(),
      stats: () => ({ written: 0, buffered: 0, dropped: 0, invalid: 0, failures: 0 }),
    },
    notifiers: [new RecordingChannel('hook')],
  },
  {
    intervalMs: 60_000,
    jitterMs: 5000,
    concurrency: 256,
    downAfterFailures: 2,
    recheckMs: 5000,
    selfMetricsMs: 60_000,
    siteStateMs: 60_000,
  },
);
console.log('monitor constructed', Math.round(performance.now() - t), 'ms');
let events = 0;
const feed = new LiveFeed({ monitor, publish: () => void events++, clock, log: memoryLogger('error') });
const page = new StatusPage({
  source: monitorStatusSource(monitor, inventory, undefined),
  clock,
  log: memoryLogger('error'),
  buildBudget: Number(process.argv[3] ?? 0.05),
});
let tr = 0;
monitor.onTransition(() => {
  tr++;
  page.changed();
});
t = performance.now();
await monitor.start();
feed.start();
page.start();
console.log('started', Math.round(performance.now() - t), 'ms');
t = performance.now();
await advance(clock, 62_000, 250);
const round = performance.now() - t;
console.log(
  'first round (fake 62 s):',
  Math.round(round),
  'ms real;',
  tr,
  'transitions;',
  monitor.status().polls,
  'status builds',
  page.stats().builds,
  'last',
  page.stats().lastBuildMs?.toFixed(1),
);
const time = (name: string, f: () => void, n = 5) => {
  f();
  const s = performance.now();
  for (let i = 0; i < n; i++) f();
  const ms = (performance.now() - s) / n;
  console.log(
    name.padEnd(28),
    ms.toFixed(2),
    'ms',
    ((ms * 1000) / inventory.sites.length).toFixed(2),
    'us/site',
  );
};
time('siteState all sites', () => {
  for (const s of inventory.sites) monitor.siteState(s.id);
});
time('status page rebuild', () => page.rebuild());
time('status source sites()', () => void monitorStatusSource(monitor, inventory, undefined).sites());
time('live feed recheckAll', () => feed.recheckAll(clock.now()));
time('monitor.status()', () => monitor.status());
time('health snapshot', () => monitor.health.snapshot());
time('health failureCauses', () => void [...monitor.health.failureCauses()]);
if (process.argv[4]) {
  // A mass outage: every Nth site's router cut.
  let n = 0;
  inventory.sites.forEach((site, i) => {
    if (i % Number(process.argv[4]) !== 0) return;
    const r = inventory.devices.find((d) => d.siteId === site.id && d.role === 'router');
    if (r) {
      poller.cut.add(r.id);
      n++;
    }
  });
  await advance(clock, 90_000, 1000);
  const st = monitor.status().states;
  console.log('cut', n, 'routers; states', JSON.stringify(st));
  time(
    'siteState all sites (outage)',
    () => {
      for (const s of inventory.sites) monitor.siteState(s.id);
    },
    2,
  );
  process.exit(0);
}
t = performance.now();
await advance(clock, 60_000, 250);
console.log(
  'second round (fake 60 s):',
  Math.round(performance.now() - t),
  'ms real;',
  tr,
  'transitions',
  'status builds',
  page.stats().builds,
);
feed.stop();
await page.stop();
await monitor.stop();
