import { describe, expect, it } from 'vitest';
import {
  ownerIndex,
  packSecrets,
  resolveWorkers,
  splitDevices,
  unpackSecrets,
  workerName,
} from '../../../collector/collection/worker-plan.ts';
import { mergeSchedulerStats, mergeWriterStats } from '../../../collector/collection/worker-collection.ts';
import { PollTally } from '../../../collector/collection/poll-tally.ts';
import { Secret } from '../../../collector/core/secret.ts';
import type { Device, Inventory, Site } from '../../../collector/core/types.ts';

function inventory(sites: number, perSite: number): Inventory {
  const s: Site[] = [];
  const d: Device[] = [];
  for (let i = 0; i < sites; i++) {
    const id = `site-${i}`;
    s.push({
      id,
      name: id,
      category: 'sd',
      kecamatan: i % 2 ? 'Kuta' : 'Mengwi',
      desa: 'x',
      lat: -8.6,
      lon: 115.2,
      criticality: 'low',
    });
    for (let j = 0; j < perSite; j++)
      d.push({
        id: `${id}-d${j}`,
        siteId: id,
        role: j === 0 ? 'router' : 'ap',
        host: '127.0.0.1',
        port: 161,
        profile: 'generic',
        snmp: { version: '2c', community: new Secret('public') },
      });
  }
  return { sites: s, devices: d };
}

describe('resolveWorkers', () => {
  it.each([
    [undefined, 2, 1],
    [1, 8, 1],
    [3, 2, 3],
    ['auto', 2, 2],
    ['auto', 1, 1],
    ['auto', 16, 16],
  ] as const)('setting %s on %i cores: %i threads', (setting, cores, want) => {
    expect(resolveWorkers(setting, cores)).toBe(want);
  });
});

describe('splitDevices', () => {
  const inv = inventory(200, 4);
  const ids = inv.devices.map((d) => d.id);

  it('puts every device in exactly one share, about evenly', () => {
    for (const n of [1, 2, 3, 4]) {
      const shares = splitDevices(inv, ids, n);
      expect(shares.map((s) => s.name)).toEqual(Array.from({ length: n }, (_, i) => workerName(i)));
      const all = shares.flatMap((s) => s.deviceIds);
      expect(all).toHaveLength(ids.length);
      expect(new Set(all).size).toBe(ids.length);
      for (const s of shares)
        expect(Math.abs(s.deviceIds.length - ids.length / n)).toBeLessThan(ids.length / n / 4);
    }
  });

  it('gives each share the sites of its devices and only those', () => {
    for (const s of splitDevices(inv, ids, 3)) {
      const siteIds = new Set(s.inventory.devices.map((d) => d.siteId));
      expect(new Set(s.inventory.sites.map((x) => x.id))).toEqual(siteIds);
      expect(s.inventory.devices.map((d) => d.id)).toEqual(s.deviceIds);
    }
  });

  it('is stable (a restarted worker gets the same devices) and moves only ~1/n on a new worker', () => {
    const two = splitDevices(inv, ids, 2);
    expect(splitDevices(inv, ids, 2)).toEqual(two);
    const three = splitDevices(inv, ids, 3);
    const before = ownerIndex(two);
    const after = ownerIndex(three);
    const moved = ids.filter((id) => before.get(id) !== after.get(id));
    // Every moved device went to the new worker.
    expect(moved.every((id) => after.get(id) === 2)).toBe(true);
    expect(moved.length).toBe(three[2]?.deviceIds.length);
  });

  it('leaves out ids the inventory does not know, and polls only the ids asked for', () => {
    const asked = [...ids.slice(0, 10), 'ghost'];
    const shares = splitDevices(inv, asked, 2);
    expect(shares.flatMap((s) => s.deviceIds).sort()).toEqual(ids.slice(0, 10).sort());
  });
});

describe('packSecrets / unpackSecrets', () => {
  it('carries Secrets through structured clone and back', () => {
    const value = {
      influx: { url: 'http://127.0.0.1:8086', password: new Secret('pw') },
      devices: [{ id: 'a', snmp: { version: '2c', community: new Secret('c0mm') } }, { id: 'b' }],
      n: 3,
      nothing: undefined,
    };
    const cloned = structuredClone(packSecrets(value));
    const back = unpackSecrets(cloned) as typeof value;
    expect(back.influx.password).toBeInstanceOf(Secret);
    expect(back.influx.password.reveal()).toBe('pw');
    expect((back.devices[0]?.snmp as { community: Secret }).community.reveal()).toBe('c0mm');
    expect(back.devices[1]).toEqual({ id: 'b' });
    expect(back.n).toBe(3);
    // Without packing, the clone loses the value (why packing exists).
    expect(() => structuredClone(value).influx.password.reveal()).toThrow();
  });
});

describe('merged figures of several workers', () => {
  it('adds the schedulers, takes the longest lag, overloaded if any is', () => {
    const load = (overloaded: boolean, due: number, wait: number) => ({
      overloaded,
      duePerSecond: due,
      completedPerSecond: due - 1,
      sustainablePerSecond: due + 10,
      oldestWaitMs: wait,
    });
    const m = mergeSchedulerStats([
      {
        jobs: 10,
        running: 1,
        queued: 2,
        started: 30,
        overruns: 1,
        late: 2,
        maxLagMs: 50,
        overload: load(false, 5, 0),
      },
      undefined, // a worker not heard from yet
      {
        jobs: 12,
        running: 3,
        queued: 0,
        started: 40,
        overruns: 0,
        late: 1,
        maxLagMs: 80,
        overload: load(true, 6, 900),
      },
    ]);
    expect(m).toEqual({
      jobs: 22,
      running: 4,
      queued: 2,
      started: 70,
      overruns: 1,
      late: 3,
      maxLagMs: 80,
      overload: {
        overloaded: true,
        duePerSecond: 11,
        completedPerSecond: 9,
        sustainablePerSecond: 31,
        oldestWaitMs: 900,
      },
    });
    expect(mergeSchedulerStats([]).overload).toBeUndefined();
  });

  it('adds the writers', () => {
    const w = mergeWriterStats([
      { written: 5, buffered: 1, onDisk: 0, dropped: 0, invalid: 1, failures: 0 },
      { written: 7, buffered: 2, dropped: 3, invalid: 0, failures: 2, lastError: 'influx down' },
    ]);
    expect(w).toEqual({
      written: 12,
      buffered: 3,
      onDisk: 0,
      dropped: 3,
      invalid: 1,
      failures: 2,
      lastError: 'influx down',
    });
  });
});

describe('PollTally', () => {
  it('counts ok and failed, and a round when every device has been heard from', () => {
    const t = new PollTally(3);
    t.add('a', true);
    t.add('a', false); // twice before the others: still one device of three
    t.add('b', true);
    expect(t.counts()).toEqual({ ok: 2, failed: 1, rounds: 0 });
    t.add('c', true);
    expect(t.counts()).toEqual({ ok: 3, failed: 1, rounds: 1 });
    t.resize(1);
    t.add('z', false);
    expect(t.counts()).toEqual({ ok: 3, failed: 2, rounds: 2 });
  });
});
