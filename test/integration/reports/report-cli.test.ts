/**
 * `scripts/report.ts` against a real influxd: a period with the monitor's heartbeats and router states is
 * written and summarised (shares printed honestly); a period the monitor never watched is "no data", exit 3,
 * no file, not "0 of N meet target".
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticInventory } from '../../../simulator/synthetic-inventory.ts';
import { startTestInfluxd, type TestServer } from '../../support/influx.ts';

const run = promisify(execFile);
const DB = 'report_cli';
/** 1 to 2 October 2026, 00:00 WITA: a day the test fills with heartbeats. */
const FROM = Date.parse('2026-10-01T00:00:00+08:00');
const TO = FROM + 86_400_000;
const HOUR = 3600_000;

let dir: string;
let influx: TestServer;
let configFile: string;
const inventory = syntheticInventory({ sites: 10, port: 1161, seed: 21 });
const routers = inventory.devices.filter((d) => d.role === 'router');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-report-cli-'));
  influx = await startTestInfluxd();
  writeFileSync(
    join(dir, 'inventory.yaml'),
    stringify({
      credentials: { c: { version: '2c', community: 'public' } },
      defaults: { credentials: 'c', port: 1161 },
      sites: inventory.sites.map((s) => ({
        ...s,
        upstream: undefined,
        devices: inventory.devices
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
      influx: { api: 'v1', url: influx.url, database: DB },
      writer: { bufferDir: 'buffer' },
    }),
  );
  await fetch(`${influx.url}/query?q=${encodeURIComponent(`CREATE DATABASE ${DB}`)}`, { method: 'POST' });
  // The monitor watched the whole day (a heartbeat a minute); every router up from the start, one of the
  // ten down for an hour: 9 of 10 meet target.
  const lines: string[] = [];
  for (let t = FROM; t <= TO; t += 60_000) lines.push(`monitor,component=collector polls=10i ${t}`);
  for (const r of routers)
    lines.push(`device_state,site=${r.siteId},device=${r.id},role=router state="up" ${FROM}`);
  const bad = routers[0]!;
  lines.push(`device_state,site=${bad.siteId},device=${bad.id},role=router state="down" ${FROM + HOUR}`);
  lines.push(`device_state,site=${bad.siteId},device=${bad.id},role=router state="up" ${FROM + 2 * HOUR}`);
  const res = await fetch(`${influx.url}/write?db=${DB}&precision=ms`, {
    method: 'POST',
    body: lines.join('\n'),
  });
  expect(res.status).toBe(204);
});

afterAll(async () => {
  await influx?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function report(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(
      process.execPath,
      ['--import', 'tsx', 'scripts/report.ts', '--config', configFile, ...args],
      {
        timeout: 60_000,
      },
    );
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('scripts/report.ts', () => {
  it('writes the report of a watched period and prints its shares', async () => {
    const out = join(dir, 'day.csv');
    const r = await report(
      '--from',
      '2026-10-01T00:00:00+08:00',
      '--to',
      '2026-10-02T00:00:00+08:00',
      '--format',
      'csv',
      '--out',
      out,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // 23 h up of 24 for one site, 24 of 24 for nine: (9 x 24 + 23) / 240 = 99.583 %.
    expect(r.stdout).toMatch(/10 sites, availability 99\.583 %, 9 of 10 meet target \(90\.0 %\), 1 outages/);
    const csv = readFileSync(out, 'utf8').trim().split('\r\n');
    expect(csv).toHaveLength(11);
  });

  it('a month the monitor never watched: says there is no data, exits 3, writes nothing', async () => {
    const out = join(dir, 'sept.csv');
    const r = await report('--month', '2026-09', '--format', 'csv', '--out', out);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/tidak ada data untuk periode 2026-09 \/ no data for the period 2026-09/);
    expect(r.stderr).toContain(`database '${DB}'`);
    expect(r.stdout).not.toMatch(/meet target/);
    expect(existsSync(out)).toBe(false);
  });
});
