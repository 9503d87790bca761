import { describe, expect, it } from 'vitest';
import type { DeviceReading, InterfaceReading, Sample } from '../../../collector/core/types.ts';
import { counterDelta, detectReboot, normalise } from '../../../collector/normalise/normalise.ts';
import { deviceTags, fieldType } from '../../../collector/sinks/schema.ts';
import { smallInventory } from '../../support/fixtures.ts';

const inv = smallInventory();
const site = inv.sites[0]!;
const device = inv.devices[0]!;
const ctx = { site, device };
const T0 = Date.UTC(2026, 10, 22, 2, 0);

function ifc(over: Partial<InterfaceReading> = {}): InterfaceReading {
  return {
    ifIndex: 1,
    name: 'ether1',
    counterBits: 64,
    operStatus: 1,
    speedBps: 100_000_000,
    inOctets: 0n,
    outOctets: 0n,
    ...over,
  };
}
function reading(
  tMs: number,
  uptimeCs: number | undefined,
  interfaces: InterfaceReading[],
  wifi: DeviceReading['wifi'] = [],
): DeviceReading {
  return { deviceId: device.id, timeMs: tMs, sysUpTimeCs: uptimeCs, interfaces, wifi };
}
const iface = (samples: Sample[], ifIndex = 1) =>
  samples.find((s) => s.measurement === 'interface' && s.tags.ifIndex === String(ifIndex));
const dev = (samples: Sample[]) => samples.find((s) => s.measurement === 'device');

describe('counterDelta', () => {
  it.each([
    [10n, 25n, 64, 15n, false],
    [4294967000n, 200n, 32, 496n, true],
    [0n, 0n, 32, 0n, false],
  ] as const)('%s → %s (%s-bit) = %s', (a, b, bits, delta, wrapped) => {
    expect(counterDelta(a, b, bits)).toEqual({ ok: true, delta, wrapped });
  });
  it('a 64-bit decrease is a reset, not a wrap', () => {
    expect(counterDelta(1000n, 10n, 64).ok).toBe(false);
  });
  it('a value outside the counter width is refused, never a negative "wrap"', () => {
    expect(counterDelta(2n ** 40n, 10n, 32)).toEqual({
      ok: false,
      reason: 'value out of the 32-bit range (1099511627776 → 10)',
    });
    expect(counterDelta(5n, -1n, 64).ok).toBe(false);
    expect(counterDelta(2n ** 64n - 1n, 2n ** 64n - 1n, 64)).toEqual({ ok: true, delta: 0n, wrapped: false });
  });
});

describe('detectReboot', () => {
  it('uptime grew: no reboot', () => {
    expect(detectReboot(reading(T0, 1000, []), reading(T0 + 60_000, 7000, []))).toBe(false);
  });
  it('uptime fell: reboot', () => {
    expect(detectReboot(reading(T0, 500_000, []), reading(T0 + 60_000, 3000, []))).toBe(true);
  });
  it('the 497-day sysUpTime wrap matching the elapsed time is not a reboot', () => {
    expect(detectReboot(reading(T0, 2 ** 32 - 3000, []), reading(T0 + 60_000, 3000, []))).toBe(false);
  });
  it('uptime grew, but by less than the time that passed: rebooted since the previous poll', () => {
    // Up 50 s at T0; 300 s later it reports 120 s: it came back up at T0 + 180 s.
    expect(detectReboot(reading(T0, 5_000, []), reading(T0 + 300_000, 12_000, []))).toBe(true);
  });
  it('a few seconds of jitter between uptime and wall time is not a reboot', () => {
    expect(detectReboot(reading(T0, 5_000, []), reading(T0 + 60_000, 5_000 + 5_400, []))).toBe(false);
    expect(detectReboot(reading(T0, 5_000, []), reading(T0 + 60_000, 5_000 + 6_300, []))).toBe(false);
  });
  it('a sysUpTime "wrap" that does not match the elapsed time is a reboot', () => {
    expect(detectReboot(reading(T0, 2 ** 32 - 3000, []), reading(T0 + 600_000, 3000, []))).toBe(true);
  });
  it('the very same uptime again is a frozen agent clock, not a reboot', () => {
    expect(detectReboot(reading(T0, 5_000, []), reading(T0 + 300_000, 5_000, []))).toBe(false);
    // One hundredth of a second apart is no longer "frozen": it fell behind the wall time.
    expect(detectReboot(reading(T0, 5_000, []), reading(T0 + 300_000, 5_001, []))).toBe(true);
  });
  it('no uptime in the recording: no reboot inferred', () => {
    expect(detectReboot(reading(T0, undefined, []), reading(T0 + 60_000, undefined, []))).toBe(false);
  });
});

describe('normalise', () => {
  it('first poll: device and status fields, no rates', () => {
    const r = normalise(undefined, reading(T0, 100, [ifc({ inOctets: 5000n })]), ctx);
    expect(dev(r.samples)?.fields).toEqual({ reachable: 1, rebooted: 0, uptime_s: 1 });
    expect(iface(r.samples)?.fields).toEqual({ oper_status: 1, speed_bps: 100_000_000 });
    expect(r.rebooted).toBe(false);
  });

  it('steady counters give exact rates in bit/s and per second', () => {
    const a = reading(T0, 100, [ifc({ inOctets: 1_000n, outOctets: 0n, inUcastPkts: 10n, inErrors: 0n })]);
    const b = reading(T0 + 30_000, 3100, [
      ifc({ inOctets: 3_751_000n, outOctets: 375_000n, inUcastPkts: 3010n, inErrors: 30n }),
    ]);
    const f = iface(normalise(a, b, ctx).samples)?.fields;
    expect(f?.in_bps).toBe(1_000_000);
    expect(f?.out_bps).toBe(100_000);
    expect(f?.in_pps).toBe(100);
    expect(f?.in_errors_ps).toBe(1);
  });

  it('a 32-bit wrap gives the true rate', () => {
    const a = reading(T0, 100, [ifc({ counterBits: 32, inOctets: 4_294_000_000n })]);
    const b = reading(T0 + 10_000, 1100, [ifc({ counterBits: 32, inOctets: 1_032_704n })]);
    // (2^32 - 4_294_000_000 + 1_032_704) octets = 2_000_000 octets in 10 s = 1.6 Mbit/s
    expect(iface(normalise(a, b, ctx).samples)?.fields.in_bps).toBe(1_600_000);
  });

  it('an implausible 32-bit "wrap" (above the link speed) is a reset, not a spike', () => {
    const a = reading(T0, 100, [ifc({ counterBits: 32, speedBps: 10_000_000, inOctets: 3_000_000_000n })]);
    const b = reading(T0 + 10_000, 1100, [ifc({ counterBits: 32, speedBps: 10_000_000, inOctets: 100n })]);
    const r = normalise(a, b, ctx);
    expect(iface(r.samples)?.fields.in_bps).toBeUndefined();
    expect(r.warnings.join()).toMatch(/above the link/);
  });

  it('a reboot gives no rates for that poll and rebooted = 1; rates resume on the next poll', () => {
    const a = reading(T0, 8_640_000, [ifc({ inOctets: 9_000_000_000n })]);
    const b = reading(T0 + 60_000, 2_000, [ifc({ inOctets: 125_000n })]);
    const c = reading(T0 + 120_000, 8_000, [ifc({ inOctets: 7_625_000n })]);
    const rb = normalise(a, b, ctx);
    expect(rb.rebooted).toBe(true);
    expect(dev(rb.samples)?.fields.rebooted).toBe(1);
    expect(iface(rb.samples)?.fields.in_bps).toBeUndefined();
    expect(iface(normalise(b, c, ctx).samples)?.fields.in_bps).toBe(1_000_000);
  });

  it('an implausible wrap with the link speed unknown is judged against 100 Gbit/s', () => {
    const a = reading(T0, 100, [ifc({ counterBits: 32, speedBps: undefined, inOctets: 4_000_000_000n })]);
    const ok = reading(T0 + 1_000, 200, [ifc({ counterBits: 32, speedBps: undefined, inOctets: 5n })]);
    // 294,967,301 octets in 1 s = 2.36 Gbit/s: a believable wrap on an unknown link.
    expect(iface(normalise(a, ok, ctx).samples)?.fields.in_bps).toBe(294_967_301 * 8);
    const fast = reading(T0 + 1, 100, [ifc({ counterBits: 32, speedBps: undefined, inOctets: 5n })]);
    // The same decrease 1 ms later would be 2.4 Tbit/s: a reset.
    expect(iface(normalise(a, fast, ctx).samples)?.fields.in_bps).toBeUndefined();
  });

  it('a 32-bit packet counter "wrap" above the link packet rate is a reset', () => {
    const a = reading(T0, 100, [ifc({ counterBits: 32, speedBps: 10_000_000, inUcastPkts: 4_000_000_000n })]);
    const b = reading(T0 + 10_000, 1100, [ifc({ counterBits: 32, speedBps: 10_000_000, inUcastPkts: 7n })]);
    const r = normalise(a, b, ctx);
    expect(iface(r.samples)?.fields.in_pps).toBeUndefined();
    expect(r.warnings.join()).toMatch(/inUcastPkts: decrease implies .* above the link/);
    // A real wrap: 296 + 704 = 1,000 packets in 10 s.
    const c = reading(T0, 100, [ifc({ counterBits: 32, speedBps: 10_000_000, inUcastPkts: 4_294_967_000n })]);
    const d = reading(T0 + 10_000, 1100, [ifc({ counterBits: 32, speedBps: 10_000_000, inUcastPkts: 704n })]);
    expect(iface(normalise(c, d, ctx).samples)?.fields.in_pps).toBe(100);
  });

  it('a reboot on a 32-bit agent (counters restart) is not read as a wrap', () => {
    const a = reading(T0, 500_000, [ifc({ counterBits: 32, inOctets: 100_000n })]);
    const b = reading(T0 + 60_000, 1_000, [ifc({ counterBits: 32, inOctets: 50n })]);
    expect(iface(normalise(a, b, ctx).samples)?.fields.in_bps).toBeUndefined();
  });

  it('a 64-bit counter reset without reboot: no rate, a warning', () => {
    const a = reading(T0, 100, [ifc({ inOctets: 10_000n })]);
    const b = reading(T0 + 10_000, 1100, [ifc({ inOctets: 10n })]);
    const r = normalise(a, b, ctx);
    expect(iface(r.samples)?.fields.in_bps).toBeUndefined();
    expect(r.warnings.join()).toMatch(/reset/);
  });

  it('new, vanished and width-changed interfaces get no rate and a warning', () => {
    const a = reading(T0, 100, [ifc({ ifIndex: 1 }), ifc({ ifIndex: 2, counterBits: 32 })]);
    const b = reading(T0 + 10_000, 1100, [ifc({ ifIndex: 2, inOctets: 10n }), ifc({ ifIndex: 3 })]);
    const r = normalise(a, b, ctx);
    expect(iface(r.samples, 2)?.fields.in_bps).toBeUndefined();
    expect(iface(r.samples, 3)?.fields.in_bps).toBeUndefined();
    expect(r.warnings.join('\n')).toMatch(
      /width changed[\s\S]*ifIndex 3[\s\S]*is new[\s\S]*ifIndex 1[\s\S]*gone/,
    );
  });

  it('a frozen sysUpTime: rates go on, with a warning; a counter reset still gives no spike', () => {
    const a = reading(T0, 7_777, [ifc({ inOctets: 1_000_000n, outOctets: 9_000_000n })]);
    const b = reading(T0 + 300_000, 7_777, [ifc({ inOctets: 38_500_000n, outOctets: 5n })]);
    const r = normalise(a, b, ctx);
    expect(r.rebooted).toBe(false);
    expect(dev(r.samples)?.fields.rebooted).toBe(0);
    // 37,500,000 octets in 300 s = 1 Mbit/s; the out counter went backwards (64-bit): a reset, no rate.
    expect(iface(r.samples)?.fields.in_bps).toBe(1_000_000);
    expect(iface(r.samples)?.fields.out_bps).toBeUndefined();
    expect(r.warnings.join('\n')).toMatch(
      /sysUpTime stayed at 7777 for 300s[\s\S]*outOctets: counter went backwards/,
    );
    // Polled again within the slack (an agent that caches its values): no warning.
    const c = reading(T0 + 305_000, 7_777, [ifc({ inOctets: 38_500_000n, outOctets: 5n })]);
    expect(normalise(b, c, ctx).warnings).toEqual([]);
  });

  it('an increase beyond any link is a discontinuity, not a spike; a fast link keeps its rate', () => {
    const a = reading(T0, 100, [ifc({ speedBps: undefined, inOctets: 1_000n, inUcastPkts: 0n })]);
    const b = reading(T0 + 10_000, 1100, [
      // 2^50 octets in 10 s ≈ 900 Tbit/s; 2^40 packets in 10 s ≈ 110 G packets/s.
      ifc({ speedBps: undefined, inOctets: 1_000n + 2n ** 50n, inUcastPkts: 2n ** 40n }),
    ]);
    const r = normalise(a, b, ctx);
    expect(iface(r.samples)?.fields.in_bps).toBeUndefined();
    expect(iface(r.samples)?.fields.in_pps).toBeUndefined();
    expect(iface(r.samples)?.fields.out_bps).toBe(0);
    expect(r.warnings.join('\n')).toMatch(/inOctets: increase implies .* beyond any link[\s\S]*inUcastPkts/);
    // 200 Gbit/s on a 400 Gbit/s link is traffic.
    const fast = (t: number, octets: bigint) =>
      reading(t, t / 10 - T0 / 10 + 100, [ifc({ speedBps: 400e9, inOctets: octets })]);
    const ok = normalise(fast(T0, 0n), fast(T0 + 10_000, 250_000_000_000n), ctx);
    expect(iface(ok.samples)?.fields.in_bps).toBe(200e9);
    expect(ok.warnings).toEqual([]);
  });

  it('rates are counterDelta over the time, exactly, below and above 2^53 and across a 32-bit wrap', () => {
    const cases: [bigint, bigint, 32 | 64][] = [
      [10n, 25n, 64],
      [2n ** 53n - 7n, 2n ** 53n + 1_000_003n, 64], // across the doubles' exact range
      [2n ** 63n, 2n ** 63n + 123_456_789n, 64],
      [4294967000n, 200n, 32],
      [4_000_000_000n, 4_000_125_001n, 32],
    ];
    for (const [a, b, bits] of cases) {
      const before = ifc({ counterBits: bits, speedBps: 10e9, inOctets: a, outOctets: a, inUcastPkts: a });
      const after = ifc({ counterBits: bits, speedBps: 10e9, inOctets: b, outOctets: a, inUcastPkts: b });
      const r = normalise(reading(T0, 1000, [before]), reading(T0 + 7_000, 1700, [after]), ctx);
      const d = counterDelta(a, b, bits);
      if (!d.ok) throw new Error(d.reason);
      const fields = iface(r.samples)?.fields;
      expect(fields?.in_bps, `${a} → ${b}`).toBe((Number(d.delta) * 8) / 7);
      expect(fields?.in_pps, `${a} → ${b}`).toBe(Number(d.delta) / 7);
      expect(fields?.out_bps).toBe(0);
    }
  });

  it('time not advancing gives no rate', () => {
    const a = reading(T0, 100, [ifc()]);
    const r = normalise(a, reading(T0, 100, [ifc({ inOctets: 5n })]), ctx);
    expect(iface(r.samples)?.fields.in_bps).toBeUndefined();
    expect(r.warnings.length).toBeGreaterThan(0);
  });

  it('Wi-Fi clients per VAP with SSID and radio tags; every sample fits the schema', () => {
    const r = normalise(
      undefined,
      reading(T0, 100, [ifc()], [{ index: '3', ssid: 'Badung-Free-WiFi', radio: 'na', clients: 17 }]),
      ctx,
    );
    const wifi = r.samples.find((s) => s.measurement === 'wifi');
    expect(wifi?.tags).toMatchObject({
      site: site.id,
      device: device.id,
      index: '3',
      ssid: 'Badung-Free-WiFi',
      radio: 'na',
    });
    expect(wifi?.fields).toEqual({ clients: 17 });
    for (const s of r.samples)
      for (const k of Object.keys(s.fields))
        expect(fieldType(s.measurement, k), `${s.measurement}.${k}`).toBeDefined();
  });
});

describe('tag sets are shared between polls while they stay the same', () => {
  const tagsOf = (r: { samples: Sample[] }) => r.samples.map((s) => s.tags);
  it('the same tags object again; a new one, with the new values, when a row or the site changes', () => {
    const dev = { ...device, id: 'tags-shared' }; // a Device object of its own: nothing made before
    const c = { site, device: dev };
    const w = (ssid: string) => [{ index: '1', ssid, clients: 3 }];
    const first = normalise(undefined, reading(T0, 100, [ifc(), ifc({ ifIndex: 2 })], w('A')), c);
    const second = normalise(
      undefined,
      reading(T0 + 60_000, 6100, [ifc(), ifc({ ifIndex: 2, name: 'wan' })], w('B')),
      c,
    );
    const [d1, i1a, i1b, w1] = tagsOf(first);
    const [d2, i2a, i2b, w2] = tagsOf(second);
    expect(d2).toBe(d1);
    expect(i2a).toBe(i1a);
    expect(i2b).not.toBe(i1b);
    expect(i2b).toMatchObject({ ifIndex: '2', ifName: 'wan', device: 'tags-shared' });
    expect(i1b).toMatchObject({ ifIndex: '2', ifName: 'ether1' }); // the first poll's points keep theirs
    expect(w2).not.toBe(w1);
    expect([w1?.ssid, w2?.ssid]).toEqual(['A', 'B']);
    for (const t of [...tagsOf(first), ...tagsOf(second)]) expect(Object.isFrozen(t)).toBe(true);
    // Unchanged rows again (a Wi-Fi row with no radio and an empty SSID too); an ifIndex that moved is new.
    const bare = [{ index: '2', ssid: '', clients: 1 }];
    const next = (t: number, ifIndex: number) =>
      tagsOf(
        normalise(undefined, reading(t, 6100, [ifc({ ifIndex }), ifc({ ifIndex: 2, name: 'wan' })], bare), c),
      );
    const [, i3a, i3b, w3] = next(T0 + 120_000, 1);
    const [, i4a, i4b, w4] = next(T0 + 180_000, 7);
    expect(i3b).toBe(i2b);
    expect(w4).toBe(w3);
    expect(w3).not.toHaveProperty('ssid');
    expect(i3a).toBe(i1a);
    expect(i4a).not.toBe(i3a);
    expect(i4a).toMatchObject({ ifIndex: '7', ifName: 'ether1' });
    expect(i4b).toBe(i2b);
    // A reloaded inventory: another Site object, renamed.
    const renamed = { ...site, name: 'Renamed' };
    const third = normalise(undefined, reading(T0, 100, [ifc()]), { site: renamed, device: dev });
    expect(tagsOf(third)[0]).not.toBe(d1);
    expect(tagsOf(third).map((t) => t.site_name)).toEqual(['Renamed', 'Renamed']);
  });
});

describe('tags: deviceTags() plus the measurement own, keys in sorted order', () => {
  const cases: [string, DeviceReading['wifi']][] = [
    ['SSID and radio', [{ index: '3', ssid: 'Badung Free WiFi', radio: 'na', clients: 17 }]],
    ['no SSID, no radio', [{ index: '4', clients: 2 }]],
    ['radio only', [{ index: '5', radio: 'ng', clients: 1 }]],
  ];
  it.each(cases)('%s', (_, wifi) => {
    const prev = reading(T0, 100, [ifc(), ifc({ ifIndex: 2, name: '' })]);
    const r = normalise(
      prev,
      reading(T0 + 60_000, 6100, [ifc({ inOctets: 600n }), ifc({ ifIndex: 2, name: '' })], wifi),
      ctx,
    );
    const base = deviceTags(site, device);
    const own: Record<string, (s: Sample) => Record<string, string>> = {
      device: () => ({}),
      interface: (s) => ({
        ifIndex: s.tags.ifIndex ?? '',
        ifName: s.tags.ifIndex === '2' ? 'if2' : 'ether1',
      }),
      wifi: () => {
        const w = wifi[0]!;
        return {
          index: w.index,
          ...(w.ssid ? { ssid: w.ssid } : {}),
          ...(w.radio ? { radio: w.radio } : {}),
        };
      },
    };
    expect(r.samples.map((s) => s.measurement)).toEqual(['device', 'interface', 'interface', 'wifi']);
    for (const s of r.samples) {
      expect(s.tags, s.measurement).toEqual({ ...base, ...own[s.measurement]!(s) });
      const keys = Object.keys(s.tags);
      expect(keys, s.measurement).toEqual([...keys].sort());
    }
  });
});

describe('interfaces matched to the previous poll by ifIndex, whatever the row order', () => {
  it('rows reordered, one gone, one new: rates by ifIndex, warnings name them', () => {
    const prev = reading(T0, 100, [
      ifc({ ifIndex: 1, inOctets: 0n }),
      ifc({ ifIndex: 2, name: 'ether2', inOctets: 1000n }),
      ifc({ ifIndex: 3, name: 'ether3', inOctets: 0n }),
    ]);
    const cur = reading(T0 + 10_000, 1100, [
      ifc({ ifIndex: 2, name: 'ether2', inOctets: 11_000n }),
      ifc({ ifIndex: 1, inOctets: 10_000n }),
      ifc({ ifIndex: 4, name: 'ether4', inOctets: 5n }),
    ]);
    const r = normalise(prev, cur, ctx);
    expect(iface(r.samples, 1)?.fields.in_bps).toBe(8000);
    expect(iface(r.samples, 2)?.fields.in_bps).toBe(8000);
    expect(iface(r.samples, 4)?.fields.in_bps).toBeUndefined();
    expect(r.warnings).toEqual([
      'ifIndex 4 (ether4) is new: no rate until the next poll',
      'ifIndex 3 (ether3) is gone',
    ]);
  });

  it('same rows in the same order: no warning', () => {
    const rows = (n: bigint): InterfaceReading[] => [
      ifc({ ifIndex: 1, inOctets: n }),
      ifc({ ifIndex: 2, name: 'ether2', inOctets: 2n * n }),
    ];
    const r = normalise(reading(T0, 100, rows(0n)), reading(T0 + 10_000, 1100, rows(10_000n)), ctx);
    expect(r.warnings).toEqual([]);
    expect(iface(r.samples, 2)?.fields.in_bps).toBe(16_000);
  });

  it('a row gone from the end: the others keep their rates, the gone one is named', () => {
    const prev = reading(T0, 100, [ifc({ ifIndex: 1 }), ifc({ ifIndex: 2, name: 'ether2' })]);
    const r = normalise(prev, reading(T0 + 10_000, 1100, [ifc({ ifIndex: 1, inOctets: 10n })]), ctx);
    expect(iface(r.samples, 1)?.fields.in_bps).toBe(8);
    expect(r.warnings).toEqual(['ifIndex 2 (ether2) is gone']);
  });
});
