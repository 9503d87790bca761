/**
 * How long data stays, and the hourly rollups that outlive the raw samples (issue #5): the InfluxQL that
 * sets them up on an InfluxDB 1.x database, the rollups as data (dashboards and docs read them), and which
 * policy a panel should read for a time range. Pure: influx-retention.ts runs what this returns.
 *
 *   "<db>"."raw"      default policy, rawDuration (30d), shard groups of 1d — every sample as written
 *   "<db>"."rollup"   rollupDuration (1825d), shard groups of 30d — "<measurement>_1h", one point per hour
 *                     and series, written by one CONTINUOUS QUERY per measurement
 *
 * The CQs group by `time(1h), *`: with `*` INTO keeps every tag as a tag (without it the tags would be
 * lost). The rolled-up fields keep their raw names (mean(in_bps) AS in_bps), so a long-range panel reads
 * the same field from "rollup"."interface_1h" that a short one reads from "raw"."interface"; the extra
 * aggregates carry a suffix (in_bps_max, up_min).
 *
 * RESAMPLE FOR two intervals: a CQ that runs at 11:00 sees only points already stored, and the writer
 * flushes in batches (and buffers through an outage), so the 10:00 hour is computed again at 12:00 with
 * what arrived late. Later than that, backfill with rollupQuery() for the hours concerned.
 */
import { ConfigError } from '../core/errors.ts';
import type { SCHEMA } from './schema.ts';

export const RAW_POLICY = 'raw';
export const ROLLUP_POLICY = 'rollup';
/** Shard groups: a day of raw data is dropped at once; the rollups are small, a month per shard. */
export const RAW_SHARD_DURATION = '1d';
export const ROLLUP_SHARD_DURATION = '30d';

/** InfluxQL duration units (the ones a retention setting needs). */
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

export const RETENTION_DEFAULTS = {
  rawDuration: '30d',
  rollupDuration: '1825d',
  rollupInterval: '1h',
} as const;

export interface RetentionOptions {
  readonly database: string;
  /** InfluxQL duration literal (`30d`, `720h`, `4w`): how long raw samples are kept. Default 30d. */
  readonly rawDuration?: string | undefined;
  /** How long the rollups are kept. Default 1825d (5 years). */
  readonly rollupDuration?: string | undefined;
  /** The rollup resolution, `GROUP BY time(<interval>)`; also the target suffix. Default 1h. */
  readonly rollupInterval?: string | undefined;
}

// ── the rollups ────────────────────────────────────────────────────────────────────────────────────

export type Aggregate = 'mean' | 'max' | 'min' | 'sum' | 'count';
export type RolledUpMeasurement = 'interface' | 'wifi' | 'device' | 'site_state' | 'monitor' | 'incident';

export interface RollupField {
  readonly fn: Aggregate;
  /** The raw field aggregated. */
  readonly field: string;
  /** The field it becomes in the rollup. */
  readonly as: string;
  /** The InfluxQL select expression, e.g. `max("in_bps") AS "in_bps_max"`. */
  readonly expression: string;
}

export interface Rollup {
  readonly measurement: RolledUpMeasurement;
  /** The rollup measurement, `<measurement>_<interval>`, in the rollup policy. */
  readonly target: string;
  readonly fields: readonly RollupField[];
}

type FieldOf<M extends RolledUpMeasurement> = keyof (typeof SCHEMA)[M]['fields'] & string;
type FieldDef<M extends RolledUpMeasurement> = readonly [Aggregate, FieldOf<M>, string];

// Field names are checked against the schema at compile time (FieldOf), so a renamed field breaks here.
const def = <M extends RolledUpMeasurement>(measurement: M, fields: readonly FieldDef<M>[]) => ({
  measurement,
  fields: fields as readonly (readonly [Aggregate, string, string])[],
});

const DEFINITIONS = [
  def('interface', [
    ['mean', 'in_bps', 'in_bps'],
    ['max', 'in_bps', 'in_bps_max'],
    ['mean', 'out_bps', 'out_bps'],
    ['max', 'out_bps', 'out_bps_max'],
    ['mean', 'in_errors_ps', 'in_errors_ps'],
    ['mean', 'out_errors_ps', 'out_errors_ps'],
  ]),
  def('wifi', [
    ['mean', 'clients', 'clients'],
    ['max', 'clients', 'clients_max'],
  ]),
  def('device', [
    ['mean', 'reachable', 'reachable'],
    ['mean', 'poll_ms', 'poll_ms'],
    ['max', 'uptime_s', 'uptime_s'],
  ]),
  def('site_state', [
    ['mean', 'up', 'up'],
    ['mean', 'in_maintenance', 'in_maintenance'],
    ['min', 'up', 'up_min'],
  ]),
  def('monitor', [
    ['sum', 'polls', 'polls'],
    ['sum', 'poll_failures', 'poll_failures'],
    ['max', 'buffered', 'buffered'],
    ['max', 'dropped', 'dropped'],
  ]),
  // Incident events per hour, by event (opened, clock_breached, ...): the SLA panels count them for years.
  def('incident', [['count', 'id', 'events']]),
];

/** The rollups at a resolution (the target is named after it, as InfluxQL prints it: 60m → interface_1h). */
export function rollups(rollupInterval: string = RETENTION_DEFAULTS.rollupInterval): readonly Rollup[] {
  const interval = formatDuration(durationMs(rollupInterval, 'rollupInterval'));
  return DEFINITIONS.map((d) => ({
    measurement: d.measurement,
    target: `${d.measurement}_${interval}`,
    fields: d.fields.map(([fn, field, as]) => ({
      fn,
      field,
      as,
      expression: `${fn}(${quoteIdent(field)}) AS ${quoteIdent(as)}`,
    })),
  }));
}

/** The rollups at the default resolution (1h): interface_1h, wifi_1h, device_1h, site_state_1h, monitor_1h. */
export const ROLLUPS: readonly Rollup[] = rollups();

// ── durations ──────────────────────────────────────────────────────────────────────────────────────

/** An InfluxQL duration literal (`30d`, `1h`, `90m`) in ms; a ConfigError naming `what` otherwise. */
export function durationMs(literal: string, what = 'duration'): number {
  const m = /^([1-9]\d*)([smhdw])$/.exec(literal);
  if (!m) {
    throw new ConfigError(
      `retention.${what}`,
      `"${literal}" is not a duration: write a whole number and one unit of s, m, h, d, w (e.g. 30d, 1h)`,
    );
  }
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/**
 * A duration as InfluxQL prints it back (influxql.FormatDuration): in the largest unit that divides it,
 * so `60m` reads `1h` and `7d` reads `1w`. CQ texts are compared in this form.
 */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/** A Go duration as SHOW RETENTION POLICIES prints it (`720h0m0s`, `0s`) in ms; NaN when unreadable. */
export function goDurationMs(text: string): number {
  const units: Record<string, number> = {
    h: 3_600_000,
    m: 60_000,
    s: 1000,
    ms: 1,
    us: 1e-3,
    µs: 1e-3,
    ns: 1e-6,
  };
  const re = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * units[m[2]!]!;
    end = re.lastIndex;
  }
  return text !== '' && end === text.length ? total : NaN;
}

// ── the plan ───────────────────────────────────────────────────────────────────────────────────────

export interface PolicySpec {
  readonly name: string;
  /** InfluxQL literal and ms. */
  readonly duration: string;
  readonly durationMs: number;
  readonly shardDuration: string;
  readonly shardDurationMs: number;
  readonly isDefault: boolean;
  readonly create: string;
  readonly alter: string;
}

export interface ContinuousQuerySpec {
  readonly name: string;
  readonly rollup: Rollup;
  /** The body: SELECT ... INTO ... FROM ... GROUP BY time(<interval>), * */
  readonly select: string;
  readonly create: string;
  readonly drop: string;
}

export interface RetentionPlan {
  readonly database: string;
  readonly rawDurationMs: number;
  readonly rollupInterval: string;
  readonly rollupIntervalMs: number;
  readonly createDatabase: string;
  readonly policies: readonly PolicySpec[];
  readonly continuousQueries: readonly ContinuousQuerySpec[];
  /** Everything, in order, for an empty server: database, policies, CQs. */
  readonly statements: readonly string[];
}

/** An identifier in double quotes, with `\` and `"` escaped (InfluxQL). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Validate the options and build every statement. Throws ConfigError on a bad option. */
export function retentionPlan(opts: RetentionOptions): RetentionPlan {
  const database = opts.database;
  if (database.trim() === '') throw new ConfigError('retention.database', 'the database name is empty');
  const rawDuration = opts.rawDuration ?? RETENTION_DEFAULTS.rawDuration;
  const rollupDuration = opts.rollupDuration ?? RETENTION_DEFAULTS.rollupDuration;
  const intervalMs = durationMs(opts.rollupInterval ?? RETENTION_DEFAULTS.rollupInterval, 'rollupInterval');
  const interval = formatDuration(intervalMs);
  const rawMs = durationMs(rawDuration, 'rawDuration');
  const rollupMs = durationMs(rollupDuration, 'rollupDuration');
  // InfluxDB refuses a policy shorter than its shard group duration.
  if (rawMs < durationMs(RAW_SHARD_DURATION)) {
    throw new ConfigError('retention.rawDuration', `${rawDuration} is shorter than a raw shard group (1d)`);
  }
  if (rollupMs <= rawMs) {
    throw new ConfigError(
      'retention.rollupDuration',
      `${rollupDuration} keeps the rollups no longer than the raw data (${rawDuration}): make it longer`,
    );
  }
  if (rollupMs < durationMs(ROLLUP_SHARD_DURATION)) {
    throw new ConfigError(
      'retention.rollupDuration',
      `${rollupDuration} is shorter than a rollup shard (30d)`,
    );
  }
  if (intervalMs < 60_000 || intervalMs > 86_400_000) {
    throw new ConfigError('retention.rollupInterval', `${interval}: choose between 1m and 1d`);
  }
  // The CQ re-reads two intervals of raw data: they must still be there.
  if (2 * intervalMs >= rawMs) {
    throw new ConfigError(
      'retention.rollupInterval',
      `${interval} is too long for raw data kept ${rawDuration}`,
    );
  }

  const db = quoteIdent(database);
  const policy = (name: string, duration: string, shardDuration: string, isDefault: boolean): PolicySpec => {
    const tail = `DURATION ${duration} SHARD DURATION ${shardDuration}${isDefault ? ' DEFAULT' : ''}`;
    return {
      name,
      duration,
      durationMs: durationMs(duration),
      shardDuration,
      shardDurationMs: durationMs(shardDuration),
      isDefault,
      create: `CREATE RETENTION POLICY ${quoteIdent(name)} ON ${db} DURATION ${duration} REPLICATION 1 SHARD DURATION ${shardDuration}${isDefault ? ' DEFAULT' : ''}`,
      alter: `ALTER RETENTION POLICY ${quoteIdent(name)} ON ${db} ${tail}`,
    };
  };
  const policies = [
    policy(RAW_POLICY, rawDuration, RAW_SHARD_DURATION, true),
    policy(ROLLUP_POLICY, rollupDuration, ROLLUP_SHARD_DURATION, false),
  ];
  const continuousQueries = rollups(interval).map((r): ContinuousQuerySpec => {
    const select = selectInto(database, r, interval);
    return {
      name: r.target,
      rollup: r,
      select,
      create: `CREATE CONTINUOUS QUERY ${quoteIdent(r.target)} ON ${db} RESAMPLE EVERY ${interval} FOR ${formatDuration(2 * intervalMs)} BEGIN ${select} END`,
      drop: `DROP CONTINUOUS QUERY ${quoteIdent(r.target)} ON ${db}`,
    };
  });
  const createDatabase = `CREATE DATABASE ${db}`;
  return {
    database,
    rawDurationMs: rawMs,
    rollupInterval: interval,
    rollupIntervalMs: intervalMs,
    createDatabase,
    policies,
    continuousQueries,
    statements: [createDatabase, ...policies.map((p) => p.create), ...continuousQueries.map((c) => c.create)],
  };
}

function selectInto(database: string, r: Rollup, interval: string, where = ''): string {
  const db = quoteIdent(database);
  const fields = r.fields.map((f) => f.expression).join(', ');
  const into = `${db}.${quoteIdent(ROLLUP_POLICY)}.${quoteIdent(r.target)}`;
  const from = `${db}.${quoteIdent(RAW_POLICY)}.${quoteIdent(r.measurement)}`;
  return `SELECT ${fields} INTO ${into} FROM ${from}${where} GROUP BY time(${interval}), *`;
}

/**
 * A CQ's body for a past range [fromMs, toMs), to backfill hours the CQ missed (data that arrived more
 * than one interval late, raw data imported afterwards). Both ends must fall on interval boundaries, or
 * the first and last hour would be rolled up from part of their points.
 */
export function rollupQuery(plan: RetentionPlan, measurement: RolledUpMeasurement, range: TimeRange): string {
  const cq = plan.continuousQueries.find((c) => c.rollup.measurement === measurement);
  if (!cq) throw new RangeError(`no rollup for ${measurement}`);
  const { fromMs, toMs } = range;
  if (fromMs % plan.rollupIntervalMs !== 0 || toMs % plan.rollupIntervalMs !== 0 || toMs <= fromMs) {
    throw new RangeError(
      `rollup range must be non-empty and on ${plan.rollupInterval} boundaries: ${fromMs}..${toMs}`,
    );
  }
  return selectInto(
    plan.database,
    cq.rollup,
    plan.rollupInterval,
    ` WHERE time >= ${fromMs}ms AND time < ${toMs}ms`,
  );
}

// ── what to change on a server ─────────────────────────────────────────────────────────────────────

/** What SHOW DATABASES / RETENTION POLICIES / CONTINUOUS QUERIES said about the database. */
export interface ServerState {
  readonly databaseExists: boolean;
  readonly policies: readonly {
    readonly name: string;
    readonly durationMs: number;
    readonly shardDurationMs: number;
    readonly isDefault: boolean;
  }[];
  /** The CQs of this database: name and the text SHOW CONTINUOUS QUERIES prints. */
  readonly continuousQueries: readonly { readonly name: string; readonly query: string }[];
}

export type ChangeKind = 'create_database' | 'create_policy' | 'alter_policy' | 'create_cq' | 'replace_cq';

export interface RetentionChange {
  readonly kind: ChangeKind;
  readonly name: string;
  readonly statements: readonly string[];
}

/**
 * InfluxDB stores a CQ as its parsed statement printed back: identifiers lose their quotes where they
 * need none, whitespace is single. Compare in that form, so our quoted text matches its own echo.
 */
export function normaliseQuery(q: string): string {
  return q
    .replace(/"([A-Za-z_][A-Za-z0-9_]*)"/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The statements that bring a server from `state` to `plan`, in order; none when it already matches.
 * Policies are created, or altered when their duration, shard duration or default flag differ. A CQ
 * whose text differs is dropped and created again (InfluxQL has no ALTER for CQs). CQs and policies
 * that are not ours are left alone.
 */
export function retentionChanges(plan: RetentionPlan, state: ServerState): RetentionChange[] {
  const changes: RetentionChange[] = [];
  if (!state.databaseExists) {
    changes.push({ kind: 'create_database', name: plan.database, statements: [plan.createDatabase] });
  }
  for (const p of plan.policies) {
    const have = state.databaseExists ? state.policies.find((x) => x.name === p.name) : undefined;
    if (!have) {
      changes.push({ kind: 'create_policy', name: p.name, statements: [p.create] });
    } else if (
      have.durationMs !== p.durationMs ||
      have.shardDurationMs !== p.shardDurationMs ||
      (p.isDefault && !have.isDefault)
    ) {
      changes.push({ kind: 'alter_policy', name: p.name, statements: [p.alter] });
    }
  }
  for (const cq of plan.continuousQueries) {
    const have = state.databaseExists ? state.continuousQueries.find((x) => x.name === cq.name) : undefined;
    if (!have) {
      changes.push({ kind: 'create_cq', name: cq.name, statements: [cq.create] });
    } else if (normaliseQuery(have.query) !== normaliseQuery(cq.create)) {
      changes.push({ kind: 'replace_cq', name: cq.name, statements: [cq.drop, cq.create] });
    }
  }
  return changes;
}

// ── which policy a panel reads ─────────────────────────────────────────────────────────────────────

export interface TimeRange {
  readonly fromMs: number;
  readonly toMs: number;
}

export interface ReadSource {
  readonly retentionPolicy: string;
  readonly measurement: string;
  /** For a FROM clause: `"raw"."interface"` or `"rollup"."interface_1h"`. */
  readonly from: string;
  readonly rollup: boolean;
}

/**
 * Where a panel reads `measurement` for a range: the raw samples while the whole range is still within
 * the raw duration, the rollup when it starts earlier (the raw points there are gone). The rollup lags
 * by up to an interval, so the newest hour of a long range is missing until its CQ has run.
 */
export function readSource(
  measurement: RolledUpMeasurement,
  range: TimeRange,
  nowMs: number,
  opts: Omit<RetentionOptions, 'database'> = {},
): ReadSource {
  if (range.toMs < range.fromMs) throw new RangeError(`time range ends before it starts`);
  const rawMs = durationMs(opts.rawDuration ?? RETENTION_DEFAULTS.rawDuration, 'rawDuration');
  if (range.fromMs >= nowMs - rawMs) {
    return {
      retentionPolicy: RAW_POLICY,
      measurement,
      from: `${quoteIdent(RAW_POLICY)}.${quoteIdent(measurement)}`,
      rollup: false,
    };
  }
  const interval = opts.rollupInterval ?? RETENTION_DEFAULTS.rollupInterval;
  const target = rollups(interval).find((r) => r.measurement === measurement)!.target;
  return {
    retentionPolicy: ROLLUP_POLICY,
    measurement: target,
    from: `${quoteIdent(ROLLUP_POLICY)}.${quoteIdent(target)}`,
    rollup: true,
  };
}
