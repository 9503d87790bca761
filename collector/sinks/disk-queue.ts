/**
 * A bounded on-disk FIFO of sample batches: where samples wait while the database is away, and where
 * they survive a restart of the monitor.
 *
 * Layout: `dir/seg-<000000000001>.jsonl`, one JSON array of samples per line, appended and fsync'd.
 * Reading takes the oldest line of the oldest segment; ack() moves past it and a fully read segment is
 * deleted. (A crash between a write and its ack sends that batch again: InfluxDB stores a point with the
 * same series and timestamp once, so a resend is harmless.)
 *
 * Bound: when the segments exceed `maxBytes`, the oldest segment is deleted and its samples are counted
 * as dropped and reported through `onDrop` — never silent. A torn last line after a crash is skipped
 * and counted as corrupt.
 */
import {
  appendFileSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Sample } from '../core/types.ts';

interface Segment {
  readonly seq: number;
  readonly path: string;
  bytes: number;
  /** Samples not yet acknowledged. */
  samples: number;
  /** Lines of this segment, loaded when it becomes the head; cursor = next line to read. */
  lines?: Sample[][];
  cursor: number;
}

export interface DiskQueueOptions {
  readonly dir: string;
  readonly maxBytes: number;
  /** A new segment starts past this size (default maxBytes / 8, at most 8 MiB, at least 64 KiB). */
  readonly segmentBytes?: number | undefined;
  readonly onDrop?: ((samples: number, reason: string) => void) | undefined;
}

export class DiskQueue {
  readonly #opts: DiskQueueOptions;
  readonly #segmentBytes: number;
  readonly #segments: Segment[] = [];
  #dropped = 0;
  #corrupt = 0;

  constructor(opts: DiskQueueOptions) {
    if (!(opts.maxBytes > 0)) throw new RangeError('maxBytes must be > 0');
    this.#opts = opts;
    this.#segmentBytes =
      opts.segmentBytes ?? Math.max(64 * 1024, Math.min(8 << 20, Math.floor(opts.maxBytes / 8)));
    mkdirSync(opts.dir, { recursive: true });
    for (const name of readdirSync(opts.dir).sort()) {
      const m = /^seg-(\d+)\.jsonl$/.exec(name);
      if (!m) continue;
      const path = join(opts.dir, name);
      const seg: Segment = { seq: Number(m[1]), path, bytes: statSync(path).size, samples: 0, cursor: 0 };
      seg.lines = this.#read(path);
      seg.samples = seg.lines.reduce((n, l) => n + l.length, 0);
      this.#segments.push(seg);
    }
    for (const s of this.#segments.slice(1)) delete s.lines; // only the head stays in memory
    this.#enforceBound();
  }

  /** Samples waiting on disk. */
  get samples(): number {
    return this.#segments.reduce((n, s) => n + s.samples, 0);
  }

  get bytes(): number {
    return this.#segments.reduce((n, s) => n + s.bytes, 0);
  }

  get dropped(): number {
    return this.#dropped;
  }

  /** Lines skipped because they could not be parsed (a torn write before a crash). */
  get corrupt(): number {
    return this.#corrupt;
  }

  append(batch: readonly Sample[]): void {
    if (batch.length === 0) return;
    const line = JSON.stringify(batch) + '\n';
    let tail = this.#segments.at(-1);
    if (!tail || tail.bytes >= this.#segmentBytes) {
      tail = { seq: (tail?.seq ?? 0) + 1, path: '', bytes: 0, samples: 0, cursor: 0 };
      (tail as { path: string }).path = join(
        this.#opts.dir,
        `seg-${String(tail.seq).padStart(12, '0')}.jsonl`,
      );
      this.#segments.push(tail);
    }
    const fd = openSync(tail.path, 'a');
    try {
      appendFileSync(fd, line);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    tail.bytes += Buffer.byteLength(line);
    tail.samples += batch.length;
    tail.lines?.push([...batch]);
    this.#enforceBound();
  }

  /** The oldest batch, without removing it. */
  peek(): readonly Sample[] | undefined {
    for (;;) {
      const head = this.#segments[0];
      if (!head) return undefined;
      head.lines ??= this.#read(head.path);
      const batch = head.lines[head.cursor];
      if (batch) return batch;
      this.#removeHead();
    }
  }

  /** Remove the batch peek() returned. */
  ack(): void {
    const head = this.#segments[0];
    const batch = head?.lines?.[head.cursor];
    if (!head || !batch) return;
    head.cursor++;
    head.samples -= batch.length;
    if (head.cursor >= (head.lines?.length ?? 0)) this.#removeHead();
  }

  #removeHead(): void {
    const head = this.#segments.shift();
    if (head) unlinkSync(head.path);
  }

  #read(path: string): Sample[][] {
    const out: Sample[][] = [];
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (line === '') continue;
      try {
        const batch = JSON.parse(line) as unknown;
        if (Array.isArray(batch)) out.push(batch as Sample[]);
        else this.#corrupt++;
      } catch {
        this.#corrupt++;
      }
    }
    return out;
  }

  #enforceBound(): void {
    while (this.bytes > this.#opts.maxBytes && this.#segments.length > 1) {
      const head = this.#segments[0];
      if (!head) break;
      const lost = head.samples;
      this.#removeHead();
      this.#dropped += lost;
      this.#opts.onDrop?.(lost, `buffer over ${this.#opts.maxBytes} bytes: oldest segment dropped`);
    }
  }
}
