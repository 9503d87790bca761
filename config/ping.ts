/**
 * The `ping:` section of the monitor config (collector/sources/ping). Absent: no ping, SNMP alone (as
 * before). Every device with an address is pinged unless its inventory entry says `ping: false`;
 * `ping: only` devices have no SNMP agent and are watched by ping alone.
 *
 *   ping:
 *     interval: 60s            # every pinged device
 *     fastInterval: 10s        # routers of the sites below: an outage there is seen within ~20 s
 *     fastCriticalities: [critical]
 *     recheck: 2s              # a device whose ping was lost is pinged again this soon
 *     count: 2                 # echo requests per device per round (fping -C)
 *     timeout: 1s              # wait for each reply (fping -t)
 *     period: 250ms            # between two requests to one device (fping -p)
 *     packetInterval: 1ms      # between two requests to any devices (fping -i)
 *     batchSize: 1024          # addresses per fping process
 *     parallel: 2              # fping processes at once
 *     fping: fping             # the binary (Debian: /usr/bin/fping, cap_net_raw=ep)
 */
import { z } from 'zod';
import { CRITICALITIES, type Criticality } from '../collector/core/types.ts';
import { parseDuration } from './yaml-source.ts';

export interface PingConfig {
  readonly intervalMs: number;
  readonly fastIntervalMs: number;
  readonly fastCriticalities: readonly Criticality[];
  readonly recheckMs: number;
  readonly count: number;
  readonly timeoutMs: number;
  readonly periodMs: number;
  readonly packetIntervalMs: number;
  readonly batchSize: number;
  readonly parallel: number;
  readonly fping: string;
}

/** A duration (`500ms`, `10s`, `2m`, or ms as a number) between min and max ms. */
const ms = (def: string, min: number, max: number) =>
  z
    .union([z.string(), z.number()])
    .default(def)
    .transform((v, ctx) => {
      const n = parseDuration(v);
      const ok = n !== undefined && n >= min && n <= max;
      if (!ok)
        ctx.addIssue({
          code: 'custom',
          message: `expected a duration ${min}ms..${max / 1000}s, e.g. ${def}`,
        });
      return n ?? 0;
    });
const count = (def: number, min: number, max: number) => z.number().int().min(min).max(max).default(def);

export const pingSchema = z
  .strictObject({
    interval: ms('60s', 1000, 3_600_000),
    fastInterval: ms('10s', 1000, 3_600_000),
    fastCriticalities: z.array(z.enum(CRITICALITIES)).default(['critical']),
    recheck: ms('2s', 100, 600_000),
    count: count(2, 1, 20),
    timeout: ms('1s', 10, 10_000),
    period: ms('250ms', 10, 10_000),
    packetInterval: ms('1ms', 1, 1000),
    batchSize: count(1024, 1, 100_000),
    parallel: count(2, 1, 64),
    fping: z.string().min(1).default('fping'),
  })
  .transform((c): PingConfig => ({
    intervalMs: c.interval,
    fastIntervalMs: Math.min(c.fastInterval, c.interval),
    fastCriticalities: c.fastCriticalities,
    recheckMs: c.recheck,
    count: c.count,
    timeoutMs: c.timeout,
    periodMs: c.period,
    packetIntervalMs: c.packetInterval,
    batchSize: c.batchSize,
    parallel: c.parallel,
    fping: c.fping,
  }));
