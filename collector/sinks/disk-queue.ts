/**
 * A bounded on-disk FIFO of sample batches: where samples wait while the database is away, and where
 * they survive a restart (or a crash) of the monitor.
 *
 * Layout under `dir`:
 *   seg-<000000000001>.jsonl   one JSON array of samples per line, appended and fsync'd
 *   ack                        "<seq> <lines>": how many lines of segment <seq> are already written
 *
 * peek() hands out the oldest batch and marks it in flight; ack() moves past it (a fully read segment
 * is deleted, otherwise the `ack` file is rewritten and fsync'd, so a restart does not send it again);
 * nack() leaves it at the head for the next try.
 *
 * Bound: when the segments exceed `maxBytes`, the oldest segment is deleted and its samples are counted
 * as dropped and reported through `onDrop`, never silently. If the batch in flight belonged to it, that
 * batch is counted when its fate is known: written (ack) or dropped after all (nack).
 *
 * Crash safety: a torn last line (the process died inside a write) is skipped and counted in `corrupt`;
 * segments found at start are never appended to, so a new batch is never glued onto a torn line.
 *
 * Telemetry is private: the folder is 0700 and every file 0600 (collector/core/private-fs.ts); segments
 * and the ack file left 0644 by an older version are tightened at start.
 */
import {
  appendFileSync,
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, PRIVATE_FILE_MODE, tightenFile } from '../core/private-fs.ts';
import type { Sample } from '../core/types.ts';

interface Segment {
  readonly seq: number;
  readonly path: string;
  bytes: number;
  /** Samples not yet acknowledged. */
  samples: number;
  /** Lines of this segment, loaded while it is the head; cursor = next line to read. */
  lines?: Sample[][] | undefined;
  cursor: number;
}

/** A batch handed out by peek(): give it back with ack() or nack(). */
export interface QueuedBatch {
  readonly samples: readonly Sample[];
  readonly seq: number;
  readonly line: number;
}

export interface DiskQueueOptions {
  readonly dir: string;
  readonly maxBytes: number;
  /** A new segment starts past this size (default maxBytes / 8, at most 8 MiB). */
  readonly segmentBytes?: number | undefined;
  readonly onDrop?: ((samples: number, reason: string) => void) | undefined;
}

const SEGMENT = /^seg-(\d+)\.jsonl$/;
const segName = (seq: number): string => `seg-${String(seq).padStart(12, '0')}.jsonl`;

export class DiskQueue {
  readonly #opts: DiskQueueOptions;
  readonly #segmentBytes: number;
  readonly #segments: Segment[] = [];
  #nextSeq = 1;
  /** false until the first append after start: segments found on disk are not appended to. */
  #tailWritable = false;
  #inFlight: { batch: QueuedBatch; orphaned: boolean } | undefined;
  #dropped = 0;
  #corrupt = 0;

  constructor(opts: DiskQueueOptions) {
    if (!(opts.maxBytes > 0)) throw new RangeError('DiskQueue: maxBytes must be > 0');
    this.#opts = opts;
    this.#segmentBytes = opts.segmentBytes ?? Math.max(1, Math.min(8 << 20, Math.floor(opts.maxBytes / 8)));
    ensurePrivateDir(opts.dir);
    for (const f of ['ack', 'ack.tmp']) tightenFile(join(opts.dir, f));
    const acked = this.#readAck();
    // Never reuse the sequence number the ack file names: its line count would skip a new segment's lines.
    if (acked) this.#nextSeq = acked.seq + 1;
    const names = readdirSync(opts.dir)
      .filter((n) => SEGMENT.test(n))
      .sort();
    for (const name of names) {
      const seq = Number(SEGMENT.exec(name)?.[1]);
      const path = join(opts.dir, name);
      tightenFile(path);
      this.#nextSeq = Math.max(this.#nextSeq, seq + 1);
      // One segment parsed at a time: only the head keeps its lines in memory.
      const lines = this.#parse(path, true);
      const cursor = acked?.seq === seq ? Math.min(acked.lines, lines.length) : 0;
      const samples = lines.slice(cursor).reduce((n, l) => n + l.length, 0);
      if (samples === 0) {
        unlinkSync(path);
        continue;
      }
      const first = this.#segments.length === 0;
      this.#segments.push({
        seq,
        path,
        bytes: statSync(path).size,
        samples,
        lines: first ? lines : undefined,
        cursor,
      });
    }
    this.#enforceBound();
  }

  /** Samples waiting on disk (including a batch in flight). */
  get samples(): number {
    return this.#segments.reduce((n, s) => n + s.samples, 0);
  }

  get bytes(): number {
    return this.#segments.reduce((n, s) => n + s.bytes, 0);
  }

  /** Samples dropped because the queue was over maxBytes, since construction. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Lines skipped because they could not be parsed (a torn write before a crash). */
  get corrupt(): number {
    return this.#corrupt;
  }

  /** Append a batch durably (fsync'd before it returns). Throws on I/O errors (disk full...). */
  append(batch: readonly Sample[]): void {
    if (batch.length === 0) return;
    const line = JSON.stringify(batch) + '\n';
    let tail = this.#segments.at(-1);
    if (!tail || !this.#tailWritable || tail.bytes >= this.#segmentBytes) {
      const seq = this.#nextSeq++;
      tail = { seq, path: join(this.#opts.dir, segName(seq)), bytes: 0, samples: 0, cursor: 0 };
      this.#segments.push(tail);
      this.#tailWritable = true;
    }
    let fd: number | undefined;
    try {
      fd = openSync(tail.path, 'a', PRIVATE_FILE_MODE);
      appendFileSync(fd, line);
      fsyncSync(fd);
    } catch (err) {
      // Part of the line may be on disk: never append after it again (the reader skips a torn line).
      this.#tailWritable = false;
      if (tail.samples === 0) this.#removeSegment(tail);
      throw err;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    tail.bytes += Buffer.byteLength(line);
    tail.samples += batch.length;
    tail.lines?.push([...batch]);
    this.#enforceBound();
  }

  /** The oldest batch, left in the queue and marked in flight until ack() or nack(). */
  peek(): QueuedBatch | undefined {
    if (this.#inFlight) return this.#inFlight.batch;
    for (;;) {
      const head = this.#segments[0];
      if (!head) return undefined;
      head.lines ??= this.#parse(head.path, false);
      const samples = head.lines[head.cursor];
      if (samples) {
        const batch = { samples, seq: head.seq, line: head.cursor };
        this.#inFlight = { batch, orphaned: false };
        return batch;
      }
      this.#removeSegment(head);
    }
  }

  /** The batch is done with (written, or rejected for good): remove it from the queue. */
  ack(batch: QueuedBatch): void {
    const flight = this.#take(batch);
    if (!flight || flight.orphaned) return; // its segment was dropped meanwhile; nothing left to remove
    const head = this.#segments[0];
    if (!head || head.seq !== batch.seq || head.cursor !== batch.line) return;
    head.cursor++;
    head.samples -= batch.samples.length;
    if (head.cursor >= (head.lines?.length ?? 0)) {
      this.#removeSegment(head); // the next append starts a new segment if this was the tail
    } else {
      this.#writeAck(head.seq, head.cursor);
    }
  }

  /** Writing the batch failed but may succeed later: it stays at the head. */
  nack(batch: QueuedBatch): void {
    const flight = this.#take(batch);
    if (flight?.orphaned) {
      this.#dropped += batch.samples.length;
      this.#opts.onDrop?.(batch.samples.length, this.#boundReason());
    }
  }

  #take(batch: QueuedBatch): { batch: QueuedBatch; orphaned: boolean } | undefined {
    const flight = this.#inFlight;
    if (!flight || flight.batch !== batch) return undefined;
    this.#inFlight = undefined;
    return flight;
  }

  #removeSegment(seg: Segment): void {
    const i = this.#segments.indexOf(seg);
    if (i >= 0) this.#segments.splice(i, 1);
    try {
      unlinkSync(seg.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /** Parse a segment; unparseable lines are skipped (and counted the first time the file is read). */
  #parse(path: string, count: boolean): Sample[][] {
    const out: Sample[][] = [];
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (line === '') continue;
      let batch: unknown;
      try {
        batch = JSON.parse(line);
      } catch {
        batch = undefined;
      }
      if (Array.isArray(batch) && batch.length > 0) out.push(batch as Sample[]);
      else if (count) this.#corrupt++;
    }
    return out;
  }

  #readAck(): { seq: number; lines: number } | undefined {
    try {
      const m = /^(\d+) (\d+)\s*$/.exec(readFileSync(join(this.#opts.dir, 'ack'), 'utf8'));
      return m ? { seq: Number(m[1]), lines: Number(m[2]) } : undefined;
    } catch {
      return undefined;
    }
  }

  /** Write-then-rename, fsync'd: after a crash the file says the old or the new position, never half. */
  #writeAck(seq: number, lines: number): void {
    const path = join(this.#opts.dir, 'ack');
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w', PRIVATE_FILE_MODE);
    try {
      writeSync(fd, `${seq} ${lines}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  }

  #boundReason(): string {
    return `disk buffer over ${this.#opts.maxBytes} bytes: oldest samples dropped`;
  }

  #enforceBound(): void {
    while (this.bytes > this.#opts.maxBytes) {
      const head = this.#segments[0];
      if (!head) break;
      let lost = head.samples;
      const flight = this.#inFlight;
      if (flight && !flight.orphaned && flight.batch.seq === head.seq) {
        // Being written right now: counted on ack (written) or nack (dropped after all).
        flight.orphaned = true;
        lost -= flight.batch.samples.length;
      }
      this.#removeSegment(head);
      if (lost > 0) {
        this.#dropped += lost;
        this.#opts.onDrop?.(lost, this.#boundReason());
      }
    }
  }
}
