/**
 * normalise over arbitrary pairs of readings (seeded, so every run is the same): counters that grow,
 * wrap, reset, jump; agents that reboot, freeze their clock, change counter width, lose and gain
 * interfaces; polls out of order. Whatever happens, no rate is negative, NaN or infinite, and none is a
 * spike: above what the link (or, speed unknown, 100 Gbit/s) can carry; and every sample fits the schema.
 */
import { describe, expect, it } from 'vitest';
import type { DeviceReading, InterfaceReading } from '../../../collector/core/types.ts';
import { CounterMemory } from '../../../collector/normalise/counter-memory.ts';
import { COUNTER_KEYS, MAX_PLAUSIBLE_BPS, normalise } from '../../../collector/normalise/normalise.ts';
import { fieldType } from '../../../collector/sinks/schema.ts';
import { smallInventory } from '../../support/fixtures.ts';

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

const inv = smallInventory();
const ctx = { site: inv.sites[0]!, device: inv.devices[0]! };
const SPEEDS = [undefined, 0, 10e6, 100e6, 1e9, 10e9];
const COUNTERS = COUNTER_KEYS;

function randomCounter(r: () => number, bits: 32 | 64): bigint | undefined {
  const p = r();
  if (p < 0.05) return undefined;
  if (p < 0.3) return BigInt(Math.floor(r() * 1000));
  if (p < 0.6) return 2n ** 32n - 1n - BigInt(Math.floor(r() * 1e6)); // near the 32-bit wrap
  const max = bits === 64 ? 2n ** 64n : 2n ** 32n;
  return (BigInt(Math.floor(r() * 2 ** 53)) * BigInt(Math.floor(r() * 2 ** 20) + 1)) % max;
}

function randomInterface(r: () => number, ifIndex: number, bits: 32 | 64): InterfaceReading {
  const c = Object.fromEntries(
    COUNTERS.map((k) => [k, randomCounter(r, k.endsWith('Octets') || k.endsWith('Pkts') ? bits : 32)]),
  );
  return {
    ifIndex,
    name: `if${ifIndex}`,
    operStatus: 1 + Math.floor(r() * 7),
    speedBps: SPEEDS[Math.floor(r() * SPEEDS.length)],
    counterBits: bits,
    ...c,
  };
}

/** A next reading: each interface's counters moved a plausible amount, or did something odd. */
function next(r: () => number, prev: DeviceReading): DeviceReading {
  const dtMs = r() < 0.05 ? -Math.floor(r() * 5000) : Math.floor(r() * 600_000);
  const p = r();
  const up = prev.sysUpTimeCs;
  const sysUpTimeCs =
    up === undefined || p < 0.05
      ? undefined
      : p < 0.15
        ? Math.floor(r() * 1000) // rebooted
        : p < 0.2
          ? up // frozen
          : (up + Math.floor(dtMs / 10)) % 2 ** 32;
  const interfaces = prev.interfaces
    .filter(() => r() > 0.05)
    .map((i): InterfaceReading => {
      const q = r();
      if (q < 0.05) return randomInterface(r, i.ifIndex, i.counterBits === 32 ? 64 : 32);
      if (q < 0.2) return randomInterface(r, i.ifIndex, i.counterBits);
      const move = (v: bigint | undefined): bigint | undefined =>
        v === undefined
          ? undefined
          : (v + BigInt(Math.floor((r() * Math.max(0, dtMs) * (i.speedBps || 1e9)) / 8000))) %
            (i.counterBits === 64 ? 2n ** 64n : 2n ** 32n);
      return Object.assign({}, i, Object.fromEntries(COUNTERS.map((k) => [k, move(i[k])])));
    });
  if (r() < 0.1) interfaces.push(randomInterface(r, 100 + Math.floor(r() * 5), r() < 0.5 ? 32 : 64));
  return { ...prev, timeMs: prev.timeMs + dtMs, sysUpTimeCs, interfaces };
}

/** A run's first reading: three interfaces of random widths, sysUpTime mostly known. */
function firstReading(r: () => number): DeviceReading {
  return {
    deviceId: ctx.device.id,
    timeMs: 1_700_000_000_000,
    sysUpTimeCs: r() < 0.9 ? Math.floor(r() * 2 ** 32) : undefined,
    interfaces: [1, 2, 3].map((ix) => randomInterface(r, ix, r() < 0.5 ? 32 : 64)),
    wifi: [{ index: '1', clients: 3 }],
  };
}

describe('normalise on arbitrary reading pairs', () => {
  it('never a negative, non-finite or implausible rate; every sample fits the schema', () => {
    const r = rng(0xbadd06);
    const problems: string[] = [];
    const check = (ok: boolean, what: string): void => {
      if (!ok && problems.length < 20) problems.push(what);
    };
    let rates = 0;
    let rebooted = 0;
    for (let run = 0; run < 200; run++) {
      let prev = firstReading(r);
      for (let step = 0; step < 10; step++) {
        const cur = next(r, prev);
        const res = normalise(prev, cur, ctx);
        if (res.rebooted) rebooted++;
        for (const s of res.samples) {
          for (const [field, v] of Object.entries(s.fields)) {
            const type = fieldType(s.measurement, field);
            check(type !== undefined, `${s.measurement}.${field} not in the schema`);
            if (type === 'integer') check(Number.isInteger(v), `${s.measurement}.${field} = ${v}`);
          }
          if (s.measurement !== 'interface') continue;
          const speed = Number(s.fields.speed_bps ?? 0);
          const linkCap = speed > 0 ? Math.max(speed * 1.05, MAX_PLAUSIBLE_BPS) : MAX_PLAUSIBLE_BPS;
          for (const [field, v] of Object.entries(s.fields)) {
            if (field === 'oper_status' || field === 'speed_bps') continue;
            rates++;
            const cap = field.endsWith('_bps') ? linkCap : linkCap / (84 * 8);
            check(
              typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= cap,
              `run ${run} step ${step} ifIndex ${s.tags.ifIndex} ${field} = ${v} (cap ${cap})`,
            );
          }
        }
        prev = cur;
      }
    }
    expect(problems).toEqual([]);
    expect(rates).toBeGreaterThan(1000);
    expect(rebooted).toBeGreaterThan(0);
  });

  it('the compact counter memory gives normalise the same samples and warnings as the reading itself', () => {
    const r = rng(0x5eed);
    const memory = new CounterMemory();
    let compared = 0;
    for (let run = 0; run < 200; run++) {
      let prev = firstReading(r);
      memory.set(prev);
      for (let step = 0; step < 10; step++) {
        const cur = next(r, prev);
        expect(normalise(memory.get(ctx.device.id), cur, ctx)).toEqual(normalise(prev, cur, ctx));
        compared++;
        memory.set(cur);
        prev = cur;
      }
    }
    expect(compared).toBe(2000);
    expect(memory.size).toBe(1);
  });
});
