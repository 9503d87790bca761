/**
 * scripts/check-demo.ts against the real monitor (the runtime npm start runs, on the v1 API), a real
 * influxd and the fleet simulator: started before the monitor is up, `--wait` waits for it (and for the
 * samples) instead of failing with "fetch failed"; with nothing to wait for, it fails at the deadline,
 * not at once, saying what did not answer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { Inventory } from '../../../collector/core/types.ts';
import { startRuntime, type Runtime } from '../../../collector/runtime.ts';
import { FleetSimulator } from '../../../simulator/fleet.ts';
import { syntheticInventory } from '../../../simulator/synthetic-inventory.ts';
import { startTestInfluxd, type TestServer } from '../../support/influx.ts';
import { TEST_VIEWER, testMonitorConfig } from '../../support/monitor-config.ts';
import { freeTcpPort, freeUdpPort, waitFor } from '../../support/ports.ts';

const ROOT = resolve(import.meta.dirname, '../../..');

let dir: string;
let influx: TestServer;
let sim: FleetSimulator;
let runtime: Runtime | undefined;
let inventory: Inventory;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-check-demo-'));
  influx = await startTestInfluxd();
  const port = await freeUdpPort();
  const inv = syntheticInventory({
    sites: 3,
    port,
    seed: 5,
    hostOctet: 200 + Math.floor(Math.random() * 50),
  });
  inventory = inv;
  sim = new FleetSimulator({ inventory: inv, seed: 5 });
  await sim.start();
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await runtime?.stop();
  await sim?.stop();
  await influx?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

function checkDemo(args: readonly string[]): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/check-demo.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

describe('check-demo', () => {
  it('--wait: started before the monitor, it waits for it and for every site to have samples', async () => {
    const apiPort = await freeTcpPort();
    const run = checkDemo([
      '--wait',
      '90',
      '--api',
      `http://127.0.0.1:${apiPort}`,
      '--influx',
      influx.url,
      '--db',
      'checkdemo',
      '--token',
      TEST_VIEWER.token,
    ]);
    // It found nothing listening and said it will ask again (the old one exited here: "fetch failed").
    await waitFor(() => run.stderr().includes('the monitor is not answering yet'), {
      timeoutMs: 30_000,
      what: () => `the waiting note (stderr: ${run.stderr()})`,
    });
    expect(run.child.exitCode).toBeNull();

    const config = await testMonitorConfig({
      inventory,
      influxUrl: influx.url,
      database: 'checkdemo',
      dir,
    });
    runtime = await startRuntime(
      { ...config, http: { listen: { host: '127.0.0.1', port: apiPort } } },
      { log: memoryLogger('warn') },
    );
    const code = await run.exited;
    expect(code, run.stderr()).toBe(0);
    const result = JSON.parse(run.stdout().trim()) as Record<string, unknown>;
    expect(result).toMatchObject({ sitesWithSamples: 3, sitesInInventory: 3, complete: true });
    expect(result.devices).toBe(inventory.devices.length);
    expect(result.lastSiteSeenAfterS).toBeTypeOf('number');
    expect(result.lastSiteSeenAfterS as number).toBeGreaterThanOrEqual(0);
  });

  it('nothing to wait for: fails at the deadline (not at once), naming what did not answer', async () => {
    const apiPort = await freeTcpPort();
    const started = Date.now();
    const run = checkDemo(['--wait', '4', '--api', `http://127.0.0.1:${apiPort}`, '--token', 'x']);
    const code = await run.exited;
    expect(code).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4000);
    expect(run.stderr()).toMatch(/the monitor did not answer within 4 s \(last error: .*ECONNREFUSED/);
    expect(run.stdout()).toBe('');
  });

  it('a refused token fails at once, even with --wait', async () => {
    if (!runtime) throw new Error('needs the running monitor of the first test');
    const started = Date.now();
    const run = checkDemo(['--wait', '60', '--api', runtime.http.url, '--token', 'not-a-token']);
    const code = await run.exited;
    expect(code).toBe(2);
    expect(run.stderr()).toMatch(/HTTP 401/);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
