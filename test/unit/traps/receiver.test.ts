/**
 * The trap receiver on a real UDP socket (npm net-snmp's receiver), fed by the simulator's trap sender
 * from loopback addresses: a known device's trap asks for a poll and is recorded; an unknown source and a
 * wrong community are counted and dropped.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Secret } from '../../../collector/core/secret.ts';
import type { Inventory } from '../../../collector/core/types.ts';
import type { RunningTraps } from '../../../collector/sources/traps/attach.ts';
import { sendTrap } from '../../../simulator/traps.ts';
import { waitFor } from '../../support/ports.ts';
import { startTestTraps } from '../../support/traps.ts';

const inventory: Inventory = {
  sites: [
    {
      id: 'kd-sibang',
      name: 'Kantor Desa Sibang Gede',
      category: 'kantor_desa',
      kecamatan: 'Abiansemal',
      desa: 'Sibang Gede',
      lat: -8.55,
      lon: 115.22,
      criticality: 'high',
    },
  ],
  devices: [
    {
      id: 'kd-sibang-rtr',
      siteId: 'kd-sibang',
      role: 'router',
      host: '127.0.214.1',
      port: 161,
      profile: 'generic',
      snmp: { version: '2c', community: new Secret('c0mmunity') },
    },
  ],
};

let traps: RunningTraps | undefined;
afterEach(async () => {
  await traps?.stop();
  traps = undefined;
});

describe('trap receiver (net-snmp) with the simulator trap sender', () => {
  it('accepts a known device, drops unknown sources and wrong communities, counting each', async () => {
    const started = await startTestTraps(inventory);
    const { polls, samples } = started;
    traps = started.traps;
    const to = { host: '127.0.0.1', port: traps.port };
    await sendTrap({
      from: '127.0.214.1',
      to,
      community: 'c0mmunity',
      type: 'linkDown',
      uptimeCs: 500,
      ifIndex: 3,
    });
    await waitFor(() => polls.length === 1, { timeoutMs: 5000 });
    expect(polls).toEqual(['kd-sibang-rtr']);
    expect(samples).toEqual([
      expect.objectContaining({
        measurement: 'trap',
        tags: expect.objectContaining({ device: 'kd-sibang-rtr', trap: 'linkDown' }) as unknown,
        fields: { source: '127.0.214.1', version: '2c', if_index: 3 },
      }),
    ]);
    await sendTrap({ from: '127.0.214.2', to, community: 'c0mmunity', type: 'coldStart', uptimeCs: 1 });
    await sendTrap({ from: '127.0.214.1', to, community: 'public', type: 'coldStart', uptimeCs: 1 });
    await waitFor(() => traps?.stats().received === 3, { timeoutMs: 5000 });
    expect(traps.stats()).toEqual({
      received: 3,
      accepted: 1,
      droppedUnknownSource: 1,
      droppedAuth: 1,
      bad: 0,
    });
    expect(polls).toEqual(['kd-sibang-rtr']);
  });
});
