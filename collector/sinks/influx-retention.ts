/**
 * Applies the retention plan (retention.ts) to an InfluxDB 1.x server: reads what is there (SHOW
 * DATABASES, RETENTION POLICIES, CONTINUOUS QUERIES), asks retentionChanges() what differs and runs only
 * that. Idempotent: on a server that matches, it only reads. Run it at monitor start, before the writer's
 * first batch, so the samples land in the new default policy `raw`.
 *
 * Plain fetch to /query (POST, form body: CREATE/ALTER/DROP need POST), like the 1.x sink's writes; the
 * npm `influx` client stays in influx-v1.ts alone. Every failure is a SinkError that says whether to
 * retry: refused, reset, timeouts, 5xx and 429 are retryable; 4xx and a statement InfluxDB refuses
 * (its `results[].error`) are not — retrying the same text cannot help.
 */
import { SinkError, errorMessage } from '../core/errors.ts';
import type { Secret } from '../core/secret.ts';
import {
  goDurationMs,
  quoteIdent,
  retentionChanges,
  retentionPlan,
  type RetentionChange,
  type RetentionOptions,
  type ServerState,
} from './retention.ts';
import { httpSinkError, isRetryableNetworkCode, parseRetryAfter } from './sink.ts';

export interface InfluxV1Endpoint {
  /** e.g. http://127.0.0.1:8086 */
  readonly url: string;
  readonly username?: string | undefined;
  readonly password?: Secret | undefined;
  readonly timeoutMs: number;
}

interface QueryResult {
  readonly series?: readonly {
    readonly name?: string;
    readonly columns: readonly string[];
    readonly values?: readonly (readonly unknown[])[];
  }[];
  readonly error?: string;
}

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
  const query = influxQueryClient(endpoint);
  const state = await readState(query, plan.database);
  const changes = retentionChanges(plan, state);
  for (const change of changes) {
    for (const statement of change.statements) await query(statement);
  }
  return changes;
}

/** Run one InfluxQL statement; its result, or a SinkError. */
type Query = (statement: string) => Promise<QueryResult>;

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

function rows(result: QueryResult): Record<string, unknown>[] {
  return (result.series ?? []).flatMap((s) =>
    (s.values ?? []).map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]]))),
  );
}

function influxQueryClient(endpoint: InfluxV1Endpoint): Query {
  const base = new URL(endpoint.url);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new SinkError('config', `influx retention: url must be http(s), got ${endpoint.url}`, {
      retryable: false,
    });
  }
  const url = new URL(`${base.pathname.replace(/\/$/, '')}/query`, base).toString();
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (endpoint.username !== undefined) {
    const basic = Buffer.from(`${endpoint.username}:${endpoint.password?.reveal() ?? ''}`).toString('base64');
    headers.authorization = `Basic ${basic}`;
  }
  const name = `influx retention ${base.host}`;

  return async (statement) => {
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers,
        body: new URLSearchParams({ q: statement }).toString(),
        signal: AbortSignal.timeout(endpoint.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw networkError(name, statement, endpoint.timeoutMs, err);
    }
    if (!res.ok) {
      throw httpSinkError(
        `${name}: ${statement}`,
        res.status,
        text,
        parseRetryAfter(res.headers.get('retry-after')),
      );
    }
    let body: { results?: QueryResult[]; error?: string };
    try {
      body = JSON.parse(text) as typeof body;
    } catch (err) {
      throw new SinkError('decode', `${name}: ${statement}: not JSON: ${text.slice(0, 200)}`, {
        retryable: false,
        cause: err,
      });
    }
    const result = body.results?.[0] ?? {};
    const error = body.error ?? result.error;
    if (error !== undefined) {
      throw new SinkError('influxql', `${name}: ${statement}: ${error}`, { retryable: false });
    }
    return result;
  };
}

function networkError(name: string, statement: string, timeoutMs: number, err: unknown): SinkError {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return new SinkError('timeout', `${name}: ${statement}: no answer within ${timeoutMs} ms`, {
      retryable: true,
      cause: err,
    });
  }
  const code = (err as { cause?: { code?: unknown } }).cause?.code;
  const retryable = isRetryableNetworkCode(code) || err instanceof TypeError; // undici: "fetch failed"
  const why = err instanceof Error && err.cause instanceof Error ? err.cause.message : errorMessage(err);
  return new SinkError(typeof code === 'string' ? code.toLowerCase() : 'failed', `${name}: ${why}`, {
    retryable,
    cause: err,
  });
}
