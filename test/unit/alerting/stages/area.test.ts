/**
 * Stage 4, area grouping: a page alone in its kecamatan passes at once; pages of many sites at once wait
 * and become one area notice; other notices pass. (The grouper's own rules: test/unit/alerting/area.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { AreaStage } from '../../../../collector/alerting/stages/area.ts';
import type { Notice } from '../../../../collector/alerting/stages/stage.ts';
import { FakeClock } from '../../../../collector/core/clock.ts';
import { Topology } from '../../../../collector/health/topology.ts';
import { testDevice, testSite } from '../../../support/fixtures.ts';
import { T0, alertOf, page } from './notices.ts';

const sites = Array.from({ length: 6 }, (_, i) => testSite(`p${i}`, { kecamatan: 'Petang' }));
const topology = new Topology({ sites, devices: sites.map((s) => testDevice(`${s.id}-r`, s.id, 'router')) });
const policy = { windowMs: 60_000, minSites: 3, groupWaitMs: 20_000 };
const kinds = (out: Notice[]) => out.map((n) => (n.kind === 'area' ? `area:${n.incident.status}` : n.kind));

function run(withPolicy: boolean, notices: readonly Notice[], waitMs: number) {
  const clock = new FakeClock(T0);
  const stage = new AreaStage(withPolicy ? policy : undefined, topology, clock);
  const out: Notice[] = [];
  for (const n of notices) stage.run(n, (x) => out.push(x));
  clock.advance(waitMs);
  return { out, stage };
}

const down = (i: number) => page(alertOf(`p${i}-r`, `p${i}`));
const flapping: Notice = { kind: 'flapping', alert: alertOf('p0-r', 'p0', { flaps: 2 }), timeMs: T0 };

describe('AreaStage', () => {
  it.each([
    // policy?, notices, wait, what passes
    [false, [down(0), down(1), down(2)], 0, ['page', 'page', 'page']],
    [true, [down(0)], 0, ['page']],
    [true, [down(0), down(1)], 0, ['page']],
    [true, [down(0), down(1)], 20_000, ['page', 'page']],
    [true, [down(0), down(1), down(2), down(3)], 20_000, ['page', 'area:firing']],
    [true, [flapping], 0, ['flapping']],
  ] as const)('policy %s, %# notices, after %s ms: %o', (withPolicy, notices, wait, want) => {
    const { out, stage } = run(withPolicy, notices, wait);
    expect(kinds(out)).toEqual(want);
    expect(stage.open().length).toBe((want as readonly string[]).includes('area:firing') ? 1 : 0);
  });

  it('flush sends the pages still waiting', () => {
    const { out, stage } = run(true, [down(0), down(1)], 0);
    stage.flush();
    expect(kinds(out)).toEqual(['page', 'page']);
  });
});
