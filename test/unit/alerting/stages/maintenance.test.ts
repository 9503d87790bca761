/**
 * Stage 3, maintenance and silences: a page inside a window or under a silence is held and its timeline
 * says so; its recovery and flapping notice are held too; when the cover ends, `release` gives it back.
 */
import { describe, expect, it } from 'vitest';
import { MaintenanceCalendar } from '../../../../collector/alerting/calendar.ts';
import type { MaintenanceWindow, Scope, Silence } from '../../../../collector/alerting/scope.ts';
import { MaintenanceStage } from '../../../../collector/alerting/stages/maintenance.ts';
import { memoryLogger } from '../../../../collector/core/log.ts';
import type { IncidentEvent } from '../../../../collector/store/incident-store.ts';
import { testSite } from '../../../support/fixtures.ts';
import { T0, alertOf, page, runStage } from './notices.ts';

const HOUR = 3600_000;
const sites = new Map([
  ['pkm', testSite('pkm', { category: 'puskesmas' })],
  ['bjr', testSite('bjr', { kecamatan: 'Mengwi' })],
]);

const silence = (scope: Scope, endsAt = T0 + HOUR): Silence => ({
  id: 'sil-1',
  scope,
  startsAt: T0 - HOUR,
  endsAt,
  createdBy: 'made',
  comment: 'fibre works',
});
const window = (scope: Scope): MaintenanceWindow => ({
  id: 'mw-1',
  name: 'PLN works',
  scope,
  schedule: { kind: 'once', startMs: T0 - HOUR, endMs: T0 + HOUR },
  source: 'config',
});

function setup(windows: MaintenanceWindow[], silences: Silence[]) {
  const calendar = new MaintenanceCalendar(windows, silences);
  const events: IncidentEvent[] = [];
  const stage = new MaintenanceStage({
    coverOf: (target, t) => calendar.activeFor(target, t),
    siteOf: (id) => sites.get(id),
    addEvent: (ev) => events.push(ev),
    log: memoryLogger('error'),
  });
  return { calendar, stage, events };
}

const r1 = alertOf('pkm-r1', 'pkm');

describe('MaintenanceStage: a page', () => {
  it.each([
    // what covers, passes?, timeline event
    ['nothing', [], [], true, undefined],
    ['a silence of its site', [], [silence({ sites: ['pkm'] })], false, 'suppressed'],
    ['a silence of its device', [], [silence({ devices: ['pkm-r1'] })], false, 'suppressed'],
    ['a silence of another device', [], [silence({ devices: ['pkm-ap1'] })], true, undefined],
    ['a silence of another kecamatan', [], [silence({ kecamatan: ['Mengwi'] })], true, undefined],
    ['a silence already over', [], [silence({ sites: ['pkm'] }, T0 - 1)], true, undefined],
    ['a window of its category', [window({ categories: ['puskesmas'] })], [], false, 'suppressed'],
    ['a window of another category', [window({ categories: ['banjar'] })], [], true, undefined],
  ] as const)('covered by %s: passes %s', (_what, windows, silences, passes, event) => {
    const { stage, events } = setup([...windows], [...silences]);
    const n = page(r1);
    expect(runStage(stage, n)).toEqual(passes ? [n] : []);
    expect(events.map((e) => e.type)).toEqual(event ? [event] : []);
    expect(stage.suppression(r1.id) !== undefined).toBe(!passes);
  });

  it('held twice, the timeline says it once', () => {
    const { stage, events } = setup([], [silence({ sites: ['pkm'] })]);
    runStage(stage, page(r1));
    runStage(stage, page(r1, T0 + 1000));
    expect(events.map((e) => e.type)).toEqual(['suppressed']);
    expect(events[0]?.note).toMatch(/^silence sil-1 until .*: fibre works$/);
  });
});

describe('MaintenanceStage: what follows a held page', () => {
  it.each([
    // cover of the held page, notice, passes?, timeline event
    ['silence', 'resolved', false, 'recovered_while_silenced'],
    ['maintenance', 'resolved', false, 'recovered_in_maintenance'],
    ['silence', 'flapping', false, undefined],
    ['none', 'resolved', true, undefined],
    ['none', 'flapping', true, undefined],
  ] as const)('held by %s, a %s notice: passes %s', (cover, what, passes, event) => {
    const { stage, events } = setup(
      cover === 'maintenance' ? [window({ sites: ['pkm'] })] : [],
      cover === 'silence' ? [silence({ sites: ['pkm'] })] : [],
    );
    runStage(stage, page(r1));
    events.length = 0;
    const n =
      what === 'resolved'
        ? page({ ...r1, status: 'resolved', resolvedAt: T0 + 1000 }, T0 + 1000)
        : { kind: 'flapping' as const, alert: { ...r1, flaps: 2 }, timeMs: T0 + 1000 };
    expect(runStage(stage, n)).toEqual(passes ? [n] : []);
    expect(events.map((e) => e.type)).toEqual(event ? [event] : []);
  });
});

describe('MaintenanceStage.release', () => {
  it('gives back the alerts whose cover ended, and keeps those still covered', () => {
    const { stage, events, calendar } = setup([], [silence({ sites: ['pkm'] })]);
    const b1 = alertOf('bjr-r1', 'bjr');
    calendar.addSilence({ ...silence({ sites: ['bjr'] }), id: 'sil-2', endsAt: T0 + 3 * HOUR });
    runStage(stage, page(r1));
    runStage(stage, page(b1));
    const later = T0 + 2 * HOUR;
    expect(stage.release([r1, b1], later)).toEqual([r1]);
    expect(events.at(-1)).toMatchObject({ incidentId: r1.id, type: 'silence_ended', timeMs: later });
    expect(stage.suppression(r1.id)).toBeUndefined();
    expect(stage.suppression(b1.id)).toMatchObject({ kind: 'silence', id: 'sil-2' });
    // Released once: a second read gives nothing back.
    expect(stage.release([r1, b1], later + 1)).toEqual([]);
  });
});
