/**
 * The collector's poller over SNMPv3 authPriv (SHA/AES) against the fleet simulator's USM agent: it reads
 * the device; a wrong key is an `auth` failure and a wrong community a timeout, each typed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../../collector/core/secret.ts';
import type { Device, SnmpCredentials } from '../../../collector/core/types.ts';
import { SnmpPoller } from '../../../collector/sources/snmp/poller.ts';
import { loadProfiles } from '../../../config/profiles.ts';
import { FleetSimulator } from '../../../simulator/fleet.ts';
import { syntheticInventory } from '../../../simulator/synthetic-inventory.ts';
import { freeUdpPort } from '../../support/ports.ts';

const V3: SnmpCredentials = {
  version: '3',
  user: 'netmon',
  level: 'authPriv',
  authProtocol: 'sha',
  authKey: new Secret('badung-auth-key'),
  privProtocol: 'aes',
  privKey: new Secret('badung-priv-key'),
};
let sim: FleetSimulator;
let router: Device;
const poller = new SnmpPoller({ timeoutMs: 800, retries: 0, maxRepetitions: 25, profiles: loadProfiles() });

beforeAll(async () => {
  const port = await freeUdpPort();
  const inventory = syntheticInventory({
    sites: 1,
    port,
    seed: 4,
    credentials: V3,
    hostOctet: 150 + Math.floor(Math.random() * 20),
  });
  sim = new FleetSimulator({ inventory, seed: 4 });
  await sim.start();
  const r = inventory.devices.find((d) => d.role === 'router');
  if (!r) throw new Error('no router');
  router = r;
});
afterAll(async () => {
  poller.close();
  await sim?.stop();
});

describe('SNMPv3 authPriv', () => {
  it('reads interfaces, counters and uptime', async () => {
    const reading = await poller.poll(router);
    const want = sim.deviceStatus(router.id);
    expect(want.state).toBe('up');
    expect(reading.interfaces.length).toBe(sim.model(router.id).interfaces.length);
    expect(reading.interfaces.every((i) => i.inOctets !== undefined)).toBe(true);
    expect(reading.sysUpTimeCs).toBeGreaterThan(0);
  });

  it('a wrong privacy or auth key is an auth failure, not a silent timeout', async () => {
    const wrong = {
      ...router,
      id: `${router.id}-wrong`,
      snmp: { ...V3, authKey: new Secret('not-the-key') } as SnmpCredentials,
    };
    await expect(poller.poll(wrong)).rejects.toMatchObject({
      code: 'auth',
    });
    // The right credentials still work afterwards.
    expect((await poller.poll(router)).interfaces.length).toBeGreaterThan(0);
  });

  it('a v2c request to a v3-only device gets no answer: timeout', async () => {
    const v2 = {
      ...router,
      id: `${router.id}-v2`,
      snmp: { version: '2c', community: new Secret('public') } as SnmpCredentials,
    };
    await expect(poller.poll(v2)).rejects.toMatchObject({ code: 'timeout' });
  });
});
