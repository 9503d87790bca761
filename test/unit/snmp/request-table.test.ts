/**
 * The table of requests in flight by id (collector/sources/snmp/request-table.ts): ids it hands out are
 * free, stay a positive INTEGER32 and wrap; a reply's id finds only its own request; growth keeps every
 * request findable.
 */
import { describe, expect, it } from 'vitest';
import { RequestTable } from '../../../collector/sources/snmp/request-table.ts';

interface Req {
  readonly id: number;
  readonly tag: string;
}

function fill(t: RequestTable<Req>, n: number): Req[] {
  const out: Req[] = [];
  for (let i = 0; i < n; i++) {
    const r = { id: t.nextId(), tag: `r${i}` };
    t.add(r);
    out.push(r);
  }
  return out;
}

describe('RequestTable', () => {
  it('hands out consecutive ids from its start, each found by its own id only', () => {
    const t = new RequestTable<Req>(16, 1000);
    const rs = fill(t, 5);
    expect(rs.map((r) => r.id)).toEqual([1000, 1001, 1002, 1003, 1004]);
    expect(t.size).toBe(5);
    for (const r of rs) expect(t.get(r.id)).toBe(r);
    // Same slot (16 slots: 1000 + 16 and 1000 share one), another id: not this request's reply.
    expect(t.get(1016)).toBeUndefined();
    expect(t.get(999)).toBeUndefined();
  });

  it('skips ids whose slot is taken, so a new id never lands on a request in flight', () => {
    const t = new RequestTable<Req>(16, 1);
    const first = fill(t, 1)[0]!; // id 1, slot 1
    const taken = new Set([first.id]);
    // Go once round the 16 slots with requests taken out at once: the id after 16 is 17, slot 1, taken.
    for (let i = 0; i < 15; i++) {
      const r = { id: t.nextId(), tag: 'short' };
      t.add(r);
      expect(t.delete(r)).toBe(true);
    }
    const next = t.nextId();
    expect(next).toBe(18);
    expect(taken.has(next)).toBe(false);
    expect(t.get(first.id)).toBe(first);
  });

  it('keeps ids within 1 .. 2^31 - 1, wrapping to 1', () => {
    const t = new RequestTable<Req>(16, 0x7ffffffe);
    const ids = fill(t, 3).map((r) => r.id);
    expect(ids).toEqual([0x7ffffffe, 0x7fffffff, 1]);
    expect(new RequestTable<Req>(16, 0).nextId()).toBe(1);
    expect(new RequestTable<Req>(16, 2 ** 40).nextId()).toBe(0x7fffffff);
  });

  it('grows past its capacity with every request still found, and ids still unique', () => {
    const t = new RequestTable<Req>(16, 123_456);
    const rs = fill(t, 5_000);
    expect(t.size).toBe(5_000);
    expect(new Set(rs.map((r) => r.id)).size).toBe(5_000);
    for (const r of rs) expect(t.get(r.id)).toBe(r);
    // Half go, their ids no longer match; the rest still do.
    for (const r of rs.filter((_, i) => i % 2 === 0)) expect(t.delete(r)).toBe(true);
    expect(t.size).toBe(2_500);
    rs.forEach((r, i) => expect(t.get(r.id)).toBe(i % 2 === 0 ? undefined : r));
  });

  it('deletes only the entry it holds, and lists a copy that survives deletion while going through it', () => {
    const t = new RequestTable<Req>(16, 50);
    const [a, b, c] = fill(t, 3) as [Req, Req, Req];
    expect(t.delete({ id: a.id, tag: 'impostor' })).toBe(false);
    expect(t.get(a.id)).toBe(a);
    const seen: string[] = [];
    for (const r of t.entries()) {
      seen.push(r.tag);
      t.delete(r);
    }
    expect(seen.sort()).toEqual([a.tag, b.tag, c.tag].sort());
    expect(t.size).toBe(0);
    expect(t.entries()).toEqual([]);
    expect(t.delete(b)).toBe(false);
  });

  it('refuses an entry whose slot is taken (an id not from nextId, or added twice)', () => {
    const t = new RequestTable<Req>(16, 7);
    const r = fill(t, 1)[0]!;
    expect(() => t.add({ id: r.id + 16, tag: 'clash' })).toThrow(/slot is taken/);
    expect(t.get(r.id)).toBe(r);
  });
});
