/**
 * Probe results crossing from a collection worker thread to the main thread (worker-collection.ts), in
 * batches with a compact encoding. Pure: no thread, no timer.
 *
 * Why not post each ProbeResult as an object: structured clone walks every object and copies every
 * string (the device id, the source) on both sides. A batch here is five typed arrays, transferred (not
 * copied) with postMessage, plus the failures (rare in a healthy fleet) as a small array: a device is its
 * index in the worker's own device list, which the main thread holds too. Measured in
 * test/unit/collection/probe-batch.test.ts and the README (collector section).
 */
import type { ProbeFailureReason, ProbeResult } from '../core/types.ts';

const SOURCES: readonly ProbeResult['source'][] = ['snmp', 'mqtt', 'ping'];
const SOURCE_CODE: Readonly<Record<ProbeResult['source'], number>> = { snmp: 0, mqtt: 1, ping: 2 };

/** One encoded batch: row i is one probe result. */
export interface ProbeBatch {
  readonly count: number;
  /** Index of the device in the worker's device list. */
  readonly device: Uint32Array;
  readonly timeMs: Float64Array;
  readonly durationMs: Float64Array;
  /** 1 ok, 0 failed. */
  readonly ok: Uint8Array;
  /** Index into SOURCES. */
  readonly source: Uint8Array;
  /** The failed rows: [row, reason, message]. */
  readonly failures: readonly (readonly [number, ProbeFailureReason, string])[];
}

/** Collects probe results of one worker and hands them out as a batch. */
export class ProbeBatcher {
  readonly #indexOf: ReadonlyMap<string, number>;
  #capacity: number;
  #count = 0;
  #device: Uint32Array;
  #timeMs: Float64Array;
  #durationMs: Float64Array;
  #ok: Uint8Array;
  #source: Uint8Array;
  #failures: [number, ProbeFailureReason, string][] = [];

  /** `deviceIds`: the worker's device list (the index of each is its code); `capacity`: a first size. */
  constructor(deviceIds: readonly string[], capacity = 256) {
    this.#indexOf = new Map(deviceIds.map((id, i) => [id, i]));
    this.#capacity = Math.max(1, capacity);
    this.#device = new Uint32Array(this.#capacity);
    this.#timeMs = new Float64Array(this.#capacity);
    this.#durationMs = new Float64Array(this.#capacity);
    this.#ok = new Uint8Array(this.#capacity);
    this.#source = new Uint8Array(this.#capacity);
  }

  get size(): number {
    return this.#count;
  }

  /** Adds one result; false (and nothing added) for a device not in the list. */
  add(p: ProbeResult): boolean {
    const index = this.#indexOf.get(p.deviceId);
    if (index === undefined) return false;
    if (this.#count === this.#capacity) this.#grow();
    const row = this.#count++;
    this.#device[row] = index;
    this.#timeMs[row] = p.timeMs;
    this.#durationMs[row] = p.durationMs;
    this.#ok[row] = p.ok ? 1 : 0;
    this.#source[row] = SOURCE_CODE[p.source];
    if (p.failure) this.#failures.push([row, p.failure.reason, p.failure.message]);
    return true;
  }

  /**
   * The rows so far as a batch (arrays cut to size, so they can be transferred), and a fresh start.
   * Undefined when empty.
   */
  take(): ProbeBatch | undefined {
    if (this.#count === 0) return undefined;
    const n = this.#count;
    const batch: ProbeBatch = {
      count: n,
      device: this.#device.slice(0, n),
      timeMs: this.#timeMs.slice(0, n),
      durationMs: this.#durationMs.slice(0, n),
      ok: this.#ok.slice(0, n),
      source: this.#source.slice(0, n),
      failures: this.#failures,
    };
    this.#count = 0;
    this.#failures = [];
    return batch;
  }

  #grow(): void {
    this.#capacity *= 2;
    const grow = <T extends Uint32Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(this.#capacity);
      b.set(a);
      return b;
    };
    this.#device = grow(this.#device, (n) => new Uint32Array(n));
    this.#timeMs = grow(this.#timeMs, (n) => new Float64Array(n));
    this.#durationMs = grow(this.#durationMs, (n) => new Float64Array(n));
    this.#ok = grow(this.#ok, (n) => new Uint8Array(n));
    this.#source = grow(this.#source, (n) => new Uint8Array(n));
  }
}

/** The buffers of a batch, for postMessage's transfer list. */
export function transferList(b: ProbeBatch): ArrayBuffer[] {
  return [b.device, b.timeMs, b.durationMs, b.ok, b.source].map((a) => a.buffer as ArrayBuffer);
}

/**
 * The probe results of a batch, in order. `deviceIds`: the worker's device list. A row naming an index
 * outside it (a batch from a worker with another list: never, but not trusted) is skipped and counted.
 */
export function decodeBatch(
  b: ProbeBatch,
  deviceIds: readonly string[],
  onProbe: (p: ProbeResult) => void,
): { readonly decoded: number; readonly skipped: number } {
  const failures = new Map<number, { reason: ProbeFailureReason; message: string }>();
  for (const [row, reason, message] of b.failures) failures.set(row, { reason, message });
  let decoded = 0;
  let skipped = 0;
  for (let row = 0; row < b.count; row++) {
    const deviceId = deviceIds[b.device[row] ?? -1];
    const source = SOURCES[b.source[row] ?? -1];
    if (deviceId === undefined || source === undefined) {
      skipped++;
      continue;
    }
    const failure = failures.get(row);
    onProbe({
      deviceId,
      timeMs: b.timeMs[row] ?? 0,
      ok: b.ok[row] === 1,
      durationMs: b.durationMs[row] ?? 0,
      source,
      ...(failure ? { failure } : {}),
    });
    decoded++;
  }
  return { decoded, skipped };
}
