/**
 * ensureReplicas (collector/cluster/nats.ts) over a fake stream manager, for the faults a real server does
 * not make on cue: an update whose answer is lost but which went through (read back: raised), an update
 * refused (logged, the stream used as it is), and a stream already at the cluster size (left alone). The
 * raise itself against three real nats-server nodes: test/integration/cluster/leader-nats.test.ts.
 */
import type { JetStreamManager } from 'nats';
import { describe, expect, it } from 'vitest';
import { ensureReplicas } from '../../../collector/cluster/nats.ts';
import { memoryLogger } from '../../../collector/core/log.ts';

/** A stream manager holding one stream at `replicas`; `update` does what `onUpdate` says. */
function fakeJsm(replicas: number, onUpdate: 'ok' | 'lost answer' | 'refused') {
  const state = { replicas, updates: 0 };
  const jsm = {
    streams: {
      info: async () => ({ config: { name: 'S', num_replicas: state.replicas } }),
      update: async (_name: string, cfg: { num_replicas: number }) => {
        state.updates++;
        if (onUpdate === 'refused') throw new Error('replicas > 1 not supported in non-clustered mode');
        state.replicas = cfg.num_replicas;
        if (onUpdate === 'lost answer') throw new Error('TIMEOUT');
        return { config: { name: 'S', num_replicas: state.replicas } };
      },
    },
  } as unknown as JetStreamManager;
  return { jsm, state };
}

describe('ensureReplicas', () => {
  it('raises a stream below the cluster size, with a warning', async () => {
    const { jsm, state } = fakeJsm(1, 'ok');
    const log = memoryLogger('warn');
    await ensureReplicas(jsm, 'S', 3, log);
    expect(state.replicas).toBe(3);
    expect(log.records.map((r) => [r.level, r.msg, r.from, r.to])).toEqual([
      ['warn', 'stream had fewer replicas than the cluster has: raised', 1, 3],
    ]);
  });

  it('an update whose answer was lost but which went through is read back as raised', async () => {
    const { jsm, state } = fakeJsm(1, 'lost answer');
    const log = memoryLogger('warn');
    await ensureReplicas(jsm, 'S', 3, log);
    expect(state.replicas).toBe(3);
    expect(log.records.map((r) => [r.level, r.msg])).toEqual([
      ['warn', 'stream had fewer replicas than the cluster has: raised'],
    ]);
  });

  it('an update refused is logged as an error and the stream used as it is (no throw)', async () => {
    const { jsm, state } = fakeJsm(1, 'refused');
    const log = memoryLogger('warn');
    await ensureReplicas(jsm, 'S', 3, log);
    expect(state.replicas).toBe(1);
    expect(log.records.map((r) => [r.level, r.msg, r.replicas, r.wanted])).toEqual([
      ['error', 'stream has fewer replicas than the cluster has and could not be raised', 1, 3],
    ]);
  });

  it('a stream at or above the cluster size is left alone (never lowered)', async () => {
    for (const had of [3, 5]) {
      const { jsm, state } = fakeJsm(had, 'ok');
      const log = memoryLogger('warn');
      await ensureReplicas(jsm, 'S', 3, log);
      expect(state).toEqual({ replicas: had, updates: 0 });
      expect(log.records).toEqual([]);
    }
  });
});
