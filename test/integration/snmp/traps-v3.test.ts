/**
 * SNMPv3 traps end to end: the monitor's trap receiver (collector/sources/traps, npm net-snmp's receiver
 * on a real UDP socket) and real SNMPv3 senders on loopback, each trap leaving from the device's own
 * address: npm net-snmp's session.trap (another implementation than ours) and the fleet simulator's
 * sender (simulator/traps.ts, what POST /devices/:id/trap uses).
 *
 *   the device's own user and keys (authPriv, SHA/AES; authNoPriv, SHA-256): accepted, a poll asked for,
 *     a `trap` point recorded with version 3;
 *   a user no device has, the right user with a wrong auth key or a wrong priv key, another device's user,
 *     or a noAuthNoPriv trap under an authPriv user: counted as dropped (credentials), no poll;
 *   a good user from an address that is not a device: counted as an unknown source.
 *
 * Addresses 127.0.215.x are this file's alone.
 */
import snmp from 'net-snmp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../../collector/core/secret.ts';
import type { Inventory, Sample, SnmpCredentials } from '../../../collector/core/types.ts';
import type { RunningTraps, TrapStats } from '../../../collector/sources/traps/attach.ts';
import { engineIdFor } from '../../../simulator/fleet.ts';
import { sendTrap } from '../../../simulator/traps.ts';
import { waitFor } from '../../support/ports.ts';
import { startTestTraps } from '../../support/traps.ts';

type V3 = Extract<SnmpCredentials, { version: '3' }>;

const ROUTER: V3 = {
  version: '3',
  user: 'netmon-ops',
  level: 'authPriv',
  authProtocol: 'sha',
  authKey: new Secret('Badung-auth-2026'),
  privProtocol: 'aes',
  privKey: new Secret('Badung-priv-2026'),
};
const AP: V3 = {
  version: '3',
  user: 'bpbd-ap',
  level: 'authNoPriv',
  authProtocol: 'sha256',
  authKey: new Secret('Mangupura-auth-77'),
};

const site = {
  id: 'pkm-abiansemal-i',
  name: 'Puskesmas Abiansemal I',
  category: 'puskesmas',
  kecamatan: 'Abiansemal',
  desa: 'Blahkiuh',
  lat: -8.5,
  lon: 115.22,
  criticality: 'critical',
} as const;
const inventory: Inventory = {
  sites: [site],
  devices: [
    {
      id: 'pkm-abiansemal-i-rtr',
      siteId: site.id,
      role: 'router',
      host: '127.0.215.1',
      port: 161,
      profile: 'mikrotik-routeros',
      snmp: ROUTER,
    },
    {
      id: 'pkm-abiansemal-i-ap1',
      siteId: site.id,
      role: 'ap',
      host: '127.0.215.2',
      port: 161,
      profile: 'unifi-ap',
      snmp: AP,
      parent: 'pkm-abiansemal-i-rtr',
    },
  ],
};

let traps: RunningTraps;
let polls: string[];
let samples: Sample[];

beforeAll(async () => {
  ({ traps, polls, samples } = await startTestTraps(inventory));
});

afterAll(async () => {
  await traps?.stop();
});

const LIB_AUTH = { sha: snmp.AuthProtocols.sha, sha256: snmp.AuthProtocols.sha256 } as const;

/** A linkDown trap through npm net-snmp's SNMPv3 session, from `from`, with these credentials. */
async function libTrap(from: string, c: V3, ifIndex = 2): Promise<void> {
  const user: snmp.User = {
    name: c.user,
    level: snmp.SecurityLevel[c.level],
    ...(c.authKey && c.authProtocol
      ? { authProtocol: LIB_AUTH[c.authProtocol as keyof typeof LIB_AUTH], authKey: c.authKey.reveal() }
      : {}),
    ...(c.privKey ? { privProtocol: snmp.PrivProtocols.aes, privKey: c.privKey.reveal() } : {}),
  };
  const session = snmp.createV3Session('127.0.0.1', user, { trapPort: traps.port, sourceAddress: from });
  try {
    await new Promise<void>((resolve, reject) => {
      session.trap(
        snmp.TrapType.LinkDown,
        [{ oid: `1.3.6.1.2.1.2.2.1.1.${ifIndex}`, type: snmp.ObjectType.Integer, value: ifIndex }],
        (err: Error | null) => (err ? reject(err) : resolve()),
      );
    });
  } finally {
    session.close();
  }
}

/** The simulator's own SNMPv3 trap (simulator/traps.ts) from the router's address, with these credentials. */
function simTrap(c: V3, type: 'coldStart' | 'linkUp'): Promise<void> {
  const v3 = {
    credentials: c,
    engineId: engineIdFor(7, 'pkm-abiansemal-i-rtr'),
    engineBoots: 1,
    engineTime: 42,
  };
  return sendTrap({
    from: '127.0.215.1',
    to: { host: '127.0.0.1', port: traps.port },
    v3,
    type,
    uptimeCs: 4200,
  });
}

/** Wait until `received` moved by one, and return what else moved. */
async function next(send: () => Promise<void>): Promise<Partial<TrapStats>> {
  const before = traps.stats();
  await send();
  await waitFor(() => traps.stats().received === before.received + 1, { timeoutMs: 5000 });
  const after = traps.stats();
  const moved: Partial<Record<keyof TrapStats, number>> = {};
  for (const k of Object.keys(after) as (keyof TrapStats)[])
    if (after[k] !== before[k] && k !== 'received') moved[k] = after[k] - before[k];
  return moved;
}

describe('SNMPv3 traps into the monitor', () => {
  it("accepts the router's authPriv trap from npm net-snmp: polled at once, recorded as v3", async () => {
    // Port 0 is any free port, not net-snmp's fallback to the privileged 161/162.
    expect(traps.port).toBeGreaterThan(1023);
    expect(await next(() => libTrap('127.0.215.1', ROUTER, 3))).toEqual({ accepted: 1 });
    expect(polls).toEqual(['pkm-abiansemal-i-rtr']);
    expect(samples.at(-1)).toMatchObject({
      measurement: 'trap',
      tags: { device: 'pkm-abiansemal-i-rtr', trap: 'linkDown' },
      fields: { source: '127.0.215.1', version: '3', if_index: 3 },
    });
  });

  it("accepts the AP's authNoPriv (SHA-256) trap, and the simulator's own v3 trap", async () => {
    expect(await next(() => libTrap('127.0.215.2', AP))).toEqual({ accepted: 1 });
    expect(await next(() => simTrap(ROUTER, 'coldStart'))).toEqual({ accepted: 1 });
    expect(polls).toEqual(['pkm-abiansemal-i-rtr', 'pkm-abiansemal-i-ap1', 'pkm-abiansemal-i-rtr']);
    expect(samples.at(-1)).toMatchObject({ tags: { trap: 'coldStart' }, fields: { version: '3' } });
  });

  it('drops and counts a user no device has, wrong keys, another device user, and a missing digest', async () => {
    const polled = polls.length;
    const recorded = samples.length;
    const wrongAuth: V3 = { ...ROUTER, authKey: new Secret('not-the-auth-key') };
    const wrongPriv: V3 = { ...ROUTER, privKey: new Secret('not-the-priv-key') };
    // authNoPriv with a wrong digest: the case net-snmp's disableAuthorization let through.
    const forgedAp: V3 = { ...AP, authKey: new Secret('forged-auth-key!') };
    const stranger: V3 = { ...ROUTER, user: 'intruder' };
    const noAuth: V3 = { version: '3', user: ROUTER.user, level: 'noAuthNoPriv' };
    for (const [from, c] of [
      ['127.0.215.1', stranger],
      ['127.0.215.1', wrongAuth],
      ['127.0.215.1', wrongPriv],
      ['127.0.215.2', forgedAp],
      ['127.0.215.2', ROUTER], // a good user, but the router's, from the AP's address
      ['127.0.215.1', noAuth],
    ] as const)
      expect(await next(() => libTrap(from, c)), `${c.user} from ${from}`).toEqual({ droppedAuth: 1 });
    // The simulator's sender with a wrong key is refused the same way.
    expect(await next(() => simTrap(wrongAuth, 'linkUp'))).toEqual({ droppedAuth: 1 });
    expect(polls.length).toBe(polled);
    expect(samples.length).toBe(recorded);
  });

  it('counts a good user from an address that is no device as an unknown source', async () => {
    const polled = polls.length;
    expect(await next(() => libTrap('127.0.215.9', ROUTER))).toEqual({ droppedUnknownSource: 1 });
    expect(await next(() => libTrap('127.0.215.9', { ...ROUTER, user: 'intruder' }))).toEqual({
      droppedUnknownSource: 1,
    });
    expect(polls.length).toBe(polled);
  });
});
