import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { activityIntegral, activityLevel } from '../../../simulator/activity.ts';
import {
  buildDeviceModel,
  deviceValuesAt,
  isLegacy,
  meanRateBps,
  octetsBetween,
} from '../../../simulator/device-model.ts';
import type { DeviceModel } from '../../../simulator/device-model.ts';
import { FleetSimulator } from '../../../simulator/fleet.ts';
import { syntheticInventory } from '../../../simulator/synthetic-inventory.ts';
import type { Category, Device, Site } from '../../../collector/core/types.ts';

// Monday 2026-11-02 in WITA (UTC+8): helpers take a WITA wall-clock hour.
const MONDAY_WITA_MS = Date.UTC(2026, 10, 2) - 8 * 3600_000;
const at = (day: number, hour: number, minute = 0): number =>
  MONDAY_WITA_MS + ((day * 24 + hour) * 60 + minute) * 60_000;

const site = (category: Category): Site => ({
  id: `s-${category}`,
  name: category,
  category,
  kecamatan: 'Kuta',
  desa: 'Kuta',
  lat: 0,
  lon: 0,
  criticality: 'low',
});
const router = (profile: string, siteId: string): Device => ({
  id: `${siteId}-gw`,
  siteId,
  role: 'router',
  host: '127.0.0.1',
  port: 161,
  profile,
});
const model = (category: Category, profile = 'mikrotik-routeros', seed = 7): DeviceModel =>
  buildDeviceModel(router(profile, `s-${category}`), site(category), { seed, apsAtSite: 2 });

describe('activity profiles', () => {
  it('puts schools in school hours, banjar in the evening, tourist sites in the day', () => {
    expect(activityLevel('sd', at(0, 10) / 1000)).toBeGreaterThan(0.9);
    expect(activityLevel('sd', at(0, 22) / 1000)).toBeLessThan(0.1);
    expect(activityLevel('sd', at(6, 10) / 1000)).toBeLessThan(0.1); // Sunday
    expect(activityLevel('banjar', at(0, 19, 30) / 1000)).toBeGreaterThan(0.9);
    expect(activityLevel('banjar', at(0, 10) / 1000)).toBeLessThan(0.3);
    expect(activityLevel('obyek_wisata', at(5, 12) / 1000)).toBeGreaterThan(0.9);
    expect(activityLevel('obyek_wisata', at(5, 3) / 1000)).toBeLessThan(0.1);
  });

  it('integrates in closed form exactly as a numeric sum does, across week boundaries', () => {
    const t0 = at(6, 20) / 1000; // Sunday evening, crosses into Monday
    const t1 = t0 + 9 * 3600 + 17;
    let sum = 0;
    const step = 1;
    for (let t = t0; t < t1; t += step) sum += activityLevel('smp', t + step / 2) * step;
    expect(activityIntegral('smp', t0, t1)).toBeCloseTo(sum, 0);
    // Whole weeks add exactly one week's integral each.
    const w = 7 * 86400;
    expect(activityIntegral('banjar', t0, t0 + 3 * w)).toBeCloseTo(
      3 * activityIntegral('banjar', t0, t0 + w),
      3,
    );
  });
});

describe('device values', () => {
  it('are deterministic given seed and time, and differ across seeds', () => {
    const t = at(1, 9, 13);
    expect(deviceValuesAt(model('sd'), {}, t)).toEqual(deviceValuesAt(model('sd'), {}, t));
    expect(deviceValuesAt(model('sd', 'mikrotik-routeros', 8), {}, t).interfaces[0]?.inOctets).not.toBe(
      deviceValuesAt(model('sd'), {}, t).interfaces[0]?.inOctets,
    );
  });

  it('serves 64-bit counters beyond 2^32 and 32-bit ones mod 2^32, packets and errors consistent', () => {
    const m = model('obyek_wisata');
    const v = deviceValuesAt(m, {}, at(2, 15));
    const wan = v.interfaces[0];
    expect(wan).toBeDefined();
    if (!wan) return;
    expect(wan.inOctets).toBeGreaterThan(2n ** 32n);
    expect(wan.inOctets32).toBe(Number(wan.inOctets % 2n ** 32n));
    expect(wan.inUcastPkts).toBeLessThan(wan.inOctets);
    expect(v.sysUpTimeCs).toBe(Math.floor((v.timeMs - v.bootAtMs) / 10) % 2 ** 32);
  });

  it('follows the time of day: a school moves more bytes at 10:00 than at 22:00, as its rate says', () => {
    const m = model('sd');
    const wan = m.interfaces[0];
    if (!wan) throw new Error('no wan');
    const day = meanRateBps(m, {}, 1, 'in', at(1, 10), at(1, 10, 5));
    const night = meanRateBps(m, {}, 1, 'in', at(1, 22), at(1, 22, 5));
    expect(day).toBeGreaterThan(10 * night);
    // Plausible for a municipal hotspot: a few to a few tens of Mbit/s at peak.
    expect(day / 1e6).toBeGreaterThan(3);
    expect(day / 1e6).toBeLessThan(40);
    const inst = deviceValuesAt(m, {}, at(1, 10, 2)).interfaces[0]?.inRateBps ?? 0;
    expect(Math.abs(inst - day) / day).toBeLessThan(0.1);
    // The counter is the integral of the rate.
    expect((octetsBetween(m, wan, 'in', at(1, 10), at(1, 10, 5)) * 8) / 300).toBeCloseTo(day, -3);
  });

  it('gives Wi-Fi client counts that follow the time of day, per row', () => {
    const m = model('banjar');
    const evening = deviceValuesAt(m, {}, at(3, 19, 30)).wifi;
    const night = deviceValuesAt(m, {}, at(3, 3, 30)).wifi;
    expect(evening.map((w) => w.ssid)).toContain('Badung-Free-WiFi');
    const sum = (ws: readonly { clients: number }[]): number => ws.reduce((n, w) => n + w.clients, 0);
    expect(sum(evening)).toBeGreaterThan(sum(night));
    expect(sum(night)).toBeGreaterThanOrEqual(0);
  });

  it('makes about 10% of devices legacy (no HC counters), deterministically', () => {
    const n = Array.from({ length: 5000 }, (_, i) => isLegacy(3, `dev-${i}`)).filter(Boolean).length;
    expect(n).toBeGreaterThan(400);
    expect(n).toBeLessThan(600);
    expect(isLegacy(3, 'dev-17')).toBe(isLegacy(3, 'dev-17'));
  });
});

describe('FleetSimulator controls on fake time (no network)', () => {
  const inv = syntheticInventory({ sites: 12, port: 16100, seed: 5 });
  const first = inv.devices[0];
  if (!first) throw new Error('empty inventory');

  it('reboot restarts sysUpTime and every counter from zero', () => {
    const clock = new FakeClock(at(1, 11));
    const sim = new FleetSimulator({ inventory: inv, seed: 5, clock });
    const before = sim.valuesAt(first.id);
    const past = sim.valuesAt(first.id, before.timeMs - 1000);
    expect(before.sysUpTimeCs).toBeGreaterThan(0);
    sim.rebootDevice(first.id);
    const now = sim.valuesAt(first.id);
    expect(now.sysUpTimeCs).toBe(0);
    expect(now.interfaces.every((i) => i.inOctets === 0n && i.outOctets === 0n && i.inOctets32 === 0)).toBe(
      true,
    );
    clock.advance(60_000);
    const later = sim.valuesAt(first.id);
    expect(later.sysUpTimeCs).toBe(6000);
    expect(later.interfaces[0]?.inOctets).toBeGreaterThan(0n);
    expect(later.interfaces[0]?.inOctets).toBeLessThan(before.interfaces[0]?.inOctets ?? 0n);
    // Values before the reboot are unchanged: expectations for the past stay valid.
    expect(sim.valuesAt(first.id, past.timeMs)).toEqual(past);
  });

  it('wrap32 makes the 32-bit octet counters wrap within the window at an unchanged rate', () => {
    const clock = new FakeClock(at(2, 10));
    const sim = new FleetSimulator({ inventory: inv, seed: 5, clock });
    const { wrapsBeforeMs } = sim.wrapCounters32(first.id, 60);
    const v0 = sim.valuesAt(first.id);
    const v1 = sim.valuesAt(first.id, wrapsBeforeMs);
    const i0 = v0.interfaces[0];
    const i1 = v1.interfaces[0];
    if (!i0 || !i1) throw new Error('no interface');
    expect(i1.inOctets32).toBeLessThan(i0.inOctets32); // it wrapped
    expect(i1.outOctets32).toBeLessThan(i0.outOctets32);
    const delta32 = (i1.inOctets32 - i0.inOctets32 + 2 ** 32) % 2 ** 32;
    expect(BigInt(delta32)).toBe(i1.inOctets - i0.inOctets); // modular delta == true bytes: no spike
    expect(sim.status().wrapped32).toEqual([first.id]);
  });

  it('cutting a site silences its devices; cutting a router silences the APs behind it', () => {
    const sim = new FleetSimulator({ inventory: inv, seed: 5, clock: new FakeClock() });
    const siteId = first.siteId;
    const atSite = inv.devices.filter((d) => d.siteId === siteId).length;
    sim.cutSite(siteId);
    expect(sim.status().silentDevices).toBe(atSite);
    expect(sim.deviceStatus(first.id).state).toBe('cut');
    sim.restoreSite(siteId);
    sim.cutDevice(first.id);
    const ap = inv.devices.find((d) => d.parent === first.id);
    expect(ap && sim.deviceStatus(ap.id).state).toBe('unreachable');
    sim.restoreDevice(first.id);
    expect(sim.status().silentDevices).toBe(0);
  });

  it('rejects unknown ids and bad arguments with typed errors', () => {
    const sim = new FleetSimulator({ inventory: inv, seed: 5, clock: new FakeClock() });
    expect(() => sim.cutSite('nope')).toThrow(/unknown site nope/);
    expect(() => sim.rebootDevice('nope')).toThrow(expect.objectContaining({ status: 404 }));
    expect(() => sim.slowDevice(first.id, -1)).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => sim.wrapCounters32(first.id, 0)).toThrow(expect.objectContaining({ status: 400 }));
    expect(
      () =>
        new FleetSimulator({ inventory: { sites: inv.sites, devices: [{ ...first, host: '10.0.0.1' }] } }),
    ).toThrow(/not a loopback/);
  });
});
