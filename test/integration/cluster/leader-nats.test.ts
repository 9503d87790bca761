/**
 * The alerting lease on a real JetStream KV (three nats-server nodes): the compare-and-set writes the
 * election relies on (create refused on an existing key, update refused at a stale revision, both read as
 * 'conflict'), and two candidates electing one leader, handing over on a clean stop (term + 1) and on the
 * loss of the leader's connection (after the lease). And a bucket or the results stream that someone made
 * with one replica (the client's default) is raised to the cluster's three when a member opens it: at one,
 * the node holding it is a single point of failure (found when a test helper created the lease bucket first).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEADER_BUCKET, LeaderElection, type LeaseRecord } from '../../../collector/cluster/leader.ts';
import { connectBus, openBucket, type Bus } from '../../../collector/cluster/nats.ts';
import { RESULTS_STREAM, RESULTS_SUBJECTS } from '../../../collector/cluster/subjects.ts';
import { natsLeaseKv } from '../../../collector/cluster/result-feed.ts';
import { systemClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { startNatsCluster } from '../../../scripts/lib/servers/nats-server.ts';
import { waitFor } from '../../support/ports.ts';

const dir = mkdtempSync(join(tmpdir(), 'netmon-leader-nats-'));
let nats: Awaited<ReturnType<typeof startNatsCluster>> | undefined;
const buses: Bus[] = [];
const log = memoryLogger('warn');

beforeAll(async () => {
  nats = await startNatsCluster({ nodes: 3, dir });
});
afterAll(async () => {
  for (const b of buses) await b.close().catch(() => undefined);
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function bus(name: string): Promise<Bus> {
  if (!nats) throw new Error('nats did not start');
  const b = await connectBus({ servers: nats.urls, name, log });
  buses.push(b);
  return b;
}

const rec = (holder: string, term: number): LeaseRecord => ({ v: 1, holder, term, renewedAtMs: Date.now() });

describe('the lease on JetStream KV', () => {
  it('create and update are compare-and-set: a lost race is a conflict, not an error', async () => {
    const b = await bus('cas');
    const kv = natsLeaseKv(() => openBucket(b.js, LEADER_BUCKET, b.replicas, log), 'cas-test');
    expect(await kv.read()).toBeUndefined();
    const first = await kv.write({ op: 'create', record: rec('a', 1) });
    if (first.kind !== 'ok') throw new Error(`create failed: ${JSON.stringify(first)}`);
    expect(await kv.write({ op: 'create', record: rec('b', 1) })).toEqual({ kind: 'conflict' });
    const second = await kv.write({ op: 'update', record: rec('a', 1), expectedRevision: first.revision });
    expect(second.kind).toBe('ok');
    // b read the first revision and tries to take over at it: a conflict.
    expect(await kv.write({ op: 'update', record: rec('b', 2), expectedRevision: first.revision })).toEqual({
      kind: 'conflict',
    });
    const read = await kv.read();
    expect(read?.record).toMatchObject({ holder: 'a', term: 1 });
  });

  it('two candidates: one leads; a clean stop hands over with the next term; a lost connection after the lease', async () => {
    const settings = { leaseMs: 1500, renewMs: 300 };
    const events: string[] = [];
    const election = async (node: string) => {
      const b = await bus(node);
      const e = new LeaderElection({
        kv: natsLeaseKv(() => openBucket(b.js, LEADER_BUCKET, b.replicas, log), 'handover-test'),
        clock: systemClock,
        log: memoryLogger('error'),
        settings: { ...settings, node },
        onElected: (term) => events.push(`${node} elected ${term}`),
        onDeposed: (term, reason) => events.push(`${node} deposed ${term} ${reason}`),
      });
      return { e, b };
    };
    const a = await election('cand-a');
    const b = await election('cand-b');
    a.e.start();
    await waitFor(() => a.e.term === 1, { what: 'a elected' });
    b.e.start();
    // b reads while a renews, through more than two leases' worth of renewals: it never leads.
    const reader = natsLeaseKv(() => openBucket(a.b.js, LEADER_BUCKET, a.b.replicas, log), 'handover-test');
    const first = (await reader.read())?.revision ?? 0;
    let renewals = 0;
    await waitFor(
      async () => {
        const r = await reader.read();
        renewals = r && r.record?.holder === 'cand-a' ? r.revision - first : renewals;
        return renewals >= 12;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: 'a dozen renewals by a' },
    );
    expect(b.e.term).toBeUndefined();

    const stoppedAt = Date.now();
    await a.e.stop();
    await waitFor(() => b.e.term === 2, { what: 'b elected after the release' });
    const handoverMs = Date.now() - stoppedAt;
    expect(handoverMs).toBeLessThan(settings.leaseMs);

    // a joins again as a standby; then b's connection goes away (closed): a leads after the lease, term 3.
    a.e.start();
    await b.b.close();
    const lostAt = Date.now();
    await waitFor(() => a.e.term === 3, { timeoutMs: 10_000, what: 'a elected after b went away' });
    const takeoverMs = Date.now() - lostAt;
    process.stdout.write(`lease handover: release ${handoverMs} ms, lost holder ${takeoverMs} ms\n`);
    expect(takeoverMs).toBeLessThanOrEqual(settings.leaseMs + 2 * settings.renewMs + 500);
    expect(events).toContain('cand-b deposed 2 expired');
    expect(events.filter((x) => x.includes('elected'))).toEqual([
      'cand-a elected 1',
      'cand-b elected 2',
      'cand-a elected 3',
    ]);
    await a.e.stop();
    await b.e.stop();
  });
});

describe('replicas', () => {
  it('a bucket and the results stream made with one replica are raised to the cluster size', async () => {
    const b = await bus('replicas');
    expect(b.replicas).toBe(3);
    const jsm = await b.connection.jetstreamManager();
    const replicasOf = async (stream: string) => (await jsm.streams.info(stream)).config.num_replicas;
    // The bucket, made first by someone with the client's default of one replica.
    await b.js.views.kv('raise_test', { history: 1 });
    expect(await replicasOf('KV_raise_test')).toBe(1);
    const kv = await openBucket(b.js, 'raise_test', b.replicas, log);
    expect(await replicasOf('KV_raise_test')).toBe(3);
    // Writable again once the new replicas have their leader (a put may get a 503 until then).
    await waitFor(() => kv.put('k', new TextEncoder().encode('v')), { timeoutMs: 20_000, what: 'a put' });
    expect((await kv.get('k'))?.string()).toBe('v');
    // The results stream, made again with one replica: the next member to connect raises it.
    await jsm.streams.delete(RESULTS_STREAM);
    await jsm.streams.add({ name: RESULTS_STREAM, subjects: [RESULTS_SUBJECTS], num_replicas: 1 });
    await bus('replicas-2');
    // Raised at once, or (a loaded machine) said to be raised or not once the update's answer was late.
    await waitFor(async () => (await replicasOf(RESULTS_STREAM)) === 3, {
      timeoutMs: 20_000,
      what: 'the results stream at three replicas',
    });
    const said = log.records.filter((r) =>
      /^stream (had|has) fewer replicas than the cluster has/.test(r.msg),
    );
    expect(
      said.map((r) => r.stream),
      JSON.stringify(log.records),
    ).toEqual(['KV_raise_test', RESULTS_STREAM]);
  });
});
