/** The simulated devices' telemetry: the size of a real agent's, and what the collector accepts. */
import { describe, expect, it } from 'vitest';
import { parsePayload, telemetrySchema } from '../../../broker/payloads.ts';
import { FleetSimulator } from '../../../simulator/fleet.ts';
import { routerTelemetry, sensorTelemetry } from '../../../simulator/mqtt/telemetry.ts';
import { syntheticInventory } from '../../../simulator/synthetic-inventory.ts';

const inventory = syntheticInventory({ sites: 3, port: 1161, seed: 3, hostOctet: 9 });
const sim = new FleetSimulator({ inventory, seed: 3 });
const noon = Date.UTC(2026, 10, 23, 4); // 12:00 WITA

describe('simulated MQTT telemetry', () => {
  it.each(inventory.devices.filter((d) => d.role === 'router').map((d) => d.id))(
    'router %s: 200-600 bytes, valid, values from the simulation',
    (id) => {
      const json = JSON.stringify(routerTelemetry(id, sim.valuesAt(id, noon), noon));
      expect(json.length).toBeGreaterThanOrEqual(200);
      expect(json.length).toBeLessThanOrEqual(600);
      const p = parsePayload(telemetrySchema, Buffer.from(json));
      if (!p.ok) throw new Error(p.reason);
      const v = sim.valuesAt(id, noon);
      expect(p.value).toMatchObject({
        ts: noon,
        uptime_s: Math.floor(v.sysUpTimeCs / 100),
        clients: v.wifi.reduce((n, w) => n + w.clients, 0),
      });
      expect(p.value.rx_bps).toBeGreaterThan(0);
    },
  );

  it('sensor: about 170 bytes, valid, warmer at 14:00 than at 05:00', () => {
    const at = (h: number) => Date.UTC(2026, 10, 23, h - 8);
    const json = JSON.stringify(sensorTelemetry('bjr-1-env', at(14), 3600));
    expect(json.length).toBeGreaterThanOrEqual(150);
    expect(json.length).toBeLessThanOrEqual(300);
    const hot = parsePayload(telemetrySchema, Buffer.from(json));
    const cool = parsePayload(telemetrySchema, Buffer.from(JSON.stringify(sensorTelemetry('x', at(5), 1))));
    if (!hot.ok || !cool.ok) throw new Error('invalid sensor telemetry');
    expect(hot.value.temperature_c).toBeGreaterThan(cool.value.temperature_c ?? Infinity);
    expect(hot.value.power_v).toBe(12.1);
  });
});
