/** Stage 1, dependency: a page of a device whose upstream device is out is held; the rest pass. */
import { describe, expect, it } from 'vitest';
import { DependencyStage, upstreamOut } from '../../../../collector/alerting/stages/dependency.ts';
import type { DeviceState } from '../../../../collector/core/types.ts';
import { alertOf, page, runStage } from './notices.ts';

// core-r1 ─► pkm-r1 ─► pkm-ap1
const parents: Record<string, string> = { 'pkm-ap1': 'pkm-r1', 'pkm-r1': 'core-r1' };

function view(states: Record<string, DeviceState>) {
  return { parentOf: (id: string) => parents[id], stateOf: (id: string) => states[id] };
}

describe('DependencyStage', () => {
  it.each([
    // device, status, states of the others, passes?, upstream named
    ['pkm-ap1', 'firing', { 'pkm-r1': 'up', 'core-r1': 'up' }, true, undefined],
    ['pkm-ap1', 'firing', { 'pkm-r1': 'down', 'core-r1': 'up' }, false, 'pkm-r1'],
    ['pkm-ap1', 'firing', { 'pkm-r1': 'unreachable', 'core-r1': 'down' }, false, 'pkm-r1'],
    ['pkm-ap1', 'firing', { 'pkm-r1': 'suspect', 'core-r1': 'down' }, false, 'core-r1'],
    ['pkm-ap1', 'firing', { 'pkm-r1': 'suspect', 'core-r1': 'unknown' }, true, undefined],
    ['pkm-r1', 'firing', { 'core-r1': 'down' }, false, 'core-r1'],
    ['core-r1', 'firing', {}, true, undefined],
    // A recovery always passes: whoever heard of the outage hears of its end.
    ['pkm-ap1', 'resolved', { 'pkm-r1': 'down' }, true, undefined],
  ] as const)('%s %s with %o: passes %s', (device, status, states, passes, upstream) => {
    const held: string[] = [];
    const stage = new DependencyStage(view(states), (_n, up) => held.push(up));
    const n = page(alertOf(device, 'pkm', { status }));
    expect(runStage(stage, n)).toEqual(passes ? [n] : []);
    expect(held).toEqual(upstream ? [upstream] : []);
  });

  it('an area notice passes; a loop in the parents ends the walk', () => {
    const loop = { parentOf: (id: string) => (id === 'a' ? 'b' : 'a'), stateOf: () => 'up' as const };
    expect(upstreamOut(loop, 'a')).toBeUndefined();
    const area = {
      kind: 'area' as const,
      timeMs: 0,
      incident: {
        id: 'x',
        status: 'firing' as const,
        kecamatan: 'Petang',
        startedAt: 0,
        sites: [],
        totalSites: 3,
      },
    };
    expect(runStage(new DependencyStage(view({})), area)).toEqual([area]);
  });
});
