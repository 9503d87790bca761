/**
 * decideSiteState: the one rule for what a site shows (API, site_state, MQTT, feeds). Table tests, worst
 * first, and the recovering state with the time its recovery is confirmed.
 */
import { describe, expect, it } from 'vitest';
import {
  decideSiteState,
  SITE_STATE_CODE,
  SITE_STATES,
  type SiteFacts,
} from '../../../collector/health/site-state.ts';
import type { DeviceState } from '../../../collector/core/types.ts';

const T = Date.parse('2026-12-03T22:15:00+08:00');

function facts(states: [role: string, state: DeviceState][], over: Partial<SiteFacts> = {}): SiteFacts {
  return {
    devices: states.map(([role, state], i) => ({ id: `d${i}`, role, state, since: T })),
    inMaintenance: false,
    flapping: false,
    recoveriesConfirmAt: [],
    ...over,
  };
}

describe('decideSiteState', () => {
  it.each<[string, SiteFacts, string, boolean]>([
    [
      'all up',
      facts([
        ['router', 'up'],
        ['ap', 'up'],
      ]),
      'up',
      true,
    ],
    [
      'router down',
      facts([
        ['router', 'down'],
        ['ap', 'unreachable'],
      ]),
      'down',
      false,
    ],
    [
      'an AP down, router up',
      facts([
        ['router', 'up'],
        ['ap', 'down'],
      ]),
      'down',
      true,
    ],
    [
      'behind a down upstream',
      facts([
        ['router', 'unreachable'],
        ['ap', 'unreachable'],
      ]),
      'unreachable',
      false,
    ],
    [
      'a suspect AP',
      facts([
        ['router', 'up'],
        ['ap', 'suspect'],
      ]),
      'suspect',
      true,
    ],
    [
      'nothing polled yet',
      facts([
        ['router', 'unknown'],
        ['ap', 'unknown'],
      ]),
      'unknown',
      false,
    ],
    ['no devices', facts([]), 'unknown', false],
    ['down inside maintenance', facts([['router', 'down']], { inMaintenance: true }), 'maintenance', false],
    ['flapping beats down', facts([['router', 'down']], { flapping: true }), 'flapping', false],
    [
      'recovering: every device answers, a recovery settles',
      facts(
        [
          ['router', 'up'],
          ['ap', 'up'],
        ],
        { recoveriesConfirmAt: [T + 120_000] },
      ),
      'recovering',
      true,
    ],
    [
      'recovering beats a suspect AP',
      facts(
        [
          ['router', 'up'],
          ['ap', 'suspect'],
        ],
        { recoveriesConfirmAt: [T + 120_000] },
      ),
      'recovering',
      true,
    ],
    [
      'a device still down beats a settling recovery',
      facts(
        [
          ['router', 'up'],
          ['ap', 'down'],
        ],
        { recoveriesConfirmAt: [T + 120_000] },
      ),
      'down',
      true,
    ],
    [
      'maintenance beats recovering',
      facts([['router', 'up']], { inMaintenance: true, recoveriesConfirmAt: [T + 1] }),
      'maintenance',
      true,
    ],
    [
      'not monitored (its edge lost): neither up nor down, whatever its devices last showed',
      facts([['router', 'up']], { notMonitoredSince: T - 60_000 }),
      'not_monitored',
      false,
    ],
    [
      'not monitored beats a stale down and maintenance',
      facts([['router', 'down']], { notMonitoredSince: T - 60_000, inMaintenance: true, flapping: true }),
      'not_monitored',
      false,
    ],
  ])('%s', (_name, f, state, up) => {
    const d = decideSiteState(f);
    expect(d.state).toBe(state);
    expect(d.up).toBe(up);
    expect(d.inMaintenance).toBe(f.inMaintenance);
  });

  it('says when a recovery is confirmed: the last of the site’s settling recoveries', () => {
    const d = decideSiteState(
      facts(
        [
          ['router', 'up'],
          ['ap', 'up'],
        ],
        { recoveriesConfirmAt: [T + 60_000, T + 120_000, T + 90_000] },
      ),
    );
    expect(d).toEqual({
      state: 'recovering',
      up: true,
      inMaintenance: false,
      recoveryConfirmAt: T + 120_000,
    });
    expect(decideSiteState(facts([['router', 'up']])).recoveryConfirmAt).toBeUndefined();
  });

  it('every state has its own site_state code', () => {
    const codes = SITE_STATES.map((s) => SITE_STATE_CODE[s]);
    expect(new Set(codes).size).toBe(SITE_STATES.length);
    expect(SITE_STATE_CODE.recovering).toBe(6);
  });
});
