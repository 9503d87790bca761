/** serviceActions: chat actions over the MonitorService port; refusals as values, silences on the site. */
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  type IncidentView,
  type MonitorService,
  type NewSilence,
} from '../../../collector/http/service.ts';
import { serviceActions } from '../../../collector/notify/incident-actions.ts';
import type { IncidentEvent } from '../../../collector/store/incident-store.ts';

const NOW = Date.UTC(2026, 10, 22, 6, 30);
const iso = (ms: number): string => new Date(ms).toISOString();
const incident = (over: Partial<IncidentView> = {}): IncidentView => ({
  id: 'inc-1',
  kind: 'device_down',
  severity: 'critical',
  status: 'open',
  state: 'open',
  recoveryConfirmAt: null,
  silenced: null,
  openedAt: iso(NOW - 60_000),
  acknowledgedAt: null,
  acknowledgedBy: null,
  resolvedAt: null,
  clockBreachedAt: null,
  escalationLevel: 0,
  siteId: 'pkm-petang-1',
  deviceId: 'pkm-petang-1-r1',
  siteName: 'Puskesmas Petang I',
  category: 'puskesmas',
  kecamatan: 'Petang',
  desa: 'Petang',
  title: { id: 'judul', en: 'title' },
  summary: { id: 'ringkasan', en: 'summary' },
  ...over,
});

function fakeService(inc: IncidentView | undefined) {
  const calls: unknown[][] = [];
  const silences: (NewSilence & { id: string; createdBy: string })[] = [];
  const service: Pick<MonitorService, 'incident' | 'acknowledge' | 'resolve' | 'addSilence'> = {
    incident: (id) => (inc && inc.id === id ? { incident: inc, timeline: [], notifications: [] } : undefined),
    acknowledge: (id, by, note) => {
      calls.push(['acknowledge', id, by, note]);
      if (!inc || inc.id !== id) throw new ApiError(404, `no incident '${id}'`);
      if (inc.status !== 'open') throw new ApiError(409, `incident '${id}': acknowledged by made already`);
      return { ...inc, status: 'acknowledged', acknowledgedBy: by };
    },
    resolve: (id, by, note) => {
      calls.push(['resolve', id, by, note]);
      throw new Error('database is locked');
    },
    addSilence: (s, by) => {
      const silence = { ...s, id: `sil-${silences.length + 1}`, createdBy: by };
      silences.push(silence);
      return { ...silence, startsAt: iso(s.startsAt), endsAt: iso(s.endsAt) };
    },
  };
  return { service, calls, silences };
}

describe('serviceActions', () => {
  it('acknowledge goes through the service as the operator, "via Telegram" as the note', () => {
    const f = fakeService(incident());
    const r = serviceActions(f.service, { now: () => NOW }).acknowledge('inc-1', 'Wayan', 'via Telegram');
    expect(r).toMatchObject({ ok: true, incident: { status: 'acknowledged', acknowledgedBy: 'Wayan' } });
    expect(f.calls).toEqual([['acknowledge', 'inc-1', 'Wayan', 'via Telegram']]);
  });

  it('refusals come back as values: 404 not_found, 409 conflict, anything else failed', () => {
    const a = serviceActions(fakeService(incident({ status: 'acknowledged' })).service, { now: () => NOW });
    expect(a.acknowledge('nope', 'w', 'via Telegram')).toMatchObject({ ok: false, reason: 'not_found' });
    expect(a.acknowledge('inc-1', 'w', 'via Telegram')).toMatchObject({
      ok: false,
      reason: 'conflict',
      message: "incident 'inc-1': acknowledged by made already",
    });
    expect(a.resolve('inc-1', 'w', 'via Telegram')).toMatchObject({
      ok: false,
      reason: 'failed',
      message: 'database is locked',
    });
  });

  it("silence: the incident's site from now for the time asked, by the operator, with a timeline line", () => {
    const f = fakeService(incident());
    const events: IncidentEvent[] = [];
    const r = serviceActions(f.service, { now: () => NOW, addEvent: (e) => events.push(e) }).silence(
      'inc-1',
      3600_000,
      'Wayan',
      'via Telegram',
    );
    expect(r).toMatchObject({ ok: true, silenceId: 'sil-1' });
    expect(f.silences).toEqual([
      {
        id: 'sil-1',
        scope: { sites: ['pkm-petang-1'] },
        startsAt: NOW,
        endsAt: NOW + 3600_000,
        comment: 'via Telegram: incident inc-1, 60 min',
        createdBy: 'Wayan',
      },
    ]);
    expect(events).toEqual([
      {
        incidentId: 'inc-1',
        timeMs: NOW,
        type: 'silenced',
        actor: 'Wayan',
        note: 'via Telegram, 60 min (sil-1)',
      },
    ]);
  });

  it('silence: a device without a site is silenced by device; resolved or unknown incidents are refused', () => {
    const f = fakeService(incident({ siteId: null }));
    serviceActions(f.service, { now: () => NOW }).silence('inc-1', 60_000, 'w', 'via Telegram');
    expect(f.silences[0]?.scope).toEqual({ devices: ['pkm-petang-1-r1'] });
    const done = serviceActions(fakeService(incident({ status: 'resolved' })).service, { now: () => NOW });
    expect(done.silence('inc-1', 60_000, 'w', 'via Telegram')).toMatchObject({
      ok: false,
      reason: 'conflict',
    });
    expect(done.silence('other', 60_000, 'w', 'via Telegram')).toMatchObject({
      ok: false,
      reason: 'not_found',
    });
  });
});
