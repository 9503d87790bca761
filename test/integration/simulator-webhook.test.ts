/**
 * The README tour's webhook, for real: the running monitor's webhook channel points at the simulator's
 * control server (as config/netmon.example.yaml does), a router cut over the control API pages, and the
 * page can be read back at GET /webhook (JSON and one line per delivery) and in the simulator's log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../collector/core/log.ts';
import type { Device } from '../../collector/core/types.ts';
import { startRuntime, type Runtime } from '../../collector/runtime.ts';
import { ControlServer } from '../../simulator/control-http.ts';
import { FleetSimulator } from '../../simulator/fleet.ts';
import { syntheticInventory } from '../../simulator/synthetic-inventory.ts';
import type { WebhookDelivery } from '../../simulator/webhook-inbox.ts';
import { startTestInfluxd, type TestServer } from '../support/influx.ts';
import { testMonitorConfig } from '../support/monitor-config.ts';
import { waitForAllUp } from '../support/poll-rounds.ts';
import { freeUdpPort, waitFor } from '../support/ports.ts';

let dir: string;
let influx: TestServer;
let sim: FleetSimulator;
let control: ControlServer;
let runtime: Runtime;
let router: Device;
const simLog = memoryLogger('info');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-simhook-'));
  influx = await startTestInfluxd();
  const inventory = syntheticInventory({
    sites: 3,
    port: await freeUdpPort(),
    seed: 13,
    hostOctet: 160 + Math.floor(Math.random() * 20),
  });
  router = inventory.devices.find(
    (d) => d.role === 'router' && inventory.devices.some((a) => a.parent === d.id),
  )!;
  sim = new FleetSimulator({ inventory, seed: 13 });
  await sim.start();
  control = new ControlServer(sim, { host: '127.0.0.1', port: 0, log: simLog });
  await control.start();
  runtime = await startRuntime(
    await testMonitorConfig({
      inventory,
      influxUrl: influx.url,
      database: 'simhook',
      dir,
      webhooks: [{ name: 'demo-simulator', url: `${control.url}/webhook`, headers: {} }],
    }),
    { log: memoryLogger('warn') },
  );
  await waitForAllUp(
    runtime.monitor,
    inventory.devices.map((d) => d.id),
    { timeoutMs: 20_000 },
  );
});

afterAll(async () => {
  await runtime?.stop();
  await control?.stop();
  await sim?.stop();
  await influx?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const inbox = async (q = ''): Promise<{ received: number; deliveries: WebhookDelivery[] }> =>
  (await (await fetch(`${control.url}/webhook${q}`)).json()) as never;
const post = async (path: string): Promise<number> =>
  (await fetch(`${control.url}${path}`, { method: 'POST' })).status;

describe('the simulator as the demo webhook receiver', () => {
  it('a router cut over the control API: the page arrives at /webhook, bilingual; the restore sends the recovery', async () => {
    // Only this router's notifications count: on a loaded machine another device may blip meanwhile.
    const ours = async () => (await inbox()).deliveries.filter((d) => d.device === router.id);
    expect(await ours()).toEqual([]);
    expect(await post(`/devices/${router.id}/cut`)).toBe(200);
    const firing = await waitFor(async () => (await ours()).find((d) => d.status === 'firing'), {
      timeoutMs: 20_000,
      what: 'the page at /webhook',
    });
    expect(firing).toMatchObject({ kind: 'device_down', device: router.id });
    expect(firing.title?.id).toMatch(/GANGGUAN/);
    expect(firing.title?.en).toMatch(/DOWN/);
    expect((firing.body as { schema: string }).schema).toBe('badung-netmon/alert/v1');
    // The simulator's log has a line for it.
    const logged = simLog.records.filter((r) => r.msg === 'webhook received').map((r) => JSON.stringify(r));
    expect(logged.filter((l) => l.includes(`#${firing.seq} `) && l.includes(router.id))).toHaveLength(1);

    expect(await post(`/devices/${router.id}/restore`)).toBe(200);
    const resolved = await waitFor(async () => (await ours()).find((d) => d.status === 'resolved'), {
      timeoutMs: 20_000,
      what: 'the recovery at /webhook',
    });
    expect(resolved.seq).toBeGreaterThan(firing.seq);
    // Newest first; `since` leaves out what came before.
    expect((await ours()).map((d) => [d.seq, d.status])).toEqual([
      [resolved.seq, 'resolved'],
      [firing.seq, 'firing'],
    ]);
    expect((await inbox(`?since=${firing.seq}`)).deliveries.map((d) => d.seq)).toContain(resolved.seq);
    expect((await inbox(`?since=${firing.seq}`)).deliveries.map((d) => d.seq)).not.toContain(firing.seq);

    const text = await (await fetch(`${control.url}/webhook?format=text`)).text();
    const lines = text.trim().split('\n');
    expect(lines.find((l) => l.startsWith(`#${resolved.seq} `))).toMatch(
      new RegExp(`^#${resolved.seq} \\S+ resolved device_down \\S+ .*${router.id}.*\\| PULIH`),
    );
    expect(lines.find((l) => l.startsWith(`#${firing.seq} `))).toMatch(
      /^#\d+ .* firing device_down .*\| .*GANGGUAN.*\| .*DOWN/,
    );
  });

  it('refuses what is not JSON, says what is wrong with `since`, and forgets on DELETE', async () => {
    const bad = await fetch(`${control.url}/webhook`, { method: 'POST', body: '{nope' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/JSON/);
    const since = await fetch(`${control.url}/webhook?since=x`);
    expect(since.status).toBe(400);
    expect(((await since.json()) as { error: string }).error).toMatch(/since must be a delivery number/);
    expect((await fetch(`${control.url}/webhook`, { method: 'PUT' })).status).toBe(405);
    expect((await fetch(`${control.url}/webhook`, { method: 'DELETE' })).status).toBe(204);
    expect((await inbox()).deliveries).toEqual([]);
    expect(await (await fetch(`${control.url}/webhook?format=text`)).text()).toMatch(/no notification yet/);
  });
});
