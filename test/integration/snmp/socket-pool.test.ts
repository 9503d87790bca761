/**
 * The collector's open files do not grow with the fleet: ~400 devices of the fleet simulator polled by the
 * real poller through 4 UDP sockets, with the own v2c codec (v2c-transport.ts) and with net-snmp's
 * sessions (socket-pool.ts). Counts the process's file descriptors in /proc/self/fd around it.
 */
import { readdirSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device } from '../../../collector/core/types.ts';
import { SnmpPoller } from '../../../collector/sources/snmp/poller.ts';
import { openSnmpClient } from '../../../collector/sources/snmp/session.ts';
import { SocketPool } from '../../../collector/sources/snmp/socket-pool.ts';
import { V2cTransport } from '../../../collector/sources/snmp/v2c-transport.ts';
import { loadProfiles } from '../../../config/profiles.ts';
import { FleetSimulator } from '../../../simulator/fleet.ts';
import { syntheticInventory } from '../../../simulator/synthetic-inventory.ts';
import { freeUdpPort } from '../../support/ports.ts';

const openFds = (): number => readdirSync('/proc/self/fd').length;

let sim: FleetSimulator;
let devices: Device[] = [];

beforeAll(async () => {
  const port = await freeUdpPort();
  const inv = syntheticInventory({
    sites: 160,
    port,
    seed: 5,
    hostOctet: 120 + Math.floor(Math.random() * 60),
  });
  devices = inv.devices.map((d) => ({ ...d, port }));
  sim = new FleetSimulator({ inventory: { sites: inv.sites, devices } });
  await sim.start();
}, 120_000);

afterAll(async () => {
  await sim?.stop();
});

describe('SNMP sockets', () => {
  it.each(['own', 'net-snmp'] as const)(
    'polls hundreds of devices through 4 UDP sockets (%s codec)',
    async (codec) => {
      expect(devices.length).toBeGreaterThan(350);
      const pool = new SocketPool({ size: 4 });
      const v2c = new V2cTransport({ size: 4 });
      const poller = new SnmpPoller({
        timeoutMs: 5000,
        retries: 1,
        maxRepetitions: 25,
        profiles: loadProfiles(),
        openClient: (d, o) => openSnmpClient(d, { ...o, sockets: pool, v2c, codec }),
      });
      const before = openFds();
      let maxDuring = before;
      try {
        // Two rounds, 64 polls in flight at a time, as the scheduler's cap would.
        for (let round = 0; round < 2; round++) {
          const queue = [...devices];
          const failures: string[] = [];
          const worker = async (): Promise<void> => {
            for (let d = queue.shift(); d; d = queue.shift()) {
              const id = d.id;
              await poller.poll(d).then(
                (r) => expect(r.sysUpTimeCs).toBeGreaterThan(0),
                (err: unknown) => failures.push(`${id}: ${String(err)}`),
              );
              maxDuring = Math.max(maxDuring, openFds());
            }
          };
          await Promise.all(Array.from({ length: 64 }, worker));
          expect(failures).toEqual([]);
        }
        if (codec === 'own') {
          expect(v2c.stats()).toEqual({ sockets: 4, inFlight: 0, stray: 0 });
          expect(pool.stats()).toMatchObject({ sockets: 0, sessions: 0 });
        } else {
          expect(pool.stats()).toMatchObject({ sockets: 4, sessions: devices.length, unrouted: 0 });
          expect(v2c.stats().sockets).toBe(0);
        }
        // A session per device is kept (the poller's cache), yet at most 4 new files are open.
        expect(maxDuring - before).toBeLessThanOrEqual(4);
      } finally {
        poller.close();
        pool.close();
        v2c.close();
      }
      expect(pool.stats()).toMatchObject({ sockets: 0, sessions: 0 });
      expect(v2c.stats()).toMatchObject({ sockets: 0, inFlight: 0 });
      // Closed sockets release their descriptors (dgram closes asynchronously).
      await new Promise((r) => setImmediate(r));
      expect(openFds()).toBeLessThanOrEqual(before);
    },
    180_000,
  );

  it('routes replies by source: two sessions on one socket, an unknown sender dropped and counted', async () => {
    const pool = new SocketPool({ size: 1 });
    const a = pool.createSocket('udp4');
    const b = pool.createSocket('udp4');
    const echo = createSocket('udp4');
    const stranger = createSocket('udp4');
    await new Promise<void>((r) => echo.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => stranger.bind(0, '127.0.0.1', r));
    const echoPort = echo.address().port;
    const from = new Promise<{ port: number; address: string }>((resolve) =>
      echo.once('message', (msg, rinfo) => {
        echo.send(msg, rinfo.port, rinfo.address);
        resolve(rinfo);
      }),
    );
    const gotA = new Promise<string>((resolve) => a.once('message', (m: Buffer) => resolve(m.toString())));
    const gotB: string[] = [];
    b.on('message', (m: Buffer) => gotB.push(m.toString()));
    try {
      await new Promise<void>((resolve, reject) =>
        a.send(Buffer.from('ping'), 0, 4, echoPort, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
      );
      expect(await gotA).toBe('ping');
      // b never sent to the echo: it is not given the echo's replies.
      expect(gotB).toEqual([]);
      // A datagram from an address no session sent to is dropped and counted.
      const rinfo = await from;
      stranger.send(Buffer.from('junk'), rinfo.port, '127.0.0.1');
      const deadline = Date.now() + 5000;
      while (pool.stats().unrouted === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      expect(pool.stats()).toEqual({ sockets: 1, sessions: 2, unrouted: 1 });
      // Closing a session emits 'close' (net-snmp fails its requests) and frees its place.
      const closed = new Promise<void>((r) => b.once('close', () => r()));
      b.close();
      await closed;
      expect(pool.stats().sessions).toBe(1);
    } finally {
      a.close();
      pool.close();
      echo.close();
      stranger.close();
    }
  });
});
