/**
 * The MQTT side's health as `monitor` points of component mqtt, written with collection's own
 * (Collection's `extraMetrics`).
 */
import type { RunningBroker } from '../../broker/embedded-broker.ts';
import type { Clock } from '../core/clock.ts';
import type { Sample } from '../core/types.ts';
import type { MqttSource } from '../sources/mqtt/mqtt-source.ts';

/**
 * `monitor` points of component mqtt: clients connected now; messages, malformed ones, those over a
 * device's rate limit and refused client-id takeovers since the last point.
 */
export function mqttHealth(
  mqtt: Pick<MqttSource, 'stats'>,
  broker: Pick<RunningBroker, 'stats'> | undefined,
  clock: Clock,
): () => Sample[] {
  let last = { received: 0, invalid: 0, rateLimited: 0, takeovers: 0, atMs: clock.now() };
  return () => {
    const s = mqtt.stats();
    const now = {
      received: s.received,
      invalid: Object.values(s.invalid).reduce((a, b) => a + b, 0),
      rateLimited: s.rateLimited,
      takeovers: broker?.stats().refusedTakeovers ?? 0,
      atMs: clock.now(),
    };
    const fields: Record<string, number> = {
      period_s: (now.atMs - last.atMs) / 1000,
      mqtt_received: now.received - last.received,
      mqtt_invalid: now.invalid - last.invalid,
      mqtt_rate_limited: now.rateLimited - last.rateLimited,
    };
    if (broker) {
      fields.mqtt_clients = broker.stats().connected;
      fields.mqtt_takeovers_refused = now.takeovers - last.takeovers;
    }
    last = now;
    return [{ measurement: 'monitor', tags: { component: 'mqtt' }, fields, timeMs: clock.now() }];
  };
}
