import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { deviceValuesAt } from '../../../simulator/device-model.ts';
import { answerPdu, compareOid, mibViewFor } from '../../../simulator/mib-view.ts';
import { PduType } from '../../../simulator/snmp-message.ts';
import { BerReader, Tag } from '../../../simulator/ber.ts';
import { FleetSimulator } from '../../../simulator/fleet.ts';
import { syntheticInventory } from '../../../simulator/synthetic-inventory.ts';

const inv = syntheticInventory({ sites: 40, port: 16100, seed: 9 });
const sim = new FleetSimulator({ inventory: inv, seed: 9, clock: new FakeClock() });
const t = Date.UTC(2026, 10, 3, 3);

/** Decode the varbinds an answer encoded: [oid string, tag]. */
function decodeVarbinds(bufs: readonly Buffer[]): [string, number][] {
  return bufs.map((b) => {
    const r = new BerReader(b).readConstructed(Tag.Sequence);
    const oid = r.readOid().join('.');
    return [oid, r.peekTag()];
  });
}

function ask(
  id: string,
  type: number,
  oids: number[][],
  nonRepeaters = 0,
  maxRepetitions = 0,
  budget = 60000,
): [string, number][] {
  const m = sim.model(id);
  const a = answerPdu(
    mibViewFor(m),
    m,
    () => deviceValuesAt(m, {}, t),
    {
      type,
      requestId: 1,
      errorStatus: nonRepeaters,
      errorIndex: maxRepetitions,
      varbinds: oids.map((oid) => ({ oid, value: { type: 'null' } })),
    },
    budget,
  );
  return decodeVarbinds(a.varbinds);
}

describe('MIB view', () => {
  it('lists every instance in strict lexicographic OID order', () => {
    for (const d of inv.devices.slice(0, 30)) {
      const { entries } = mibViewFor(sim.model(d.id));
      for (let i = 1; i < entries.length; i++) {
        expect(compareOid(entries[i - 1]?.oid ?? [], entries[i]?.oid ?? [])).toBeLessThan(0);
      }
    }
  });

  it('walks with GETNEXT from anywhere, ending in endOfMibView', () => {
    const id = inv.devices[0]?.id ?? '';
    expect(ask(id, PduType.GetNext, [[1, 3]])[0]?.[0]).toBe('1.3.6.1.2.1.1.1.0');
    expect(ask(id, PduType.GetNext, [[1, 3, 6, 1, 2, 1, 2, 2, 1, 10]])[0]?.[0]).toBe(
      '1.3.6.1.2.1.2.2.1.10.1',
    );
    expect(ask(id, PduType.GetNext, [[1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 1]])[0]?.[0]).toBe(
      '1.3.6.1.2.1.2.2.1.10.2',
    );
    expect(ask(id, PduType.GetNext, [[2, 0]])[0]).toEqual(['2.0', Tag.EndOfMibView]);
  });

  it('answers GET with noSuchInstance / noSuchObject', () => {
    const id = inv.devices[0]?.id ?? '';
    const r = ask(id, PduType.Get, [
      [1, 3, 6, 1, 2, 1, 1, 3, 0],
      [1, 3, 6, 1, 2, 1, 1, 3, 1],
      [1, 3, 6, 1, 9, 9],
    ]);
    expect(r.map((x) => x[1])).toEqual([Tag.TimeTicks, Tag.NoSuchInstance, Tag.NoSuchObject]);
  });

  it('GETBULK repeats each column max-repetitions times, after the non-repeaters', () => {
    const id = inv.devices[0]?.id ?? '';
    const r = ask(
      id,
      PduType.GetBulk,
      [
        [1, 3, 6, 1, 2, 1, 1, 3],
        [1, 3, 6, 1, 2, 1, 2, 2, 1, 2],
        [1, 3, 6, 1, 2, 1, 2, 2, 1, 10],
      ],
      1,
      3,
    );
    expect(r.map((x) => x[0])).toEqual([
      '1.3.6.1.2.1.1.3.0',
      '1.3.6.1.2.1.2.2.1.2.1',
      '1.3.6.1.2.1.2.2.1.10.1',
      '1.3.6.1.2.1.2.2.1.2.2',
      '1.3.6.1.2.1.2.2.1.10.2',
      '1.3.6.1.2.1.2.2.1.2.3',
      '1.3.6.1.2.1.2.2.1.10.3',
    ]);
    // Past the end: stops once every repeater is at endOfMibView.
    const end = ask(id, PduType.GetBulk, [[1, 3, 6, 1, 4, 1, 99999]], 0, 50);
    expect(end.length).toBeLessThanOrEqual(2);
    expect(end.at(-1)?.[1]).toBe(Tag.EndOfMibView);
  });

  it('trims a GETBULK answer to the datagram budget', () => {
    const id = inv.devices[0]?.id ?? '';
    const r = ask(id, PduType.GetBulk, [[1, 3, 6, 1]], 0, 1000, 400);
    expect(r.length).toBeGreaterThan(3);
    expect(r.length).toBeLessThan(30);
  });

  it('serves HC counters except on legacy devices, and the vendor Wi-Fi OIDs by profile', () => {
    const hc = [1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 1];
    let legacy = 0;
    for (const d of inv.devices) {
      const m = sim.model(d.id);
      const tag = ask(d.id, PduType.Get, [hc])[0]?.[1];
      expect(tag).toBe(m.legacy ? Tag.NoSuchObject : Tag.Counter64);
      if (m.legacy) legacy++;
      const wifiBase: Record<string, string> = {
        'mikrotik-routeros': '1.3.6.1.4.1.14988.1.1.1.3.1.6.',
        'unifi-ap': '1.3.6.1.4.1.41112.1.6.1.2.1.8.',
        airmax: '1.3.6.1.4.1.41112.1.4.5.1.15.',
        'cisco-wlc': '1.3.6.1.4.1.14179.2.1.1.1.38.',
      };
      const base = wifiBase[m.profile];
      const oids = mibViewFor(m).entries.map((e) => e.oid.join('.'));
      if (base) expect(oids.some((o) => o.startsWith(base))).toBe(true);
      else expect(oids.some((o) => o.startsWith('1.3.6.1.4.1.'))).toBe(false);
    }
    expect(legacy).toBeGreaterThan(0);
  });
});
