/**
 * The requests in flight of a transport, by request id: ids are handed out by the table itself, each to
 * a free slot of a power-of-two array (slot = id & mask), so a lookup is one array read and nothing is
 * allocated per request. The array doubles when half full, so a free id is found in a probe or two.
 *
 * Why not a Map (issue #14): with one Map of every request in flight (the shared transport, b6c1b52),
 * `npm run bench`'s poller went from 0.08 to 0.16-0.25 CPU-ms per poll, with GC taking the difference;
 * with this table it is back at 0.07-0.10 (runs alternated with the Map's). The likely cause: the table
 * lives as long as the process, in V8's old generation, while its entries come and go thousands of times
 * a second, and a Map replaces its backing store as deletions pile up; stale stores in the old
 * generation keep young requests (and the callbacks and walk state they hold) alive through scavenges.
 * An array slot is overwritten in place and cleared on delete.
 *
 * Ids stay in 1 .. 2^31 - 1 (a positive INTEGER32, RFC 3416 section 3) and run on from a random start,
 * so two processes (or a restart) polling one agent do not take each other's replies for their own.
 */

/** What the table needs of an entry: the id it was given. */
export interface HasId {
  readonly id: number;
}

const MAX_ID = 0x7fffffff;

export class RequestTable<T extends HasId> {
  #slots: (T | undefined)[];
  #mask: number;
  #size = 0;
  #nextId: number;

  /** `capacity`: slots to start with (rounded up to a power of two); the table grows past it. */
  constructor(capacity = 1024, firstId = 1 + Math.floor(Math.random() * 0x3fffffff)) {
    let n = 16;
    while (n < capacity) n *= 2;
    this.#slots = new Array<T | undefined>(n).fill(undefined);
    this.#mask = n - 1;
    this.#nextId = Math.min(Math.max(1, Math.floor(firstId)), MAX_ID);
  }

  /** Entries in the table. */
  get size(): number {
    return this.#size;
  }

  /** An id whose slot is free, for the next entry (encoded into its message before add()). */
  nextId(): number {
    if (this.#size * 2 >= this.#slots.length) this.#grow();
    let id = this.#nextId;
    while (this.#slots[id & this.#mask] !== undefined) id = id >= MAX_ID ? 1 : id + 1;
    this.#nextId = id >= MAX_ID ? 1 : id + 1;
    return id;
  }

  /** Put `entry` in the table under its id (from nextId(), not added since). */
  add(entry: T): void {
    const i = entry.id & this.#mask;
    if (this.#slots[i] !== undefined) throw new Error(`request id ${entry.id}: its slot is taken`);
    this.#slots[i] = entry;
    this.#size++;
  }

  /** The entry with this id, if it is in the table. */
  get(id: number): T | undefined {
    const e = this.#slots[id & this.#mask];
    return e !== undefined && e.id === id ? e : undefined;
  }

  /** Take `entry` out; false if it was not in the table. */
  delete(entry: T): boolean {
    const i = entry.id & this.#mask;
    if (this.#slots[i] !== entry) return false;
    this.#slots[i] = undefined;
    this.#size--;
    return true;
  }

  /** The entries now (a copy: delete() while going through it is fine). */
  entries(): T[] {
    const out: T[] = [];
    if (this.#size === 0) return out;
    for (const e of this.#slots) if (e !== undefined) out.push(e);
    return out;
  }

  #grow(): void {
    const slots = new Array<T | undefined>(this.#slots.length * 2).fill(undefined);
    const mask = slots.length - 1;
    // Distinct under the old mask means distinct under the wider one: no entry displaces another.
    for (const e of this.#slots) if (e !== undefined) slots[e.id & mask] = e;
    this.#slots = slots;
    this.#mask = mask;
  }
}
