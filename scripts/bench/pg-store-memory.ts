/**
 * Memory of the PostgreSQL incident store with a long history (issue #15): a real PostgreSQL (started here,
 * loopback, data in a temp dir) holding N closed incidents (default 100,000, each with three timeline
 * events and two ledger rows, as a device outage leaves them) and 50 open ones; then the store is opened
 * twice, each time after a full GC:
 *
 *   bounded    the defaults: the unresolved, the last 1,000 closed and those of the last hour
 *   unbounded  closedInMemory Infinity: every incident in memory, as before the bound
 *
 * and the script prints, for each, the heap the store holds (heapUsed after GC, store open minus before),
 * the time open() took, and what memory() counts; then one listAsync over the whole history.
 *
 *   node --expose-gc --import tsx scripts/bench/pg-store-memory.ts [closedIncidents]
 */
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import pg from 'pg';
import { systemClock } from '../../collector/core/clock.ts';
import { memoryLogger } from '../../collector/core/log.ts';
import { PgIncidentStore } from '../../collector/store/pg-store.ts';
import { startPostgres } from '../lib/servers/postgres.ts';

const CLOSED = Number(process.argv[2] ?? 100_000);
const OPEN = 50;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write('run with node --expose-gc --import tsx (heap figures need a full GC)\n');
  process.exit(2);
}

function heapMb(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

async function fill(url: string): Promise<void> {
  // The schema as the store makes it.
  const log = memoryLogger('warn');
  const s = await PgIncidentStore.open(url, { term: 1, log, clock: systemClock });
  await s.close();
  const c = new pg.Client({ connectionString: url });
  c.on('error', (err) => process.stderr.write(`fill connection: ${err.message}\n`));
  await c.connect();
  const t0 = Date.now() - 400 * 86_400_000; // a year and more of history
  // One device outage: opened, paged, resolved 20 min later; its alert in data as AlertBook stores it.
  await c.query(
    `INSERT INTO incidents (id, kind, key, severity, status, opened_at, resolved_at, site_id, device_id, data)
     SELECT 'device:dev-' || (n % 3334) || '@' || ($1::bigint + n * 300000),
            'device_down', 'device:dev-' || (n % 3334), 'high',
            CASE WHEN n > $2 THEN 'open' ELSE 'resolved' END,
            $1::bigint + n * 300000,
            CASE WHEN n > $2 THEN NULL ELSE $1::bigint + n * 300000 + 1200000 END,
            'site-' || (n % 987), 'dev-' || (n % 3334),
            jsonb_build_object('alert', jsonb_build_object(
              'id', 'device:dev-' || (n % 3334) || '@' || ($1::bigint + n * 300000), 'status', 'firing',
              'kind', 'device_down', 'severity', 'high', 'deviceId', 'dev-' || (n % 3334), 'role', 'router',
              'siteId', 'site-' || (n % 987), 'startedAt', $1::bigint + n * 300000,
              'affectedDevices', jsonb_build_array('dev-' || (n % 3334) || '-ap1', 'dev-' || (n % 3334) || '-ap2'),
              'affectedSites', jsonb_build_array()))
     FROM generate_series(1::bigint, ($2::int + $3::int)::bigint) AS n`,
    [t0, CLOSED, OPEN],
  );
  await c.query(
    `INSERT INTO incident_events (id, incident_id, time_ms, type, actor, note)
     SELECT i.id || '#' || e.type, i.id, i.opened_at + e.off, e.type, e.actor, NULL
     FROM incidents i,
       (VALUES ('opened', 0, NULL), ('notified:firing', 1000, 'telegram:oncall'), ('resolved', 1200000, NULL))
         AS e(type, off, actor)
     WHERE e.type <> 'resolved' OR i.status = 'resolved'`,
  );
  await c.query(
    `INSERT INTO notifications (incident_id, channel, kind, state, term, at_ms)
     SELECT i.id, 'telegram:oncall', k.kind, 'sent', 1, i.opened_at + k.off
     FROM incidents i, (VALUES ('firing', 1000), ('resolved', 1201000)) AS k(kind, off)
     WHERE k.kind = 'firing' OR i.status = 'resolved'`,
  );
  await c.query('ANALYZE');
  await c.end();
}

async function measure(url: string, name: string, closedInMemory: number | undefined): Promise<void> {
  const log = memoryLogger('warn');
  const before = heapMb();
  const t = performance.now();
  const store = await PgIncidentStore.open(url, { term: 2, log, clock: systemClock, closedInMemory });
  const openMs = performance.now() - t;
  const held = heapMb() - before;
  const m = store.memory();
  const t2 = performance.now();
  const all = await store.listAsync({ limit: -1 });
  const listMs = performance.now() - t2;
  process.stdout.write(
    `${name.padEnd(10)} heap held ${held.toFixed(1).padStart(7)} MB  open ${openMs.toFixed(0).padStart(6)} ms  ` +
      `in memory: ${m.incidents} incidents (${m.closed} closed), ${m.events} events, ${m.ledger} ledger rows; ` +
      `listAsync of the whole history: ${all.length} in ${listMs.toFixed(0)} ms\n`,
  );
  await store.close();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'netmon-bench-pgmem-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as `postgres` when this runs as root
  const server = await startPostgres({ dir: join(dir, 'pg') });
  try {
    const url = server.url;
    const t = Date.now();
    await fill(url);
    process.stdout.write(
      `PostgreSQL holds ${CLOSED} closed and ${OPEN} open incidents (3 events, 2 ledger rows each; filled in ${Date.now() - t} ms); load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
    );
    // The bounded store first: the unbounded one leaves garbage that a later GC baseline would count.
    await measure(url, 'bounded', undefined);
    await measure(url, 'unbounded', Infinity);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
