/**
 * Fakes of the cluster's NATS ports for unit tests on fake time (collector/cluster/): an in-memory KV
 * bucket that behaves as the KV watch does (current values first, then every change) and can cut one
 * member's puts off, and a stream that stores what it acks, de-duplicating by message id.
 */
import type { FakeClock } from '../../collector/core/clock.ts';
import type { MemberEvent, MembersStore } from '../../collector/cluster/membership.ts';
import type { StreamPublish } from '../../collector/cluster/result-bus.ts';
import { decodeResult, type ResultMessage } from '../../collector/cluster/subjects.ts';

/**
 * An in-memory KV bucket: puts are seen by every watch at once; a member's puts can be cut off, and the
 * watches running can be stalled (they deliver nothing more, as an ordered consumer whose server died).
 */
export class MemoryBucket {
  readonly values = new Map<string, { value: Uint8Array; createdMs: number; revision: number }>();
  readonly #watchers = new Set<(e: MemberEvent) => void>();
  readonly cut = new Set<string>();
  #revision = 0;
  /** Watches started, in all. */
  watches = 0;
  /** This many next watch starts fail (a stream without a leader). */
  failWatches = 0;
  constructor(readonly clock: FakeClock) {}

  store(): MembersStore {
    return {
      put: async (key, value) => {
        if (this.cut.has(key)) throw new Error('no responders');
        const revision = ++this.#revision;
        this.values.set(key, { value, createdMs: this.clock.now(), revision });
        this.#emit({ key, op: 'PUT', value, createdMs: this.clock.now(), initial: false, revision });
        return revision;
      },
      delete: async (key) => {
        this.values.delete(key);
        const revision = ++this.#revision;
        this.#emit({
          key,
          op: 'DEL',
          value: new Uint8Array(),
          createdMs: this.clock.now(),
          initial: false,
          revision,
        });
      },
      watch: async (onEvent) => {
        if (this.failWatches > 0) {
          this.failWatches--;
          throw new Error('TIMEOUT');
        }
        this.watches++;
        for (const [key, v] of this.values) onEvent({ key, op: 'PUT', ...v, initial: true });
        this.#watchers.add(onEvent);
        return { stop: () => this.#watchers.delete(onEvent) };
      },
    };
  }

  /** Every watch running now goes silent (new watches work). */
  stallWatches(): void {
    this.#watchers.clear();
  }

  #emit(e: MemberEvent): void {
    for (const w of this.#watchers) w(e);
  }
}

/** A stream that stores what it acks, de-duplicating by message id, and can be taken away. */
export class FakeStream implements StreamPublish {
  up = true;
  /** Store the message but lose the ack (the publisher must retry; the stream drops the repeat). */
  loseAcks = 0;
  readonly stored: { subject: string; msgId: string; msg: ResultMessage }[] = [];
  readonly #ids = new Set<string>();
  attempts = 0;

  async publish(subject: string, data: Uint8Array, msgId: string): Promise<{ duplicate: boolean }> {
    this.attempts++;
    await Promise.resolve();
    if (!this.up) throw new Error('503 no responders');
    const duplicate = this.#ids.has(msgId);
    if (!duplicate) {
      // A message the real stream would store but nobody could read: the test fails on it, loudly.
      const d = decodeResult(data);
      if (!d.ok) throw new Error(`FakeStream: ${d.error}`);
      this.#ids.add(msgId);
      this.stored.push({ subject, msgId, msg: d.value });
    }
    if (this.loseAcks > 0) {
      this.loseAcks--;
      throw new Error('timeout');
    }
    return { duplicate };
  }
}
