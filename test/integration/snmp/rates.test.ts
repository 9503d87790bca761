/**
 * Rates from a real agent's moving counters: snmpsim's `numeric` variation module makes a counter grow at
 * a set rate (value = initial + rate x seconds since snmpsim started, `wrap` at 2^32). The poller reads
 * two polls of it and normalise turns them into bit/s, across a real 32-bit wrap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../../collector/core/secret.ts';
import type { DeviceReading } from '../../../collector/core/types.ts';
import { normalise } from '../../../collector/normalise/normalise.ts';
import { SnmpPoller } from '../../../collector/sources/snmp/poller.ts';
import { loadProfiles } from '../../../config/profiles.ts';
import { testDevice, testSite } from '../../support/fixtures.ts';
import { waitFor } from '../../support/ports.ts';
import { startSnmpsim, type Snmpsim } from '../../support/snmpsim.ts';

const WRAP_RATE = 2 ** 30; // octets/s: a 32-bit counter wraps every 4 s (8.59 Gbit/s on a 10 Gbit/s link)

/** ether1: 64-bit counters at 1 Mbit/s in, 100 kbit/s out; wan32: 32-bit only, wrapping. */
const MOVING = [
  '1.3.6.1.2.1.1.3.0|67:numeric|initial=500000,rate=100', // sysUpTime ticks with wall time
  '1.3.6.1.2.1.2.2.1.2.1|4|ether1',
  '1.3.6.1.2.1.2.2.1.2.2|4|wan32',
  '1.3.6.1.2.1.2.2.1.5.1|66|1000000000',
  '1.3.6.1.2.1.2.2.1.5.2|66|4294967295', // saturated: ifHighSpeed says 10 Gbit/s
  '1.3.6.1.2.1.2.2.1.8.1|2|1',
  '1.3.6.1.2.1.2.2.1.8.2|2|1',
  '1.3.6.1.2.1.2.2.1.10.1|65|17', // a 32-bit counter the 64-bit one must win over
  `1.3.6.1.2.1.2.2.1.10.2|65:numeric|rate=${WRAP_RATE},wrap=1`,
  '1.3.6.1.2.1.2.2.1.16.1|65|17',
  '1.3.6.1.2.1.2.2.1.16.2|65:numeric|rate=1000',
  '1.3.6.1.2.1.31.1.1.1.1.1|4|ether1',
  '1.3.6.1.2.1.31.1.1.1.1.2|4|wan32',
  '1.3.6.1.2.1.31.1.1.1.6.1|70:numeric|initial=1000000000000,rate=125000',
  '1.3.6.1.2.1.31.1.1.1.10.1|70:numeric|initial=5000000000000,rate=12500',
  '1.3.6.1.2.1.31.1.1.1.15.1|66|1000',
  '1.3.6.1.2.1.31.1.1.1.15.2|66|10000',
  '',
].join('\n');

let sim: Snmpsim;
let poller: SnmpPoller;
const site = testSite('lab');
const device = () =>
  testDevice('moving', site.id, 'router', {
    host: sim.host,
    port: sim.port,
    snmp: { version: '2c', community: new Secret('moving') },
  });

beforeAll(async () => {
  sim = await startSnmpsim({ moving: MOVING }, { recordings: false });
  poller = new SnmpPoller({ timeoutMs: 2000, retries: 0, maxRepetitions: 25, profiles: loadProfiles() });
});
afterAll(async () => {
  poller?.close();
  await sim?.stop();
});

const wanIn = (r: DeviceReading): bigint => {
  const v = r.interfaces.find((i) => i.ifIndex === 2)?.inOctets;
  if (v === undefined) throw new Error('wan32 has no ifInOctets');
  return v;
};

describe('rates from moving counters', () => {
  it('64-bit and wrapping 32-bit counters give the rates the agent counts at; no reboot', async () => {
    // A first poll 1-2 s before the 32-bit counter wraps, then the first poll after it wrapped.
    const prev = await waitFor(
      async () => {
        const r = await poller.poll(device());
        const v = wanIn(r);
        return v >= 2n * 2n ** 30n && v < 3n * 2n ** 30n ? r : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 20, what: 'wan32 to be 1-2 s before its wrap' },
    );
    const cur = await waitFor(
      async () => {
        const r = await poller.poll(device());
        return wanIn(r) < wanIn(prev) ? r : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 20, what: 'wan32 to wrap' },
    );
    expect(cur.timeMs - prev.timeMs).toBeGreaterThanOrEqual(900);

    const { samples, rebooted, warnings } = normalise(prev, cur, { site, device: device() });
    expect(rebooted).toBe(false);
    expect(warnings).toEqual([]);
    const fields = (ifName: string) =>
      samples.find((s) => s.measurement === 'interface' && s.tags.ifName === ifName)?.fields ?? {};
    const close = (got: unknown, want: number) => {
      expect(typeof got).toBe('number');
      expect(Math.abs((got as number) / want - 1), `${String(got)} vs ${want}`).toBeLessThan(0.03);
    };
    expect(cur.interfaces.map((i) => i.counterBits)).toEqual([64, 32]);
    close(fields('ether1').in_bps, 1_000_000);
    close(fields('ether1').out_bps, 100_000);
    expect(fields('ether1').speed_bps).toBe(1_000_000_000);
    close(fields('wan32').in_bps, WRAP_RATE * 8);
    close(fields('wan32').out_bps, 8000);
    expect(fields('wan32').speed_bps).toBe(10_000_000_000);
  });
});
