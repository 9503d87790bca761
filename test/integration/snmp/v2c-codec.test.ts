/**
 * Our SNMPv2c codec (collector/sources/snmp/v2c-codec.ts, v2c-session.ts) reads what net-snmp read, from
 * real agents: Debian's snmpsim serving the recordings of real devices (every SMI type they hold), and a
 * recording of edge values. The same GETs, GETBULKs (with and without non-repeaters) and walks go through
 * a client of each codec, and the VarBinds must be equal; so must the failures (a wrong community is a
 * timeout, a reply that is not SNMP is `decode`).
 */
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../../collector/core/secret.ts';
import type { Device } from '../../../collector/core/types.ts';
import { openSnmpClient, type SnmpClient } from '../../../collector/sources/snmp/session.ts';
import { compareOids, walkColumns } from '../../../collector/sources/snmp/walk.ts';
import { recordingNames, startSnmpsim, type Snmpsim } from '../../support/snmpsim.ts';

/**
 * snmprec (OID|type|value; an x after the type: the value in hex): 2 Integer, 4 OctetString, 6 OID,
 * 64 IpAddress, 65 Counter32, 66 Gauge32, 67 TimeTicks, 68 Opaque, 70 Counter64.
 */
const EDGES = [
  '1.3.6.1.2.1.1.1.0|4|edge values',
  '1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.4294967295.1',
  '1.3.6.1.2.1.1.3.0|67|4294967295',
  '1.3.6.1.2.1.2.2.1.2.1|4|',
  '1.3.6.1.2.1.2.2.1.2.2|4x|00ff7f80',
  '1.3.6.1.2.1.2.2.1.5.1|66|4294967295',
  '1.3.6.1.2.1.2.2.1.5.2|66|0',
  '1.3.6.1.2.1.2.2.1.8.1|2|-2147483648',
  '1.3.6.1.2.1.2.2.1.8.2|2|2147483647',
  '1.3.6.1.2.1.2.2.1.10.1|65|4294967295',
  '1.3.6.1.2.1.2.2.1.10.2|65|128',
  '1.3.6.1.2.1.4.20.1.1.10.0.0.1|64|10.0.0.1',
  '1.3.6.1.2.1.4.20.1.1.255.255.255.255|64|255.255.255.255',
  '1.3.6.1.2.1.31.1.1.1.6.1|70|18446744073709551615',
  '1.3.6.1.2.1.31.1.1.1.6.2|70|0',
  '1.3.6.1.2.1.31.1.1.1.6.3|70|4294967296',
  '1.3.6.1.4.1.99999.1.0|68x|beef',
]
  .sort((a, b) => compareOids(a.split('|')[0] ?? '', b.split('|')[0] ?? ''))
  .join('\n');

let sim: Snmpsim;
beforeAll(async () => {
  sim = await startSnmpsim({ edges: `${EDGES}\n` });
});
afterAll(async () => {
  await sim?.stop();
});

function device(community: string, over: Partial<Device> = {}): Device {
  return {
    id: community,
    siteId: 'lab',
    role: 'router',
    host: sim.host,
    port: sim.port,
    profile: 'generic',
    snmp: { version: '2c', community: new Secret(community) },
    ...over,
  };
}

/** The same calls through a client: everything it read, or the failure's code. */
async function readAll(client: SnmpClient): Promise<unknown[]> {
  const out: unknown[] = [];
  const step = async (f: () => Promise<unknown>): Promise<void> => {
    try {
      out.push(await f());
    } catch (err) {
      out.push({ failed: (err as { code?: string }).code });
    }
  };
  await step(() =>
    client.get(['1.3.6.1.2.1.1.1.0', '1.3.6.1.2.1.1.2.0', '1.3.6.1.2.1.1.3.0', '1.3.6.1.2.1.1.99.0']),
  );
  await step(() =>
    client.getBulk(['1.3.6.1.2.1.1.3', '1.3.6.1.2.1.2.2.1.2', '1.3.6.1.2.1.31.1.1.1.6'], 1, 5),
  );
  await step(() => client.getBulk(['1.3.6.1.2.1.1', '1.3.6.1.2.1.4.20'], 0, 12));
  // The first rows of the vendor subtree: whatever types the vendor MIBs use.
  await step(() => client.getBulk(['1.3.6.1.4.1'], 0, 40));
  for (const base of ['1.3.6.1.2.1.1', '1.3.6.1.2.1.2', '1.3.6.1.2.1.4.20', '1.3.6.1.2.1.31'])
    await step(async () => [...(await walkColumns(client, [base], { maxRepetitions: 20 })).columns]);
  return out;
}

async function both(d: Device): Promise<{ own: unknown[]; lib: unknown[] }> {
  const own = openSnmpClient(d, { timeoutMs: 3000, retries: 0 });
  const lib = openSnmpClient(d, { timeoutMs: 3000, retries: 0, codec: 'net-snmp' });
  try {
    return { own: await readAll(own), lib: await readAll(lib) };
  } finally {
    own.close();
    lib.close();
  }
}

describe('own v2c codec and net-snmp read the same', () => {
  it.each(['edges', ...recordingNames()])(
    'recording %s',
    async (name) => {
      const { own, lib } = await both(device(name));
      expect(own).toEqual(lib);
      // Something was read, not two equal failures.
      expect(JSON.stringify(own, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).toContain(
        '1.3.6.1.2.1.1.3.0',
      );
    },
    60_000,
  );

  it('a wrong community is a timeout to both', async () => {
    for (const codec of ['own', 'net-snmp'] as const) {
      const c = openSnmpClient(device('nobody-home'), { timeoutMs: 500, retries: 0, codec });
      try {
        await expect(c.get(['1.3.6.1.2.1.1.3.0'])).rejects.toMatchObject({
          code: 'timeout',
          retryable: true,
        });
      } finally {
        c.close();
      }
    }
  });
});

describe('failures of the own codec', () => {
  it('an agent that answers garbage: decode, not a hang; then a real reply is read again', async () => {
    const agent = createSocket('udp4');
    await new Promise<void>((r) => agent.bind(0, '127.0.0.1', r));
    let garbage = true;
    agent.on('message', (msg, rinfo) => {
      // The first datagram gets junk; later ones are relayed to snmpsim and its answer sent back.
      if (garbage) {
        garbage = false;
        agent.send(Buffer.from('not snmp at all'), rinfo.port, rinfo.address);
        return;
      }
      const up = createSocket('udp4');
      up.on('message', (reply) => {
        agent.send(reply, rinfo.port, rinfo.address);
        up.close();
      });
      up.send(msg, sim.port, sim.host);
    });
    const c = openSnmpClient(device('edges', { host: '127.0.0.1', port: agent.address().port }), {
      timeoutMs: 700,
      retries: 1,
    });
    try {
      await expect(c.get(['1.3.6.1.2.1.1.3.0'])).rejects.toMatchObject({ code: 'decode' });
      expect(await c.get(['1.3.6.1.2.1.1.3.0'])).toMatchObject([
        { oid: '1.3.6.1.2.1.1.3.0', type: 'TimeTicks' },
      ]);
    } finally {
      c.close();
      agent.close();
    }
  });

  it('closing a client fails what it has in flight, and it refuses new requests', async () => {
    const c = openSnmpClient(device('nobody-home'), { timeoutMs: 5000, retries: 0 });
    const inFlight = c.get(['1.3.6.1.2.1.1.3.0']);
    c.close();
    await expect(inFlight).rejects.toMatchObject({
      code: 'internal',
      message: expect.stringContaining('session closed') as unknown,
    });
    await expect(c.get(['1.3.6.1.2.1.1.3.0'])).rejects.toMatchObject({ code: 'internal' });
  });
});
