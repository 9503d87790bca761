/** HealthTracker with the ping signal: warnings, SNMP verification requests, ping requests, trap polls. */
import { describe, expect, it } from 'vitest';
import { Secret } from '../../../collector/core/secret.ts';
import type { Device, Inventory, ProbeResult, Transition } from '../../../collector/core/types.ts';
import { HealthTracker, type HealthWarning } from '../../../collector/health/health-tracker.ts';
import { Topology } from '../../../collector/health/topology.ts';

const dev = (id: string, role: 'router' | 'ap', extra: Partial<Device> = {}): Device => ({
  id,
  siteId: 'S',
  role,
  host: '127.0.0.1',
  port: 161,
  profile: 'generic',
  snmp: { version: '2c', community: new Secret('x') },
  ...extra,
});
const inventory: Inventory = {
  sites: [
    {
      id: 'S',
      name: 'S',
      category: 'puskesmas',
      kecamatan: 'Petang',
      desa: 'Pelaga',
      lat: -8.3,
      lon: 115.2,
      criticality: 'critical',
    },
  ],
  devices: [dev('r', 'router'), dev('a', 'ap', { parent: 'r', ping: 'only', snmp: undefined })],
};

function harness() {
  const transitions: Transition[] = [];
  const probes: { id: string; delay: number }[] = [];
  const warnings: HealthWarning[] = [];
  const pings: string[] = [];
  const tracker = new HealthTracker(
    new Topology(inventory),
    { downAfterFailures: 2, recheckMs: 500 },
    { onTransition: (t) => transitions.push(t), requestProbe: (id, delay) => probes.push({ id, delay }) },
    0,
  );
  tracker.onWarning((w) => warnings.push(w));
  tracker.onPingRequest((id) => pings.push(id));
  const see = (deviceId: string, source: 'ping' | 'snmp', ok: boolean, timeMs: number): void => {
    const r: ProbeResult = ok
      ? { deviceId, timeMs, ok, durationMs: 1, source }
      : { deviceId, timeMs, ok, durationMs: 1, source, failure: { reason: 'timeout', message: 'no answer' } };
    tracker.observe(r);
  };
  return { tracker, transitions, probes, warnings, pings, see };
}

describe('HealthTracker with ping', () => {
  it('SNMP stopped on a router that answers ping: one warning, no transition away from up', () => {
    const h = harness();
    h.see('r', 'snmp', true, 1000);
    h.see('r', 'ping', true, 1500);
    h.see('r', 'snmp', false, 2000);
    expect(h.probes).toContainEqual({ id: 'r', delay: 500 }); // recheck to confirm
    h.see('r', 'ping', true, 2200);
    h.see('r', 'snmp', false, 2500);
    expect(h.warnings).toEqual([
      expect.objectContaining({ deviceId: 'r', siteId: 'S', kind: 'snmp_not_answering', raised: true }),
    ]);
    expect(h.tracker.warnings()).toEqual([{ deviceId: 'r', kind: 'snmp_not_answering', sinceMs: 2500 }]);
    expect(h.transitions.map((t) => t.to)).toEqual(['up']);
    h.see('r', 'snmp', true, 3000);
    expect(h.warnings.map((w) => w.raised)).toEqual([true, false]);
    expect(h.tracker.warnings()).toEqual([]);
  });

  it('a router cut: ping lost asks SNMP at once; both lost twice is down', () => {
    const h = harness();
    h.see('r', 'snmp', true, 1000);
    h.see('r', 'ping', true, 1500);
    h.see('r', 'ping', false, 10_000);
    expect(h.probes).toContainEqual({ id: 'r', delay: 0 });
    expect(h.tracker.get('r')?.state).toBe('up');
    h.see('r', 'snmp', false, 10_400);
    expect(h.tracker.get('r')?.state).toBe('suspect');
    h.see('r', 'ping', false, 11_000);
    expect(h.tracker.get('r')?.state).toBe('down');
    expect(h.warnings).toEqual([]);
  });

  it('a ping-only AP is judged by ping alone once its router is confirmed', () => {
    const h = harness();
    h.see('r', 'snmp', true, 1000);
    h.see('a', 'ping', true, 1000);
    h.see('a', 'ping', false, 2000);
    h.see('a', 'ping', false, 3000);
    expect(h.tracker.get('a')?.state).toBe('suspect'); // waits for its router to be confirmed
    expect(h.probes).toContainEqual({ id: 'r', delay: 0 });
    h.see('r', 'snmp', true, 3500);
    h.see('a', 'ping', false, 4000);
    expect(h.tracker.get('a')?.state).toBe('down');
  });

  it('a ping-only AP behind a cut router is unreachable, and re-pinged when the router is back', () => {
    const h = harness();
    h.see('r', 'snmp', true, 1000);
    h.see('a', 'ping', true, 1000);
    h.see('r', 'snmp', false, 2000);
    h.see('a', 'ping', false, 2100);
    h.see('r', 'snmp', false, 3000);
    expect(h.tracker.get('r')?.state).toBe('down');
    expect(h.tracker.get('a')?.state).toBe('unreachable');
    h.see('r', 'snmp', true, 9000);
    expect(h.pings).toEqual(['a']);
  });

  it('requestProbe (a trap) goes to the scheduler hook at once; unknown devices are ignored', () => {
    const h = harness();
    h.tracker.requestProbe('r');
    h.tracker.requestProbe('nope');
    expect(h.probes).toEqual([{ id: 'r', delay: 0 }]);
  });
});
