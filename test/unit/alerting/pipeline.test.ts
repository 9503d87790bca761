/** The suppression pipeline: the stages in their order, and one notice through all of them to delivery. */
import { describe, expect, it } from 'vitest';
import { MaintenanceCalendar } from '../../../collector/alerting/calendar.ts';
import { DEFAULT_ONCALL } from '../../../collector/alerting/oncall.ts';
import { AlertPipeline } from '../../../collector/alerting/pipeline.ts';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { DeviceState } from '../../../collector/core/types.ts';
import { Topology } from '../../../collector/health/topology.ts';
import type { Notification } from '../../../collector/notify/notification.ts';
import { smallInventory } from '../../support/fixtures.ts';
import { T0, alertOf, page } from './stages/notices.ts';

function setup(states: Record<string, DeviceState> = {}) {
  const clock = new FakeClock(T0);
  const topology = new Topology(smallInventory());
  const calendar = new MaintenanceCalendar();
  const sent: { n: Notification; channels: readonly string[] | undefined }[] = [];
  const pipeline = new AlertPipeline({
    topology,
    clock,
    log: memoryLogger('error'),
    dependency: { parentOf: (id) => topology.parentOf(id), stateOf: (id) => states[id] },
    maintenance: { coverOf: (t, ms) => calendar.activeFor(t, ms) },
    routing: { oncall: DEFAULT_ONCALL, levelOf: () => 0 },
    dispatch: (n, channels) => sent.push({ n, channels }),
  });
  return { pipeline, sent, calendar };
}

describe('AlertPipeline', () => {
  it('lists the stages in order', () => {
    expect(setup().pipeline.stages.map((s) => s.name)).toEqual([
      'dependency',
      'flapping',
      'maintenance',
      'area',
      'routing',
    ]);
  });

  it('delivers a page and a flapping notice with its own text; holds pages behind a device out', () => {
    const { pipeline, sent } = setup({ 'pkm-petang-1-r1': 'down' });
    pipeline.offer(page(alertOf('pkm-petang-1-r1', 'pkm-petang-1')));
    // Behind the puskesmas router: its AP, and the banjar that reaches the internet through it.
    pipeline.offer(page(alertOf('pkm-petang-1-ap1', 'pkm-petang-1', { role: 'ap' })));
    pipeline.offer(page(alertOf('bjr-pelaga-1-r1', 'bjr-pelaga-1')));
    pipeline.offer(page(alertOf('pkm-petang-1-r1', 'pkm-petang-1', { flaps: 2 })));
    expect(sent.map((s) => [s.n.kind, s.n.device?.id, s.channels])).toEqual([
      ['device_down', 'pkm-petang-1-r1', undefined],
      ['flapping', 'pkm-petang-1-r1', undefined],
    ]);
    expect(sent[1]?.n.text.en).not.toEqual(sent[0]?.n.text.en);
    expect(sent[1]?.n.text.id).not.toEqual(sent[0]?.n.text.id);
  });

  it('a page under a silence is held; resumed after the maintenance stage it is delivered', () => {
    const { pipeline, sent, calendar } = setup();
    calendar.addSilence({
      id: 'sil-1',
      scope: { sites: ['bjr-pelaga-1'] },
      startsAt: T0 - 1,
      endsAt: T0 + 60_000,
      createdBy: 'made',
      comment: 'works',
    });
    const n = page(alertOf('bjr-pelaga-1-r1', 'bjr-pelaga-1'));
    pipeline.offer(n);
    expect(sent).toEqual([]);
    expect(pipeline.maintenance.suppression(n.kind === 'page' ? n.alert.id : '')).toMatchObject({
      id: 'sil-1',
    });
    pipeline.resume(n, 'area');
    expect(sent.map((s) => s.n.device?.id)).toEqual(['bjr-pelaga-1-r1']);
  });
});
