import { describe, expect, it } from 'vitest';
import {
  applyLivenessEvent,
  applyLivenessWake,
  hasSnmp,
  type Connection,
  type LivenessKind,
} from '../../../collector/liveness/mqtt-liveness.ts';

const policy = { graceMs: 10_000, retryMs: 1000 };
const SNMP = { snmp: true };
const MQTT_ONLY = { snmp: false };
const ev = (kind: LivenessKind, timeMs = 1000) => ({ deviceId: 'd1', kind, timeMs });
const types = (s: { actions: readonly { type: string }[] }) => s.actions.map((a) => a.type);

describe('MQTT liveness events', () => {
  it('connected: the device is up', () => {
    const s = applyLivenessEvent(undefined, ev('connected', 5), MQTT_ONLY, policy);
    expect(s.next).toEqual({ state: 'connected', since: 5 });
    expect(s.actions).toEqual([
      { type: 'cancel_wake', deviceId: 'd1' },
      { type: 'observe', probe: { deviceId: 'd1', timeMs: 5, ok: true, durationMs: 0, source: 'mqtt' } },
    ]);
  });

  it.each([SNMP, MQTT_ONLY])('a clean disconnect is not an outage (%o)', (device) => {
    const s = applyLivenessEvent({ state: 'connected', since: 0 }, ev('clean_disconnect'), device, policy);
    expect(s.next).toEqual({ state: 'closed', since: 1000 });
    expect(types(s)).toEqual(['cancel_wake', 'note']);
    expect(s.actions.some((a) => a.type === 'observe' || a.type === 'probe_snmp')).toBe(false);
  });

  it.each(['will', 'keepalive_lapsed'] as const)(
    '%s on a device that also has SNMP: suspect at once, one immediate SNMP probe, no grace timer',
    (kind) => {
      const s = applyLivenessEvent({ state: 'connected', since: 0 }, ev(kind, 7000), SNMP, policy);
      expect(s.next).toEqual({ state: 'lost', since: 7000, how: kind });
      expect(s.actions).toEqual([
        {
          type: 'observe',
          probe: {
            deviceId: 'd1',
            timeMs: 7000,
            ok: false,
            durationMs: 0,
            source: 'mqtt',
            failure: {
              reason: 'timeout',
              message: kind === 'will' ? 'MQTT connection lost (Last Will)' : 'MQTT keepalive lapsed',
            },
          },
        },
        { type: 'probe_snmp', deviceId: 'd1' },
      ]);
    },
  );

  it.each(['will', 'keepalive_lapsed'] as const)(
    '%s on an MQTT-only device: suspect at once, wake when the grace is over',
    (kind) => {
      const s = applyLivenessEvent({ state: 'connected', since: 0 }, ev(kind, 7000), MQTT_ONLY, policy);
      expect(types(s)).toEqual(['observe', 'wake']);
      expect(s.actions[1]).toEqual({ type: 'wake', deviceId: 'd1', atMs: 17_000 });
    },
  );

  it('the same loss told twice counts once and keeps its start', () => {
    const lost: Connection = { state: 'lost', since: 1000, how: 'keepalive_lapsed' };
    const s = applyLivenessEvent(lost, ev('will', 1500), MQTT_ONLY, policy);
    expect(s).toEqual({ next: lost, actions: [] });
  });

  it('a loss after a clean disconnect is a loss (the device came back and then vanished)', () => {
    const s = applyLivenessEvent({ state: 'closed', since: 0 }, ev('will', 3000), MQTT_ONLY, policy);
    expect(s.next).toEqual({ state: 'lost', since: 3000, how: 'will' });
    expect(types(s)).toEqual(['observe', 'wake']);
  });
});

describe('MQTT liveness wake-ups', () => {
  const lost: Connection = { state: 'lost', since: 1000, how: 'will' };

  it('still gone after the grace: another failure, then again every retryMs', () => {
    const s = applyLivenessWake(lost, 'd1', 11_000, 'suspect', policy);
    expect(s.next).toBe(lost);
    expect(s.actions).toEqual([
      {
        type: 'observe',
        probe: {
          deviceId: 'd1',
          timeMs: 11_000,
          ok: false,
          durationMs: 0,
          source: 'mqtt',
          failure: { reason: 'timeout', message: 'MQTT connection lost (Last Will); not back after 10 s' },
        },
      },
      { type: 'wake', deviceId: 'd1', atMs: 12_000 },
    ]);
  });

  it.each(['down', 'unreachable'] as const)('nothing more once the device is %s', (state) => {
    expect(applyLivenessWake(lost, 'd1', 11_000, state, policy).actions).toEqual([]);
  });

  const back: Connection = { state: 'connected', since: 5000 };
  const bye: Connection = { state: 'closed', since: 5000 };
  it.each([
    ['it came back', back, 11_000],
    ['it said goodbye', bye, 11_000],
    ['nothing known', undefined, 11_000],
  ] as const)('nothing when %s', (_what, conn, now) => {
    expect(applyLivenessWake(conn, 'd1', now, 'suspect', policy).actions).toEqual([]);
  });

  it('a wake-up a millisecond early (timers run by another clock than Date.now) is re-armed, not lost', () => {
    const s = applyLivenessWake(lost, 'd1', 10_999, 'suspect', policy);
    expect(s.next).toBe(lost);
    expect(s.actions).toEqual([{ type: 'wake', deviceId: 'd1', atMs: 11_000 }]);
  });
});

describe('hasSnmp', () => {
  it('sensors and devices without an address speak only MQTT', () => {
    expect(hasSnmp({ role: 'router', host: '10.0.0.1' })).toBe(true);
    expect(hasSnmp({ role: 'ap', host: '10.0.0.2' })).toBe(true);
    expect(hasSnmp({ role: 'sensor', host: '' })).toBe(false);
    expect(hasSnmp({ role: 'router', host: '' })).toBe(false);
  });
});
