/**
 * Retention and rollups on a real influxd (1.x): applyRetention() sets up the policies and the CQs and
 * changes nothing the second time; it repairs a server set up differently; and each CQ's body, run for a
 * past range, writes per-hour means/maxes/sums into the rollup policy with every tag kept. The expected
 * rollups are computed here from the points written, from the table in issue #5, not from ROLLUPS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SinkError } from '../../../collector/core/errors.ts';
import type { Sample } from '../../../collector/core/types.ts';
import { InfluxV1Sink } from '../../../collector/sinks/influx-v1.ts';
import { applyRetention } from '../../../collector/sinks/influx-retention.ts';
import {
  readSource,
  retentionPlan,
  rollupQuery,
  type RolledUpMeasurement,
} from '../../../collector/sinks/retention.ts';
import { deviceTags } from '../../../collector/sinks/schema.ts';
import { smallInventory } from '../../support/fixtures.ts';
import { influxQuery, influxRows, startTestInfluxd, type TestServer } from '../../support/influx.ts';

const HOUR = 3_600_000;
const DB = 'netmon';
let influx: TestServer;

beforeAll(async () => {
  influx = await startTestInfluxd();
});
afterAll(async () => {
  await influx?.dispose();
});

const endpoint = () => ({ url: influx.url, timeoutMs: 5_000 });

/** POST /query (SELECT ... INTO writes, so influxd wants POST); throws with the server's message. */
async function influxPost(db: string, q: string): Promise<void> {
  const res = await fetch(`${influx.url}/query?db=${encodeURIComponent(db)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ q }).toString(),
  });
  const body = (await res.json()) as { results?: { error?: string }[]; error?: string };
  const error = body.error ?? body.results?.[0]?.error;
  if (!res.ok || error) throw new Error(`${q}: HTTP ${res.status} ${error ?? ''}`);
}

describe('applyRetention on influxd', () => {
  it('sets up raw (default, 30d) and rollup (5y) with a CQ per rollup; the second run changes nothing', async () => {
    const first = await applyRetention(endpoint(), { database: DB });
    expect(first.map((c) => `${c.kind} ${c.name}`)).toEqual([
      `create_database ${DB}`,
      'create_policy raw',
      'create_policy rollup',
      'create_cq interface_1h',
      'create_cq wifi_1h',
      'create_cq device_1h',
      'create_cq site_state_1h',
      'create_cq monitor_1h',
      'create_cq incident_1h',
    ]);
    expect(await applyRetention(endpoint(), { database: DB })).toEqual([]);

    const policies = await influxRows(influx.url, DB, `SHOW RETENTION POLICIES ON "${DB}"`);
    expect(policies).toEqual(
      expect.arrayContaining([
        { name: 'raw', duration: '720h0m0s', shardGroupDuration: '24h0m0s', replicaN: 1, default: true },
        {
          name: 'rollup',
          duration: '43800h0m0s',
          shardGroupDuration: '720h0m0s',
          replicaN: 1,
          default: false,
        },
      ]),
    );
    expect(policies.filter((p) => p.default === true)).toHaveLength(1);

    const cqs = (await influxQuery(influx.url, DB, 'SHOW CONTINUOUS QUERIES')).find((s) => s.name === DB);
    const names = cqs?.values.map((v) => v[0]);
    expect(names?.sort()).toEqual([
      'device_1h',
      'incident_1h',
      'interface_1h',
      'monitor_1h',
      'site_state_1h',
      'wifi_1h',
    ]);
    const wifi = String(cqs?.values.find((v) => v[0] === 'wifi_1h')?.[1]);
    expect(wifi).toContain(`INTO ${DB}.rollup.wifi_1h FROM ${DB}.raw.wifi GROUP BY time(1h), *`);
  });

  it('repairs a database set up otherwise: alters the policy, replaces a changed CQ, then leaves it', async () => {
    const db = 'elsewhere';
    await influxPost(db, `CREATE DATABASE ${db}`);
    await influxPost(db, `CREATE RETENTION POLICY raw ON ${db} DURATION 7d REPLICATION 1 SHARD DURATION 1d`);
    await influxPost(
      db,
      `CREATE RETENTION POLICY rollup ON ${db} DURATION 1825d REPLICATION 1 SHARD DURATION 30d`,
    );
    await influxPost(
      db,
      `CREATE CONTINUOUS QUERY wifi_1h ON ${db} BEGIN SELECT mean(clients) AS clients INTO ${db}.rollup.wifi_1h FROM ${db}.raw.wifi GROUP BY time(1h) END`,
    );
    const changes = await applyRetention(endpoint(), { database: db, rawDuration: '14d' });
    expect(changes.map((c) => `${c.kind} ${c.name}`)).toEqual([
      'alter_policy raw',
      'create_cq interface_1h',
      'replace_cq wifi_1h',
      'create_cq device_1h',
      'create_cq site_state_1h',
      'create_cq monitor_1h',
      'create_cq incident_1h',
    ]);
    expect(await applyRetention(endpoint(), { database: db, rawDuration: '14d' })).toEqual([]);
    const raw = (await influxRows(influx.url, db, `SHOW RETENTION POLICIES ON ${db}`)).find(
      (p) => p.name === 'raw',
    );
    expect(raw).toMatchObject({ duration: '336h0m0s', default: true });
    const cqs = (await influxQuery(influx.url, db, 'SHOW CONTINUOUS QUERIES')).find((s) => s.name === db);
    expect(String(cqs?.values.find((v) => v[0] === 'wifi_1h')?.[1])).toContain('max(clients) AS clients_max');
  });

  it('a wrong URL path is a typed error that says not to retry', async () => {
    const err: unknown = await applyRetention(
      { url: `${influx.url}/nope`, timeoutMs: 5_000 },
      { database: DB },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SinkError);
    expect(err).toMatchObject({ retryable: false, code: 'http_404' });
  });
});

// ── the rollups ─────────────────────────────────────────────────────────────────────────────────────

type Agg = (values: number[]) => number;
const mean: Agg = (v) => v.reduce((a, b) => a + b, 0) / v.length;
const max: Agg = (v) => Math.max(...v);
const min: Agg = (v) => Math.min(...v);
const sum: Agg = (v) => v.reduce((a, b) => a + b, 0);
const count: Agg = (v) => v.length;

/** Issue #5's table: rollup field ← aggregate of raw field. */
const EXPECTED: Record<RolledUpMeasurement, Record<string, readonly [Agg, string]>> = {
  interface: {
    in_bps: [mean, 'in_bps'],
    in_bps_max: [max, 'in_bps'],
    out_bps: [mean, 'out_bps'],
    out_bps_max: [max, 'out_bps'],
    in_errors_ps: [mean, 'in_errors_ps'],
    out_errors_ps: [mean, 'out_errors_ps'],
  },
  wifi: { clients: [mean, 'clients'], clients_max: [max, 'clients'] },
  device: { reachable: [mean, 'reachable'], poll_ms: [mean, 'poll_ms'], uptime_s: [max, 'uptime_s'] },
  site_state: { up: [mean, 'up'], in_maintenance: [mean, 'in_maintenance'], up_min: [min, 'up'] },
  monitor: {
    polls: [sum, 'polls'],
    poll_failures: [sum, 'poll_failures'],
    buffered: [max, 'buffered'],
    dropped: [max, 'dropped'],
  },
  incident: { events: [count, 'id'] },
};

/** Deterministic values: a small LCG, so a failure reproduces. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s / 2_147_483_648;
  };
}

function rawPoints(start: number, end: number): Sample[] {
  const inv = smallInventory();
  const [s1, s2] = inv.sites;
  const [d1, , , d2] = inv.devices;
  const rnd = lcg(42);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const siteTags = (s: typeof s1) => ({
    site: s!.id,
    site_name: s!.name,
    category: s!.category,
    kecamatan: s!.kecamatan,
    desa: s!.desa,
  });
  const out: Sample[] = [];
  // Every 10 minutes, plus one point before and one at the end of the range (outside it).
  for (let t = start - 10 * 60_000; t <= end; t += 10 * 60_000) {
    for (const [i, d] of [d1!, d2!].entries()) {
      const site = inv.sites.find((s) => s.id === d.siteId)!;
      const tags = deviceTags(site, d);
      out.push({
        measurement: 'interface',
        tags: { ...tags, ifIndex: String(i + 1), ifName: i ? 'ether1' : 'sfp-sfpplus1' },
        fields: {
          in_bps: rnd() * 1e8,
          out_bps: rnd() * 2e7,
          in_errors_ps: rnd() < 0.7 ? 0 : rnd() * 3,
          out_errors_ps: rnd() * 0.5,
          in_pps: rnd() * 1e4,
          oper_status: 1,
        },
        timeMs: t,
      });
      out.push({
        measurement: 'wifi',
        tags: {
          ...tags,
          index: String(i),
          ssid: i ? 'Badung Free WiFi, lobby' : 'Badung=Free',
          radio: '5GHz',
        },
        fields: { clients: int(0, 40) },
        timeMs: t,
      });
      const reachable = rnd() < 0.8 ? 1 : 0;
      out.push({
        measurement: 'device',
        tags,
        fields: reachable
          ? {
              reachable,
              poll_ms: 5 + rnd() * 200,
              uptime_s: (t - start) / 1000 + 86_400 * (i + 1),
              rebooted: 0,
            }
          : { reachable, poll_ms: 3000 + rnd() * 10, failure: 'timeout' },
        timeMs: t,
      });
    }
    for (const s of [s1!, s2!]) {
      const up = rnd() < 0.75 ? 1 : 0;
      out.push({
        measurement: 'site_state',
        tags: siteTags(s),
        fields: {
          state: up ? 'up' : 'down',
          state_code: up,
          up,
          in_maintenance: rnd() < 0.2 ? 1 : 0,
          devices_down: up ? 0 : 1,
          lat: s.lat,
          lon: s.lon,
        },
        timeMs: t,
      });
    }
    // Now and then an incident event: several in some hours, of two kinds (the tag event is kept).
    if (rnd() < 0.5) {
      const event = rnd() < 0.5 ? 'opened' : 'clock_breached';
      out.push({
        measurement: 'incident',
        tags: { ...siteTags(s1), device: d1!.id, severity: 'critical', kind: 'device_down', event },
        fields: { id: `${d1!.id}@${t}`, text: `${event}: ${d1!.id}` },
        timeMs: t,
      });
    }
    for (const component of ['collector', 'mqtt']) {
      out.push({
        measurement: 'monitor',
        tags: { component },
        fields: {
          polls: int(50, 60),
          poll_failures: int(0, 5),
          buffered: int(0, 5000),
          dropped: int(0, 3),
          written: 1,
        },
        timeMs: t,
      });
    }
  }
  return out;
}

const seriesKey = (tags: Readonly<Record<string, string>>) =>
  JSON.stringify(Object.entries(tags).sort(([a], [b]) => a.localeCompare(b)));

/** The rollup rows the points should give: per series and hour in [start, end), computed here. */
function expectedRollup(points: readonly Sample[], m: RolledUpMeasurement, start: number, end: number) {
  const groups = new Map<string, { tags: Record<string, string>; hour: number; points: Sample[] }>();
  for (const p of points) {
    if (p.measurement !== m || p.timeMs < start || p.timeMs >= end) continue;
    const hour = Math.floor(p.timeMs / HOUR) * HOUR;
    const key = `${seriesKey(p.tags)}@${hour}`;
    const g = groups.get(key) ?? { tags: { ...p.tags }, hour, points: [] };
    g.points.push(p);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => {
    const fields: Record<string, number> = {};
    for (const [as, [agg, field]] of Object.entries(EXPECTED[m])) {
      const raw = g.points.map((p) => p.fields[field]);
      // count() counts values of any type (incident ids are strings); the others aggregate numbers.
      const values =
        agg === count
          ? raw.filter((v) => v !== undefined).map(() => 1)
          : raw.filter((v): v is number => typeof v === 'number');
      if (values.length) fields[as] = agg(values);
    }
    return { key: `${seriesKey(g.tags)}@${g.hour}`, tags: g.tags, fields };
  });
}

describe('rollups on influxd', () => {
  const db = 'rollups';
  const plan = retentionPlan({ database: db });
  // Whole hours, well in the past: the CQs influxd runs on its own (the last two hours) never reach
  // them, and well within the 30 days raw points are accepted.
  const end = Math.floor(Date.now() / HOUR) * HOUR - 6 * HOUR;
  const start = end - 4 * HOUR;
  const points = rawPoints(start, end);
  const measurements = Object.keys(EXPECTED) as RolledUpMeasurement[];

  beforeAll(async () => {
    await applyRetention(endpoint(), { database: db });
    // Written as the monitor writes: its sink, no policy named, so into the default one.
    const sink = new InfluxV1Sink({ url: influx.url, database: db, timeoutMs: 5_000 });
    await sink.start();
    await sink.write(points);
    await sink.close();
    for (const m of measurements) await influxPost(db, rollupQuery(plan, m, { fromMs: start, toMs: end }));
  });

  it('the raw points went to the default policy raw', async () => {
    for (const m of measurements) {
      const n = points.filter((p) => p.measurement === m).length;
      const rows = await influxRows(influx.url, db, `SELECT count(*) FROM "raw"."${m}"`);
      const counts = Object.entries(rows[0] ?? {}).filter(([k]) => k.startsWith('count_'));
      expect(Math.max(...counts.map(([, v]) => Number(v))), m).toBe(n);
    }
  });

  it.each(['interface', 'wifi', 'device', 'site_state', 'monitor'] as const)(
    '%s: per-hour aggregates in the rollup policy, one row per series and hour, tags kept',
    async (m) => {
      const want = expectedRollup(points, m, start, end);
      expect(want.length).toBeGreaterThanOrEqual(8); // 2 series × 4 hours
      const target = `${m}_1h`;
      const rows = await influxRows(influx.url, db, `SELECT * FROM "rollup"."${target}" GROUP BY *`);
      const tagKeys = Object.keys(want[0]!.tags);
      const got = new Map<string, Record<string, unknown>>(
        rows.map((r) => {
          const tags = Object.fromEntries(tagKeys.map((k) => [k, String(r[k])]));
          return [`${seriesKey(tags)}@${Number(r.time)}`, r];
        }),
      );
      expect(rows).toHaveLength(want.length);
      for (const w of want) {
        const row = got.get(w.key);
        expect(row, `row ${w.key}`).toBeDefined();
        for (const [field, value] of Object.entries(w.fields)) {
          const actual = Number(row![field]);
          expect(
            Math.abs(actual - value),
            `${target}.${field} at ${w.key}: ${actual} vs ${value}`,
          ).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(value)));
        }
        expect(
          Object.keys(row!)
            .filter((k) => !tagKeys.includes(k) && k !== 'time')
            .sort(),
        ).toEqual(Object.keys(EXPECTED[m]).sort());
      }
      // Tags stay tags (with GROUP BY time only, INTO would have made them fields or merged the series).
      const keys = (await influxRows(influx.url, db, `SHOW TAG KEYS FROM "rollup"."${target}"`)).map(
        (r) => r.tagKey,
      );
      expect(keys.sort()).toEqual([...tagKeys].sort());
      // And nothing in the raw policy under the rollup's name.
      expect(await influxRows(influx.url, db, `SELECT * FROM "raw"."${target}"`)).toEqual([]);
    },
  );

  it('a long-range panel reads availability from the source readSource names', async () => {
    const src = readSource('site_state', { fromMs: start - 60 * 24 * HOUR, toMs: end }, Date.now());
    expect(src.from).toBe('"rollup"."site_state_1h"');
    const rows = await influxRows(
      influx.url,
      db,
      `SELECT mean("up") AS "up" FROM ${src.from} WHERE time >= ${start}ms AND time < ${end}ms GROUP BY "site"`,
    );
    // The mean of hourly means equals the mean of the points: every hour has the same number of them.
    for (const site of ['pkm-petang-1', 'bjr-pelaga-1']) {
      const ups = points
        .filter(
          (p) =>
            p.measurement === 'site_state' && p.tags.site === site && p.timeMs >= start && p.timeMs < end,
        )
        .map((p) => Number(p.fields.up));
      expect(Number(rows.find((r) => r.site === site)?.up)).toBeCloseTo(mean(ups), 9);
    }
  });
});
