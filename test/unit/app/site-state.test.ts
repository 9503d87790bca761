/**
 * What the dashboards read besides the samples: every site's state every minute (`site_state`), incident
 * events (`incident`), and the monitor's own health with failures by reason and the other components'
 * points (`monitor`).
 */
import { describe, expect, it } from 'vitest';
import { Monitor } from '../../../collector/monitor.ts';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { Sample } from '../../../collector/core/types.ts';
import { IncidentStore } from '../../../collector/store/incident-store.ts';
import { smallInventory } from '../../support/fixtures.ts';
import { ScriptedPoller, RecordingChannel, advance } from '../../support/monitor-fakes.ts';

const MIN = 60_000;

describe('Monitor: site_state, incident and monitor points', () => {
  it('writes the state of every site each minute, incident events, and failures by reason', async () => {
    const clock = new FakeClock(Date.parse('2026-11-22T10:00:00+08:00'));
    const poller = new ScriptedPoller(clock);
    const points: Sample[] = [];
    const monitor = new Monitor(
      {
        clock,
        log: memoryLogger('warn'),
        inventory: smallInventory(),
        poller,
        writer: {
          push: (s) => void points.push(...s),
          start: () => Promise.resolve(),
          stop: () => Promise.resolve(),
          stats: () => ({ written: 0, buffered: 0, dropped: 0, invalid: 0, failures: 0 }),
        },
        notifiers: [new RecordingChannel('hook')],
        store: new IncidentStore(':memory:'),
        extraMetrics: () => [
          {
            measurement: 'monitor',
            tags: { component: 'mqtt' },
            fields: { mqtt_clients: 7 },
            timeMs: clock.now(),
          },
        ],
      },
      {
        intervalMs: MIN,
        jitterMs: 0,
        concurrency: 8,
        downAfterFailures: 2,
        recheckMs: 10_000,
        selfMetricsMs: MIN,
        siteStateMs: MIN,
      },
    );
    await monitor.start();
    await advance(clock, 2 * MIN, 10_000);
    const latest = (measurement: string, site: string) =>
      points.filter((p) => p.measurement === measurement && p.tags.site === site).at(-1);
    expect(latest('site_state', 'pkm-petang-1')?.fields).toMatchObject({
      state: 'up',
      state_code: 1,
      up: 1,
      in_maintenance: 0,
      devices_down: 0,
    });
    expect(typeof latest('site_state', 'pkm-petang-1')?.fields.lat).toBe('number');

    for (const id of ['pkm-petang-1-r1', 'pkm-petang-1-ap1', 'pkm-petang-1-ap2', 'bjr-pelaga-1-r1'])
      poller.cut.add(id);
    await advance(clock, 3 * MIN, 10_000);
    expect(latest('site_state', 'pkm-petang-1')?.fields).toMatchObject({
      state: 'down',
      state_code: 0,
      up: 0,
      devices_down: 3,
    });
    // Behind the puskesmas (its upstream): unreachable, not down, and not reachable either.
    expect(latest('site_state', 'bjr-pelaga-1')?.fields).toMatchObject({ state: 'unreachable', up: 0 });
    const opened = points.filter((p) => p.measurement === 'incident');
    expect(opened.map((p) => [p.tags.event, p.tags.device, p.tags.severity])).toEqual([
      ['opened', 'pkm-petang-1-r1', 'critical'],
    ]);

    const collector = points.filter((p) => p.measurement === 'monitor' && p.tags.component === 'collector');
    const timeouts = collector.reduce((n, p) => n + Number(p.fields.failures_timeout ?? 0), 0);
    expect(timeouts).toBeGreaterThanOrEqual(8);
    expect(collector.every((p) => p.fields.failures_auth === 0)).toBe(true);
    expect(points.some((p) => p.tags.component === 'mqtt' && p.fields.mqtt_clients === 7)).toBe(true);

    poller.cut.clear();
    await advance(clock, 3 * MIN, 10_000);
    const resolved = points.filter((p) => p.measurement === 'incident' && p.tags.event === 'resolved');
    expect(resolved).toHaveLength(1);
    expect(resolved[0]?.fields.duration_s).toBeGreaterThan(0);
    expect(latest('site_state', 'bjr-pelaga-1')?.fields).toMatchObject({ state: 'up', up: 1 });
    await monitor.stop();
  });
});
