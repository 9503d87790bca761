/**
 * The collector's SNMP poller against recordings of real devices served by Debian's snmpsim (one snmpsim
 * for this file):
 *   - every recording in ../shared/devices and ../shared/devices/aps (the listings: a new one is picked
 *     up) is detected as the right vendor (config/detect.yaml) and read, with its detected profile, with
 *     the values LibreNMS's expectation (the matching .json) lists: its interfaces, and EVERY client
 *     sensor whose OIDs the recording holds. A client sensor the profile does not read is a failure;
 *   - the too-big fallback: behind a path that loses large replies, a device is still read, by halving
 *     the GETBULK repetitions, and the next poll starts from what worked;
 *   - a recording with wrong types and indexes is read with DecodeWarnings, the good values kept;
 *   - a dead device does not hold up the others.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../../collector/core/secret.ts';
import type { Device, DeviceReading } from '../../../collector/core/types.ts';
import { decodeReading } from '../../../collector/sources/snmp/decode.ts';
import { detectDevice, SYS_UPTIME } from '../../../collector/sources/snmp/detect.ts';
import { SnmpPoller, columnsOf } from '../../../collector/sources/snmp/poller.ts';
import { openSnmpClient } from '../../../collector/sources/snmp/session.ts';
import { compareOids, walkColumns } from '../../../collector/sources/snmp/walk.ts';
import { loadDetectionTable } from '../../../config/detection.ts';
import { loadProfiles } from '../../../config/profiles.ts';
import { DEVICES_DIR, recordingNames, startSnmpsim, type Snmpsim } from '../../support/snmpsim.ts';
import { startLossyPath } from './lossy-path.ts';

const profiles = loadProfiles();
const table = loadDetectionTable();
let sim: Snmpsim;
let poller: SnmpPoller;

const APS_DIR = join(DEVICES_DIR, 'aps');
const apNames = (): string[] =>
  readdirSync(APS_DIR)
    .filter((f) => f.endsWith('.snmprec'))
    .map((f) => f.replace(/\.snmprec$/, ''))
    .sort();
const dirOf = (name: string): string => (recordingNames().includes(name) ? DEVICES_DIR : APS_DIR);
const ALL = [...recordingNames(), ...apNames()];

/** What each recording is: the vendor detect.yaml must name, and the profile it must pick. */
const EXPECTED: Readonly<Record<string, readonly [vendor: string, profile: string]>> = {
  airos: ['Ubiquiti airMAX', 'airmax'],
  airos_airos8: ['Ubiquiti airMAX', 'airmax'],
  ciscowlc_cbw240ac: ['Cisco wireless controller', 'cisco-wlc'],
  iosxe_isr4321: ['Cisco', 'generic'],
  jetstream_sg2218p: ['TP-Link', 'generic'],
  linux_ntc: ['Linux (net-snmp)', 'generic'],
  openwrt: ['OpenWrt', 'openwrt'],
  routeros: ['MikroTik RouterOS', 'mikrotik-routeros'],
  'routeros_ltap-mini': ['MikroTik RouterOS', 'mikrotik-routeros'],
  routeros_rb750gr3: ['MikroTik RouterOS', 'mikrotik-routeros'],
  routeros_wifi: ['MikroTik RouterOS', 'mikrotik-routeros'],
  ruijie: ['Ruijie', 'generic'],
  tplink_sg2008: ['TP-Link', 'generic'],
  unifi: ['Ubiquiti UniFi AP', 'unifi-ap'],
  unifi_nanohd: ['Ubiquiti UniFi AP', 'unifi-ap'],
  vrp_ar169sfp: ['Huawei VRP', 'generic'],
  zxa10_c320: ['ZTE', 'generic'],
  'aruba-instant': ['Aruba Instant', 'aruba-instant'],
  'aruba-instant_105': ['Aruba Instant', 'aruba-instant'],
  arubaos: ['Aruba mobility controller', 'aruba-controller'],
  epmp: ['Cambium ePMP', 'cambium-epmp'],
  fortiap_fap231g: ['Fortinet FortiAP', 'fortiap'],
  'hiveos-wireless': ['Aerohive HiveOS', 'aerohive'],
  ligoos_dlb15ac: ['LigoWave LigoOS', 'ligowave'],
  pmp_450: ['Cambium PMP', 'cambium-pmp'],
  routeros_rb433gl: ['MikroTik RouterOS', 'mikrotik-routeros'],
  'ruckuswireless-hotzone': ['Ruckus standalone AP', 'ruckus-ap'],
  'ruckuswireless-sz': ['Ruckus SmartZone', 'ruckus-smartzone'],
  'ruckuswireless-unleashed': ['Ruckus Unleashed', 'ruckus-unleashed'],
  ruckuswireless_zd1200: ['Ruckus ZoneDirector', 'ruckus-zonedirector'],
};

/**
 * Wrong things real agents send, in one generated recording (snmprec: OID|type|value, sorted by OID;
 * types 2 Integer, 4 OctetString, 65 Counter32, 66 Gauge32, 67 TimeTicks, 70 Counter64).
 */
const BROKEN = [
  '1.3.6.1.2.1.1.3.0|67|12345',
  '1.3.6.1.2.1.2.2.1.2.1|4|ether1',
  '1.3.6.1.2.1.2.2.1.2.2|4|ether2',
  '1.3.6.1.2.1.2.2.1.2.3|4|ether3',
  '1.3.6.1.2.1.2.2.1.5.1|66|100000000',
  '1.3.6.1.2.1.2.2.1.5.2|2|-1', // negative Integer where a Gauge32 speed belongs
  '1.3.6.1.2.1.2.2.1.5.3|66|1000000000',
  '1.3.6.1.2.1.2.2.1.8.0|2|1', // ifIndex 0 does not exist (InterfaceIndex is 1..2^31-1)
  '1.3.6.1.2.1.2.2.1.8.1|2|1',
  '1.3.6.1.2.1.2.2.1.8.2|2|-7', // negative enum
  '1.3.6.1.2.1.2.2.1.8.3|2|2',
  '1.3.6.1.2.1.2.2.1.8.3.7|2|1', // garbage two-part index
  '1.3.6.1.2.1.2.2.1.10.1|4|not-a-counter', // OctetString where a Counter32 belongs
  '1.3.6.1.2.1.2.2.1.10.2|65|5000',
  '1.3.6.1.2.1.2.2.1.10.3|65|7000',
  '1.3.6.1.2.1.2.2.1.16.1|65|100',
  '1.3.6.1.2.1.2.2.1.16.2|65|6000',
  '1.3.6.1.2.1.2.2.1.16.3|65|8000',
  '1.3.6.1.2.1.31.1.1.1.1.1|4|ether1',
  '1.3.6.1.2.1.31.1.1.1.1.2|4|ether2',
  '1.3.6.1.2.1.31.1.1.1.1.3|4|ether3',
  '1.3.6.1.2.1.31.1.1.1.6.1|4|garbage', // OctetString where a Counter64 belongs
  '1.3.6.1.2.1.31.1.1.1.6.2|70|9000000000',
  '1.3.6.1.2.1.31.1.1.1.6.3|70|7000',
  '1.3.6.1.2.1.31.1.1.1.10.1|70|100',
  '1.3.6.1.2.1.31.1.1.1.10.2|70|8000000000',
  '1.3.6.1.2.1.31.1.1.1.10.3|70|8000',
]
  .sort((a, b) => compareOids(a.split('|')[0] ?? '', b.split('|')[0] ?? ''))
  .join('\n');

beforeAll(async () => {
  // The aps/ recordings are served from the test's temp dir (read from ../shared, never copied into the repo).
  const aps = Object.fromEntries(
    apNames().map((n) => [n, readFileSync(join(APS_DIR, `${n}.snmprec`), 'utf8')]),
  );
  sim = await startSnmpsim({ ...aps, broken: `${BROKEN}\n` });
  poller = new SnmpPoller({ timeoutMs: 3000, retries: 0, maxRepetitions: 25, profiles });
});
afterAll(async () => {
  poller?.close();
  await sim?.stop();
});

function profileFor(name: string): string {
  return EXPECTED[name]?.[1] ?? 'generic';
}

function device(name: string, over: Partial<Device> = {}): Device {
  return {
    id: name,
    siteId: 'lab',
    role: 'router',
    host: sim.host,
    port: sim.port,
    profile: profileFor(name),
    snmp: { version: '2c', community: new Secret(name) },
    ...over,
  };
}

interface LibrePort {
  ifIndex: number;
  ifName: string | null;
  ifDescr: string | null;
  ifInOctets: number | null;
  ifOutOctets: number | null;
  ifOperStatus: string | null;
}
interface LibreSensor {
  sensor_class: string;
  sensor_index: string;
  sensor_current: number;
  sensor_descr: string;
  sensor_oids: string;
}
/** A module's data, or the literal "matches discovery" placeholder (then discovery holds the data). */
type Stage<T> = T | string | undefined;

function expectation(name: string): { ports: LibrePort[]; clients: LibreSensor[] } {
  const json = JSON.parse(readFileSync(join(dirOf(name), `${name}.json`), 'utf8')) as {
    ports?: { poller?: Stage<{ ports?: LibrePort[] }>; discovery?: Stage<{ ports?: LibrePort[] }> };
    wireless?: {
      poller?: Stage<{ wireless_sensors?: LibreSensor[] }>;
      discovery?: Stage<{ wireless_sensors?: LibreSensor[] }>;
    };
  };
  const data = <T>(s: Stage<T>): T | undefined => (typeof s === 'object' ? s : undefined);
  const ports = data(json.ports?.poller)?.ports ?? data(json.ports?.discovery)?.ports ?? [];
  const sensors =
    data(json.wireless?.poller)?.wireless_sensors ?? data(json.wireless?.discovery)?.wireless_sensors ?? [];
  return { ports, clients: sensors.filter((s) => s.sensor_class === 'clients') };
}

/** IF-MIB ifOperStatus names (RFC 2863) as LibreNMS stores them. */
const OPER: Readonly<Record<string, number>> = {
  up: 1,
  down: 2,
  testing: 3,
  unknown: 4,
  dormant: 5,
  notPresent: 6,
  lowerLayerDown: 7,
};

/** The OIDs a recording holds (snmprec: OID|type|value). */
function recordedOids(name: string): Set<string> {
  const text = readFileSync(join(dirOf(name), `${name}.snmprec`), 'utf8');
  return new Set(text.split('\n').map((l) => l.slice(0, l.indexOf('|'))));
}

/**
 * Every LibreNMS client sensor of a recording whose OIDs it holds, compared with what `profile` reads: a
 * sensor is the sum of the OIDs it lists; it matches one of our rows whose sources are exactly those
 * OIDs, or the rows of one metric that together read exactly those OIDs (summed). Returns the problems.
 */
async function compareClients(
  name: string,
  profileName: string,
): Promise<{ checked: number; skipped: number; problems: string[]; reading: DeviceReading }> {
  const profile = profiles.get(profileName);
  if (!profile) throw new Error(`no profile ${profileName}`);
  const client = openSnmpClient(device(name), { timeoutMs: 3000, retries: 0 });
  let traced: ReturnType<typeof decodeReading>;
  try {
    const scalars = await client.get([SYS_UPTIME]);
    const walk = await walkColumns(client, columnsOf(profile), { maxRepetitions: 25 });
    traced = decodeReading(
      profile,
      { scalars, columns: walk.columns },
      { deviceId: name, timeMs: 0 },
      { trace: true },
    );
  } finally {
    client.close();
  }
  const rows = traced.reading.wifi.map((w, i) => ({ ...w, src: new Set(traced.wifiSources?.[i] ?? []) }));
  const held = recordedOids(name);
  const problems: string[] = [];
  let checked = 0;
  let skipped = 0;
  for (const s of expectation(name).clients) {
    const oids = (JSON.parse(s.sensor_oids) as string[]).map((o) => o.replace(/^\./, ''));
    if (oids.length === 0 || !oids.every((o) => held.has(o))) {
      skipped++; // LibreNMS computed it from OIDs this recording does not hold
      continue;
    }
    checked++;
    const want = new Set(oids);
    const same = (a: Set<string>): boolean => a.size === want.size && [...a].every((o) => want.has(o));
    let got = rows.find((r) => same(r.src))?.clients;
    if (got === undefined) {
      // The rows of one metric (same index prefix) that together read exactly these OIDs.
      const metricOf = (index: string): string =>
        index.includes('/') ? index.slice(0, index.indexOf('/')) : '';
      for (const metric of new Set(rows.map((r) => metricOf(r.index)))) {
        const part = rows.filter(
          (r) => metricOf(r.index) === metric && r.src.size > 0 && [...r.src].every((o) => want.has(o)),
        );
        const union = new Set(part.flatMap((r) => [...r.src]));
        if (same(union) && part.reduce((n, r) => n + r.src.size, 0) === union.size) {
          got = part.reduce((n, r) => n + r.clients, 0);
          break;
        }
      }
    }
    if (got === undefined)
      problems.push(`${s.sensor_descr} (${oids.join(', ')}): not read by profile ${profileName}`);
    else if (got !== s.sensor_current)
      problems.push(`${s.sensor_descr}: read ${got}, LibreNMS expects ${s.sensor_current}`);
  }
  return { checked, skipped, problems, reading: traced.reading };
}

describe.each(ALL)('recording %s', (name) => {
  it('is detected as its vendor', async () => {
    expect(EXPECTED[name], `${name}: add it to EXPECTED`).toBeDefined();
    const client = openSnmpClient(device(name), { timeoutMs: 3000, retries: 0 });
    try {
      const d = await detectDevice(client, table);
      expect([d.vendor, d.profile, d.fallback]).toEqual([...(EXPECTED[name] ?? []), false]);
    } finally {
      client.close();
    }
  });

  it('reads the interfaces and every client sensor LibreNMS expects', async () => {
    const { reading, warnings } = await poller.pollDetailed(device(name));
    const exp = expectation(name);
    expect(warnings, `${name}: decode warnings`).toEqual([]);
    // sysUpTime.0 as recorded; some recordings have none (iosxe) and must poll all the same.
    const uptime = /^1\.3\.6\.1\.2\.1\.1\.3\.0\|67\|(\d+)$/m.exec(
      readFileSync(join(dirOf(name), `${name}.snmprec`), 'utf8'),
    );
    expect(reading.sysUpTimeCs, `${name} sysUpTime`).toBe(uptime ? Number(uptime[1]) : undefined);
    const byIndex = new Map(reading.interfaces.map((i) => [i.ifIndex, i]));
    for (const p of exp.ports) {
      const got = byIndex.get(p.ifIndex);
      const where = `${name} ifIndex ${p.ifIndex}`;
      expect(got, where).toBeDefined();
      expect(got?.name, `${where} name`).toBe(p.ifName ?? p.ifDescr);
      // LibreNMS fills an empty ifDescr from ifName (zxa10); we keep what the agent sent.
      if (p.ifDescr !== null) expect(got?.descr || got?.name, `${where} descr`).toBe(p.ifDescr);
      if (p.ifOperStatus !== null) expect(got?.operStatus, `${where} oper`).toBe(OPER[p.ifOperStatus]);
      // LibreNMS stores 0 where the agent has no counter at all (openwrt's lo); we keep "absent".
      const has = (v: number | null, ours: bigint | undefined): v is number =>
        typeof v === 'number' && (v !== 0 || ours !== undefined);
      if (has(p.ifInOctets, got?.inOctets)) expect(got?.inOctets, `${where} in`).toBe(BigInt(p.ifInOctets));
      if (has(p.ifOutOctets, got?.outOctets))
        expect(got?.outOctets, `${where} out`).toBe(BigInt(p.ifOutOctets));
    }

    // Client counts: every sensor whose OIDs the recording holds, through the traced decode of the same
    // profile, whose rows must be the poller's.
    const clients = await compareClients(name, profileFor(name));
    expect(clients.reading.wifi, `${name}: traced decode = poller`).toEqual(reading.wifi);
    expect(clients.problems, `${name}: client sensors`).toEqual([]);
    expect(exp.ports.length + clients.checked, `${name}: nothing compared`).toBeGreaterThan(0);
  });
});

it('a recording with client sensors its profile does not read fails the comparison', async () => {
  // routeros read as a plain IF-MIB device: its four mtxrWlApClientCount sensors are not read.
  const r = await compareClients('routeros', 'generic');
  expect(r.checked).toBe(4);
  expect(r.problems).toHaveLength(4);
  expect(r.problems[0]).toMatch(/not read by profile generic/);
  // The same comparison passes with the profile that reads them (FortiAP: per VAP and per-SSID sums).
  const fine = await compareClients('fortiap_fap231g', 'fortiap');
  expect([fine.checked, fine.problems]).toEqual([4, []]);
});

it('the Wi-Fi rows carry the SSID and radio the vendor table names', async () => {
  const unifi = await poller.poll(device('unifi_nanohd'));
  expect(unifi.wifi.length).toBeGreaterThan(0);
  expect(unifi.wifi.every((w) => w.ssid !== undefined && (w.radio === 'ng' || w.radio === 'na'))).toBe(true);
});

describe('too-big replies', () => {
  it('a path that loses large replies: the walk halves the repetitions, and the next poll reuses them', async () => {
    const direct = await poller.poll(device('vrp_ar169sfp'));
    const path = await startLossyPath(sim, 1400);
    // Each lost reply costs one timeout; 800 ms leaves a loaded CI machine room to answer the others in time
    // (a slow reply taken for a lost one would show as a fallback without a drop).
    const lossy = new SnmpPoller({ timeoutMs: 800, retries: 1, maxRepetitions: 25, profiles });
    try {
      const d = device('vrp_ar169sfp', { id: 'vrp-behind-vpn', host: path.host, port: path.port });
      const first = await lossy.pollDetailed(d);
      expect(first.fallbacks).toBeGreaterThan(0);
      expect(path.dropped).toBe(first.fallbacks); // each lost reply cost one halving, nothing else
      expect(first.repetitions).toBeLessThan(25);
      expect(sameData(first.reading, direct)).toBe(true);

      const second = await lossy.pollDetailed(d);
      expect(second.fallbacks).toBe(0);
      expect(second.repetitions).toBe(first.repetitions);
      // One round trip fewer: the GET of sysUpTime rides in the walk's first request (poller.ts).
      expect(second.requests).toBe(first.requests - first.fallbacks - 1);
      expect(path.dropped).toBe(first.fallbacks);
      expect(sameData(second.reading, direct)).toBe(true);
    } finally {
      lossy.close();
      await path.close();
    }
  });
});

/** Same interfaces and Wi-Fi rows (the time and id may differ). */
function sameData(a: DeviceReading, b: DeviceReading): boolean {
  expect(a.interfaces).toEqual(b.interfaces);
  expect(a.wifi).toEqual(b.wifi);
  return a.interfaces.length > 0;
}

describe('odd agents', () => {
  it('wrong types and indexes are skipped with warnings, the good values kept, the poller stays usable', async () => {
    const p = new SnmpPoller({ timeoutMs: 3000, retries: 0, maxRepetitions: 25, profiles });
    try {
      const detail = await p.pollDetailed(device('broken', { profile: 'generic' }));
      const warned = detail.warnings.map((w) => `${w.oid} ${w.field}: ${w.reason}`);
      const expected = [
        /31\.1\.1\.1\.6\.1 hcInOctets: expected Counter64, got OctetString "garbage"/,
        /2\.2\.1\.10\.1 inOctets: expected Counter32, got OctetString "not-a-counter"/,
        /2\.2\.1\.8\.2 operStatus: expected 1\.\.7, got -7/,
        /2\.2\.1\.5\.2 speed: expected a non-negative integer, got Integer -1/,
        /2\.2\.1\.8\.0 operStatus: index "0" is not an ifIndex/,
        /2\.2\.1\.8\.3\.7 operStatus: index "3\.7" is not an ifIndex/,
        /hcOctets: only one direction has a 64-bit counter/,
      ];
      for (const re of expected)
        expect(
          warned.some((w) => re.test(w)),
          `${re}`,
        ).toBe(true);
      expect(warned).toHaveLength(expected.length);

      const [if1, if2, if3] = detail.reading.interfaces;
      expect(detail.reading.interfaces.map((i) => i.ifIndex)).toEqual([1, 2, 3]);
      // ifIndex 1: no usable 64-bit pair, so the 32-bit counters; its ifInOctets was junk.
      expect(if1).toMatchObject({ name: 'ether1', counterBits: 32, operStatus: 1, outOctets: 100n });
      expect(if1?.inOctets).toBeUndefined();
      expect(if2).toMatchObject({ name: 'ether2', counterBits: 64, inOctets: 9_000_000_000n });
      expect(if2?.operStatus).toBeUndefined();
      expect(if2?.speedBps).toBeUndefined();
      expect(if3).toMatchObject({ counterBits: 64, inOctets: 7000n, outOctets: 8000n, operStatus: 2 });
      expect(detail.reading.sysUpTimeCs).toBe(12345);

      // The same session reads the broken agent again, and a good one after it.
      expect((await p.pollDetailed(device('broken', { profile: 'generic' }))).reading.interfaces).toEqual(
        detail.reading.interfaces,
      );
      expect((await p.poll(device('routeros'))).interfaces.length).toBe(12);
    } finally {
      p.close();
    }
  });

  it('a dead device does not hold up the others polled alongside it', async () => {
    // snmpsim does not answer an unknown community: to the poller the device is dead.
    const dead = device('dead', { snmp: { version: '2c', community: new Secret('nobody-home') } });
    const good = ['routeros', 'linux_ntc', 'unifi_nanohd', 'openwrt', 'tplink_sg2008', 'ciscowlc_cbw240ac'];
    const p = new SnmpPoller({ timeoutMs: 1000, retries: 1, maxRepetitions: 25, profiles });
    const done: string[] = [];
    const failures = new Map<string, string>();
    const queue = [dead, ...good.map((n) => device(n))];
    const worker = async (): Promise<void> => {
      for (let d = queue.shift(); d; d = queue.shift()) {
        const id = d.id;
        await p.poll(d).then(
          () => done.push(id),
          (err: { code?: string }) => {
            failures.set(id, err.code ?? '?');
            done.push(id);
          },
        );
      }
    };
    try {
      await Promise.all([worker(), worker(), worker()]); // a concurrency of three; the dead one goes first
    } finally {
      p.close();
    }
    expect(done.slice(0, good.length).sort()).toEqual([...good].sort());
    expect(done.at(-1)).toBe('dead');
    expect(Object.fromEntries(failures)).toEqual({ dead: 'timeout' });
  });
});
