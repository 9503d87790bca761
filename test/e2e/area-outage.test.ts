/**
 * A mass outage on the real simulator: 32 sites of Petang cut within seconds (as a power cut would) are
 * the first site's page plus one area incident, not 32 pages; the area recovers with one notice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../collector/core/log.ts';
import type { Inventory } from '../../collector/core/types.ts';
import type { Notification } from '../../collector/notify/notification.ts';
import { startRuntime, type Runtime } from '../../collector/runtime.ts';
import { generateBadungInventory } from '../../config/badung/generate.ts';
import { parseInventory } from '../../config/inventory.ts';
import { FleetSimulator } from '../../simulator/fleet.ts';
import { startTestInfluxd, type TestServer } from '../support/influx.ts';
import { testMonitorConfig } from '../support/monitor-config.ts';
import { waitForAllUp, waitForPollRounds } from '../support/poll-rounds.ts';
import { freeUdpPort, waitFor } from '../support/ports.ts';

let dir: string;
let influx: TestServer;
let sim: FleetSimulator;
let runtime: Runtime;
let inventory: Inventory;
const pages: Notification[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-area-'));
  influx = await startTestInfluxd();
  const port = await freeUdpPort();
  const all = parseInventory(
    // ispRouterEvery 0: no ping-only sites (this config has no ping: section to see them).
    generateBadungInventory({
      seed: 3,
      hostOctet: 90 + Math.floor(Math.random() * 20),
      port,
      ispRouterEvery: 0,
    }).yaml,
    'badung',
    {},
  );
  // Petang's sites plus Mengwi's kantor camat (another kecamatan, which must stay quiet).
  const sites = all.sites.filter((s) => s.kecamatan === 'Petang' || s.id === 'kcm-mengwi');
  const ids = new Set(sites.map((s) => s.id));
  inventory = {
    sites: sites.map((s) => ({ ...s, upstream: undefined })),
    devices: all.devices.filter((d) => ids.has(d.siteId) && d.role !== 'sensor'),
  };
  sim = new FleetSimulator({ inventory, seed: 3 });
  await sim.start();
  runtime = await startRuntime(
    await testMonitorConfig({
      inventory,
      influxUrl: influx.url,
      database: 'area',
      dir,
      area: { windowMs: 60_000, minSites: 30, groupWaitMs: 4000 },
    }),
    {
      log: memoryLogger('warn'),
      notifiers: [{ name: 'pager', send: (n) => (pages.push(n), Promise.resolve()) }],
    },
  );
  await waitForAllUp(
    runtime.monitor,
    inventory.devices.map((d) => d.id),
    { timeoutMs: 30_000 },
  );
});

afterAll(async () => {
  await runtime?.stop();
  await sim?.stop();
  await influx?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('mass outage in one kecamatan', () => {
  it('is one area incident, not a page per site, and recovers with one notice', async () => {
    const petang = inventory.sites.filter((s) => s.kecamatan === 'Petang');
    expect(petang.length).toBeGreaterThan(40);
    const cut = petang.slice(0, 32);
    for (const s of cut) sim.cutSite(s.id);
    await waitFor(() => pages.some((p) => p.kind === 'area_outage'), { timeoutMs: 30_000 });
    // Let every held alert run out its wait: none may page. Three more complete rounds (each device
    // polled three times, at least 3 x 2 s) outlast the 4 s group wait of any alert held before them.
    await waitForPollRounds(runtime.monitor, 3, { what: 'held alerts running out their group wait' });
    const area = pages.find((p) => p.kind === 'area_outage');
    expect(area?.area).toMatchObject({ kecamatan: 'Petang', sitesTotal: petang.length });
    expect(area?.area?.sitesDown).toBeGreaterThanOrEqual(30);
    expect(area?.text.id).toContain('GANGGUAN MASSAL di Kec. Petang');
    const sitePages = pages.filter((p) => p.kind === 'device_down');
    expect(sitePages.length).toBeLessThanOrEqual(1);

    for (const s of cut) sim.restoreSite(s.id);
    await waitFor(() => pages.some((p) => p.kind === 'area_outage' && p.status === 'resolved'), {
      timeoutMs: 30_000,
    });
    await waitForPollRounds(runtime.monitor, 3, { what: 'no more notices after the recovery' });
    expect(pages.filter((p) => p.kind === 'area_outage').map((p) => p.status)).toEqual([
      'firing',
      'resolved',
    ]);
    // At most the first site's own page and its recovery besides the area's two notices.
    expect(pages.filter((p) => p.kind === 'device_down').length).toBeLessThanOrEqual(2);
  });
});
