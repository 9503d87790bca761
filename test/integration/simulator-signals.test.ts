/**
 * The simulator's control API for ping and traps, over HTTP as the README's curl lines use it, checked
 * with real parts: Debian's fping (collector/sources/ping/fping.ts), npm net-snmp's client for SNMP, and
 * the monitor's trap receiver (collector/sources/traps) for what the simulator sends.
 *
 *   snmp-stop: the agent is silent, the address still answers ping, the AP behind it still answers SNMP;
 *   trap: a v2c trap (the device's community) and a v3 trap (its user and keys) are accepted by the
 *     monitor's receiver; "community"/"user" in the body send wrong ones, which it drops;
 *   cut (root: blackholes): the cut site's addresses stop answering ping, and answer again on restore;
 *     the simulator removes exactly the blackholes it set.
 *
 * Needs root (ip route ... blackhole), as test/e2e/ping-traps-scenario.test.ts. Addresses 127.216.x.y
 * are this file's alone.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import snmp from 'net-snmp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../collector/core/secret.ts';
import type { Device, Inventory, Site, SnmpCredentials } from '../../collector/core/types.ts';
import { fpingBatch } from '../../collector/sources/ping/fping.ts';
import type { RunningTraps } from '../../collector/sources/traps/attach.ts';
import { Blackholes, BLACKHOLE_PROTO } from '../../simulator/blackhole.ts';
import { ControlServer } from '../../simulator/control-http.ts';
import { FleetSimulator } from '../../simulator/fleet.ts';
import { freeUdpPort, waitFor } from '../support/ports.ts';
import { startTestTraps } from '../support/traps.ts';

const run = promisify(execFile);
const COMMUNITY = 'sim-signals';

const site = (id: string, category: Site['category']): Site => ({
  id,
  name: id,
  category,
  kecamatan: 'Kuta Utara',
  desa: 'Canggu',
  lat: -8.65,
  lon: 115.13,
  criticality: category === 'puskesmas' ? 'critical' : 'medium',
});
const v2 = { version: '2c', community: new Secret(COMMUNITY) } as const;
const v3 = {
  version: '3',
  user: 'netmon',
  level: 'authPriv',
  authProtocol: 'sha',
  authKey: new Secret('canggu-auth-1'),
  privProtocol: 'aes',
  privKey: new Secret('canggu-priv-1'),
} as const;

let port: number;
let inventory: Inventory;
let sim: FleetSimulator;
let control: ControlServer;
let traps: RunningTraps;
const holes = new Blackholes();
let polls: string[];

const dev = (
  id: string,
  siteId: string,
  role: Device['role'],
  host: string,
  snmpCreds: SnmpCredentials = v2,
): Device => ({
  id,
  siteId,
  role,
  host,
  port,
  profile: 'generic',
  snmp: snmpCreds,
  ...(role === 'ap' ? { parent: `${siteId}-rtr` } : {}),
});

beforeAll(async () => {
  port = await freeUdpPort();
  inventory = {
    sites: [site('kd-canggu', 'kantor_desa'), site('pkm-kuta-utara', 'puskesmas')],
    devices: [
      dev('kd-canggu-rtr', 'kd-canggu', 'router', '127.216.1.1'),
      dev('kd-canggu-ap1', 'kd-canggu', 'ap', '127.216.1.2'),
      dev('pkm-kuta-utara-rtr', 'pkm-kuta-utara', 'router', '127.216.2.1', v3),
    ],
  };
  sim = new FleetSimulator({ inventory, seed: 16 });
  await sim.start();
  ({ traps, polls } = await startTestTraps(inventory));
  control = new ControlServer(sim, {
    host: '127.0.0.1',
    port: 0,
    blackhole: holes,
    traps: { to: { host: '127.0.0.1', port: traps.port } },
  });
  await control.start();
});

afterAll(async () => {
  await control?.stop();
  await holes.removeAll();
  await traps?.stop();
  await sim?.stop();
});

async function post(
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${control.url}${path}`, {
    method: 'POST',
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const ping = fpingBatch({ count: 1, timeoutMs: 400, periodMs: 100, intervalMs: 1 });
async function answersPing(host: string): Promise<boolean> {
  const r = await ping([host]);
  return r.tallies.get(host)?.rttsMs.some((v) => v !== undefined) === true;
}

/** sysUpTime.0 over SNMPv2c from the device's agent: true if it answered within 400 ms. */
async function answersSnmp(host: string): Promise<boolean> {
  const session = snmp.createSession(host, COMMUNITY, {
    port,
    timeout: 400,
    retries: 0,
    version: snmp.Version2c,
  });
  try {
    return await new Promise<boolean>((resolve) => {
      session.get(['1.3.6.1.2.1.1.3.0'], (err) => resolve(!err));
    });
  } finally {
    session.close();
  }
}

async function ourBlackholes(): Promise<string[]> {
  const { stdout } = await run('ip', [
    '-o',
    'route',
    'show',
    'table',
    'local',
    'proto',
    String(BLACKHOLE_PROTO),
  ]);
  return stdout
    .split('\n')
    .map((l) => /^blackhole (127\.216\.\S+)/.exec(l)?.[1])
    .filter((a): a is string => a !== undefined)
    .sort();
}

describe('the simulator control API: SNMP stopped, traps, cuts that stop ping', () => {
  it('snmp-stop silences the agent only: ping answers, the AP behind it still answers SNMP', async () => {
    expect(await answersSnmp('127.216.1.1')).toBe(true);
    expect((await post('/devices/kd-canggu-rtr/snmp-stop')).status).toBe(200);
    expect(await answersSnmp('127.216.1.1')).toBe(false);
    expect(await answersPing('127.216.1.1')).toBe(true);
    expect(await answersSnmp('127.216.1.2')).toBe(true);
    const status = (await (await fetch(`${control.url}/status`)).json()) as {
      snmpStopped: string[];
      cutDevices: string[];
    };
    expect(status).toMatchObject({ snmpStopped: ['kd-canggu-rtr'], cutDevices: [] });
    expect(sim.deviceStatus('kd-canggu-rtr')).toMatchObject({ state: 'up', snmp: 'stopped' });
    expect(await ourBlackholes()).toEqual([]);
    expect((await post('/devices/kd-canggu-rtr/snmp-start')).status).toBe(200);
    expect(await answersSnmp('127.216.1.1')).toBe(true);
  });

  it("sends traps with the device's own v2c community or v3 user, and wrong ones when asked", async () => {
    const r = await post('/devices/kd-canggu-rtr/trap', { type: 'linkDown', ifIndex: 2 });
    expect(r).toMatchObject({ status: 200, body: { from: '127.216.1.1', version: '2c' } });
    await waitFor(() => traps.stats().accepted === 1, { timeoutMs: 5000 });
    const r3 = await post('/devices/pkm-kuta-utara-rtr/trap', { type: 'coldStart' });
    expect(r3).toMatchObject({ status: 200, body: { from: '127.216.2.1', version: '3', user: 'netmon' } });
    await waitFor(() => traps.stats().accepted === 2, { timeoutMs: 5000 });
    expect(polls).toEqual(['kd-canggu-rtr', 'pkm-kuta-utara-rtr']);

    expect((await post('/devices/kd-canggu-rtr/trap', { type: 'linkUp', community: 'public' })).status).toBe(
      200,
    );
    expect(
      (await post('/devices/pkm-kuta-utara-rtr/trap', { type: 'linkUp', user: 'intruder' })).status,
    ).toBe(200);
    await waitFor(() => traps.stats().droppedAuth === 2, { timeoutMs: 5000 });
    expect(traps.stats().accepted).toBe(2);

    expect(await post('/devices/kd-canggu-rtr/trap', { type: 'linkSideways' })).toMatchObject({
      status: 400,
    });
    expect(await post('/devices/kd-canggu-rtr/trap', { type: 'linkDown', ifIndex: 'eth0' })).toMatchObject({
      status: 400,
    });
    expect(await post('/devices/kd-canggu-rtr/trap', { type: 'linkDown', user: 'x' })).toMatchObject({
      status: 409,
    });
    expect(await post('/devices/nowhere/trap', { type: 'linkDown' })).toMatchObject({ status: 404 });
  });

  it("a cut blackholes what it silences (the site's router and the AP behind it) and restore undoes it", async () => {
    expect(await answersPing('127.216.1.2')).toBe(true);
    expect((await post('/sites/kd-canggu/cut')).status).toBe(200);
    expect(await ourBlackholes()).toEqual(['127.216.1.1', '127.216.1.2']);
    expect(await answersPing('127.216.1.1')).toBe(false);
    expect(await answersPing('127.216.1.2')).toBe(false);
    expect(await answersPing('127.216.2.1')).toBe(true);
    expect((await post('/sites/kd-canggu/restore')).status).toBe(200);
    expect(await ourBlackholes()).toEqual([]);
    expect(await answersPing('127.216.1.1')).toBe(true);

    // A router cut alone: the AP behind it goes silent for ping too (it is reached through the router).
    expect((await post('/devices/kd-canggu-rtr/cut')).status).toBe(200);
    expect(await ourBlackholes()).toEqual(['127.216.1.1', '127.216.1.2']);
    expect((await post('/devices/kd-canggu-rtr/restore')).status).toBe(200);
    expect(await ourBlackholes()).toEqual([]);
    expect(await answersPing('127.216.1.2')).toBe(true);
  });
});
