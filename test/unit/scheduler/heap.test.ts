import { describe, expect, it } from 'vitest';
import { IndexedHeap } from '../../../collector/scheduler/heap.ts';

interface Item {
  key: number;
  at: number;
}

describe('IndexedHeap', () => {
  it('pops in key order through random pushes, removals and re-keys, like a sorted list', () => {
    let seed = 7;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const heap = new IndexedHeap<Item>((i) => i.key, { get: (i) => i.at, set: (i, n) => (i.at = n) });
    const model = new Set<Item>();
    for (let step = 0; step < 5000; step++) {
      const op = rnd();
      const members = [...model];
      if (op < 0.5 || members.length === 0) {
        const item = { key: Math.floor(rnd() * 1000), at: -1 };
        heap.push(item);
        model.add(item);
      } else if (op < 0.65) {
        const item = members[Math.floor(rnd() * members.length)] as Item;
        heap.remove(item);
        model.delete(item);
        expect(heap.has(item)).toBe(false);
      } else if (op < 0.8) {
        const item = members[Math.floor(rnd() * members.length)] as Item;
        item.key = Math.floor(rnd() * 1000);
        heap.update(item);
      } else {
        const min = Math.min(...members.map((m) => m.key));
        const top = heap.pop();
        expect(top?.key).toBe(min);
        model.delete(top as Item);
      }
      expect(heap.size).toBe(model.size);
    }
    const rest: number[] = [];
    for (let t = heap.pop(); t; t = heap.pop()) rest.push(t.key);
    expect(rest).toEqual([...model].map((m) => m.key).sort((a, b) => a - b));
  });
});
