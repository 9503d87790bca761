/**
 * A bounded on-disk FIFO of sample batches: where samples wait while the database is away or slow, and
 * where they survive a restart (or a crash) of the monitor.
 *
 * Layout under `dir`:
 *   seg-<000000000001>.jsonl   one JSON array of samples per line, appended and fsync'd
 *   ack                        "<seq> <lines>": how many lines of segment <seq> are already written
 *
 * appendGroup() is the writer's path (group commit): every batch handed over since the last group went to
 * disk is written with one write and one fsync per segment it touches, asynchronously (the write and the
 * fsync run on libuv's thread pool, not on the event loop that also polls; each batch is encoded in an
 * event-loop turn of its own). Appends and loads of the head segment run one at a time, in order. append()
 * is the synchronous path (one batch, fsync'd before it returns) for a writer that has already stopped.
 *
 * peek() hands out the oldest batch and marks it in flight; ack() moves past it; nack() leaves it at the
 * head for the next try. A batch is parsed only when it is handed out (one line at a time, not the whole
 * segment at once), and loadHead() reads the next segment's file without blocking the event loop.
 *
 * Durability, precisely: a batch is on disk (fsync'd) when appendGroup() has resolved (append() returned).
 * An acknowledgement is not fsync'd: the ack file is rewritten (write-then-rename, so it says an old or the
 * new position, never half) and a fully read segment is deleted. After the process is killed the kernel
 * still writes both, so nothing is sent again; only a crash of the machine itself (power, kernel) can lose
 * recent acknowledgements, and then those batches are sent again once. That is harmless for InfluxDB: a
 * point is identified by measurement, tag set and timestamp, and writing the same point again overwrites it
 * with the same values (no double counting).
 *
 * Bound: when the segments exceed `maxBytes`, the oldest segment is deleted and its samples are counted
 * as dropped and reported through `onDrop`, never silently. If the batch in flight belonged to it, that
 * batch is counted when its fate is known: written (ack) or dropped after all (nack).
 *
 * Crash safety: a torn last line (the process died inside a write) is skipped and counted in `corrupt`;
 * segments found at start are never appended to, so a new batch is never glued onto a torn line. The ack
 * file counts lines of the file, a torn one included (it can only be the last of its segment).
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
  truncateSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate } from 'node:timers/promises';
import { errorMessage, NetmonError } from '../core/errors.ts';
import { ensurePrivateDir, PRIVATE_FILE_MODE, tightenFile } from '../core/private-fs.ts';
import type { Sample } from '../core/types.ts';

interface Segment {
  readonly seq: number;
  readonly path: string;
  /** Bytes of the lines committed (written and fsync'd). */
  bytes: number;
  /** Samples not yet acknowledged. */
  samples: number;
  /** Lines of the file committed; lines past them (a failed append) are never read. */
  lineCount: number;
  /** The lines (JSON text), loaded while it is the head; cursor = next line to read. */
  lines?: string[] | undefined;
  cursor: number;
  /** Appends to this segment in progress: it is not deleted under them even when read to the end. */
  writing: number;
}

/** The lines of one segment file that one append writes. */
interface Chunk {
  readonly seg: Segment;
  /** A segment this append creates: listed only once its first lines are on disk. */
  readonly fresh: boolean;
  readonly lines: string[];
  bytes: number;
  samples: number;
}

/** A batch as the line that stores it. */
interface Encoded {
  readonly line: string;
  readonly samples: number;
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

/** Batches could not be written to the buffer (disk full, folder gone): `lostSamples` are not kept. */
export class BufferWriteError extends NetmonError {
  readonly lostSamples: number;
  constructor(message: string, lostSamples: number, cause: unknown) {
    super('buffer_write', message, { retryable: false, cause });
    this.lostSamples = lostSamples;
  }
}

const SEGMENT = /^seg-(\d+)\.jsonl$/;
const segName = (seq: number): string => `seg-${String(seq).padStart(12, '0')}.jsonl`;

/** A file's lines: split at newlines, without the empty string after the last one. */
function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function truncateQuietly(path: string, bytes: number): void {
  try {
    truncateSync(path, bytes);
  } catch {
    // The disk is failing already; the reader still skips a torn line.
  }
}

/** A line as a batch, or undefined for a line that is not one (torn, empty, garbage). */
function parseLine(line: string): Sample[] | undefined {
  let batch: unknown;
  try {
    batch = JSON.parse(line);
  } catch {
    return undefined;
  }
  return Array.isArray(batch) && batch.length > 0 ? (batch as Sample[]) : undefined;
}

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
  /** The asynchronous file work (appends, head loads), one after the other. */
  #io: Promise<unknown> = Promise.resolve();
  #ioPending = 0;

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
      // One segment read at a time: only the head keeps its lines in memory.
      const lines = splitLines(readFileSync(path, 'utf8'));
      const cursor = acked?.seq === seq ? Math.min(acked.lines, lines.length) : 0;
      let samples = 0;
      lines.forEach((line, i) => {
        const batch = parseLine(line);
        if (!batch) this.#corrupt++;
        else if (i >= cursor) samples += batch.length;
      });
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
        lineCount: lines.length,
        lines: first ? lines : undefined,
        cursor,
        writing: 0,
      });
    }
    this.#enforceBound();
  }

  /** Samples waiting on disk (including a batch in flight; not those of an append still in progress). */
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

  /**
   * Append batches durably, in order, as one group: one write and one fsync per segment touched, off the
   * event loop. Resolves once they are on disk; rejects with BufferWriteError (what was not kept) on I/O
   * errors; batches of the group written before the error stay queued.
   */
  appendGroup(batches: readonly (readonly Sample[])[]): Promise<void> {
    this.#ioPending++;
    const run = this.#io.then(() => this.#appendAsync(batches));
    this.#io = run.catch(() => undefined);
    return run.finally(() => this.#ioPending--);
  }

  /** Append one batch durably (fsync'd before it returns), on the event loop. Throws on I/O errors. */
  append(batch: readonly Sample[]): void {
    if (this.#ioPending > 0) throw new Error('DiskQueue: append() while an appendGroup() is in progress');
    const chunks = this.#plan(
      batch.length > 0 ? [{ line: JSON.stringify(batch), samples: batch.length }] : [],
    );
    let done = 0;
    let failure: unknown;
    try {
      for (const chunk of chunks) {
        const fd = openSync(chunk.seg.path, 'a', PRIVATE_FILE_MODE);
        try {
          appendFileSync(fd, chunk.lines.join('\n') + '\n');
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        done++;
      }
    } catch (err) {
      failure = err;
    }
    this.#settle(chunks, done, failure);
  }

  /** Read the head segment's lines, if not yet in memory, without blocking the event loop. */
  loadHead(): Promise<void> {
    if (!this.#segments[0] || this.#segments[0].lines) return Promise.resolve(); // no wait for an append
    this.#ioPending++;
    const run = this.#io.then(async () => {
      const head = this.#segments[0];
      if (!head || head.lines) return;
      const lines = splitLines(await readFile(head.path, 'utf8')).slice(0, head.lineCount);
      head.lines ??= lines;
    });
    this.#io = run.catch(() => undefined);
    return run.finally(() => this.#ioPending--);
  }

  /** The oldest batch, left in the queue and marked in flight until ack() or nack(). */
  peek(): QueuedBatch | undefined {
    if (this.#inFlight) return this.#inFlight.batch;
    for (;;) {
      const head = this.#segments[0];
      if (!head) return undefined;
      head.lines ??= splitLines(readFileSync(head.path, 'utf8')).slice(0, head.lineCount);
      for (; head.cursor < head.lines.length; head.cursor++) {
        // A line that does not parse (torn before a crash, counted at start) is skipped.
        const samples = parseLine(head.lines[head.cursor] ?? '');
        if (samples) {
          const batch = { samples, seq: head.seq, line: head.cursor };
          this.#inFlight = { batch, orphaned: false };
          return batch;
        }
      }
      if (head.writing > 0) return undefined; // its next lines are being written
      this.#removeSegment(head);
    }
  }

  /** The batch is done with (written, or rejected for good): remove it from the queue. */
  ack(batch: QueuedBatch): void {
    const flight = this.#take(batch);
    if (!flight || flight.orphaned) return; // its segment was dropped meanwhile; nothing left to remove
    const head = this.#segments[0];
    if (!head || head.seq !== batch.seq || head.cursor !== batch.line) return;
    if (head.lines) head.lines[head.cursor] = ''; // read: its text is garbage now
    head.cursor++;
    head.samples -= batch.samples.length;
    if (head.cursor >= head.lineCount && head.writing === 0) {
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

  async #appendAsync(batches: readonly (readonly Sample[])[]): Promise<void> {
    // One batch (5,000 samples: a few ms) encoded per event-loop turn, so that polls run in between.
    const encoded: Encoded[] = [];
    for (const batch of batches) {
      if (batch.length === 0) continue;
      if (encoded.length > 0) await setImmediate();
      encoded.push({ line: JSON.stringify(batch), samples: batch.length });
    }
    const chunks = this.#plan(encoded);
    let done = 0;
    let failure: unknown;
    try {
      for (const chunk of chunks) {
        const fh = await open(chunk.seg.path, 'a', PRIVATE_FILE_MODE);
        try {
          await fh.appendFile(chunk.lines.join('\n') + '\n');
          await fh.sync();
        } finally {
          await fh.close();
        }
        done++;
      }
    } catch (err) {
      failure = err;
    }
    this.#settle(chunks, done, failure);
  }

  /** Which segment each batch goes to: the tail while it is writable and not full, then new ones. */
  #plan(encoded: readonly Encoded[]): Chunk[] {
    const chunks: Chunk[] = [];
    let chunk: Chunk | undefined;
    const tail = this.#segments.at(-1);
    for (const { line, samples } of encoded) {
      const size = Buffer.byteLength(line) + 1;
      const full = chunk ? chunk.seg.bytes + chunk.bytes >= this.#segmentBytes : true;
      if (!chunk || full) {
        const reuse = !chunk && tail && this.#tailWritable && tail.bytes < this.#segmentBytes;
        const seq = reuse ? tail.seq : this.#nextSeq++;
        const seg: Segment = reuse
          ? tail
          : {
              seq,
              path: join(this.#opts.dir, segName(seq)),
              bytes: 0,
              samples: 0,
              lineCount: 0,
              cursor: 0,
              writing: 0,
            };
        seg.writing++;
        chunk = { seg, fresh: !reuse, lines: [], bytes: 0, samples: 0 };
        chunks.push(chunk);
      }
      chunk.lines.push(line);
      chunk.bytes += size;
      chunk.samples += samples;
    }
    return chunks;
  }

  /** After an append: the first `done` chunks are on disk and join the queue; the rest are lost. */
  #settle(chunks: readonly Chunk[], done: number, failure: unknown): void {
    chunks.forEach((chunk, i) => {
      const seg = chunk.seg;
      seg.writing--;
      if (i < done) {
        if (chunk.fresh) this.#segments.push(seg);
        this.#tailWritable = true;
        seg.bytes += chunk.bytes;
        seg.samples += chunk.samples;
        seg.lineCount += chunk.lines.length;
        seg.lines?.push(...chunk.lines);
      } else if (i === done) {
        // Part of the chunk may be on disk: cut it off (whole lines of it would be read after a restart,
        // though counted as dropped now), and never append after it again (a torn line is skipped).
        this.#tailWritable = false;
        if (seg.samples === 0) this.#removeSegment(seg);
        else truncateQuietly(seg.path, seg.bytes);
      } else if (chunk.fresh) {
        this.#removeSegment(seg);
      }
    });
    if (done < chunks.length) {
      const lost = chunks.slice(done).reduce((n, c) => n + c.samples, 0);
      throw new BufferWriteError(
        `cannot write the disk buffer in ${this.#opts.dir}: ${errorMessage(failure)}`,
        lost,
        failure,
      );
    }
    this.#enforceBound();
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

  #readAck(): { seq: number; lines: number } | undefined {
    try {
      const m = /^(\d+) (\d+)\s*$/.exec(readFileSync(join(this.#opts.dir, 'ack'), 'utf8'));
      return m ? { seq: Number(m[1]), lines: Number(m[2]) } : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Write-then-rename: after a crash the file says the old or the new position, never half. Not fsync'd
   * (see the durability note above): a lost acknowledgement only sends a batch again.
   */
  #writeAck(seq: number, lines: number): void {
    const path = join(this.#opts.dir, 'ack');
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w', PRIVATE_FILE_MODE);
    try {
      writeSync(fd, `${seq} ${lines}\n`);
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
      if (!head || head.writing > 0) break;
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
