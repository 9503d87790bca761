/** An in-memory stand-in for the JetStream KV lease (unit tests of collector/cluster/leader.ts and its users). */
import type { LeaseKv, LeaseRecord, LeaseWrite, WriteOutcome } from '../../collector/cluster/leader.ts';

/** A compare-and-set KV like JetStream's: revisions rise across the bucket; `cut` makes a node unreachable. */
export class MemoryLeaseKv {
  revision = 0;
  entry: { revision: number; record: LeaseRecord } | undefined;
  readonly cut = new Set<string>();
  writes: { node: string; write: LeaseWrite; outcome: WriteOutcome['kind'] }[] = [];

  port(node: string): LeaseKv {
    return {
      read: () => {
        if (this.cut.has(node)) return Promise.reject(new Error('no responders'));
        return Promise.resolve(this.entry && { ...this.entry });
      },
      write: (w) => {
        let outcome: WriteOutcome;
        if (this.cut.has(node)) outcome = { kind: 'error', message: 'timeout' };
        else if (w.op === 'create' ? this.entry !== undefined : this.entry?.revision !== w.expectedRevision)
          outcome = { kind: 'conflict' };
        else {
          this.entry = { revision: ++this.revision, record: w.record };
          outcome = { kind: 'ok', revision: this.revision };
        }
        this.writes.push({ node, write: w, outcome: outcome.kind });
        return Promise.resolve(outcome);
      },
    };
  }
}
