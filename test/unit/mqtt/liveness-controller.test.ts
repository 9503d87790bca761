/**
 * The liveness controller driving the real health state machine on fake time: a sensor behind a router and
 * a router that also speaks SNMP.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { Device, Inventory, Transition } from '../../../collector/core/types.ts';
import { HealthTracker } from '../../../collector/health/health-tracker.ts';
import { Topology } from '../../../collector/health/topology.ts';
import { MqttLivenessController } from '../../../collector/liveness/liveness-controller.ts';
import type { LivenessKind } from '../../../collector/liveness/mqtt-liveness.ts';
import { testDevice, testSite } from '../../support/fixtures.ts';

const router = testDevice('bjr-1-r1', 'bjr-1', 'router');
const sensor: Device = {
  id: 'bjr-1-env',
  siteId: 'bjr-1',
  role: 'sensor',
  host: '',
  port: 0,
  profile: 'generic',
  parent: router.id,
};
const inventory: Inventory = { sites: [testSite('bjr-1')], devices: [router, sensor] };
const GRACE = 10_000;

/** Node's timers run on the monotonic clock: by Date.now() one may fire a millisecond early. */
class EarlyClock extends FakeClock {
  override setTimeout(fn: () => void, ms: number) {
    return super.setTimeout(fn, ms > 1 ? ms - 1 : ms);
  }
}

function harness(opts: { downAfterFailures?: number; failingHook?: boolean; early?: boolean } = {}) {
  const clock = opts.early ? new EarlyClock(0) : new FakeClock(0);
  const log = memoryLogger('debug');
  const transitions: Transition[] = [];
  const snmpProbes: string[] = [];
  const health = new HealthTracker(
    new Topology(inventory),
    { downAfterFailures: opts.downAfterFailures ?? 2, recheckMs: 10_000 },
    { onTransition: (t) => transitions.push(t), requestProbe: () => undefined },
    0,
  );
  const liveness = new MqttLivenessController({
    clock,
    log,
    policy: { graceMs: GRACE, retryMs: 1000 },
    hooks: {
      observe: (p) => health.observe(p),
      probeSnmp: (id) => {
        snmpProbes.push(id);
        if (opts.failingHook) throw new Error('scheduler gone');
      },
      stateOf: (id) => health.get(id)?.state,
    },
  });
  const report = (d: Device, kind: LivenessKind): void =>
    liveness.report({ deviceId: d.id, kind, timeMs: clock.now() }, d);
  const snmp = (d: Device, ok: boolean): void =>
    health.observe({
      deviceId: d.id,
      timeMs: clock.now(),
      ok,
      durationMs: 1,
      source: 'snmp',
      ...(ok ? {} : { failure: { reason: 'timeout' as const, message: 'no answer' } }),
    });
  const states = () => transitions.map((t) => `${t.deviceId} ${t.from}->${t.to}@${t.timeMs}`);
  return { clock, log, health, liveness, report, snmp, snmpProbes, states };
}

describe('MqttLivenessController', () => {
  it('an MQTT-only sensor that vanishes is suspect at once and down when the grace is over', () => {
    const h = harness();
    h.snmp(router, true);
    h.report(sensor, 'connected');
    h.clock.advance(5000);
    h.report(sensor, 'will');
    expect(h.health.get(sensor.id)?.state).toBe('suspect');
    h.clock.advance(GRACE - 1);
    expect(h.health.get(sensor.id)?.state).toBe('suspect');
    h.snmp(router, true); // the router answered after the sensor went: the sensor itself is gone
    h.clock.advance(1);
    expect(h.states()).toEqual([
      'bjr-1-r1 unknown->up@0',
      'bjr-1-env unknown->up@0',
      'bjr-1-env up->suspect@5000',
      'bjr-1-env suspect->down@15000',
    ]);
    h.clock.advance(60_000);
    expect(h.liveness.pending()).toBe(0);
    expect(h.states()).toHaveLength(4);
  });

  it('a grace timer that fires a millisecond early still ends in down', () => {
    const h = harness({ early: true });
    h.snmp(router, true);
    h.report(sensor, 'connected');
    h.report(sensor, 'will');
    h.snmp(router, true);
    h.clock.advance(GRACE + 5);
    expect(h.health.get(sensor.id)?.state).toBe('down');
  });

  it('coming back within the grace: no outage', () => {
    const h = harness();
    h.snmp(router, true);
    h.report(sensor, 'connected');
    h.report(sensor, 'keepalive_lapsed');
    h.clock.advance(3000);
    h.report(sensor, 'connected');
    h.clock.advance(60_000);
    expect(h.health.get(sensor.id)?.state).toBe('up');
    expect(h.states().filter((s) => s.includes('down'))).toEqual([]);
    expect(h.liveness.pending()).toBe(0);
  });

  it('a clean disconnect changes nothing and logs that it is not an outage', () => {
    const h = harness();
    h.report(sensor, 'connected');
    h.report(sensor, 'clean_disconnect');
    h.clock.advance(120_000);
    expect(h.health.get(sensor.id)?.state).toBe('up');
    expect(h.liveness.connection(sensor.id)?.state).toBe('closed');
    expect(h.log.records.some((r) => r.msg === 'mqtt clean disconnect (not an outage)')).toBe(true);
  });

  it('waits for the parent router to be confirmed, then calls the sensor down', () => {
    const h = harness();
    h.snmp(router, true);
    h.report(sensor, 'connected');
    h.clock.advance(1000);
    h.report(sensor, 'will');
    h.clock.advance(GRACE); // the router has not answered since the sensor went: hold
    expect(h.health.get(sensor.id)?.state).toBe('suspect');
    h.clock.advance(500);
    h.snmp(router, true);
    h.clock.advance(500); // the next judgement (retryMs) finds the router confirmed
    expect(h.health.get(sensor.id)?.state).toBe('down');
  });

  it('with downAfterFailures 3 the sensor is down one retry after the grace', () => {
    const h = harness({ downAfterFailures: 3 });
    h.snmp(router, true);
    h.report(sensor, 'connected');
    h.report(sensor, 'will');
    h.snmp(router, true);
    h.clock.advance(GRACE);
    expect(h.health.get(sensor.id)?.state).toBe('suspect');
    h.clock.advance(1000);
    expect(h.health.get(sensor.id)?.state).toBe('down');
  });

  it('a router with SNMP gets one SNMP probe, which decides; no grace timer', () => {
    const h = harness();
    h.snmp(router, true);
    h.report(router, 'connected');
    h.report(router, 'will');
    expect(h.health.get(router.id)?.state).toBe('suspect');
    expect(h.snmpProbes).toEqual([router.id]);
    expect(h.liveness.pending()).toBe(0);
    h.snmp(router, false); // the probe confirms
    expect(h.health.get(router.id)?.state).toBe('down');

    const g = harness();
    g.snmp(router, true);
    g.report(router, 'will');
    g.snmp(router, true); // the probe clears: only the MQTT agent went away
    expect(g.health.get(router.id)?.state).toBe('up');
  });

  it('a throwing hook is logged and the other actions still run', () => {
    const h = harness({ failingHook: true });
    h.report(router, 'will');
    expect(h.health.get(router.id)?.state).toBe('suspect');
    expect(h.log.records.find((r) => r.msg === 'mqtt liveness action failed')).toMatchObject({
      device: router.id,
      action: 'probe_snmp',
      error: 'scheduler gone',
    });
  });

  it('stop() cancels every pending grace', () => {
    const h = harness();
    h.report(sensor, 'will');
    expect(h.liveness.pending()).toBe(1);
    h.liveness.stop();
    expect(h.clock.pendingTimers()).toBe(0);
    h.report(sensor, 'connected');
    expect(h.liveness.connection(sensor.id)?.state).toBe('lost');
  });
});
