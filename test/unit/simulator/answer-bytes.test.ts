/**
 * The simulator's answer path writes varbinds straight into one buffer (simulator/mib-view.ts
 * VarbindWriter). Its bytes must be exactly those of the generic encoder (snmp-message.ts encodeVarbind),
 * for every value a device serves and for the edges of each value type.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { encodeOid } from '../../../simulator/ber.ts';
import { deviceValuesAt, type DeviceModel } from '../../../simulator/device-model.ts';
import { FleetSimulator } from '../../../simulator/fleet.ts';
import { answerPdu, mibViewFor, type MibView } from '../../../simulator/mib-view.ts';
import { PduType, encodeVarbind, type SnmpValue } from '../../../simulator/snmp-message.ts';
import { syntheticInventory } from '../../../simulator/synthetic-inventory.ts';

const inv = syntheticInventory({ sites: 25, port: 16100, seed: 4 });
const sim = new FleetSimulator({ inventory: inv, seed: 4, clock: new FakeClock() });
const t = Date.UTC(2026, 11, 3, 9, 30);

function get(view: MibView, model: DeviceModel, oids: readonly (readonly number[])[], budget = 60000) {
  return answerPdu(
    view,
    model,
    () => deviceValuesAt(model, {}, t),
    {
      type: PduType.Get,
      requestId: 1,
      errorStatus: 0,
      errorIndex: 0,
      varbinds: oids.map((oid) => ({ oid, value: { type: 'null' } })),
    },
    budget,
  );
}

describe('the answer path writes the bytes of the generic encoder', () => {
  it('for every value of every simulated device', () => {
    let checked = 0;
    for (const d of inv.devices) {
      const model = sim.model(d.id);
      const view = mibViewFor(model);
      const values = deviceValuesAt(model, {}, t);
      const a = get(
        view,
        model,
        view.entries.map((e) => e.oid),
      );
      expect(a.errorStatus).toBe(0);
      expect(a.varbinds).toHaveLength(view.entries.length);
      view.entries.forEach((e, i) => {
        const want = encodeVarbind({ oid: e.oid, value: e.get(model, () => values) });
        expect(a.varbinds[i]?.equals(want), e.oid.join('.')).toBe(true);
        checked++;
      });
      expect(a.bytes?.equals(Buffer.concat(a.varbinds))).toBe(true);
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('for the edges of each value type', () => {
    const edges: SnmpValue[] = [
      ...[0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffff, 0x800000, 0x7fffffff, 0x80000000]
        .concat([0xffffffff])
        .flatMap((value) => [
          { type: 'counter32' as const, value },
          { type: 'gauge32' as const, value },
          { type: 'timeticks' as const, value },
        ]),
      ...[0, 1, -1, 127, 128, -128, -129, 255, 256, 32767, 32768, -32768, -32769, 8388607, 8388608]
        .concat([-8388609, 2147483647, -2147483648, 2147483648, -2147483649, 2 ** 40])
        .map((value) => ({ type: 'integer' as const, value })),
      ...[0n, 1n, 0x7fn, 0x80n, 0xffn, 0x100n, 2n ** 32n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n].map(
        (value) => ({ type: 'counter64' as const, value }),
      ),
      ...[
        '',
        'ether1',
        'Kantor Camat Kuta Utara — lantai 2',
        'x'.repeat(127),
        'y'.repeat(128),
        'z'.repeat(300),
      ].map((value) => ({ type: 'octets' as const, value })),
      { type: 'octets', value: Buffer.from([0, 1, 2, 0xff]) },
      { type: 'oid', value: [1, 3, 6, 1, 4, 1, 14988, 1] },
      { type: 'null' },
    ];
    const model = sim.model(inv.devices[0]?.id ?? '');
    const oid = (i: number): number[] => [1, 3, 6, 1, 4, 1, 99999, i, 0];
    const view: MibView = {
      entries: edges.map((v, i) => ({ oid: oid(i), oidTlv: encodeOid(oid(i)), get: () => v })),
      objects: new Set(),
    };
    const a = get(
      view,
      model,
      edges.map((_, i) => oid(i)),
    );
    edges.forEach((v, i) => {
      expect(
        a.varbinds[i]?.equals(encodeVarbind({ oid: oid(i), value: v })),
        JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x)),
      ).toBe(true);
    });
  });

  it('keeps to the budget: a GET that does not fit is tooBig, with nothing written', () => {
    const model = sim.model(inv.devices[0]?.id ?? '');
    const view = mibViewFor(model);
    const a = get(
      view,
      model,
      view.entries.map((e) => e.oid),
      100,
    );
    expect(a.errorStatus).toBe(1);
    expect(a.varbinds).toHaveLength(0);
  });
});
