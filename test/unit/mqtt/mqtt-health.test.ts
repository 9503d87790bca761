/**
 * The `monitor` points of component mqtt (collector/runtime.ts mqttHealth): what the rate limit dropped
 * and the client-id takeovers the broker refused, per period, next to the existing counts; and the
 * points pass the sink's validation (the fields are in SCHEMA).
 */
import { describe, expect, it } from 'vitest';
import type { BrokerStats } from '../../../broker/embedded-broker.ts';
import { FakeClock } from '../../../collector/core/clock.ts';
import { mqttHealth } from '../../../collector/runtime.ts';
import { validateSample } from '../../../collector/sinks/validate.ts';
import type { MqttSourceStats } from '../../../collector/sources/mqtt/mqtt-source.ts';

describe('mqtt health points', () => {
  it('count rate-limited messages and refused takeovers since the previous point', () => {
    const clock = new FakeClock();
    const source: MqttSourceStats = { received: 0, telemetry: 0, status: 0, invalid: {}, rateLimited: 0 };
    const broker: BrokerStats = {
      connected: 3,
      refusedConnections: 0,
      refusedTakeovers: 0,
      deniedPublishes: 0,
      deniedSubscribes: 0,
    };
    const points = mqttHealth({ stats: () => source }, { stats: () => broker }, clock);
    clock.advance(10_000);
    Object.assign(source, { received: 2_100, invalid: { bad_payload: 4 }, rateLimited: 1_951 });
    Object.assign(broker, { refusedTakeovers: 12 });
    const [first] = points();
    expect(first).toMatchObject({
      measurement: 'monitor',
      tags: { component: 'mqtt' },
      fields: {
        period_s: 10,
        mqtt_received: 2_100,
        mqtt_invalid: 4,
        mqtt_rate_limited: 1_951,
        mqtt_takeovers_refused: 12,
        mqtt_clients: 3,
      },
    });
    expect(first && validateSample(first)).toEqual({ ok: true });
    clock.advance(10_000);
    Object.assign(source, { rateLimited: 1_961 });
    expect(points()[0]?.fields).toMatchObject({ mqtt_rate_limited: 10, mqtt_takeovers_refused: 0 });
    // With an external broker the monitor does not see logins: no takeover count.
    const external = mqttHealth({ stats: () => source }, undefined, clock);
    expect(external()[0]?.fields).not.toHaveProperty('mqtt_takeovers_refused');
  });
});
