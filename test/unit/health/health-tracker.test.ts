import { describe, expect, it } from 'vitest';
import { Secret } from '../../../collector/core/secret.ts';
import type { Device, Inventory, ProbeResult, Site, Transition } from '../../../collector/core/types.ts';
import { HealthTracker } from '../../../collector/health/health-tracker.ts';
import { Topology } from '../../../collector/health/topology.ts';

const site = (id: string, upstream?: string): Site => ({
  id,
  name: id,
  category: 'banjar',
  kecamatan: 'Petang',
  desa: 'Pelaga',
  lat: -8.3,
  lon: 115.2,
  criticality: 'low',
  upstream,
});
const dev = (id: string, siteId: string, role: 'router' | 'ap', parent?: string): Device => ({
  id,
  siteId,
  role,
  host: '127.0.0.1',
  port: 161,
  profile: 'generic',
  snmp: { version: '2c', community: new Secret('x') },
  parent,
});

// Site A: router ra with APs a1, a2. Site B reaches the internet through A: router rb, AP b1.
const inventory: Inventory = {
  sites: [site('A'), site('B', 'A')],
  devices: [
    dev('ra', 'A', 'router'),
    dev('a1', 'A', 'ap', 'ra'),
    dev('a2', 'A', 'ap', 'ra'),
    dev('rb', 'B', 'router'),
    dev('b1', 'B', 'ap', 'rb'),
  ],
};

function harness(downAfterFailures = 2) {
  const transitions: Transition[] = [];
  const probes: { id: string; delay: number }[] = [];
  const tracker = new HealthTracker(
    new Topology(inventory),
    { downAfterFailures, recheckMs: 10_000 },
    { onTransition: (t) => transitions.push(t), requestProbe: (id, delay) => probes.push({ id, delay }) },
    0,
  );
  const probe = (deviceId: string, ok: boolean, timeMs: number): void => {
    const r: ProbeResult = ok
      ? { deviceId, timeMs, ok, durationMs: 5, source: 'snmp' }
      : {
          deviceId,
          timeMs,
          ok,
          durationMs: 2000,
          source: 'snmp',
          failure: { reason: 'timeout', message: 'no answer' },
        };
    tracker.observe(r);
  };
  const state = (id: string) => tracker.get(id)?.state;
  const to = (state: string) => transitions.filter((t) => t.to === state).map((t) => t.deviceId);
  return { tracker, transitions, probes, probe, state, to };
}

describe('HealthTracker', () => {
  it('all up: unknown → up, no failures', () => {
    const h = harness();
    for (const id of ['ra', 'a1', 'a2', 'rb', 'b1']) h.probe(id, true, 1_000);
    expect(h.to('up').sort()).toEqual(['a1', 'a2', 'b1', 'ra', 'rb']);
    expect(h.tracker.countByState().up).toBe(5);
  });

  it('failureCauses: the last failure of each device whose last poll failed, and only those', () => {
    const h = harness();
    for (const id of ['ra', 'a1', 'a2', 'rb', 'b1']) h.probe(id, true, 1_000);
    expect([...h.tracker.failureCauses()]).toEqual([]);
    h.probe('b1', false, 60_000);
    h.probe('a2', false, 60_000);
    const causes = [...h.tracker.failureCauses()];
    expect(causes).toHaveLength(2);
    for (const c of causes) expect(c.split(':')[0]).toBe('timeout');
    h.probe('a2', true, 70_000);
    expect([...h.tracker.failureCauses()]).toHaveLength(1);
  });

  it('a router failing goes suspect, asks for a quick recheck, then down after N failures', () => {
    const h = harness(2);
    h.probe('ra', true, 0);
    h.probe('ra', false, 60_000);
    expect(h.state('ra')).toBe('suspect');
    expect(h.probes).toContainEqual({ id: 'ra', delay: 10_000 });
    h.probe('ra', false, 70_000);
    expect(h.state('ra')).toBe('down');
    expect(h.transitions.at(-1)).toMatchObject({
      deviceId: 'ra',
      from: 'suspect',
      to: 'down',
      timeMs: 70_000,
      siteId: 'A',
    });
  });

  it('site cut, APs fail first: they wait for the router and end unreachable, never down', () => {
    const h = harness(2);
    for (const id of ['ra', 'a1', 'a2']) h.probe(id, true, 0);
    // APs notice first and reach the threshold while the router still looks up (last ok before they failed).
    h.probe('a1', false, 60_000);
    h.probe('a1', false, 70_000);
    expect(h.state('a1')).toBe('suspect');
    expect(h.probes).toContainEqual({ id: 'ra', delay: 0 });
    h.probe('a2', false, 61_000);
    h.probe('ra', false, 71_000);
    h.probe('ra', false, 81_000);
    expect(h.state('ra')).toBe('down');
    expect(h.state('a1')).toBe('unreachable');
    expect(h.state('a2')).toBe('unreachable');
    expect(h.to('down')).toEqual(['ra']);
    // An AP probed after the router is down goes straight to unreachable.
    h.probe('a2', false, 90_000);
    expect(h.state('a2')).toBe('unreachable');
    expect(h.to('down')).toEqual(['ra']);
  });

  it('an AP dead while its router answers is down (the router was confirmed after the AP failed)', () => {
    const h = harness(2);
    h.probe('ra', true, 0);
    h.probe('a1', true, 0);
    h.probe('a1', false, 60_000);
    h.probe('a1', false, 70_000);
    expect(h.state('a1')).toBe('suspect');
    h.probe('ra', true, 71_000); // the requested parent probe
    h.probe('a1', false, 80_000);
    expect(h.state('a1')).toBe('down');
    expect(h.to('down')).toEqual(['a1']);
  });

  it('an upstream router down makes the downstream site unreachable, transitively', () => {
    const h = harness(2);
    for (const id of ['ra', 'a1', 'a2', 'rb', 'b1']) h.probe(id, true, 0);
    h.probe('rb', false, 60_000);
    h.probe('b1', false, 60_500);
    h.probe('ra', false, 61_000);
    h.probe('ra', false, 71_000);
    expect(h.state('ra')).toBe('down');
    expect(h.state('rb')).toBe('unreachable');
    expect(h.state('b1')).toBe('unreachable');
    expect(h.to('down')).toEqual(['ra']);
  });

  it('recovery: router up → children re-probed; they come back quietly, a dead child becomes down', () => {
    const h = harness(2);
    for (const id of ['ra', 'a1', 'a2']) h.probe(id, true, 0);
    h.probe('ra', false, 60_000);
    h.probe('ra', false, 70_000);
    h.probe('a1', false, 72_000);
    h.probe('a2', false, 72_000);
    expect(h.state('a1')).toBe('unreachable');
    h.probes.length = 0;
    h.probe('ra', true, 300_000);
    expect(h.state('ra')).toBe('up');
    expect(h.probes.map((p) => p.id).sort()).toEqual(['a1', 'a2']);
    h.probe('a1', true, 300_100);
    h.probe('a2', false, 300_100);
    expect(h.state('a1')).toBe('up');
    // One failure after the router came back is not yet "down" with N=2 ...
    expect(h.state('a2')).toBe('unreachable');
    h.probes.length = 0;
    h.probe('a2', false, 310_100);
    // ... nor the second, until the router is confirmed fine after a2's new failures began ...
    expect(h.state('a2')).toBe('unreachable');
    expect(h.probes).toContainEqual({ id: 'ra', delay: 0 });
    h.probe('ra', true, 311_000);
    h.probe('a2', false, 320_000);
    // ... then it is down: an outage of its own.
    expect(h.state('a2')).toBe('down');
    expect(h.transitions.filter((t) => t.deviceId === 'ra').map((t) => t.to)).toEqual([
      'up',
      'suspect',
      'down',
      'up',
    ]);
  });

  it('a down device stays down while its parent goes down later (its outage was its own)', () => {
    const h = harness(1);
    h.probe('ra', true, 0);
    h.probe('a1', true, 0);
    h.probe('ra', true, 59_000);
    h.probe('a1', false, 60_000);
    h.probe('ra', true, 61_000);
    h.probe('a1', false, 62_000);
    expect(h.state('a1')).toBe('down');
    h.probe('ra', false, 120_000);
    expect(h.state('ra')).toBe('down');
    expect(h.state('a1')).toBe('down');
  });

  it('ignores probes of unknown devices', () => {
    const h = harness();
    h.probe('nope', false, 1);
    expect(h.transitions).toHaveLength(0);
  });
});
