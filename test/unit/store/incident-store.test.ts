import { describe, expect, it } from 'vitest';
import { IncidentStore } from '../../../collector/store/incident-store.ts';

const T = Date.UTC(2026, 10, 23, 2, 0);
const base = {
  kind: 'device_down',
  severity: 'critical',
  openedAt: T,
  siteId: 'pkm-petang-i',
  deviceId: 'pkm-petang-i-rtr',
  data: { cause: 'timeout' },
};

describe('IncidentStore', () => {
  it('runs an incident through open, acknowledged, resolved with its timeline', () => {
    const s = new IncidentStore(':memory:');
    const { incident, created } = s.open({ ...base, id: 'i1', key: 'device:pkm-petang-i-rtr' });
    expect(created).toBe(true);
    expect(incident).toMatchObject({ status: 'open', data: { cause: 'timeout' } });
    expect(s.acknowledge('i1', 'wayan', T + 60_000, 'on my way')?.status).toBe('acknowledged');
    expect(s.acknowledge('i1', 'made', T + 70_000)?.acknowledgedBy).toBe('wayan'); // only once
    expect(s.resolve('i1', T + 3_600_000)?.status).toBe('resolved');
    expect(s.timeline('i1').map((e) => [e.type, e.actor ?? null, e.note ?? null])).toEqual([
      ['opened', null, null],
      ['acknowledged', 'wayan', 'on my way'],
      ['resolved', null, null],
    ]);
    s.close();
  });

  it('keeps one open incident per key, and a new one after resolution', () => {
    const s = new IncidentStore(':memory:');
    s.open({ ...base, id: 'i1', key: 'k' });
    const again = s.open({ ...base, id: 'i2', key: 'k' });
    expect(again).toMatchObject({ created: false, incident: { id: 'i1' } });
    s.resolve('i1', T + 1);
    expect(s.open({ ...base, id: 'i3', key: 'k' }).created).toBe(true);
    expect(s.unresolved().map((i) => i.id)).toEqual(['i3']);
    s.close();
  });

  it('records a notification once per incident, channel and kind', () => {
    const s = new IncidentStore(':memory:');
    s.open({ ...base, id: 'i1', key: 'k' });
    expect(s.markSent('i1', 'telegram:oncall', 'firing', T)).toBe(true);
    expect(s.markSent('i1', 'telegram:oncall', 'firing', T + 5)).toBe(false);
    expect(s.wasSent('i1', 'telegram:oncall', 'firing')).toBe(true);
    expect(s.wasSent('i1', 'telegram:oncall', 'resolved')).toBe(false);
    s.close();
  });
});
