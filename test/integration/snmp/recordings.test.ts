/**
 * The collector's SNMP poller against recordings of real devices served by Debian's snmpsim (one snmpsim
 * for this file):
 *   - every recording in ../shared/devices (the listing: a new one is picked up) is read with the values
 *     LibreNMS's expectation (the matching .json) lists: interfaces and, where the profile covers the
 *     vendor, Wi-Fi client counts;
 *   - the too-big fallback: behind a path that loses large replies, a device is still read, by halving
 *     the GETBULK repetitions, and the next poll starts from what worked;
 *   - a recording with wrong types and indexes is read with DecodeWarnings, the good values kept;
 *   - a dead device does not hold up the others.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../../collector/core/secret.ts';
import type { Device, DeviceReading } from '../../../collector/core/types.ts';
import { SnmpPoller } from '../../../collector/sources/snmp/poller.ts';
import { compareOids } from '../../../collector/sources/snmp/walk.ts';
import { loadProfiles } from '../../../config/profiles.ts';
import { DEVICES_DIR, recordingNames, startSnmpsim, type Snmpsim } from '../../support/snmpsim.ts';
import { startLossyPath } from './lossy-path.ts';

const profiles = loadProfiles();
let sim: Snmpsim;
let poller: SnmpPoller;

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
  sim = await startSnmpsim({ broken: `${BROKEN}\n` });
  poller = new SnmpPoller({ timeoutMs: 3000, retries: 0, maxRepetitions: 25, profiles });
});
afterAll(async () => {
  poller?.close();
  await sim?.stop();
});

function profileFor(name: string): string {
  if (name.startsWith('routeros')) return 'mikrotik-routeros';
  if (name.startsWith('unifi')) return 'unifi-ap';
  if (name.startsWith('airos')) return 'airmax';
  if (name.startsWith('ciscowlc')) return 'cisco-wlc';
  return 'generic';
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
  const json = JSON.parse(readFileSync(join(DEVICES_DIR, `${name}.json`), 'utf8')) as {
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

describe.each(recordingNames())('recording %s', (name) => {
  it('reads the interfaces and Wi-Fi clients LibreNMS expects', async () => {
    const { reading, warnings } = await poller.pollDetailed(device(name));
    const exp = expectation(name);
    expect(warnings, `${name}: decode warnings`).toEqual([]);
    // sysUpTime.0 as recorded; some recordings have none (iosxe) and must poll all the same.
    const uptime = /^1\.3\.6\.1\.2\.1\.1\.3\.0\|67\|(\d+)$/m.exec(
      readFileSync(join(DEVICES_DIR, `${name}.snmprec`), 'utf8'),
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

    // Client counts: a LibreNMS sensor is the sum of the OIDs it lists (one OID: that row alone).
    const column = profiles.get(profileFor(name))?.wifi?.clients;
    let covered = 0;
    for (const s of exp.clients) {
      const oids = (JSON.parse(s.sensor_oids) as string[]).map((o) => o.replace(/^\./, ''));
      const indices = oids
        .filter((o) => column && o.startsWith(`${column}.`))
        .map((o) => o.slice(`${column}.`.length));
      if (indices.length === 0) continue; // another vendor table (openwrt's extend): not in this profile
      expect(indices.length, `${name} ${s.sensor_descr}: mixes tables`).toBe(oids.length);
      const rows = indices.map((ix) => reading.wifi.find((w) => w.index === ix));
      expect(
        rows.every((r) => r !== undefined),
        `${name} ${s.sensor_descr}: rows ${indices.join(',')}`,
      ).toBe(true);
      expect(
        rows.reduce((n, r) => n + (r?.clients ?? 0), 0),
        `${name} ${s.sensor_descr}`,
      ).toBe(s.sensor_current);
      covered++;
    }
    if (column !== undefined && exp.clients.length > 0)
      expect(covered, `${name}: Wi-Fi client sensors checked`).toBeGreaterThan(0);
    expect(exp.ports.length + covered, `${name}: nothing compared`).toBeGreaterThan(0);
  });
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
      expect(second.requests).toBe(first.requests - first.fallbacks);
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
