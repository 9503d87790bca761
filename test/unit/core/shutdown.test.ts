/**
 * A stop in named steps: while a step waits, the stop says which part and since when; a step that fails
 * does not keep the later ones from running, and its error comes out at the end.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { Shutdown } from '../../../collector/core/shutdown.ts';

describe('Shutdown', () => {
  it('names the part it waits on, and for how long', async () => {
    const clock = new FakeClock(0);
    const log = memoryLogger('debug');
    const s = new Shutdown(clock, log);
    expect(s.progress()).toBeUndefined();
    let release!: () => void;
    const stopping = s.step('mqtt broker', () => new Promise<void>((r) => (release = r)));
    clock.advance(4_000);
    expect(s.progress()).toEqual({ part: 'mqtt broker', forMs: 4_000 });
    release();
    await stopping;
    expect(s.progress()).toBeUndefined();
    expect(log.records.map((r) => [r.msg, r.part, r.ms])).toEqual([['part stopped', 'mqtt broker', 4_000]]);
    s.done();
  });

  it('goes on after a step that fails, and throws its error once every step has run', async () => {
    const log = memoryLogger('debug');
    const s = new Shutdown(new FakeClock(0), log);
    const ran: string[] = [];
    await s.step('http', () => {
      ran.push('http');
      throw new Error('close failed');
    });
    await s.step('writer', async () => {
      ran.push('writer');
      await Promise.reject(new Error('second failure'));
    });
    await s.step('store', () => void ran.push('store'));
    expect(ran).toEqual(['http', 'writer', 'store']);
    expect(() => s.done()).toThrow('close failed');
    const failed = log.records.filter((r) => r.level === 'error');
    expect(failed.map((r) => [r.part, r.error])).toEqual([
      ['http', 'close failed'],
      ['writer', 'second failure'],
    ]);
  });
});
