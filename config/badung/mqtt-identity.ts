/**
 * MQTT passwords of the generated (demo) inventory: derived from the device id and a secret, so the
 * simulator can log its devices in while the inventory holds only hashes. Real deployments set each
 * device's password on the device and put its hash in the inventory.
 */
import { createHash, createHmac } from 'node:crypto';
import { hashPassword } from '../../broker/accounts.ts';

export const DEMO_MQTT_SECRET = 'badung-netmon-demo-mqtt';

export function mqttPasswordFor(deviceId: string, secret: string = DEMO_MQTT_SECRET): string {
  return createHmac('sha256', secret).update(deviceId).digest('base64url').slice(0, 24);
}

/** A deterministic hash (salt from the id) so the generated file is the same for the same seed. */
export function demoPasswordHash(deviceId: string, secret: string = DEMO_MQTT_SECRET): string {
  const salt = createHash('sha256').update(`salt:${deviceId}`).digest().subarray(0, 16);
  // N=1024 keeps generating ~200 accounts fast; real device accounts use the default N=16384.
  return hashPassword(mqttPasswordFor(deviceId, secret), { N: 1024, salt });
}
