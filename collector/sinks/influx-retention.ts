/**
 * Applies the retention plan (retention.ts) to an InfluxDB 1.x server: reads what is there (SHOW
 * DATABASES, RETENTION POLICIES, CONTINUOUS QUERIES), asks retentionChanges() what differs and runs only
 * that. Idempotent: on a server that matches, it only reads. Run it at monitor start, before the writer's
 * first batch, so the samples land in the new default policy `raw`.
 *
 * Statements go through the 1.x adapter (collector/influx/v1.ts: POST /query, form body, since
 * CREATE/ALTER/DROP need POST). Every failure is a SinkError that says whether to retry: refused, reset,
 * timeouts, 408, 429 and 5xx are retryable; other 4xx and a statement InfluxDB refuses (its
 * `results[].error`) are not — retrying the same text cannot help.
 */
import { InfluxV1Client, type InfluxV1Connection, type StatementResult } from '../influx/v1.ts';
import {
  goDurationMs,
  quoteIdent,
  retentionChanges,
  retentionPlan,
  type RetentionChange,
  type RetentionOptions,
  type ServerState,
} from './retention.ts';

/** Where the retention statements go: the 1.x API's URL and account. */
export type InfluxV1Endpoint = InfluxV1Connection;

/**
 * Create the database, the policies `raw` (default) and `rollup`, and the rollup CQs where missing or
 * different. Returns what it changed (empty when the server already matched). Throws ConfigError for
 * bad options (before any I/O) and SinkError for the server's refusals and failures.
 */
export async function applyRetention(
  endpoint: InfluxV1Endpoint,
  options: RetentionOptions,
): Promise<readonly RetentionChange[]> {
  const plan = retentionPlan(options);
  const client = new InfluxV1Client(endpoint, 'influx retention');
  const query: Query = (statement) => client.execute(statement);
  try {
    const state = await readState(query, plan.database);
    const changes = retentionChanges(plan, state);
    for (const change of changes) {
      for (const statement of change.statements) await query(statement);
    }
    return changes;
  } finally {
    client.close();
  }
}

/** Run one InfluxQL statement; its result, or a SinkError. */
type Query = (statement: string) => Promise<StatementResult>;

async function readState(query: Query, database: string): Promise<ServerState> {
  const dbs = rows(await query('SHOW DATABASES'));
  if (!dbs.some((r) => r.name === database)) {
    return { databaseExists: false, policies: [], continuousQueries: [] };
  }
  const policies = rows(await query(`SHOW RETENTION POLICIES ON ${quoteIdent(database)}`)).map((r) => ({
    name: String(r.name),
    durationMs: goDurationMs(String(r.duration)),
    shardDurationMs: goDurationMs(String(r.shardGroupDuration)),
    isDefault: r.default === true,
  }));
  // One series per database, named after it.
  const cqs = await query('SHOW CONTINUOUS QUERIES');
  const continuousQueries = rows({ series: cqs.series?.filter((s) => s.name === database) ?? [] }).map(
    (r) => ({ name: String(r.name), query: String(r.query) }),
  );
  return { databaseExists: true, policies, continuousQueries };
}

function rows(result: StatementResult): Record<string, unknown>[] {
  return (result.series ?? []).flatMap((s) =>
    (s.values ?? []).map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]]))),
  );
}
