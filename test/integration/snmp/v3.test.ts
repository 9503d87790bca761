/**
 * The collector's poller against Debian's real net-snmp agent (snmpd): SNMPv3 authPriv (SHA/AES) reads
 * this machine's interfaces as the kernel lists them; wrong keys or users fail with a typed `auth` error
 * (snmpd answers with a USM report), a wrong v2c community with a `timeout` (snmpd stays silent).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../../collector/core/secret.ts';
import type { Device, SnmpCredentials } from '../../../collector/core/types.ts';
import { normalise } from '../../../collector/normalise/normalise.ts';
import { SnmpPoller } from '../../../collector/sources/snmp/poller.ts';
import { SnmpRequestError } from '../../../collector/sources/snmp/session.ts';
import { loadProfiles } from '../../../config/profiles.ts';
import { testSite } from '../../support/fixtures.ts';
import { waitFor } from '../../support/ports.ts';
import { startSnmpd, type Snmpd } from '../../support/snmpd.ts';

let agent: Snmpd;
let v3: Extract<SnmpCredentials, { version: '3' }>;
const poller = new SnmpPoller({ timeoutMs: 600, retries: 0, maxRepetitions: 25, profiles: loadProfiles() });

beforeAll(async () => {
  agent = await startSnmpd();
  v3 = {
    version: '3',
    user: agent.user,
    level: 'authPriv',
    authProtocol: 'sha',
    authKey: new Secret(agent.authKey),
    privProtocol: 'aes',
    privKey: new Secret(agent.privKey),
  };
});
afterAll(async () => {
  poller.close();
  await agent?.stop();
});

function device(id: string, snmp: SnmpCredentials): Device {
  return { id, siteId: 'lab', role: 'router', host: agent.host, port: agent.port, profile: 'generic', snmp };
}

/** The kernel's own list: name → ifIndex (IF-MIB ifIndex is the kernel ifindex on Linux net-snmp). */
function kernelInterfaces(): Map<string, number> {
  const out = new Map<string, number>();
  for (const name of readdirSync('/sys/class/net'))
    out.set(name, Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim()));
  return out;
}

async function failure(p: Promise<unknown>): Promise<SnmpRequestError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof SnmpRequestError) return err;
    throw err;
  }
  throw new Error('the poll succeeded');
}

describe('SNMPv3 authPriv against snmpd', () => {
  it('reads every interface of this machine with 64-bit counters and uptime', async () => {
    const reading = await poller.poll(device('lab-v3', v3));
    const kernel = kernelInterfaces();
    expect(new Map(reading.interfaces.map((i) => [i.name, i.ifIndex]))).toEqual(kernel);
    const lo = reading.interfaces.find((i) => i.name === 'lo');
    expect(lo?.counterBits).toBe(64);
    // lo carried every SNMP datagram of this test: its counter is positive and at most what the kernel
    // counts now (snmpd may serve a value cached a few seconds ago).
    const rxNow = BigInt(readFileSync('/sys/class/net/lo/statistics/rx_bytes', 'utf8').trim());
    expect(lo?.inOctets).toBeGreaterThan(0n);
    expect(lo?.inOctets).toBeLessThanOrEqual(rxNow);
    expect(reading.sysUpTimeCs).toBeGreaterThan(0);
  });

  // A wrong digest or an unknown user gets a USM report (RFC 3414 section 3.2): net-snmp says `auth`, not
  // retryable. A wrong privacy key is different: snmpd cannot parse the encrypted scopedPDU and drops the
  // message without a report ("security service 3 error parsing ScopedPDU" in its log), so the poller can
  // only see a timeout, as for a dead device.
  it.each([
    ['auth key', { authKey: new Secret('not-the-auth-key') }, { code: 'auth', retryable: false }],
    ['user', { user: 'intruder' }, { code: 'auth', retryable: false }],
    ['privacy key', { privKey: new Secret('not-the-priv-key') }, { code: 'timeout', retryable: true }],
  ])('a wrong %s fails with a typed error; the right credentials still work', async (what, change, want) => {
    const err = await failure(poller.poll(device(`lab-wrong-${what}`, { ...v3, ...change })));
    expect({ code: err.code, retryable: err.retryable }).toEqual(want);
    expect(err.reason).toBe(want.code);
    expect(err.message).not.toContain('not-the');
    expect((await poller.poll(device('lab-v3', v3))).interfaces.length).toBeGreaterThan(0);
  });

  it('v2c with the right community reads the same interfaces; a wrong one is a timeout', async () => {
    const ok = await poller.poll(
      device('lab-v2c', { version: '2c', community: new Secret(agent.community) }),
    );
    expect(ok.interfaces.map((i) => i.name).sort()).toEqual([...kernelInterfaces().keys()].sort());
    const err = await failure(
      poller.poll(device('lab-v2c-wrong', { version: '2c', community: new Secret('wrong-community') })),
    );
    expect({ code: err.code, retryable: err.retryable }).toEqual({ code: 'timeout', retryable: true });
  });

  // Last in this file: it restarts the agent.
  it('an agent restart is a reboot to normalise (no rates, no spike), and the v3 session re-syncs', async () => {
    const v2 = device('lab-v2c', { version: '2c', community: new Secret(agent.community) });
    const dv3 = device('lab-v3', v3);
    // Up for a while first, so the restarted agent's uptime is clearly smaller.
    const before = await waitFor(
      async () => {
        const r = await poller.poll(v2);
        return (r.sysUpTimeCs ?? 0) >= 150 ? r : undefined;
      },
      { timeoutMs: 5000, intervalMs: 100, what: 'snmpd to be up 1.5 s' },
    );
    await poller.poll(dv3);
    await agent.restart();
    const after = await poller.poll(v2);
    expect(after.sysUpTimeCs).toBeLessThan(before.sysUpTimeCs ?? 0);
    const { samples, rebooted } = normalise(before, after, { site: testSite('lab'), device: v2 });
    expect(rebooted).toBe(true);
    expect(samples.find((s) => s.measurement === 'device')?.fields.rebooted).toBe(1);
    const rates = samples.filter((s) => s.measurement === 'interface' && 'in_bps' in s.fields);
    expect(rates).toEqual([]);
    // RFC 3414 section 3.2 step 7: the restarted engine has a new boots count; the USM session must
    // rediscover it instead of failing as "not in time window" from now on.
    expect((await poller.poll(dv3)).interfaces.length).toBeGreaterThan(0);
  });
});
