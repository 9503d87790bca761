/**
 * The SNMP collector against recordings of real devices served by Debian's snmpsim: for each recording in
 * ../shared/devices, the interfaces and (where the profile covers the vendor) the Wi-Fi client counts that
 * LibreNMS's expectation (the matching .json) lists. A new recording is picked up by the listing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../../collector/core/secret.ts';
import type { Device } from '../../../collector/core/types.ts';
import { SnmpPoller } from '../../../collector/sources/snmp/poller.ts';
import { loadProfiles } from '../../../config/profiles.ts';
import { DEVICES_DIR, recordingNames, startSnmpsim, type Snmpsim } from '../../support/snmpsim.ts';

const profiles = loadProfiles();
let sim: Snmpsim;
let poller: SnmpPoller;

/** Bad values where a real agent sometimes sends them: the rest must still be read. */
const BROKEN = [
  '1.3.6.1.2.1.1.3.0|67|12345',
  '1.3.6.1.2.1.2.2.1.1.1|2|1',
  '1.3.6.1.2.1.2.2.1.1.2|2|2',
  '1.3.6.1.2.1.2.2.1.2.1|4|ether1',
  '1.3.6.1.2.1.2.2.1.2.2|4|ether2',
  '1.3.6.1.2.1.2.2.1.8.1|2|1',
  '1.3.6.1.2.1.2.2.1.8.2|2|-7',
  '1.3.6.1.2.1.2.2.1.10.1|4|not-a-counter',
  '1.3.6.1.2.1.2.2.1.10.2|65|5000',
  '1.3.6.1.2.1.31.1.1.1.1.1|4|ether1',
  '1.3.6.1.2.1.31.1.1.1.1.2|4|ether2',
  '1.3.6.1.2.1.31.1.1.1.6.1|4|garbage',
  '1.3.6.1.2.1.31.1.1.1.6.2|70|9000000000',
  '1.3.6.1.2.1.31.1.1.1.10.2|70|8000000000',
  '',
].join('\n');

beforeAll(async () => {
  sim = await startSnmpsim();
  // Debian's snmpsim 0.4.5 stops answering for good after a multi-column GETBULK with a few repetitions
  // (it spins in its bulk loop), so against it the poller asks one repetition per column. The too-big
  // fallback is tested in test/unit/snmp/walk.test.ts, with a requester that drops replies on cue.
  poller = new SnmpPoller({ timeoutMs: 3000, retries: 0, maxRepetitions: 1, profiles });
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

function device(name: string): Device {
  return {
    id: name,
    siteId: 'lab',
    role: 'router',
    host: sim.host,
    port: sim.port,
    profile: profileFor(name),
    snmp: { version: '2c', community: new Secret(name) },
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
  sensor_current: number;
  sensor_descr: string;
  sensor_oids: string;
}

function expectation(name: string): { ports: LibrePort[]; clients: LibreSensor[] } {
  const json = JSON.parse(readFileSync(join(DEVICES_DIR, `${name}.json`), 'utf8')) as {
    ports?: { poller?: { ports?: LibrePort[] }; discovery?: { ports?: LibrePort[] } };
    wireless?: {
      poller?: { wireless_sensors?: LibreSensor[] };
      discovery?: { wireless_sensors?: LibreSensor[] };
    };
  };
  const ports = json.ports?.poller?.ports ?? json.ports?.discovery?.ports ?? [];
  const sensors = json.wireless?.poller?.wireless_sensors ?? json.wireless?.discovery?.wireless_sensors ?? [];
  return { ports, clients: sensors.filter((s) => s.sensor_class === 'clients') };
}

describe.each(recordingNames())('recording %s', (name) => {
  it('reads the interfaces and Wi-Fi clients LibreNMS expects', async () => {
    const detail = await poller.pollDetailed(device(name));
    const { reading } = detail;
    const exp = expectation(name);
    const byIndex = new Map(reading.interfaces.map((i) => [i.ifIndex, i]));
    for (const p of exp.ports) {
      const got = byIndex.get(p.ifIndex);
      expect(got, `${name} ifIndex ${p.ifIndex}`).toBeDefined();
      if (p.ifName !== null) expect(got?.name, `${name} ifIndex ${p.ifIndex} name`).toBe(p.ifName);
      // LibreNMS stores 0 where the agent has no counter at all (openwrt's lo); we keep "absent".
      const has = (v: number | null, ours: bigint | undefined): v is number =>
        typeof v === 'number' && (v !== 0 || ours !== undefined);
      if (has(p.ifInOctets, got?.inOctets))
        expect(got?.inOctets, `${name} if${p.ifIndex} in`).toBe(BigInt(p.ifInOctets));
      if (has(p.ifOutOctets, got?.outOctets))
        expect(got?.outOctets, `${name} if${p.ifIndex} out`).toBe(BigInt(p.ifOutOctets));
    }
    // Client counts: a LibreNMS sensor is the sum of the OIDs it lists. Check those in our profile's column.
    const column = profiles.get(profileFor(name))?.wifi?.clients;
    let covered = 0;
    for (const s of exp.clients) {
      const oids = JSON.parse(s.sensor_oids) as string[];
      const indices = oids
        .map((o) => o.replace(/^\./, ''))
        .filter((o) => column && o.startsWith(`${column}.`))
        .map((o) => o.slice((column ?? '').length + 1));
      if (indices.length !== oids.length) continue;
      const sum = indices.reduce(
        (n, ix) => n + (reading.wifi.find((w) => w.index === ix)?.clients ?? NaN),
        0,
      );
      expect(sum, `${name} ${s.sensor_descr}`).toBe(s.sensor_current);
      covered++;
    }
    if (['routeros', 'unifi_nanohd', 'unifi', 'airos', 'airos_airos8', 'ciscowlc_cbw240ac'].includes(name)) {
      expect(covered, `${name}: Wi-Fi client sensors checked`).toBeGreaterThan(0);
    }
    expect(exp.ports.length + exp.clients.length, `${name}: nothing to compare`).toBeGreaterThan(0);
  });
});

describe('odd agents', () => {
  it('bad values are skipped with warnings, the good ones kept, and the poller stays usable', async () => {
    // Its own snmpsim: this recording also makes snmpsim 0.4.5 spin after answering.
    const own = await startSnmpsim({ broken: BROKEN }, { recordings: false });
    const p = new SnmpPoller({ timeoutMs: 3000, retries: 0, maxRepetitions: 1, profiles });
    const d = { ...device('broken'), port: own.port };
    let detail;
    try {
      detail = await p.pollDetailed(d);
    } finally {
      p.close();
      await own.stop();
    }
    const warned = detail.warnings.map((w) => `${w.field}: ${w.reason}`).join('\n');
    expect(warned).toMatch(/hcInOctets: expected Counter64, got OctetString "garbage"/);
    expect(warned).toMatch(/inOctets: expected Counter32, got OctetString "not-a-counter"/);
    const if2 = detail.reading.interfaces.find((i) => i.ifIndex === 2);
    expect(if2?.inOctets).toBe(9_000_000_000n);
    expect(detail.reading.interfaces.find((i) => i.ifIndex === 1)?.name).toBe('ether1');
    expect(detail.reading.sysUpTimeCs).toBe(12345);
  });

  it('an unknown community (snmpsim stays silent) is a timeout, and the next device is not held up', async () => {
    const dead = {
      ...device('no-such-device'),
      snmp: { version: '2c' as const, community: new Secret('nobody-home') },
    };
    const quick = new SnmpPoller({ timeoutMs: 400, retries: 0, maxRepetitions: 1, profiles });
    try {
      const order: string[] = [];
      const deadPoll = quick.poll(dead).then(
        () => order.push('dead:ok'),
        (err: { code?: string }) => order.push(`dead:${err.code ?? '?'}`),
      );
      await quick.poll(device('linux_ntc')).then(() => order.push('good'));
      await deadPoll;
      expect(order).toEqual(['good', 'dead:timeout']);
    } finally {
      quick.close();
    }
  });
});
