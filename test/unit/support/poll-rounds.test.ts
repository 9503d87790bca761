/** The waits on the monitor's progress: they resolve on its counters and fail naming what is missing. */
import { describe, expect, it } from 'vitest';
import { waitForAllUp, waitForClockCheckAfter, waitForPollRounds } from '../../support/poll-rounds.ts';

function fakeMonitor() {
  const polls = { ok: 0, failed: 0, rounds: 0 };
  const clockChecks = { count: 0, lastAtMs: 0 };
  const states = new Map<string, { state: string; failures: number; lastFailure?: string }>();
  return {
    polls,
    clockChecks,
    states,
    status: () => ({ polls: { ...polls }, clockChecks: { ...clockChecks } }),
    health: { get: (id: string) => states.get(id) },
  };
}

describe('waitForPollRounds', () => {
  it('waits for n complete rounds after the one in progress', async () => {
    const m = fakeMonitor();
    m.polls.rounds = 5;
    let done = false;
    const waiting = waitForPollRounds(m, 2, { timeoutMs: 5000 }).then(() => (done = true));
    for (const r of [6, 7]) {
      m.polls.rounds = r;
      await new Promise((res) => setImmediate(res));
      await new Promise((res) => setTimeout(res, 120));
      expect(done).toBe(false);
    }
    m.polls.rounds = 8;
    await waiting;
    expect(done).toBe(true);
  });

  it('fails at the deadline saying how far the rounds got', async () => {
    const m = fakeMonitor();
    m.polls.rounds = 3;
    m.polls.ok = 40;
    await expect(waitForPollRounds(m, 2, { timeoutMs: 200, what: 'quiet' })).rejects.toThrow(
      /2 more complete poll round\(s\) \(quiet\): rounds 3 -> 3, wanted 6; polls ok 40/,
    );
  });
});

describe('waitForClockCheckAfter', () => {
  it('resolves on a check at or after the time, and says when the last one was otherwise', async () => {
    const m = fakeMonitor();
    m.clockChecks.count = 4;
    m.clockChecks.lastAtMs = 1000;
    await expect(waitForClockCheckAfter(m, 2000, { timeoutMs: 150 })).rejects.toThrow(
      /4 checks, the last at/,
    );
    m.clockChecks.lastAtMs = 2000;
    await waitForClockCheckAfter(m, 2000, { timeoutMs: 150 });
  });
});

describe('waitForAllUp', () => {
  it('names the devices that are not up, with their state and last failure', async () => {
    const m = fakeMonitor();
    m.states.set('r1', { state: 'up', failures: 0 });
    m.states.set('r2', { state: 'suspect', failures: 1, lastFailure: 'timeout' });
    await expect(waitForAllUp(m, ['r1', 'r2', 'r3'], { timeoutMs: 150 })).rejects.toThrow(
      /2 of 3 are not: r2 suspect \(1 failed: timeout\); r3 not polled yet; polls ok 0/,
    );
    m.states.set('r2', { state: 'up', failures: 0 });
    m.states.set('r3', { state: 'up', failures: 0 });
    await waitForAllUp(m, ['r1', 'r2', 'r3'], { timeoutMs: 150 });
  });
});
