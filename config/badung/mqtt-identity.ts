/**
 * MQTT passwords of the generated (demo) inventory: derived from the device id and a secret
 * (env NETMON_MQTT_SECRET, default DEMO_MQTT_SECRET), so the simulator can log its devices in while the
 * inventory holds only hashes. Real deployments set each device's password on the device and put its
 * hash in the inventory (hashMqttPassword, default cost N=16384).
 */
import { createHash, createHmac } from 'node:crypto';
import { hashMqttPassword } from '../mqtt-password.ts';

export const DEMO_MQTT_SECRET = 'badung-netmon-demo-mqtt';

/**
 * scrypt cost of the generated demo accounts. Lowered from 16384 on purpose: the generator hashes ~200
 * passwords (N=16384 would take seconds) and every simulated device logs in at start; the passwords derive
 * from a public demo secret anyway. Not for real device accounts.
 */
export const DEMO_SCRYPT_N = 256;

export function mqttPasswordFor(deviceId: string, secret: string = DEMO_MQTT_SECRET): string {
  return createHmac('sha256', secret).update(deviceId).digest('base64url').slice(0, 24);
}

/** A deterministic hash (salt derived from the id) so the generated file is the same for the same seed. */
export function demoPasswordHash(deviceId: string, secret: string = DEMO_MQTT_SECRET): string {
  const salt = createHash('sha256').update(`salt:${deviceId}`).digest().subarray(0, 16);
  return hashMqttPassword(mqttPasswordFor(deviceId, secret), { N: DEMO_SCRYPT_N, salt });
}
