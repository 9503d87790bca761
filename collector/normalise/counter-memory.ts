/**
 * The counter memory: of each device's last reading, what its next poll needs for rates and restarts
 * (the time, sysUpTime, and per interface row its ifIndex, name, counter width and raw counters), kept in
 * typed arrays that are rewritten in place poll after poll.
 *
 * Why not keep the reading itself (issue #14): a reading lives one whole interval, so it always outlives
 * the young generation and the garbage collector copies it twice and then promotes it, every poll, and
 * later marks and frees it in the old generation: its objects, strings and eight BigInts per interface.
 * Measured at the Badung load (`npm run bench:fleet -- --sizes 1 --interval 30 --node-args=--trace-gc`):
 * with the readings kept, scavenges took 210 ms of the main thread a minute and the old generation grew
 * 1.1 MB/s; without them, 59 ms and 0.49 MB/s. Here a device's entry is written in place (its arrays are
 * reused while the table keeps its size, a name string is kept while it does not change), so what a poll
 * makes dies young.
 *
 * get() gives the remembered reading back as a DeviceReading (normalise.ts takes one): fresh, short-lived
 * objects that die with the poll. A reading the compact form cannot hold exactly (a counter outside
 * 0..2^64-1: only bad input, which normalise reports) is kept as it is.
 */
import type { DeviceReading, InterfaceReading } from '../core/types.ts';
import { intern } from './intern.ts';
import { COUNTER_KEYS } from './normalise.ts';

/** The raw counters of an interface, in the order they are stored. */
const COUNTERS = COUNTER_KEYS;
const K = COUNTERS.length;
const MAX_U64 = (1n << 64n) - 1n;
/**
 * Slots (8 bytes each) per interface row: its ifIndex and a word of flags (as doubles), then its K raw
 * counters (as unsigned 64-bit integers). The flags word is the counter width plus 256 times a bit mask of
 * the counters present (bit k: counter k).
 */
const W = 2 + K;

/**
 * One device's last reading. The rows live in one ArrayBuffer seen through two views, so a device costs
 * one buffer and two views however many interfaces it has (four arrays a device, each with a buffer of
 * its own, were 0.5 KB of heap a device in a snapshot at 33k devices).
 */
interface Compact {
  timeMs: number;
  sysUpTimeCs: number | undefined;
  rows: number;
  /** Rows the buffer has room for. */
  capacity: number;
  head: Float64Array;
  counters: BigUint64Array;
  names: string[];
}

type Entry = Compact | { readonly raw: DeviceReading };

export class CounterMemory {
  readonly #byDevice = new Map<string, Entry>();

  get size(): number {
    return this.#byDevice.size;
  }

  /** The last reading remembered for the device (only what normalise reads of a previous one). */
  get(deviceId: string): DeviceReading | undefined {
    const e = this.#byDevice.get(deviceId);
    if (e === undefined) return undefined;
    if ('raw' in e) return e.raw;
    const interfaces: InterfaceReading[] = new Array<InterfaceReading>(e.rows);
    for (let i = 0; i < e.rows; i++) {
      const flags = e.head[i * W + 1] as number;
      const ifc: { -readonly [k in keyof InterfaceReading]: InterfaceReading[k] } = {
        ifIndex: e.head[i * W] as number,
        name: e.names[i] as string,
        counterBits: (flags & 0xff) === 64 ? 64 : 32,
      };
      const present = flags >>> 8;
      for (let k = 0; k < K; k++) if (present & (1 << k)) ifc[COUNTERS[k]!] = e.counters[i * W + 2 + k];
      interfaces[i] = ifc;
    }
    return { deviceId, timeMs: e.timeMs, sysUpTimeCs: e.sysUpTimeCs, interfaces, wifi: [] };
  }

  /** Remember this reading as the device's last, in place of the one before. */
  set(reading: DeviceReading): void {
    const rows = reading.interfaces.length;
    if (!fitsCompact(reading)) {
      this.#byDevice.set(reading.deviceId, { raw: reading });
      return;
    }
    let e = this.#byDevice.get(reading.deviceId);
    if (e === undefined || 'raw' in e || e.capacity < rows) {
      // Room for exactly these rows (an array grown one index at a time keeps room for 17).
      const old = e !== undefined && !('raw' in e) ? e.names : [];
      const names = new Array<string>(rows);
      for (let i = 0; i < old.length && i < rows; i++) names[i] = old[i] as string;
      const buffer = new ArrayBuffer(rows * W * 8);
      e = {
        timeMs: 0,
        sysUpTimeCs: undefined,
        rows: 0,
        capacity: rows,
        head: new Float64Array(buffer),
        counters: new BigUint64Array(buffer),
        names,
      };
      this.#byDevice.set(reading.deviceId, e);
    }
    e.timeMs = reading.timeMs;
    e.sysUpTimeCs = reading.sysUpTimeCs;
    e.rows = rows;
    for (let i = 0; i < rows; i++) {
      const ifc = reading.interfaces[i] as InterfaceReading;
      const at = i * W;
      // The name is kept from poll to poll: one copy for every device that has it (intern.ts).
      if (e.names[i] !== ifc.name) e.names[i] = intern(ifc.name);
      let present = 0;
      for (let k = 0; k < K; k++) {
        const v = ifc[COUNTERS[k]!];
        if (v === undefined) continue;
        present |= 1 << k;
        e.counters[at + 2 + k] = v;
      }
      e.head[at] = ifc.ifIndex;
      e.head[at + 1] = ifc.counterBits + present * 256;
    }
    e.names.length = rows;
  }

  delete(deviceId: string): void {
    this.#byDevice.delete(deviceId);
  }
}

/** Every counter within 0..2^64-1 (what a BigUint64Array holds exactly). */
function fitsCompact(reading: DeviceReading): boolean {
  for (const ifc of reading.interfaces) {
    for (const key of COUNTERS) {
      const v = ifc[key];
      if (v !== undefined && (v < 0n || v > MAX_U64)) return false;
    }
  }
  return true;
}
