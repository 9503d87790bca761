/**
 * The simulator's MQTT devices stop without leaving a timer behind: `npm start` gives the simulator 5 s to
 * exit after SIGTERM, and a device's first telemetry (due at a random offset up to 5 s after it connects) was
 * a timer stop() did not clear, which kept the process alive that long (CI run of b922cd1: "the simulator did
 * not stop within 5 s"). Against the embedded broker (aedes), on a fake clock for the device's timers.
 */
import mqtt from 'mqtt';
import { afterAll, expect, it } from 'vitest';
import { Accounts, hashPassword, type Account } from '../../../broker/accounts.ts';
import { startEmbeddedBroker, type RunningBroker } from '../../../broker/embedded-broker.ts';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { Device } from '../../../collector/core/types.ts';
import { MqttFleet } from '../../../simulator/mqtt/mqtt-fleet.ts';
import { syntheticInventory } from '../../../simulator/synthetic-inventory.ts';
import { waitFor } from '../../support/ports.ts';

const PASSWORD = 'sim-device-secret-4410';
const READER: Account = {
  username: 'reader',
  passwordHash: hashPassword('reader-secret-1172', { N: 1024 }),
  role: 'collector', // the role that reads device topics
};
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

it('publishes telemetry on its clock, and stop() leaves no timer of its devices behind', async () => {
  const base = syntheticInventory({ sites: 1, port: 161, seed: 3, hostOctet: 210 });
  const router = base.devices.find((d) => d.role === 'router')!;
  const device: Device = {
    ...router,
    mqtt: { username: router.id, passwordHash: hashPassword(PASSWORD, { N: 1024 }), keepaliveS: 30 },
  };
  const inventory = { sites: base.sites, devices: [device] };
  const broker: RunningBroker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    accounts: Accounts.fromInventory(inventory, [READER]),
    log: memoryLogger('warn'),
  });
  cleanups.push(() => broker.close());
  const reader = await mqtt.connectAsync(broker.url, { username: 'reader', password: 'reader-secret-1172' });
  cleanups.push(() => reader.endAsync(true));
  const telemetry: string[] = [];
  reader.on('message', (topic) => topic.endsWith('/telemetry') && telemetry.push(topic));
  await reader.subscribeAsync('netmon/v1/+/+/telemetry');

  const clock = new FakeClock(Date.now());
  const fleet = new MqttFleet({
    url: broker.url,
    inventory,
    passwordFor: () => PASSWORD,
    intervalMs: 60_000,
    log: memoryLogger('warn'),
    clock,
  });
  fleet.start();
  cleanups.push(() => fleet.stop());
  await waitFor(() => fleet.stateOf(device.id) === 'connected', { what: 'the device connected' });
  expect(clock.pendingTimers()).toBe(1); // the first telemetry, within 5 s

  clock.advance(5_000);
  await waitFor(() => telemetry.length === 1, { what: 'the first telemetry' });
  expect(clock.pendingTimers()).toBe(1); // the next one, a minute on
  clock.advance(60_000);
  await waitFor(() => telemetry.length === 2, { what: 'the second telemetry' });

  await fleet.stop();
  expect(clock.pendingTimers()).toBe(0);
  expect(fleet.stateOf(device.id)).toBe('disconnected');
  clock.advance(600_000);
  await waitFor(() => broker.stats().connected === 1, { what: 'the broker saw the device go' }); // the reader
  expect(telemetry).toHaveLength(2);
});
