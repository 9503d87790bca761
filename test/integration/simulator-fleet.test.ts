/**
 * The simulator at the real fleet's size: 987 sites, ~3,500 devices, each at its own loopback address.
 * Checks that a sample answers with the modelled values and records startup time and memory.
 */
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../collector/core/clock.ts';
import type { Device } from '../../collector/core/types.ts';
import { BerReader, Tag } from '../../simulator/ber.ts';
import { FleetSimulator } from '../../simulator/fleet.ts';
import { PduType, decodeMessage, encodeCommunityMessage, encodePdu } from '../../simulator/snmp-message.ts';
import { syntheticInventory } from '../../simulator/synthetic-inventory.ts';
import { freeUdpPort } from '../support/ports.ts';

const inv = syntheticInventory({
  sites: 987,
  port: 0,
  seed: 3,
  hostOctet: 78 + Math.floor(Math.random() * 20),
});
let sim: FleetSimulator;
let clock: FakeClock;
let startupMs = 0;
let rssMiB = 0;
let fleetDevices: readonly Device[] = [];

beforeAll(async () => {
  const port = await freeUdpPort();
  const inventory = { sites: inv.sites, devices: inv.devices.map((d) => ({ ...d, port })) };
  clock = new FakeClock(Date.UTC(2026, 10, 4, 2)); // Wednesday 10:00 WITA
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  sim = new FleetSimulator({ inventory, seed: 3, clock });
  await sim.start();
  startupMs = performance.now() - t0;
  rssMiB = (process.memoryUsage().rss - rss0) / 1048576;
  fleetDevices = inventory.devices;
});

afterAll(async () => {
  await sim?.stop();
});

/** One SNMPv2c GET over a raw socket; resolves with sysUpTime, or undefined on timeout. */
async function sysUpTime(host: string, port: number, timeoutMs = 2000): Promise<number | undefined> {
  const sock = createSocket('udp4');
  try {
    return await new Promise<number | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      sock.on('message', (buf) => {
        clearTimeout(timer);
        try {
          const msg = decodeMessage(buf);
          if (msg.version !== 1) return resolve(undefined);
          resolve(msg.pdu.varbinds.length >= 0 ? readFirstUnsigned(buf) : undefined);
        } catch {
          resolve(undefined);
        }
      });
      const pdu = encodePdu({
        type: PduType.Get,
        requestId: 1,
        errorStatus: 0,
        errorIndex: 0,
        varbinds: [{ oid: [1, 3, 6, 1, 2, 1, 1, 3, 0], value: { type: 'null' } }],
      });
      sock.send(encodeCommunityMessage(1, Buffer.from('public'), pdu), port, host);
    });
  } finally {
    sock.close();
  }
}

/** The first varbind's TimeTicks value in a response datagram. */
function readFirstUnsigned(buf: Buffer): number {
  const top = new BerReader(buf).readConstructed(Tag.Sequence);
  top.readInteger();
  top.readOctets();
  const pdu = top.readConstructed(PduType.Response);
  pdu.readInteger();
  pdu.readInteger();
  pdu.readInteger();
  const vb = pdu.readConstructed(Tag.Sequence).readConstructed(Tag.Sequence);
  vb.readOid();
  const t = vb.readTlv(Tag.TimeTicks);
  let v = 0;
  for (let i = t.valueStart; i < t.end; i++) v = v * 256 + (buf[i] ?? 0);
  return v;
}

describe('simulator at fleet scale', () => {
  it('starts ~3,500 devices and a sample of them answers with modelled values', async () => {
    expect(inv.sites.length).toBe(987);
    expect(fleetDevices.length).toBeGreaterThan(3000);
    expect(fleetDevices.length).toBeLessThan(4000);
    console.log(
      `simulator fleet: ${fleetDevices.length} devices started in ${Math.round(startupMs)} ms, ~${Math.round(rssMiB)} MiB more RSS`,
    );
    const sample = fleetDevices.filter((_, i) => i % 50 === 0);
    const got = await Promise.all(sample.map((d) => sysUpTime(d.host, d.port)));
    got.forEach((v, i) => {
      const d = sample[i];
      if (!d) return;
      expect(v, d.id).toBe(sim.valuesAt(d.id).sysUpTimeCs);
    });
    const status = sim.status();
    expect(status).toMatchObject({
      listening: true,
      devices: fleetDevices.length,
      sites: 987,
      silentDevices: 0,
    });
  });

  it('a cut site among thousands goes silent and the rest keep answering', async () => {
    const site = inv.sites[500]?.id ?? '';
    const devices = fleetDevices.filter((d) => d.siteId === site);
    const neighbour = fleetDevices.find((d) => d.siteId !== site);
    if (!neighbour) throw new Error('no neighbour');
    sim.cutSite(site);
    try {
      const silent = await Promise.all(devices.map((d) => sysUpTime(d.host, d.port, 300)));
      expect(silent.every((v) => v === undefined)).toBe(true);
      expect(await sysUpTime(neighbour.host, neighbour.port)).toBe(sim.valuesAt(neighbour.id).sysUpTimeCs);
    } finally {
      sim.restoreSite(site);
    }
    expect(await sysUpTime(devices[0]?.host ?? '', devices[0]?.port ?? 0)).toBeDefined();
  });
});
