/** Stage 2, flapping: a firing alert that counted flaps becomes the one flapping notice; the rest pass. */
import { describe, expect, it } from 'vitest';
import { FlappingStage } from '../../../../collector/alerting/stages/flapping.ts';
import { alertOf, page, runStage } from './notices.ts';

describe('FlappingStage', () => {
  it.each([
    // status, flaps, notice kind in, kind out
    ['firing', undefined, 'page', 'page'],
    ['firing', 2, 'page', 'flapping'],
    ['firing', 0, 'page', 'flapping'],
    // A recovery of a flapping incident is its recovery: sent once it is stable, as a page.
    ['resolved', 3, 'page', 'page'],
  ] as const)('%s with flaps %s: a %s goes on as a %s', (status, flaps, _in, out) => {
    const n = page(alertOf('r1', 's1', { status, flaps }));
    const passed = runStage(new FlappingStage(), n);
    expect(passed).toHaveLength(1);
    expect(passed[0]?.kind).toBe(out);
    const first = passed[0];
    expect(first && first.kind !== 'area' ? first.alert : undefined).toEqual(
      n.kind === 'area' ? undefined : n.alert,
    );
  });
});
