/**
 * One device model, one count: the fleet holds the MQTT-only sensors too, so its count is the monitor's,
 * and a sensor can be looked at, cut and restored like any device; SNMP-only actions say why they cannot.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import type { Device } from '../../../collector/core/types.ts';
import { FleetSimulator } from '../../../simulator/fleet.ts';
import { syntheticInventory } from '../../../simulator/synthetic-inventory.ts';

const base = syntheticInventory({ sites: 6, port: 16100, seed: 5 });
const sensors: Device[] = base.sites.slice(0, 2).map((s) => ({
  id: `${s.id}-env`,
  siteId: s.id,
  role: 'sensor',
  host: '',
  port: 0,
  profile: 'generic',
  mqtt: { username: `${s.id}-env`, passwordHash: 'x', keepaliveS: 30 },
}));
const inventory = { sites: base.sites, devices: [...base.devices, ...sensors] };
const sensor = sensors[0]!;
const router = base.devices.find((d) => d.siteId === sensor.siteId && d.role === 'router')!;

describe('FleetSimulator with MQTT-only devices', () => {
  it('counts every inventory device, as the monitor does, and says how many speak only MQTT', () => {
    const sim = new FleetSimulator({ inventory, seed: 5, clock: new FakeClock() });
    expect(sim.status()).toMatchObject({
      devices: inventory.devices.length,
      snmpDevices: base.devices.length,
      mqttOnlyDevices: 2,
      silentDevices: 0,
    });
  });

  it('knows a sensor: its state, protocols and no SNMP endpoint', () => {
    const sim = new FleetSimulator({ inventory, seed: 5, clock: new FakeClock() });
    expect(sim.deviceStatus(sensor.id)).toMatchObject({
      id: sensor.id,
      siteId: sensor.siteId,
      role: 'sensor',
      protocols: ['mqtt'],
      endpoint: null,
      state: 'up',
    });
    expect(sim.isMqttOnly(sensor.id)).toBe(true);
    expect(sim.isMqttOnly(router.id)).toBe(false);
    expect(sim.deviceStatus(router.id).protocols).toEqual(['snmp']);
  });

  it('cuts and restores a sensor, alone or with its site', () => {
    const sim = new FleetSimulator({ inventory, seed: 5, clock: new FakeClock() });
    sim.cutDevice(sensor.id);
    expect(sim.deviceStatus(sensor.id).state).toBe('cut');
    expect(sim.status()).toMatchObject({ cutDevices: [sensor.id], silentDevices: 1 });
    sim.restoreDevice(sensor.id);
    expect(sim.deviceStatus(sensor.id).state).toBe('up');
    const atSite = inventory.devices.filter((d) => d.siteId === sensor.siteId).length;
    sim.cutSite(sensor.siteId);
    expect(sim.deviceStatus(sensor.id).state).toBe('cut');
    expect(sim.status().silentDevices).toBe(atSite);
    sim.restoreSite(sensor.siteId);
    expect(sim.status().silentDevices).toBe(0);
  });

  it('refuses SNMP-only actions on a sensor with 409 and what it can do instead; unknown ids stay 404', () => {
    const sim = new FleetSimulator({ inventory, seed: 5, clock: new FakeClock() });
    for (const act of [
      () => sim.rebootDevice(sensor.id),
      () => sim.slowDevice(sensor.id, 100),
      () => sim.valuesAt(sensor.id),
    ]) {
      expect(act).toThrow(/speaks only MQTT.*mqtt-restore/);
      expect(act).toThrow(expect.objectContaining({ status: 409 }));
    }
    expect(() => sim.deviceStatus('nope')).toThrow(expect.objectContaining({ status: 404 }));
    expect(() => sim.cutDevice('nope')).toThrow(expect.objectContaining({ status: 404 }));
  });
});
