/**
 * Maintenance windows and silences in the Monitor, on fake time with a real (in-memory) SQLite store:
 * nothing pages inside them, the time is marked (`maintenance` points), a device still down when its
 * window closes pages then, clocks do not run for what nobody was told of, and windows made over the API
 * outlive a restart while those of the config cannot be deleted.
 */
import { describe, expect, it } from 'vitest';
import { Monitor } from '../../../collector/monitor.ts';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { Sample } from '../../../collector/core/types.ts';
import type { MaintenanceWindow } from '../../../collector/alerting/scope.ts';
import { DEFAULT_CLOCKS } from '../../../collector/alerting/oncall.ts';
import { IncidentStore } from '../../../collector/store/incident-store.ts';
import { smallInventory } from '../../support/fixtures.ts';
import { ScriptedPoller, RecordingChannel, advance } from '../../support/monitor-fakes.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** 2026-11-22 10:00 WITA (UTC+8). */
const START = Date.parse('2026-11-22T10:00:00+08:00');
const ROUTER = 'pkm-petang-1-r1';
const SITE_DEVICES = [ROUTER, 'pkm-petang-1-ap1', 'pkm-petang-1-ap2', 'bjr-pelaga-1-r1'];

/** 10:00-11:00 WITA every day, for the puskesmas. */
const dailyWindow: MaintenanceWindow = {
  id: 'config-1',
  name: 'Pemeliharaan harian / daily maintenance',
  scope: { sites: ['pkm-petang-1'] },
  schedule: { kind: 'weekly', at: '10:00', durationMs: HOUR, timeZone: 'Asia/Makassar' },
  source: 'config',
};

function build(opts: { store?: IncidentStore; maintenance?: MaintenanceWindow[] } = {}) {
  const clock = new FakeClock(START);
  const poller = new ScriptedPoller(clock);
  const store = opts.store ?? new IncidentStore(':memory:');
  const noc = new RecordingChannel('tg-noc');
  const head = new RecordingChannel('mail-head');
  const points: Sample[] = [];
  const monitor = new Monitor(
    {
      clock,
      log: memoryLogger('warn'),
      inventory: smallInventory(),
      poller,
      writer: {
        push: (s) => void points.push(...s.filter((p) => p.measurement === 'maintenance')),
        start: () => Promise.resolve(),
        stop: () => Promise.resolve(),
        stats: () => ({ written: 0, buffered: 0, dropped: 0, invalid: 0, failures: 0 }),
      },
      notifiers: [noc, head],
      store,
    },
    {
      intervalMs: MIN,
      jitterMs: 0,
      concurrency: 8,
      downAfterFailures: 2,
      recheckMs: 10_000,
      selfMetricsMs: 600_000,
      clockCheckMs: MIN,
      maintenance: opts.maintenance,
      oncall: {
        severityByCategory: {},
        clocksMs: DEFAULT_CLOCKS,
        contacts: [
          { name: 'noc', channels: ['tg-noc'] },
          { name: 'head', channels: ['mail-head'] },
        ],
        routes: [{ match: {}, escalation: ['noc', 'head'] }],
      },
    },
  );
  return { clock, poller, store, noc, head, points, monitor };
}

describe('Monitor: maintenance windows and silences', () => {
  it('a cut inside a config window pages nobody and is marked; still down when it closes, it pages then', async () => {
    const h = build({ maintenance: [dailyWindow] });
    await h.monitor.start();
    expect(h.monitor.inMaintenance('pkm-petang-1')).toBe(true);
    expect(h.monitor.inMaintenance('bjr-pelaga-1')).toBe(false);
    expect(h.points.map((p) => [p.tags.site, p.fields.active, p.fields.reason])).toEqual([
      ['pkm-petang-1', 1, dailyWindow.name],
    ]);

    await advance(h.clock, 2 * MIN);
    for (const id of SITE_DEVICES) h.poller.cut.add(id);
    await advance(h.clock, 5 * MIN);
    const incident = h.store.unresolved()[0];
    expect(incident?.deviceId).toBe(ROUTER);
    expect(h.noc.sent).toEqual([]);
    expect(h.store.timeline(incident!.id).map((e) => e.type)).toContain('suppressed');

    // 11:00 WITA: the window closes with the router still down: one page now, and the mark ends.
    await advance(h.clock, 55 * MIN);
    expect(h.noc.sent.map((n) => [n.status, n.device?.id])).toEqual([['firing', ROUTER]]);
    expect(h.points.at(-1)).toMatchObject({
      tags: { site: 'pkm-petang-1' },
      fields: { active: 0 },
      timeMs: Date.parse('2026-11-22T11:00:00+08:00'),
    });
    expect(h.monitor.inMaintenance('pkm-petang-1')).toBe(false);
    expect(h.store.timeline(incident!.id).map((e) => e.type)).toContain('maintenance_ended');

    h.poller.cut.clear();
    await advance(h.clock, 3 * MIN);
    expect(h.noc.sent.map((n) => n.status)).toEqual(['firing', 'resolved']);
    await h.monitor.stop();
  });

  it('a silence: no page, no recovery page, and no clock running out inside it', async () => {
    const h = build();
    await h.monitor.start();
    await advance(h.clock, 2 * MIN);
    const silence = h.monitor.addSilence(
      {
        scope: { kecamatan: ['Petang'] },
        startsAt: h.clock.now(),
        endsAt: h.clock.now() + 4 * HOUR,
        comment: 'PLN memadamkan listrik / planned power cut',
      },
      'ops-1',
    );
    expect(silence.id).toMatch(/^sil-/);
    expect(h.monitor.silences()).toHaveLength(1);
    for (const id of SITE_DEVICES) h.poller.cut.add(id);
    await advance(h.clock, 5 * MIN);
    const incident = h.store.unresolved()[0];
    expect(incident?.severity).toBe('critical');
    // Past the 2-hour critical clock: nobody was told, so nobody is late.
    await advance(h.clock, 3 * HOUR, 10 * MIN);
    expect(h.store.get(incident!.id)?.clockBreachedAt).toBeUndefined();
    expect(h.head.sent).toEqual([]);
    h.poller.cut.clear();
    await advance(h.clock, 5 * MIN);
    expect(h.store.get(incident!.id)?.status).toBe('resolved');
    expect(h.noc.sent).toEqual([]);
    expect(h.store.timeline(incident!.id).map((e) => e.type)).toContain('recovered_while_silenced');

    // The silence ends by itself: forgotten, and the sites are marked as no longer covered.
    await advance(h.clock, HOUR, 10 * MIN);
    expect(h.monitor.silences()).toEqual([]);
    expect(h.store.suppressions('silence')).toEqual([]);
    expect(h.points.filter((p) => p.fields.active === 0).map((p) => p.tags.site)).toEqual(
      expect.arrayContaining(['pkm-petang-1', 'bjr-pelaga-1']),
    );
    await h.monitor.stop();
  });

  it('windows made over the API survive a restart; config windows cannot be deleted', async () => {
    const store = new IncidentStore(':memory:');
    const h = build({ store, maintenance: [dailyWindow] });
    await h.monitor.start();
    const w = h.monitor.addMaintenance(
      {
        name: 'Ganti router / router swap',
        scope: { categories: ['banjar'] },
        schedule: { kind: 'once', startMs: START + HOUR, endMs: START + 3 * HOUR },
      },
      'ops-1',
    );
    expect(w).toMatchObject({ source: 'api', createdBy: 'ops-1' });
    expect(h.monitor.deleteMaintenance('config-1', 'ops-1')).toBe('config');
    expect(h.monitor.deleteMaintenance('mw-nope', 'ops-1')).toBe('not_found');
    await h.monitor.stop();

    const again = build({ store, maintenance: [dailyWindow] });
    await again.monitor.start();
    expect(
      again.monitor
        .maintenanceWindows()
        .map((x) => x.id)
        .sort(),
    ).toEqual(['config-1', w.id].sort());
    expect(again.monitor.inMaintenance('bjr-pelaga-1')).toBe(false);
    await advance(again.clock, HOUR + MIN);
    expect(again.monitor.inMaintenance('bjr-pelaga-1')).toBe(true);
    expect(again.monitor.deleteMaintenance(w.id, 'ops-1')).toBe('ok');
    expect(again.monitor.inMaintenance('bjr-pelaga-1')).toBe(false);
    expect(store.suppressions('maintenance')).toEqual([]);
    await again.monitor.stop();
  });
});
