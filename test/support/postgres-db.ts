/**
 * Test helpers around a real PostgreSQL (scripts/lib/servers/postgres.ts starts it): a fresh database per
 * test, and plain queries to look at what a store really committed (not through the store's memory).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { startPostgres, type Postgres } from '../../scripts/lib/servers/postgres.ts';

/**
 * A PostgreSQL server for the test file that calls this: started before its tests, stopped after them. Its
 * data folder sits straight under the temp dir, because the server runs as `postgres` when tests run as root.
 */
export function postgresForFile(): () => Postgres {
  const dir = mkdtempSync(join(tmpdir(), 'netmon-pg-'));
  let server: Postgres | undefined;
  beforeAll(async () => {
    server = await startPostgres({ dir });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (!server) throw new Error('PostgreSQL did not start');
    return server;
  };
}

let counter = 0;

/** A new, empty database on the server of `serverUrl`; its URL. */
export async function freshDatabase(serverUrl: string, prefix = 't'): Promise<string> {
  const name = `${prefix}_${process.pid}_${++counter}_${Date.now().toString(36)}`.toLowerCase();
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Rows of one query, on a connection of its own. */
export async function sqlRows(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

/** The kinds (firing, resolved, ...) the ledger records as sent on `channel` for an incident, sorted. */
export async function ledgerSent(
  url: string,
  incidentId: string,
  channel = 'webhook:oncall',
): Promise<string[]> {
  const rows = await sqlRows(
    url,
    "SELECT kind FROM notifications WHERE incident_id = $1 AND channel = $2 AND state = 'sent' ORDER BY kind",
    [incidentId, channel],
  );
  return rows.map((r) => String(r.kind));
}
