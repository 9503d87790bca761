/**
 * The fleet simulator on loopback, queried by real SNMP clients: Debian's snmpget/snmpbulkwalk (net-snmp
 * 5.9) and the npm net-snmp client. Values run on a FakeClock, so the test knows exactly what each OID
 * must read (sim.valuesAt), and the clock only moves when the test moves it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import snmp from 'net-snmp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../collector/core/clock.ts';
import { Secret } from '../../collector/core/secret.ts';
import type { Inventory } from '../../collector/core/types.ts';
import { ControlServer } from '../../simulator/control-http.ts';
import { FleetSimulator } from '../../simulator/fleet.ts';
import { freeUdpPort } from '../support/ports.ts';

const run = promisify(execFile);

/** Run a net-snmp command-line tool; parse "OID value" lines (-On -Oq -Ot -Oe). */
async function tool(
  cmd: 'snmpget' | 'snmpbulkwalk',
  args: string[],
): Promise<{ ok: boolean; values: Map<string, string>; text: string }> {
  try {
    const r = await run(cmd, ['-On', '-Oq', '-Ot', '-Oe', ...args], {
      timeout: 15_000,
      env: { ...process.env, MIBS: '' },
    });
    const values = new Map<string, string>();
    for (const line of r.stdout.split('\n')) {
      if (line.includes('No more variables left')) continue; // end-of-walk marker
      const m = /^\.?(\S+) (.*)$/.exec(line.trim());
      if (m?.[1] && m[2] !== undefined) values.set(m[1], m[2].replace(/^"(.*)"$/, '$1'));
    }
    return { ok: true, values, text: r.stdout };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, values: new Map(), text: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const SYS_UPTIME = '1.3.6.1.2.1.1.3.0';
const IF_IN_OCTETS_1 = '1.3.6.1.2.1.2.2.1.10.1';
const oct = (s: string): number => Number(s);

const net = `127.77.${Math.floor(Math.random() * 200) + 20}`;
let port = 0;
let sim: FleetSimulator;
let control: ControlServer;
let clock: FakeClock;

function inventory(p: number): Inventory {
  const v3 = {
    version: '3' as const,
    user: 'netmon',
    level: 'authPriv' as const,
    authProtocol: 'sha' as const,
    authKey: new Secret('badung-auth-key'),
    privProtocol: 'aes' as const,
    privKey: new Secret('badung-priv-key'),
  };
  const base = { kecamatan: 'Kuta', desa: 'Kuta', lat: -8.72, lon: 115.17 };
  return {
    sites: [
      { id: 's1', name: 'Banjar Pande', category: 'banjar', criticality: 'low', ...base },
      { id: 's2', name: 'SD Negeri 1 Kuta', category: 'sd', criticality: 'medium', ...base },
    ],
    devices: [
      {
        id: 'r1',
        siteId: 's1',
        role: 'router',
        host: `${net}.1`,
        port: p,
        profile: 'mikrotik-routeros',
        snmp: { version: '2c', community: new Secret('pub-s1') },
      },
      {
        id: 'a1',
        siteId: 's1',
        role: 'ap',
        host: `${net}.2`,
        port: p,
        profile: 'unifi-ap',
        parent: 'r1',
        snmp: v3,
      },
      {
        id: 'a2',
        siteId: 's1',
        role: 'ap',
        host: `${net}.3`,
        port: p,
        profile: 'cisco-wlc',
        parent: 'r1',
        snmp: { ...v3, authProtocol: 'sha256', privProtocol: 'aes256b' },
      },
      {
        id: 'r2',
        siteId: 's2',
        role: 'router',
        host: `${net}.4`,
        port: p,
        profile: 'generic',
        snmp: { version: '2c', community: new Secret('pub-s2') },
      },
      {
        id: 'a3',
        siteId: 's2',
        role: 'ap',
        host: `${net}.5`,
        port: p,
        profile: 'airmax',
        parent: 'r2',
        snmp: { version: '2c', community: new Secret('pub-s2') },
      },
    ],
  };
}

const v2 = (id: string, community: string): string[] => [
  '-v2c',
  '-c',
  community,
  '-t',
  '1',
  '-r',
  '0',
  `${endpoint(id)}`,
];
const v3 = (id: string, extra: string[] = []): string[] => [
  '-v3',
  '-l',
  'authPriv',
  '-u',
  'netmon',
  '-a',
  'SHA',
  '-A',
  'badung-auth-key',
  '-x',
  'AES',
  '-X',
  'badung-priv-key',
  '-t',
  '1',
  '-r',
  '0',
  ...extra,
  endpoint(id),
];
const endpoint = (id: string): string => {
  const d = { r1: 1, a1: 2, a2: 3, r2: 4, a3: 5 }[id];
  return `${net}.${d}:${port}`;
};

async function post(
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${control.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  port = await freeUdpPort();
  clock = new FakeClock(Date.UTC(2026, 10, 3, 11, 30)); // Tuesday 19:30 WITA: banjar evening peak
  sim = new FleetSimulator({ inventory: inventory(port), seed: 42, clock });
  control = new ControlServer(sim, { host: '127.0.0.1', port: 0 });
  await sim.start();
  await control.start();
});

afterAll(async () => {
  await control?.stop();
  await sim?.stop();
});

describe('fleet simulator over SNMP', () => {
  it('answers v2c GET with exactly the modelled values', async () => {
    const r = await tool('snmpget', [
      ...v2('r1', 'pub-s1'),
      SYS_UPTIME,
      '1.3.6.1.2.1.1.5.0',
      IF_IN_OCTETS_1,
      '1.3.6.1.2.1.31.1.1.1.6.1',
    ]);
    expect(r.ok, r.text).toBe(true);
    const want = sim.valuesAt('r1');
    expect(oct(r.values.get(SYS_UPTIME) ?? '')).toBe(want.sysUpTimeCs);
    expect(r.values.get('1.3.6.1.2.1.1.5.0')).toBe('r1');
    expect(oct(r.values.get(IF_IN_OCTETS_1) ?? '')).toBe(want.interfaces[0]?.inOctets32);
    const hc = r.values.get('1.3.6.1.2.1.31.1.1.1.6.1') ?? '';
    if (sim.model('r1').legacy) expect(hc).toMatch(/No Such Object/);
    else expect(BigInt(hc)).toBe(want.interfaces[0]?.inOctets);
  });

  it('walks the whole MIB with GETBULK in order and ends cleanly', async () => {
    const r = await tool('snmpbulkwalk', [...v2('r1', 'pub-s1'), '-Cr25', '1.3.6.1']);
    expect(r.ok, r.text).toBe(true);
    const oids = [...r.values.keys()];
    expect(oids.length).toBeGreaterThan(100);
    expect(r.values.get('1.3.6.1.4.1.14988.1.1.1.3.1.4.4')).toBe('Badung-Free-WiFi');
    const clients = sim.valuesAt('r1').wifi[0]?.clients;
    expect(oct(r.values.get('1.3.6.1.4.1.14988.1.1.1.3.1.6.4') ?? '')).toBe(clients);
    // snmpbulkwalk itself checks ordering ("OID not increasing") and fails on it; check anyway.
    const cmp = (a: string, b: string): number => {
      const x = a.split('.').map(Number);
      const y = b.split('.').map(Number);
      for (let i = 0; i < Math.min(x.length, y.length); i++)
        if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
      return x.length - y.length;
    };
    for (let i = 1; i < oids.length; i++) expect(cmp(oids[i - 1] ?? '', oids[i] ?? '')).toBeLessThan(0);
  });

  it('answers SNMPv3 authPriv (SHA/AES) to snmpget and walks the UniFi VAP table', async () => {
    const r = await tool('snmpbulkwalk', [...v3('a1'), '1.3.6.1.4.1.41112.1.6.1.2.1']);
    expect(r.ok, r.text).toBe(true);
    const want = sim.valuesAt('a1').wifi;
    expect(r.values.get('1.3.6.1.4.1.41112.1.6.1.2.1.6.1')).toBe('Badung-Free-WiFi');
    expect(r.values.get('1.3.6.1.4.1.41112.1.6.1.2.1.9.2')).toBe('na');
    expect(oct(r.values.get('1.3.6.1.4.1.41112.1.6.1.2.1.8.1') ?? '')).toBe(want[0]?.clients);
  });

  it('answers SNMPv3 authPriv (SHA-256/AES-256) to the npm net-snmp client, GET and GETBULK', async () => {
    const session = snmp.createV3Session(
      `${net}.3`,
      {
        name: 'netmon',
        level: snmp.SecurityLevel.authPriv,
        authProtocol: snmp.AuthProtocols.sha256,
        authKey: 'badung-auth-key',
        privProtocol: snmp.PrivProtocols.aes256b,
        privKey: 'badung-priv-key',
      },
      { port, timeout: 1000, retries: 0, version: snmp.Version3 },
    );
    try {
      const got = await new Promise<snmp.Varbind[]>((resolve, reject) =>
        session.get([SYS_UPTIME], (err, vbs) => (err ? reject(err) : resolve(vbs ?? []))),
      );
      expect(got[0]?.value).toBe(sim.valuesAt('a2').sysUpTimeCs);
      const bulk = await new Promise<snmp.Varbind[]>((resolve, reject) =>
        session.getBulk(['1.3.6.1.4.1.14179.2.1.1.1.2', '1.3.6.1.4.1.14179.2.1.1.1.38'], 0, 2, (err, vbs) =>
          err ? reject(err) : resolve((vbs ?? []) as snmp.Varbind[]),
        ),
      );
      // net-snmp groups a GETBULK answer by repeated column.
      const [names, counts] = bulk as unknown as [snmp.Varbind[], snmp.Varbind[]];
      expect(names.map((v) => v.oid)).toEqual([
        '1.3.6.1.4.1.14179.2.1.1.1.2.1',
        '1.3.6.1.4.1.14179.2.1.1.1.2.2',
      ]);
      expect(counts.map((v) => v.oid)).toEqual([
        '1.3.6.1.4.1.14179.2.1.1.1.38.1',
        '1.3.6.1.4.1.14179.2.1.1.1.38.2',
      ]);
      expect(String(names[0]?.value)).toBe('Badung-Free-WiFi');
      expect(String(names[1]?.value)).toBe('Badung-Pegawai');
      expect(counts.map((v) => v.value)).toEqual(sim.valuesAt('a2').wifi.map((w) => w.clients));
    } finally {
      session.close();
    }
  });

  it('stays silent on a wrong community; reports an unknown v3 user or a wrong key', async () => {
    const wrong = await tool('snmpget', [
      '-v2c',
      '-c',
      'nope',
      '-t',
      '0.3',
      '-r',
      '0',
      endpoint('r1'),
      SYS_UPTIME,
    ]);
    expect(wrong.ok).toBe(false);
    expect(wrong.text).toMatch(/Timeout/);
    const user = await tool('snmpget', [
      ...v3('a1').map((a) => (a === 'netmon' ? 'mallory' : a)),
      SYS_UPTIME,
    ]);
    expect(user.text).toMatch(/Unknown user name/);
    const key = await tool('snmpget', [
      ...v3('a1').map((a) => (a === 'badung-auth-key' ? 'wrong-auth-key' : a)),
      SYS_UPTIME,
    ]);
    expect(key.text).toMatch(/Authentication failure/);
  });

  it('cut and restore a site over HTTP: its devices time out, then answer again', async () => {
    expect((await post('/sites/s2/cut')).status).toBe(200);
    const cut = await tool('snmpget', [
      ...v2('a3', 'pub-s2').map((a) => (a === '1' ? '0.3' : a)),
      SYS_UPTIME,
    ]);
    expect(cut.text).toMatch(/Timeout/);
    const other = await tool('snmpget', [...v2('r1', 'pub-s1'), SYS_UPTIME]);
    expect(other.ok).toBe(true);
    const status = (await (await fetch(`${control.url}/status`)).json()) as {
      cutSites: string[];
      silentDevices: number;
    };
    expect(status).toMatchObject({ cutSites: ['s2'], silentDevices: 2 });
    expect((await post('/sites/s2/restore')).status).toBe(200);
    expect((await tool('snmpget', [...v2('a3', 'pub-s2'), SYS_UPTIME])).ok).toBe(true);
  });

  it('a cut router makes the APs behind it unreachable too', async () => {
    sim.cutDevice('r1');
    try {
      const ap = await tool('snmpget', [...v3('a1', ['-t', '0.3']), SYS_UPTIME]);
      expect(ap.text).toMatch(/Timeout|No Response/);
      expect(sim.deviceStatus('a1').state).toBe('unreachable');
    } finally {
      sim.restoreDevice('r1');
    }
    expect((await tool('snmpget', [...v3('a1'), SYS_UPTIME])).ok).toBe(true);
  });

  it('reboot over HTTP: sysUpTime and counters restart from 0, v3 keeps working', async () => {
    clock.advance(1000);
    const before = await tool('snmpget', [...v2('r2', 'pub-s2'), SYS_UPTIME]);
    expect(oct(before.values.get(SYS_UPTIME) ?? '0')).toBeGreaterThan(100);
    const r = await post('/devices/r2/reboot');
    expect(r).toMatchObject({ status: 200, json: { ok: true, bootAtMs: clock.now() } });
    const after = await tool('snmpget', [...v2('r2', 'pub-s2'), SYS_UPTIME, IF_IN_OCTETS_1]);
    expect(after.values.get(SYS_UPTIME)).toBe('0');
    expect(after.values.get(IF_IN_OCTETS_1)).toBe('0');
    clock.advance(30_000);
    const later = await tool('snmpget', [...v2('r2', 'pub-s2'), SYS_UPTIME, IF_IN_OCTETS_1]);
    expect(later.values.get(SYS_UPTIME)).toBe('3000');
    expect(oct(later.values.get(IF_IN_OCTETS_1) ?? '0')).toBe(sim.valuesAt('r2').interfaces[0]?.inOctets32);
    // An SNMPv3 device's engine boots again; a fresh client rediscovers it.
    sim.rebootDevice('a1');
    const v3after = await tool('snmpget', [...v3('a1'), SYS_UPTIME]);
    expect(v3after.values.get(SYS_UPTIME)).toBe('0');
  });

  it('slow: answers late, so a short timeout fails and a long one succeeds', async () => {
    expect((await post('/devices/r1/slow', { delayMs: 600 })).status).toBe(200);
    const short = await tool('snmpget', [
      ...v2('r1', 'pub-s1').map((a) => (a === '1' ? '0.2' : a)),
      SYS_UPTIME,
    ]);
    expect(short.text).toMatch(/Timeout/);
    const t0 = Date.now();
    const long = await tool('snmpget', [...v2('r1', 'pub-s1').map((a) => (a === '1' ? '3' : a)), SYS_UPTIME]);
    expect(long.ok, long.text).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
    expect((await post('/devices/r1/slow?delayMs=0')).status).toBe(200);
    expect(sim.status().slowDevices).toEqual({});
  });

  it('wrap32: the 32-bit octet counter wraps within the window, modular delta equals the true bytes', async () => {
    const r = await post('/devices/r1/wrap32', { withinS: 60 });
    expect(r.status).toBe(200);
    const a = await tool('snmpget', [...v2('r1', 'pub-s1'), IF_IN_OCTETS_1]);
    const tA = clock.now();
    clock.advance(60_000);
    const b = await tool('snmpget', [...v2('r1', 'pub-s1'), IF_IN_OCTETS_1]);
    const va = oct(a.values.get(IF_IN_OCTETS_1) ?? '');
    const vb = oct(b.values.get(IF_IN_OCTETS_1) ?? '');
    expect(va).toBeGreaterThan(2 ** 32 - 50_000_000);
    expect(vb).toBeLessThan(va); // wrapped
    const trueBytes =
      sim.valuesAt('r1').interfaces[0]!.inOctets - sim.valuesAt('r1', tA).interfaces[0]!.inOctets;
    expect(BigInt((vb - va + 2 ** 32) % 2 ** 32)).toBe(trueBytes);
  });

  it('control API errors are JSON with 400/404/405', async () => {
    expect(await post('/devices/nope/cut')).toMatchObject({
      status: 404,
      json: { error: 'unknown device nope' },
    });
    expect(await post('/sites/nope/cut')).toMatchObject({
      status: 404,
      json: { error: 'unknown site nope' },
    });
    expect((await post('/devices/r1/explode')).status).toBe(404);
    expect((await post('/nowhere')).status).toBe(404);
    expect(await post('/devices/r1/slow', '{not json')).toMatchObject({
      status: 400,
      json: { error: expect.stringMatching(/JSON/) as string },
    });
    expect(await post('/devices/r1/slow', {})).toMatchObject({
      status: 400,
      json: { error: 'missing delayMs' },
    });
    expect((await post('/devices/r1/slow', { delayMs: 'soon' })).status).toBe(400);
    expect((await post('/devices/r1/wrap32', { withinS: -5 })).status).toBe(400);
    expect((await fetch(`${control.url}/devices/r1/cut`)).status).toBe(405);
    const dev = (await (await fetch(`${control.url}/devices/r1`)).json()) as {
      state: string;
      values: { sysUpTimeCs: number };
    };
    expect(dev.state).toBe('up');
    expect(dev.values.sysUpTimeCs).toBe(sim.valuesAt('r1').sysUpTimeCs);
  });
});
