/**
 * A min-heap whose items know their own position, so that removing or re-keying any item is O(log n)
 * without a search (Array.indexOf + splice over 30,000 devices is what a scheduler must avoid).
 * The key is read from the item when it is pushed and when update() is called: change it only while the
 * item is out of the heap, or call update() after changing it. An item may be in several heaps, each
 * keeping its position in a field of its own (`slot`): -1 when the item is in no heap of that slot.
 *
 * Laid out for the memory cache (issue #14): the keys sit in a Float64Array beside the items, so a sift
 * compares numbers side by side instead of reading a key from an object scattered over the heap at each
 * step (a cache miss each, most of the scheduler's time in the 1x profile); four children a node (half
 * the levels of a binary heap, their keys in one cache line); and an item moving down or up is written
 * once where it lands, the ones it passes moving one step each (one write, not a swap of two).
 */
export interface HeapSlot<T> {
  get(item: T): number;
  set(item: T, index: number): void;
}

const ARITY = 4;

export class IndexedHeap<T> {
  readonly #items: T[] = [];
  #keys = new Float64Array(64);
  readonly #key: (item: T) => number;
  readonly #slot: HeapSlot<T>;

  constructor(key: (item: T) => number, slot: HeapSlot<T>) {
    this.#key = key;
    this.#slot = slot;
  }

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  has(item: T): boolean {
    const i = this.#slot.get(item);
    return i >= 0 && this.#items[i] === item;
  }

  push(item: T): void {
    const i = this.#items.length;
    if (i === this.#keys.length) {
      const grown = new Float64Array(i * 2);
      grown.set(this.#keys);
      this.#keys = grown;
    }
    this.#items.push(item);
    this.#up(i, item, this.#key(item));
  }

  pop(): T | undefined {
    const top = this.#items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  remove(item: T): void {
    if (!this.has(item)) return;
    const i = this.#slot.get(item);
    const lastAt = this.#items.length - 1;
    const lastKey = this.#keys[lastAt] ?? 0;
    const last = this.#items.pop() as T;
    this.#slot.set(item, -1);
    if (i === lastAt) return;
    this.#place(i, last, lastKey);
  }

  /** The item's key changed: move it to its place. */
  update(item: T): void {
    if (!this.has(item)) return;
    this.#place(this.#slot.get(item), item, this.#key(item));
  }

  clear(): void {
    for (const item of this.#items) this.#slot.set(item, -1);
    this.#items.length = 0;
  }

  /** `item` (key `key`) goes to position i, or up or down from it to where it belongs. */
  #place(i: number, item: T, key: number): void {
    if (i > 0 && key < (this.#keys[((i - 1) / ARITY) | 0] ?? 0)) this.#up(i, item, key);
    else this.#down(i, item, key);
  }

  #set(i: number, item: T, key: number): void {
    this.#items[i] = item;
    this.#keys[i] = key;
    this.#slot.set(item, i);
  }

  #up(i: number, item: T, key: number): void {
    const items = this.#items;
    const keys = this.#keys;
    while (i > 0) {
      const parent = ((i - 1) / ARITY) | 0;
      const parentKey = keys[parent] ?? 0;
      if (!(key < parentKey)) break;
      this.#set(i, items[parent] as T, parentKey);
      i = parent;
    }
    this.#set(i, item, key);
  }

  #down(i: number, item: T, key: number): void {
    const items = this.#items;
    const keys = this.#keys;
    const n = items.length;
    for (;;) {
      const first = ARITY * i + 1;
      if (first >= n) break;
      const end = Math.min(first + ARITY, n);
      let m = first;
      let mKey = keys[first] ?? 0;
      for (let c = first + 1; c < end; c++) {
        const k = keys[c] ?? 0;
        if (k < mKey) {
          m = c;
          mKey = k;
        }
      }
      if (!(mKey < key)) break;
      this.#set(i, items[m] as T, mKey);
      i = m;
    }
    this.#set(i, item, key);
  }
}
