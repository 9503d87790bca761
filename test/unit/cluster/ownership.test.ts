/**
 * Rendezvous ownership with pins (collector/cluster/ownership.ts): a fair share each, a join moves about
 * 1/n (all to the newcomer), a death moves only the dead member's devices, pins are honoured.
 */
import { describe, expect, it } from 'vitest';
import {
  assign,
  eligible,
  handover,
  ownedBy,
  ownerOf,
  type OwnerCandidate,
  type PlacedDevice,
} from '../../../collector/cluster/ownership.ts';

const KEC = ['Kuta', 'Kuta Selatan', 'Kuta Utara', 'Mengwi', 'Abiansemal', 'Petang'];
const devices: PlacedDevice[] = Array.from({ length: 3000 }, (_, i) => ({
  id: `site-${Math.floor(i / 3)}-${['rtr', 'ap1', 'ap2'][i % 3] ?? 'x'}`,
  kecamatan: KEC[Math.floor(i / 3) % KEC.length] ?? 'Kuta',
}));
const member = (id: string, pins: string[] = []): OwnerCandidate => ({ id, pins });
const three = [member('col-1'), member('col-2'), member('col-3')];

function counts(owners: Map<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of owners.values()) out[m] = (out[m] ?? 0) + 1;
  return out;
}

function moved(a: Map<string, string>, b: Map<string, string>): string[] {
  return [...a.keys()].filter((id) => a.get(id) !== b.get(id));
}

describe('rendezvous ownership', () => {
  it('gives every device exactly one owner and each member a fair share', () => {
    const owners = assign(devices, three);
    expect(owners.size).toBe(devices.length);
    const c = counts(owners);
    for (const m of three) {
      expect(c[m.id]).toBeGreaterThan(900);
      expect(c[m.id]).toBeLessThan(1100);
    }
  });

  it('is the same whatever the order of the members (every member computes the same answer)', () => {
    expect(assign(devices, [...three].reverse())).toEqual(assign(devices, three));
  });

  it('ownedBy agrees with assign, and is empty for a member not in the view', () => {
    const owners = assign(devices, three);
    const mine = ownedBy('col-2', devices, three);
    expect(mine).toEqual(devices.filter((d) => owners.get(d.id) === 'col-2').map((d) => d.id));
    expect(ownedBy('col-9', devices, three)).toEqual([]);
  });

  it.each([
    [1, 2],
    [2, 3],
    [3, 4],
    [5, 6],
  ])('a join from %i to %i members moves about 1/n, every moved device to the newcomer', (from, to) => {
    const before = Array.from({ length: from }, (_, i) => member(`col-${i + 1}`));
    const after = [...before, member(`col-${to}`)];
    const a = assign(devices, before);
    const b = assign(devices, after);
    const m = moved(a, b);
    const share = m.length / devices.length;
    expect(share).toBeGreaterThan((1 / to) * 0.85);
    expect(share).toBeLessThan((1 / to) * 1.15);
    expect(new Set(m.map((id) => b.get(id)))).toEqual(new Set([`col-${to}`]));
  });

  it.each(['col-1', 'col-2', 'col-3'])('the death of %s moves only its own devices', (dead) => {
    const a = assign(devices, three);
    const b = assign(
      devices,
      three.filter((m) => m.id !== dead),
    );
    const m = moved(a, b);
    expect(m.length).toBe([...a.values()].filter((o) => o === dead).length);
    expect(m.every((id) => a.get(id) === dead)).toBe(true);
    expect(m.every((id) => b.get(id) !== dead && b.get(id) !== undefined)).toBe(true);
  });

  it('nobody owns anything in an empty view', () => {
    expect(assign(devices, []).size).toBe(0);
    expect(ownerOf({ id: 'x', kecamatan: 'Kuta' }, [])).toBeUndefined();
  });
});

describe('pins', () => {
  const edge = member('edge-ks', ['Kuta Selatan']);
  const withEdge = [...three, edge];

  it("a pinned member alone polls its kecamatan's devices, and nothing else", () => {
    const owners = assign(devices, withEdge);
    for (const d of devices) {
      if (d.kecamatan === 'Kuta Selatan') expect(owners.get(d.id)).toBe('edge-ks');
      else expect(owners.get(d.id)).not.toBe('edge-ks');
    }
  });

  it('two members pinned to one kecamatan share it', () => {
    const owners = assign(devices, [...withEdge, member('edge-ks-2', ['Kuta Selatan'])]);
    const ks = devices.filter((d) => d.kecamatan === 'Kuta Selatan').map((d) => owners.get(d.id));
    expect(new Set(ks)).toEqual(new Set(['edge-ks', 'edge-ks-2']));
  });

  it('when the pinned member dies, the unpinned ones take its kecamatan; nothing else moves', () => {
    const a = assign(devices, withEdge);
    const b = assign(devices, three);
    const m = moved(a, b);
    expect(m.length).toBe(devices.filter((d) => d.kecamatan === 'Kuta Selatan').length);
    expect(m.every((id) => a.get(id) === 'edge-ks')).toBe(true);
  });

  it('a kecamatan without a pinned member is left to the unpinned ones only', () => {
    expect(eligible(withEdge, 'Mengwi').map((m) => m.id)).toEqual(['col-1', 'col-2', 'col-3']);
    expect(eligible(withEdge, 'Kuta Selatan').map((m) => m.id)).toEqual(['edge-ks']);
    // Only pinned members live: the other kecamatan have no eligible member (their devices wait).
    expect(ownerOf({ id: 'x', kecamatan: 'Mengwi' }, [edge])).toBeUndefined();
  });
});

describe('strict pins (edges)', () => {
  const edge = member('edge-ks', ['Kuta Selatan']);
  const strict = new Set(['Kuta Selatan']);
  const ks = devices.filter((d) => d.kecamatan === 'Kuta Selatan');

  const cases: [string, OwnerCandidate[], string, string[]][] = [
    ['edge live: only the edge', [...three, edge], 'Kuta Selatan', ['edge-ks']],
    ['edge gone: nobody (the centre never takes it)', three, 'Kuta Selatan', []],
    ['edge gone, other kecamatan: the unpinned ones', three, 'Mengwi', ['col-1', 'col-2', 'col-3']],
    ['edge live, other kecamatan: the unpinned ones', [...three, edge], 'Kuta', ['col-1', 'col-2', 'col-3']],
    ['nobody live', [], 'Kuta Selatan', []],
  ];
  it.each(cases)('%s', (_what, live, kecamatan, want) => {
    expect(eligible(live, kecamatan, strict).map((m) => m.id)).toEqual(want);
  });

  it("when the edge goes silent its devices stay unowned and nobody else's move", () => {
    const a = assign(devices, [...three, edge], strict);
    const b = assign(devices, three, strict);
    expect(ks.every((d) => a.get(d.id) === 'edge-ks')).toBe(true);
    expect(ks.every((d) => !b.has(d.id))).toBe(true);
    expect(moved(a, b).length).toBe(ks.length);
    for (const c of three) {
      expect(ownedBy(c.id, devices, three, strict).some((id) => ks.some((d) => d.id === id))).toBe(false);
      expect(ownedBy(c.id, devices, three, strict)).toEqual(ownedBy(c.id, devices, [...three, edge], strict));
    }
  });

  it('without strict pins the old rule holds: the centre takes a dead edge over', () => {
    expect(assign(devices, three).size).toBe(devices.length);
    expect(ownerOf(ks[0] ?? { id: '', kecamatan: '' }, three, new Set())).toBeDefined();
  });
});

describe('handover', () => {
  it('names the devices to start and to stop polling', () => {
    expect(handover(new Set(['a', 'b', 'c']), new Set(['b', 'c', 'd']))).toEqual({
      acquired: ['d'],
      released: ['a'],
    });
    expect(handover(new Set(['a']), new Set(['a']))).toEqual({ acquired: [], released: [] });
  });
});
