/**
 * The vendors with no recording in ../shared/devices (Huawei WLAN, Grandstream GWN, airFiber), from the
 * synthetic recordings in test/fixtures/snmp served by Debian's snmpsim: each is detected from its
 * sysObjectID, and its profile's language features read the values the fixture was written with
 * (test/fixtures/snmp/README.md). Then `profile: auto` end to end: AutoProfilePoller detects before the
 * first poll, says so for an unknown device, and detects again after a reboot.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../../collector/core/secret.ts';
import type { Device } from '../../../collector/core/types.ts';
import type { Logger, LogFields } from '../../../collector/core/log.ts';
import { AutoProfilePoller, detectDevice } from '../../../collector/sources/snmp/detect.ts';
import { SnmpPoller } from '../../../collector/sources/snmp/poller.ts';
import { openSnmpClient } from '../../../collector/sources/snmp/session.ts';
import { loadDetectionTable } from '../../../config/detection.ts';
import { loadProfiles } from '../../../config/profiles.ts';
import { startSnmpsim, type Snmpsim } from '../../support/snmpsim.ts';

const FIXTURES = new URL('../../fixtures/snmp/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(`${name}.snmprec`, FIXTURES), 'utf8');
const profiles = loadProfiles();
const table = loadDetectionTable();
let sim: Snmpsim;
let poller: SnmpPoller;

/** An agent no rule knows, and the same Grandstream AP after a reboot into other firmware (a Huawei). */
const UNKNOWN = [
  '1.3.6.1.2.1.1.1.0|4|Acme Wireless Gateway 1.0',
  '1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.99999.1',
  '1.3.6.1.2.1.1.3.0|67|500',
  '1.3.6.1.2.1.2.2.1.2.1|4|wan',
  '1.3.6.1.2.1.2.2.1.8.1|2|1',
].join('\n');

beforeAll(async () => {
  sim = await startSnmpsim(
    {
      'huawei-wlan': fixture('huawei-wlan'),
      'grandstream-gwn': fixture('grandstream-gwn'),
      airfiber: fixture('airfiber'),
      unknown: `${UNKNOWN}\n`,
    },
    { recordings: false },
  );
  poller = new SnmpPoller({ timeoutMs: 3000, retries: 0, maxRepetitions: 25, profiles });
});
afterAll(async () => {
  poller?.close();
  await sim?.stop();
});

function device(community: string, profile: string, over: Partial<Device> = {}): Device {
  return {
    id: community,
    siteId: 'lab',
    role: 'ap',
    host: sim.host,
    port: sim.port,
    profile,
    snmp: { version: '2c', community: new Secret(community) },
    ...over,
  };
}

async function detect(community: string): Promise<{ vendor: string; profile: string; fallback: boolean }> {
  const client = openSnmpClient(device(community, 'auto'), { timeoutMs: 3000, retries: 0 });
  try {
    const d = await detectDevice(client, table);
    return { vendor: d.vendor, profile: d.profile, fallback: d.fallback };
  } finally {
    client.close();
  }
}

describe('Huawei WLAN AC (HUAWEI-WLAN-VAP-MIB)', () => {
  it('is detected, and reads per-SSID totals (2.4 + 5 GHz, SSID from the index) and per-radio counts', async () => {
    expect(await detect('huawei-wlan')).toEqual({
      vendor: 'Huawei WLAN (AC / fit AP)',
      profile: 'huawei-wlan',
      fallback: false,
    });
    const { reading, warnings } = await poller.pollDetailed(device('huawei-wlan', 'huawei-wlan'));
    expect(warnings).toEqual([]);
    const ssids = reading.wifi.filter((w) => !w.index.startsWith('radio/'));
    expect(ssids.map((w) => [w.ssid, w.clients])).toEqual([
      ['Pemkab', 3],
      ['Badung-Free', 19],
    ]);
    expect(ssids.map((w) => w.index)).toEqual([
      '6.80.101.109.107.97.98',
      '11.66.97.100.117.110.103.45.70.114.101.101',
    ]);
    const radios = reading.wifi.filter((w) => w.index.startsWith('radio/'));
    expect(radios.map((w) => [w.index, w.radio, w.clients])).toEqual([
      ['radio/0.224.252.1.2.3.0', '0', 7],
      ['radio/0.224.252.1.2.3.1', '1', 12],
      ['radio/0.224.252.1.2.4.0', '0', 0],
    ]);
    expect(reading.interfaces.map((i) => [i.name, i.operStatus])).toEqual([
      ['GigabitEthernet0/0/1', 1],
      ['GigabitEthernet0/0/2', 2],
    ]);
  });
});

describe('Grandstream GWN (client table)', () => {
  it('is detected, and counts the client rows per SSID, the mesh backhaul left out, and in total', async () => {
    expect(await detect('grandstream-gwn')).toEqual({
      vendor: 'Grandstream GWN',
      profile: 'grandstream-gwn',
      fallback: false,
    });
    const { reading, warnings } = await poller.pollDetailed(device('grandstream-gwn', 'grandstream-gwn'));
    expect(warnings).toEqual([]);
    expect(reading.wifi.map((w) => [w.index, w.ssid, w.clients])).toEqual([
      ['Badung-Free', 'Badung-Free', 3],
      ['Pemkab', 'Pemkab', 2],
      ['total/all', undefined, 5], // SSIDs differ across the group: no ssid label on the total
    ]);
  });
});

describe('airFiber (override of a standard value)', () => {
  it('reads eth0 as down from afLTUethConnected although IF-MIB says up; other interfaces keep IF-MIB', async () => {
    expect(await detect('airfiber')).toEqual({
      vendor: 'Ubiquiti airFiber LTU',
      profile: 'airfiber',
      fallback: false,
    });
    const af = await poller.pollDetailed(device('airfiber', 'airfiber'));
    expect(af.warnings).toEqual([]);
    expect(af.reading.interfaces.map((i) => [i.name, i.operStatus])).toEqual([
      ['lo', 1],
      ['eth0', 2],
      ['ath0', 1],
    ]);
    // The same agent read with IF-MIB alone: eth0 "up", what the override is there to correct.
    const plain = await poller.poll(device('airfiber', 'generic'));
    expect(plain.interfaces.find((i) => i.name === 'eth0')?.operStatus).toBe(1);
  });
});

describe('profile: auto', () => {
  function recordingLog(): { log: Logger; lines: { level: string; msg: string; fields?: LogFields }[] } {
    const lines: { level: string; msg: string; fields?: LogFields }[] = [];
    const log: Logger = {
      debug: (msg, fields) => lines.push({ level: 'debug', msg, fields }),
      info: (msg, fields) => lines.push({ level: 'info', msg, fields }),
      warn: (msg, fields) => lines.push({ level: 'warn', msg, fields }),
      error: (msg, fields) => lines.push({ level: 'error', msg, fields }),
      child: () => log,
    };
    return { log, lines };
  }

  it('an auto device is detected before its first poll and read with the detected profile', async () => {
    const { log, lines } = recordingLog();
    const auto = new AutoProfilePoller(poller, {
      table,
      client: { timeoutMs: 3000, retries: 0 },
      log,
    });
    const reading = await auto.poll(device('grandstream-gwn', 'auto'));
    expect(reading.wifi.find((w) => w.index === 'total/all')?.clients).toBe(5);
    expect(auto.detected('grandstream-gwn')).toMatchObject({ profile: 'grandstream-gwn', fallback: false });
    const info = lines.find((l) => l.msg === 'device detected');
    expect(info?.level).toBe('info');
    expect(info?.fields).toMatchObject({ device: 'grandstream-gwn', vendor: 'Grandstream GWN' });
  });

  it('an unknown device is polled with the generic profile, and the log says so', async () => {
    const { log, lines } = recordingLog();
    const auto = new AutoProfilePoller(poller, { table, client: { timeoutMs: 3000, retries: 0 }, log });
    const reading = await auto.poll(device('unknown', 'auto'));
    expect(reading.interfaces.map((i) => i.name)).toEqual(['wan']);
    expect(auto.detected('unknown')).toMatchObject({ vendor: 'unknown', profile: 'generic', fallback: true });
    const warned = lines.find((l) => l.level === 'warn');
    expect(warned?.msg).toMatch(/unknown device: polled with the generic profile/);
    expect(warned?.fields).toMatchObject({ device: 'unknown', sysObjectID: '1.3.6.1.4.1.99999.1' });
  });
});

describe('scripts/detect.ts', () => {
  const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
  const run = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const r = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', 'scripts/detect.ts', ...args],
        {
          cwd: ROOT,
        },
      );
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };

  it('shows what a device is and what its profile reads; an unknown one is said to be unknown', async () => {
    const [huawei, unknown, dead] = await Promise.all([
      run(sim.host, '--port', String(sim.port), '--community', 'huawei-wlan'),
      run(sim.host, '--port', String(sim.port), '--community', 'unknown', '--json'),
      run(sim.host, '--port', String(sim.port), '--community', 'nobody-home', '--timeout', '300'),
    ]);
    expect(huawei.code, huawei.stderr).toBe(0);
    expect(huawei.stdout).toMatch(/sysObjectID {2}1\.3\.6\.1\.4\.1\.2011\.2\.240\.17/);
    expect(huawei.stdout).toMatch(/vendor {7}Huawei WLAN \(AC \/ fit AP\) \(config\/detect\.yaml line \d+\)/);
    expect(huawei.stdout).toMatch(/profile {6}huawei-wlan: /);
    expect(huawei.stdout).toMatch(/wifi 11\.66\.97[.\d]* +19 clients {2}\(ssid Badung-Free\)/);
    expect(huawei.stdout).toMatch(/if +2 {2}GigabitEthernet0\/0\/2 +down/);

    expect(unknown.code, unknown.stderr).toBe(0);
    const json = JSON.parse(unknown.stdout) as { vendor: string; profile: string; fallback: boolean };
    expect(json).toMatchObject({ vendor: 'unknown', profile: 'generic', fallback: true });

    expect(dead.code).toBe(1);
    expect(dead.stderr).toMatch(/did not answer/);
  }, 120_000);
});
