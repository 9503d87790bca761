/**
 * kill -9 of the monitor during an open incident, then a restart: the incident is not lost, no second page
 * goes out, and the recovery is still sent. The monitor runs as its own process (collector/main.ts, the
 * command npm start runs) on a config file; the simulator, influxd and the webhook receiver are real.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Notification } from '../../collector/notify/notification.ts';
import { IncidentStore } from '../../collector/store/incident-store.ts';
import { FleetSimulator } from '../../simulator/fleet.ts';
import { syntheticInventory } from '../../simulator/synthetic-inventory.ts';
import { startTestInfluxd, type TestServer } from '../support/influx.ts';
import { pollsOverHttp, waitForPollRounds } from '../support/poll-rounds.ts';
import { freeTcpPort, freeUdpPort, waitFor } from '../support/ports.ts';
import { TEST_VIEWER, TEST_VIEWER_HEADERS } from '../support/monitor-config.ts';
import { startWebhookPeer, type WebhookPeer } from '../support/webhook-peer.ts';

let dir: string;
let influx: TestServer;
let sim: FleetSimulator;
let hook: WebhookPeer;
let monitor: ChildProcess | undefined;
let configFile: string;
let httpPort: number;
let pages: Notification[] = [];
const inventory = syntheticInventory({
  sites: 3,
  port: 0,
  seed: 11,
  hostOctet: 230 + Math.floor(Math.random() * 20),
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-restart-'));
  influx = await startTestInfluxd();
  const port = await freeUdpPort();
  const inv = { sites: inventory.sites, devices: inventory.devices.map((d) => ({ ...d, port })) };
  sim = new FleetSimulator({ inventory: inv, seed: 11 });
  await sim.start();
  hook = await startWebhookPeer();
  pages = hook.received;
  httpPort = await freeTcpPort();
  writeFileSync(
    join(dir, 'inventory.yaml'),
    stringify({
      credentials: { c: { version: '2c', community: 'public' } },
      defaults: { credentials: 'c', port },
      sites: inv.sites.map((s) => ({
        ...s,
        upstream: undefined,
        devices: inv.devices
          .filter((d) => d.siteId === s.id)
          .map((d) => ({ id: d.id, role: d.role, host: d.host, profile: d.profile })),
      })),
    }),
  );
  configFile = join(dir, 'netmon.yaml');
  writeFileSync(
    configFile,
    stringify({
      inventory: 'inventory.yaml',
      influx: { api: 'v1', url: influx.url, database: 'restart' },
      writer: { flushInterval: '200ms', bufferDir: 'buffer' },
      snmp: { interval: '2s', jitter: '200ms', timeout: '300ms', retries: 0 },
      health: { downAfterFailures: 2, recheck: '300ms' },
      incidents: { file: 'incidents.db' },
      alerts: {
        webhooks: [{ name: 'oncall', url: hook.url }],
        flapping: { settle: '1s' },
      },
      http: { port: httpPort },
      api: { tokens: [{ name: 'test-viewer', role: 'viewer', tokenHash: TEST_VIEWER.tokenHash }] },
      log: { level: 'warn' },
    }),
  );
});

afterAll(async () => {
  // Every monitor this file started, not only the last: a failed test must not leave one running.
  for (const child of started)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await sim?.stop();
  await hook?.stop();
  await influx?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const started = new Set<ChildProcess>();

function startMonitor(): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'collector/main.ts', '--config', configFile], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  monitor = child;
  started.add(child);
  return child;
}

function sentRecorded(incidentId: string): boolean {
  const store = new IncidentStore(join(dir, 'incidents.db'));
  try {
    return store.wasSent(incidentId, 'webhook:oncall', 'firing');
  } finally {
    store.close();
  }
}

async function deviceState(id: string): Promise<string | undefined> {
  const site = inventory.devices.find((d) => d.id === id)?.siteId ?? '';
  const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/sites/${encodeURIComponent(site)}`, {
    headers: TEST_VIEWER_HEADERS,
  });
  const view = (await res.json()) as { devices?: { id: string; state: string }[] };
  return view.devices?.find((d) => d.id === id)?.state;
}

/** Every device up: before a cut, so a device still coming up (a slow first poll) is not a second page. */
async function allUp(): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/sites`, { headers: TEST_VIEWER_HEADERS });
  const { sites } = (await res.json()) as { sites: { devices: { id: string; state: string }[] }[] };
  const list = sites.flatMap((s) => s.devices);
  return list.length === inventory.devices.length && list.every((d) => d.state === 'up');
}

describe('kill -9 during an open incident', () => {
  it('keeps the incident, does not page twice, and still sends the recovery', async () => {
    const router = inventory.devices.find((d) => d.role === 'router');
    if (!router) throw new Error('no router');
    startMonitor();
    await waitFor(allUp, { timeoutMs: 30_000, what: 'every device up' });
    sim.cutDevice(router.id);
    await waitFor(() => pages.some((p) => p.status === 'firing'), { timeoutMs: 15_000 });
    // The page is out and recorded as sent: the incident is open. (A kill in the instant between the
    // receiver's answer and the record would send it again: delivery is at least once.)
    await waitFor(() => sentRecorded(pages[0]?.id ?? ''), { timeoutMs: 5000 });

    const first = monitor;
    first?.kill('SIGKILL');
    await new Promise((r) => first?.once('exit', r));
    const store = new IncidentStore(join(dir, 'incidents.db'));
    expect(store.unresolved().map((i) => i.deviceId)).toEqual([router.id]);
    store.close();

    // Restarted while the router is still down: it is judged down again, and nobody is paged again.
    startMonitor();
    await waitFor(async () => (await deviceState(router.id).catch(() => undefined)) === 'down', {
      timeoutMs: 30_000,
    });
    // Every device polled twice more by the new process: still nobody paged again.
    await waitForPollRounds(
      pollsOverHttp(`http://127.0.0.1:${httpPort}/api/v1/health`, TEST_VIEWER_HEADERS),
      2,
      { what: 'no second page after the restart' },
    );
    expect(pages.map((p) => [p.status, p.device?.id])).toEqual([['firing', router.id]]);

    sim.restoreDevice(router.id);
    await waitFor(() => pages.some((p) => p.status === 'resolved'), { timeoutMs: 15_000 });
    expect(pages.map((p) => [p.status, p.device?.id, p.id])).toEqual([
      ['firing', router.id, pages[0]?.id],
      ['resolved', router.id, pages[0]?.id],
    ]);
    monitor?.kill('SIGTERM');
    await new Promise((r) => monitor?.once('exit', r));
  });

  it('an outage that ended while the monitor was down is resolved on restart', async () => {
    const router = inventory.devices.filter((d) => d.role === 'router')[1];
    if (!router) throw new Error('no second router');
    const before = pages.length;
    startMonitor();
    await waitFor(allUp, { timeoutMs: 30_000, what: 'every device up' });
    sim.cutDevice(router.id);
    await waitFor(() => pages.slice(before).some((p) => p.status === 'firing'), { timeoutMs: 15_000 });
    await waitFor(() => sentRecorded(pages[before]?.id ?? ''), { timeoutMs: 5000 });
    const first = monitor;
    first?.kill('SIGKILL');
    await new Promise((r) => first?.once('exit', r));
    sim.restoreDevice(router.id); // back while nobody watches
    startMonitor();
    await waitFor(() => pages.slice(before).some((p) => p.status === 'resolved'), { timeoutMs: 20_000 });
    expect(pages.slice(before).map((p) => [p.status, p.device?.id])).toEqual([
      ['firing', router.id],
      ['resolved', router.id],
    ]);
    monitor?.kill('SIGTERM');
    await new Promise((r) => monitor?.once('exit', r));
  });
});
