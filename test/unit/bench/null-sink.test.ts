import { describe, expect, it } from 'vitest';
import { countPoints } from '../../../scripts/bench/null-sink.ts';

/** Count the points of a body delivered in the given chunks, as the sink does. */
function count(chunks: readonly string[]): number {
  const state = { atLineStart: true, lineHasData: false };
  let n = 0;
  for (const c of chunks) n += countPoints(Buffer.from(c), state);
  return n + (state.lineHasData ? 1 : 0);
}

describe('the null sink counts line-protocol points', () => {
  const body = 'device,site=a up=1i 1\ndevice,site=b up=1i 2\n\n# a comment\niface,site=a in_bps=3 3';

  it('one per non-empty, non-comment line, the last without a newline too', () => {
    expect(count([body])).toBe(3);
    expect(count([`${body}\n`])).toBe(3);
    expect(count([''])).toBe(0);
  });

  it('whatever the chunks (a line split between two)', () => {
    for (let cut = 0; cut <= body.length; cut++)
      expect(count([body.slice(0, cut), body.slice(cut)]), `cut at ${cut}`).toBe(3);
    expect(count([...body])).toBe(3);
  });
});
