/**
 * The decoder against arbitrary agent output (seeded, so every run is the same): whatever types, values and
 * indexes come back, it never throws, every value it keeps has the type the reading promises, and every
 * value it drops is named by a warning with its OID.
 */
import { describe, expect, it } from 'vitest';
import { decodeReading, type RawPoll } from '../../../collector/sources/snmp/decode.ts';
import { columnsOf } from '../../../collector/sources/snmp/poller.ts';
import type { VarBind, VarBindType } from '../../../collector/sources/snmp/session.ts';
import { loadProfiles, type Profile } from '../../../config/profiles.ts';

/** xorshift32: a tiny deterministic PRNG. */
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

const TYPES: readonly VarBindType[] = [
  'Integer',
  'OctetString',
  'Counter32',
  'Gauge32',
  'TimeTicks',
  'Counter64',
  'OID',
  'IpAddress',
  'Null',
  'Opaque',
  'noSuchObject',
  'noSuchInstance',
  'endOfMibView',
];

function randomVarBind(r: () => number, oid: string): VarBind {
  const type = TYPES[Math.floor(r() * TYPES.length)] ?? 'Null';
  const pick = r();
  switch (type) {
    case 'Counter64':
      return { oid, type, value: pick < 0.1 ? -5n : BigInt(Math.floor(r() * 2 ** 53)) * 4096n };
    case 'OctetString':
    case 'Opaque':
      return {
        oid,
        type,
        value: Buffer.from(Array.from({ length: Math.floor(r() * 12) }, () => Math.floor(r() * 256))),
      };
    case 'Null':
    case 'noSuchObject':
    case 'noSuchInstance':
    case 'endOfMibView':
      return { oid, type, value: null };
    case 'OID':
    case 'IpAddress':
      return { oid, type, value: '1.2.3.4' };
    default:
      return {
        oid,
        type,
        value: pick < 0.1 ? -Math.floor(r() * 1000) : pick < 0.15 ? r() * 10 : Math.floor(r() * 2 ** 32),
      };
  }
}

const INDEXES = ['1', '2', '3', '0', '7.1', '2147483648', '01', '99', '4294967296', ''];

function randomPoll(r: () => number, profile: Profile): RawPoll {
  const columns = new Map<string, VarBind[]>();
  for (const base of columnsOf(profile)) {
    const rows = Math.floor(r() * 5);
    const vbs: VarBind[] = [];
    for (let i = 0; i < rows; i++) {
      const ix = INDEXES[Math.floor(r() * INDEXES.length)] ?? '1';
      vbs.push(randomVarBind(r, ix === '' ? base : `${base}.${ix}`));
    }
    columns.set(base, vbs);
  }
  const up = profile.scalars.sysUpTime;
  return { scalars: up === undefined ? [] : [randomVarBind(r, up)], columns };
}

describe('decodeReading on arbitrary agent output', () => {
  const profiles = loadProfiles();
  it.each([...profiles.keys()])(
    '%s: never throws, kept values are well typed, warnings name their OID',
    (name) => {
      const profile = profiles.get(name);
      if (!profile) throw new Error(name);
      const r = rng(0x5eed + name.length);
      const problems: string[] = [];
      const check = (ok: boolean, what: string): void => {
        if (!ok && problems.length < 20) problems.push(what);
      };
      let kept = 0;
      let warned = 0;
      for (let round = 0; round < 300; round++) {
        const raw = randomPoll(r, profile);
        const { reading, warnings } = decodeReading(profile, raw, { deviceId: name, timeMs: round });
        warned += warnings.length;
        for (const w of warnings)
          check(/^\d+(\.\d+)+/.test(w.oid) && w.reason.length > 0, `warning ${JSON.stringify(w)}`);
        const up = reading.sysUpTimeCs;
        if (up !== undefined) check(Number.isInteger(up) && up >= 0, `sysUpTime ${up}`);
        const seen = new Set<number>();
        for (const i of reading.interfaces) {
          const at = `round ${round} ifIndex ${i.ifIndex}`;
          check(Number.isInteger(i.ifIndex) && i.ifIndex >= 1 && i.ifIndex <= 2147483647, `${at}: index`);
          check(!seen.has(i.ifIndex), `${at}: twice`);
          seen.add(i.ifIndex);
          check(i.name.length > 0, `${at}: empty name`);
          const max = i.counterBits === 64 ? 2n ** 64n : 2n ** 32n;
          for (const c of [i.inOctets, i.outOctets, i.inUcastPkts, i.outUcastPkts]) {
            if (c === undefined) continue;
            check(typeof c === 'bigint' && c >= 0n && c < max, `${at}: counter ${String(c)}`);
            kept++;
          }
          for (const c of [i.inErrors, i.outErrors, i.inDiscards, i.outDiscards])
            if (c !== undefined) check(c >= 0n && c < 2n ** 32n, `${at}: error counter ${c}`);
          const oper = i.operStatus;
          if (oper !== undefined) check(oper >= 1 && oper <= 7, `${at}: operStatus ${oper}`);
          const speed = i.speedBps;
          if (speed !== undefined) check(Number.isInteger(speed) && speed >= 0, `${at}: speed ${speed}`);
        }
        // A row's index is the table's (1.2), a group's key (an SSID) or either after a metric's name
        // ("total/all"): never empty, and unique in a reading (it names the series).
        const indexes = new Set<string>();
        for (const w of reading.wifi) {
          check(
            Number.isInteger(w.clients) && w.clients >= 0 && w.index.length > 0 && !indexes.has(w.index),
            `round ${round} wifi ${JSON.stringify(w)}`,
          );
          indexes.add(w.index);
        }
      }
      expect(problems).toEqual([]);
      // The generator exercised both paths.
      expect(kept).toBeGreaterThan(0);
      expect(warned).toBeGreaterThan(0);
    },
  );
});
