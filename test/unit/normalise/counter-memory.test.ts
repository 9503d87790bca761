/**
 * The compact counter memory (collector/normalise/counter-memory.ts): what it gives back, in place
 * rewrites as tables grow and shrink, and readings it cannot hold exactly kept as they are. That normalise
 * gets the same results from it as from the reading is shown over random readings in properties.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { DeviceReading, InterfaceReading } from '../../../collector/core/types.ts';
import { CounterMemory } from '../../../collector/normalise/counter-memory.ts';

function ifc(ifIndex: number, over: Partial<InterfaceReading> = {}): InterfaceReading {
  return {
    ifIndex,
    name: `ether${ifIndex}`,
    descr: 'not remembered',
    operStatus: 1,
    speedBps: 1e9,
    counterBits: 64,
    inOctets: 1000n * BigInt(ifIndex),
    outOctets: 2n ** 64n - 1n,
    inErrors: 0n,
    ...over,
  };
}

function reading(timeMs: number, interfaces: InterfaceReading[], sysUpTimeCs?: number): DeviceReading {
  return { deviceId: 'r1', timeMs, sysUpTimeCs, interfaces, wifi: [{ index: '1', clients: 4 }] };
}

describe('CounterMemory', () => {
  it('gives back the time, uptime and per row ifIndex, name, width and the counters present', () => {
    const m = new CounterMemory();
    expect(m.get('r1')).toBeUndefined();
    m.set(reading(5000, [ifc(1), ifc(7, { counterBits: 32, inOctets: undefined, outOctets: 5n })], 1234));
    expect(m.get('r1')).toEqual({
      deviceId: 'r1',
      timeMs: 5000,
      sysUpTimeCs: 1234,
      interfaces: [
        {
          ifIndex: 1,
          name: 'ether1',
          counterBits: 64,
          inOctets: 1000n,
          outOctets: 2n ** 64n - 1n,
          inErrors: 0n,
        },
        { ifIndex: 7, name: 'ether7', counterBits: 32, outOctets: 5n, inErrors: 0n },
      ],
      wifi: [],
    });
  });

  it('rewrites a device in place as its table shrinks and grows', () => {
    const m = new CounterMemory();
    m.set(reading(1, [ifc(1), ifc(2), ifc(3)]));
    m.set(reading(2, [ifc(3, { inOctets: 9n })], undefined));
    expect(m.get('r1')!.interfaces).toEqual([
      { ifIndex: 3, name: 'ether3', counterBits: 64, inOctets: 9n, outOctets: 2n ** 64n - 1n, inErrors: 0n },
    ]);
    expect(m.get('r1')!.sysUpTimeCs).toBeUndefined();
    m.set(reading(3, [ifc(4), ifc(2), ifc(5), ifc(6)]));
    expect(m.get('r1')!.interfaces.map((i) => [i.ifIndex, i.name, i.inOctets])).toEqual([
      [4, 'ether4', 4000n],
      [2, 'ether2', 2000n],
      [5, 'ether5', 5000n],
      [6, 'ether6', 6000n],
    ]);
    expect(m.size).toBe(1);
    m.delete('r1');
    expect(m.get('r1')).toBeUndefined();
    expect(m.size).toBe(0);
  });

  it('keeps a reading with a counter outside 0..2^64-1 as it is (normalise reports it)', () => {
    const m = new CounterMemory();
    for (const bad of [-1n, 2n ** 64n]) {
      const r = reading(1, [ifc(1, { inOctets: bad })]);
      m.set(r);
      expect(m.get('r1')).toBe(r);
    }
    m.set(reading(2, [ifc(1)]));
    expect(m.get('r1')!.interfaces[0]!.inOctets).toBe(1000n);
  });
});
