/**
 * Retention and rollups, pure: the statements, the rollups as the issue lists them, what to change on a
 * server in a given state, and which policy a panel reads. applyRetention's failures against a loopback
 * HTTP server (influxd cannot answer 503 on cue); against a real influxd: test/integration/storage.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, SinkError } from '../../../collector/core/errors.ts';
import { Secret } from '../../../collector/core/secret.ts';
import { applyRetention } from '../../../collector/sinks/influx-retention.ts';
import {
  ROLLUPS,
  durationMs,
  formatDuration,
  goDurationMs,
  normaliseQuery,
  quoteIdent,
  readSource,
  retentionChanges,
  retentionPlan,
  rollupQuery,
  rollups,
  type ServerState,
} from '../../../collector/sinks/retention.ts';
import { SCHEMA, type MeasurementSpec } from '../../../collector/sinks/schema.ts';
import { freeTcpPort } from '../../support/ports.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('the rollups', () => {
  it('are the ones issue #5 lists, field by field', () => {
    const table = Object.fromEntries(
      ROLLUPS.map((r) => [
        `${r.measurement} → ${r.target}`,
        r.fields.map((f) => `${f.fn}(${f.field}) AS ${f.as}`),
      ]),
    );
    expect(table).toEqual({
      'interface → interface_1h': [
        'mean(in_bps) AS in_bps',
        'max(in_bps) AS in_bps_max',
        'mean(out_bps) AS out_bps',
        'max(out_bps) AS out_bps_max',
        'mean(in_errors_ps) AS in_errors_ps',
        'mean(out_errors_ps) AS out_errors_ps',
      ],
      'wifi → wifi_1h': ['mean(clients) AS clients', 'max(clients) AS clients_max'],
      'device → device_1h': [
        'mean(reachable) AS reachable',
        'mean(poll_ms) AS poll_ms',
        'max(uptime_s) AS uptime_s',
      ],
      'site_state → site_state_1h': [
        'mean(up) AS up',
        'mean(in_maintenance) AS in_maintenance',
        'min(up) AS up_min',
      ],
      'monitor → monitor_1h': [
        'sum(polls) AS polls',
        'sum(poll_failures) AS poll_failures',
        'max(buffered) AS buffered',
        'max(dropped) AS dropped',
      ],
      'incident → incident_1h': ['count(id) AS events'],
    });
  });

  it('aggregate fields the schema declares: numbers, or anything for count', () => {
    for (const r of ROLLUPS) {
      const spec = (SCHEMA as Record<string, MeasurementSpec>)[r.measurement];
      for (const f of r.fields) {
        expect(spec?.fields[f.field]?.type, `${r.measurement}.${f.field}`).toMatch(
          f.fn === 'count' ? /^(float|integer|string)$/ : /^(float|integer)$/,
        );
      }
    }
  });

  it('carry their InfluxQL expression, and are named after the interval as InfluxQL prints it', () => {
    expect(ROLLUPS[0]!.fields[1]!.expression).toBe('max("in_bps") AS "in_bps_max"');
    expect(rollups('60m').map((r) => r.target)).toEqual(ROLLUPS.map((r) => r.target));
    expect(rollups('15m')[1]!.target).toBe('wifi_15m');
  });
});

describe('retentionPlan', () => {
  const plan = retentionPlan({ database: 'netmon' });

  it('a default raw policy of 30 days in 1-day shards, and rollup for 5 years in 30-day shards', () => {
    expect(plan.policies.map((p) => p.create)).toEqual([
      'CREATE RETENTION POLICY "raw" ON "netmon" DURATION 30d REPLICATION 1 SHARD DURATION 1d DEFAULT',
      'CREATE RETENTION POLICY "rollup" ON "netmon" DURATION 1825d REPLICATION 1 SHARD DURATION 30d',
    ]);
    expect(plan.policies.map((p) => p.alter)).toEqual([
      'ALTER RETENTION POLICY "raw" ON "netmon" DURATION 30d SHARD DURATION 1d DEFAULT',
      'ALTER RETENTION POLICY "rollup" ON "netmon" DURATION 1825d SHARD DURATION 30d',
    ]);
    expect(plan.rawDurationMs).toBe(30 * DAY);
  });

  it('one CQ per rollup, from raw into rollup, grouped by the hour and every tag', () => {
    expect(plan.continuousQueries.map((c) => c.name)).toEqual([
      'interface_1h',
      'wifi_1h',
      'device_1h',
      'site_state_1h',
      'monitor_1h',
      'incident_1h',
    ]);
    expect(plan.continuousQueries[1]!.create).toBe(
      'CREATE CONTINUOUS QUERY "wifi_1h" ON "netmon" RESAMPLE EVERY 1h FOR 2h BEGIN ' +
        'SELECT mean("clients") AS "clients", max("clients") AS "clients_max" ' +
        'INTO "netmon"."rollup"."wifi_1h" FROM "netmon"."raw"."wifi" GROUP BY time(1h), * END',
    );
    for (const cq of plan.continuousQueries) {
      const m = cq.rollup.measurement;
      expect(cq.select).toBe(
        `SELECT ${cq.rollup.fields.map((f) => f.expression).join(', ')} INTO "netmon"."rollup"."${m}_1h" FROM "netmon"."raw"."${m}" GROUP BY time(1h), *`,
      );
      expect(cq.create).toContain(`BEGIN ${cq.select} END`);
      expect(cq.drop).toBe(`DROP CONTINUOUS QUERY "${m}_1h" ON "netmon"`);
    }
  });

  it('statements for an empty server: database, policies, then the CQs', () => {
    expect(plan.statements).toEqual([
      'CREATE DATABASE "netmon"',
      ...plan.policies.map((p) => p.create),
      ...plan.continuousQueries.map((c) => c.create),
    ]);
  });

  it('takes other durations and a 15-minute interval (re-read over 30 minutes)', () => {
    const p = retentionPlan({
      database: 'n',
      rawDuration: '2w',
      rollupDuration: '365d',
      rollupInterval: '15m',
    });
    expect(p.policies[0]!.create).toContain('DURATION 2w ');
    expect(p.policies[1]!.create).toContain('DURATION 365d ');
    expect(p.rollupIntervalMs).toBe(15 * 60_000);
    expect(p.continuousQueries[0]!.create).toMatch(
      /^CREATE CONTINUOUS QUERY "interface_15m" ON "n" RESAMPLE EVERY 15m FOR 30m BEGIN .* GROUP BY time\(15m\), \* END$/,
    );
  });

  it('quotes a database name that needs it', () => {
    expect(quoteIdent('we"ird\\db')).toBe('"we\\"ird\\\\db"');
    expect(retentionPlan({ database: 'net-mon x' }).createDatabase).toBe('CREATE DATABASE "net-mon x"');
  });

  it.each([
    [{ database: '' }, 'retention.database'],
    [{ database: 'n', rawDuration: '30 days' }, 'retention.rawDuration'],
    [{ database: 'n', rawDuration: '0d' }, 'retention.rawDuration'],
    [{ database: 'n', rawDuration: '12h' }, 'retention.rawDuration'],
    [{ database: 'n', rollupDuration: '30d' }, 'retention.rollupDuration'],
    [{ database: 'n', rawDuration: '1d', rollupDuration: '20d' }, 'retention.rollupDuration'],
    [{ database: 'n', rollupInterval: '1h30' }, 'retention.rollupInterval'],
    [{ database: 'n', rollupInterval: '30s' }, 'retention.rollupInterval'],
    [{ database: 'n', rollupInterval: '2d' }, 'retention.rollupInterval'],
    [{ database: 'n', rawDuration: '1d', rollupInterval: '1d' }, 'retention.rollupInterval'],
  ])('refuses %o (%s)', (opts, where) => {
    let err: unknown;
    try {
      retentionPlan(opts);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).where).toBe(where);
    expect((err as ConfigError).retryable).toBe(false);
  });
});

describe('durations', () => {
  it.each([
    ['30d', 30 * DAY],
    ['1h', HOUR],
    ['90m', 90 * 60_000],
    ['2w', 14 * DAY],
    ['45s', 45_000],
  ])('InfluxQL %s', (lit, ms) => expect(durationMs(lit)).toBe(ms));

  it.each([
    [HOUR, '1h'],
    [60 * 60_000 * 2, '2h'],
    [7 * DAY, '1w'],
    [30 * DAY, '30d'],
    [90 * 60_000, '90m'],
    [1500, '1500ms'],
  ])('printed as InfluxQL prints it: %i → %s', (ms, text) => expect(formatDuration(ms)).toBe(text));

  it.each([
    ['720h0m0s', 30 * DAY],
    ['43800h0m0s', 1825 * DAY],
    ['24h0m0s', DAY],
    ['0s', 0],
    ['1h30m0s', 90 * 60_000],
    ['500ms', 500],
  ])('Go duration %s (SHOW RETENTION POLICIES)', (text, ms) => expect(goDurationMs(text)).toBe(ms));

  it('an unreadable Go duration is NaN, never a number that could match', () => {
    expect(goDurationMs('')).toBeNaN();
    expect(goDurationMs('forever')).toBeNaN();
    expect(goDurationMs('720h0m0sx')).toBeNaN();
  });
});

describe('retentionChanges', () => {
  const plan = retentionPlan({ database: 'netmon' });
  /** What influxd 1.6 prints for a CQ: the parsed statement, quotes only where needed. */
  const echo = (create: string) => create.replace(/"([A-Za-z_][A-Za-z0-9_]*)"/g, '$1');
  const matching: ServerState = {
    databaseExists: true,
    policies: [
      { name: 'autogen', durationMs: 0, shardDurationMs: 7 * DAY, isDefault: false },
      { name: 'raw', durationMs: 30 * DAY, shardDurationMs: DAY, isDefault: true },
      { name: 'rollup', durationMs: 1825 * DAY, shardDurationMs: 30 * DAY, isDefault: false },
    ],
    continuousQueries: [
      ...plan.continuousQueries.map((c) => ({ name: c.name, query: echo(c.create) })),
      { name: 'someone_elses', query: 'CREATE CONTINUOUS QUERY someone_elses ON netmon BEGIN ... END' },
    ],
  };

  it('the echo influxd 1.6 really printed for a CQ matches our text', () => {
    const seen =
      'CREATE CONTINUOUS QUERY wifi_1h ON netmon RESAMPLE EVERY 1h FOR 2h BEGIN SELECT mean(clients) AS clients, max(clients) AS clients_max INTO netmon.rollup.wifi_1h FROM netmon.raw.wifi GROUP BY time(1h), * END';
    expect(normaliseQuery(seen)).toBe(normaliseQuery(plan.continuousQueries[1]!.create));
    expect(normaliseQuery(seen.replace('max(clients)', 'min(clients)'))).not.toBe(
      normaliseQuery(plan.continuousQueries[1]!.create),
    );
  });

  it('an empty server gets everything, in plan order', () => {
    const changes = retentionChanges(plan, { databaseExists: false, policies: [], continuousQueries: [] });
    expect(changes.flatMap((c) => c.statements)).toEqual(plan.statements);
    expect(changes.map((c) => c.kind)).toEqual([
      'create_database',
      'create_policy',
      'create_policy',
      ...plan.continuousQueries.map(() => 'create_cq'),
    ]);
  });

  it('a new database (autogen only) gets the policies and CQs, not the database', () => {
    const changes = retentionChanges(plan, {
      databaseExists: true,
      policies: [matching.policies[0]!],
      continuousQueries: [],
    });
    expect(changes.flatMap((c) => c.statements)).toEqual(plan.statements.slice(1));
  });

  it('a server that matches: nothing to do (and others’ CQs and policies are left alone)', () => {
    expect(retentionChanges(plan, matching)).toEqual([]);
  });

  it('a raw policy with another duration, shard duration or not default is altered', () => {
    for (const raw of [
      { name: 'raw', durationMs: 7 * DAY, shardDurationMs: DAY, isDefault: true },
      { name: 'raw', durationMs: 30 * DAY, shardDurationMs: 7 * DAY, isDefault: true },
      { name: 'raw', durationMs: 30 * DAY, shardDurationMs: DAY, isDefault: false },
    ]) {
      const changes = retentionChanges(plan, {
        ...matching,
        policies: matching.policies.map((p) => (p.name === 'raw' ? raw : p)),
      });
      expect(changes).toEqual([{ kind: 'alter_policy', name: 'raw', statements: [plan.policies[0]!.alter] }]);
    }
  });

  it('a CQ whose text differs is dropped and created again; a missing one is created', () => {
    const [iface, wifi] = plan.continuousQueries;
    const changes = retentionChanges(plan, {
      ...matching,
      continuousQueries: matching.continuousQueries
        .filter((c) => c.name !== 'wifi_1h')
        .map((c) =>
          c.name === 'interface_1h' ? { ...c, query: c.query.replace('max(in_bps)', 'mean(in_bps)') } : c,
        ),
    });
    expect(changes).toEqual([
      { kind: 'replace_cq', name: 'interface_1h', statements: [iface!.drop, iface!.create] },
      { kind: 'create_cq', name: 'wifi_1h', statements: [wifi!.create] },
    ]);
  });
});

describe('rollupQuery (backfill, and the tests’ way to run a CQ now)', () => {
  const plan = retentionPlan({ database: 'netmon' });
  const t0 = Date.UTC(2026, 0, 1);

  it('is the CQ body with a time range', () => {
    const q = rollupQuery(plan, 'site_state', { fromMs: t0, toMs: t0 + 3 * HOUR });
    const body = plan.continuousQueries.find((c) => c.name === 'site_state_1h')!.select;
    expect(q).toBe(
      body.replace(' GROUP BY', ` WHERE time >= ${t0}ms AND time < ${t0 + 3 * HOUR}ms GROUP BY`),
    );
  });

  it('refuses a range off the hour or empty', () => {
    expect(() => rollupQuery(plan, 'wifi', { fromMs: t0 + 1, toMs: t0 + HOUR })).toThrow(RangeError);
    expect(() => rollupQuery(plan, 'wifi', { fromMs: t0, toMs: t0 + HOUR + 60_000 })).toThrow(RangeError);
    expect(() => rollupQuery(plan, 'wifi', { fromMs: t0, toMs: t0 })).toThrow(RangeError);
  });
});

describe('readSource: which policy a panel reads', () => {
  const now = Date.UTC(2026, 5, 15, 12, 0);

  it('raw while the range is within the 30 days raw data is kept', () => {
    expect(readSource('interface', { fromMs: now - 6 * HOUR, toMs: now }, now)).toEqual({
      retentionPolicy: 'raw',
      measurement: 'interface',
      from: '"raw"."interface"',
      rollup: false,
    });
    expect(readSource('site_state', { fromMs: now - 30 * DAY, toMs: now }, now).retentionPolicy).toBe('raw');
  });

  it('the rollup once the range starts earlier, even if it ends recently', () => {
    expect(readSource('site_state', { fromMs: now - 30 * DAY - 1, toMs: now }, now)).toEqual({
      retentionPolicy: 'rollup',
      measurement: 'site_state_1h',
      from: '"rollup"."site_state_1h"',
      rollup: true,
    });
    expect(readSource('wifi', { fromMs: now - 400 * DAY, toMs: now - 300 * DAY }, now).measurement).toBe(
      'wifi_1h',
    );
  });

  it('follows the configured raw duration and interval', () => {
    const opts = { rawDuration: '7d', rollupInterval: '15m' };
    expect(readSource('device', { fromMs: now - 8 * DAY, toMs: now }, now, opts).from).toBe(
      '"rollup"."device_15m"',
    );
    expect(readSource('device', { fromMs: now - 6 * DAY, toMs: now }, now, opts).from).toBe('"raw"."device"');
  });

  it('refuses a range that ends before it starts', () => {
    expect(() => readSource('monitor', { fromMs: now, toMs: now - 1 }, now)).toThrow(RangeError);
  });
});

describe('applyRetention against a loopback HTTP server', () => {
  let server: Server;
  let url: string;
  let answer: (q: string, res: ServerResponse) => void = (_q, res) => res.writeHead(200).end('{}');
  const seen: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const q = new URLSearchParams(body).get('q') ?? '';
        seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''} ${q}`);
        answer(q, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const failure = async (u = url, timeoutMs = 500): Promise<SinkError> => {
    const err: unknown = await applyRetention({ url: u, timeoutMs }, { database: 'netmon' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SinkError);
    return err as SinkError;
  };

  it('POSTs the statements to /query with basic auth, and the password never shows', async () => {
    seen.length = 0;
    answer = (_q, res) => res.writeHead(200).end('{"results":[{"statement_id":0}]}');
    const changes = await applyRetention(
      { url: `${url}/influx/`, username: 'netmon', password: new Secret('s3cret'), timeoutMs: 500 },
      { database: 'netmon' },
    );
    const auth = `Basic ${Buffer.from('netmon:s3cret').toString('base64')}`;
    expect(seen[0]).toBe(`POST /influx/query ${auth} SHOW DATABASES`);
    // No database in the answer: everything is created.
    expect(seen.slice(1).map((s) => s.split(`${auth} `)[1])).toEqual(
      retentionPlan({ database: 'netmon' }).statements,
    );
    expect(changes).toHaveLength(9);
  });

  it('503 with Retry-After is retryable after that long', async () => {
    answer = (_q, res) => res.writeHead(503, { 'retry-after': '3' }).end('busy');
    expect(await failure()).toMatchObject({ retryable: true, retryAfterMs: 3000, code: 'http_503' });
  });

  it('401 is not retryable, and says which statement', async () => {
    answer = (_q, res) => res.writeHead(401).end('{"error":"authorization failed"}');
    const e = await failure();
    expect(e).toMatchObject({ retryable: false, code: 'http_401' });
    expect(e.message).toContain('SHOW DATABASES');
  });

  it('a statement InfluxDB refuses is not retryable', async () => {
    answer = (q, res) =>
      res
        .writeHead(200)
        .end(
          q === 'SHOW DATABASES'
            ? '{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],"values":[["other"]]}]}]}'
            : '{"results":[{"statement_id":0,"error":"unable to create database"}]}',
        );
    const e = await failure();
    expect(e).toMatchObject({ retryable: false, code: 'influxql' });
    expect(e.message).toContain('CREATE DATABASE "netmon": unable to create database');
  });

  it('no answer in time is retryable', async () => {
    answer = () => {}; // never answers
    expect(await failure(url, 150)).toMatchObject({ retryable: true, code: 'timeout' });
  });

  it('connection refused is retryable', async () => {
    const closed = await freeTcpPort();
    expect((await failure(`http://127.0.0.1:${closed}`)).retryable).toBe(true);
  });

  it('bad options fail before any request', async () => {
    seen.length = 0;
    await expect(
      applyRetention({ url, timeoutMs: 500 }, { database: 'n', rawDuration: 'a month' }),
    ).rejects.toThrow(ConfigError);
    expect(seen).toEqual([]);
  });
});

describe('dashboards/RETENTION.md', () => {
  it('lists every rollup with its fields as ROLLUPS defines them', () => {
    const doc = readFileSync(new URL('../../../dashboards/RETENTION.md', import.meta.url), 'utf8');
    for (const r of ROLLUPS) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${r.measurement}\``));
      expect(row, r.measurement).toBeDefined();
      const cells = row!.split('|').map((c) => c.trim());
      expect(cells[2]).toBe(`\`${r.target}\``);
      expect(cells[3]).toBe(r.fields.map((f) => `\`${f.fn}(${f.field}) AS ${f.as}\``).join(', '));
    }
  });
});
