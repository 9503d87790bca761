/**
 * Issue #15, ping (Debian's fping 5.1) on collector members, against real servers: a `nats-server` with
 * JetStream, PostgreSQL (the leader's incidents), InfluxDB and the fleet simulator (SNMP agents on
 * loopback addresses, which answer ping).
 *
 *   the alerting leader and two collector members, in this process (startClusterRuntime, what main.ts
 *   runs with `cluster:`); the leader has no `ping:` section, the collectors have one.
 *
 * 1. Each device is pinged by its owner only, a ping-only one (no SNMP) included and never polled; the
 *    ping results are on the results stream (with the member's polls, one seq) and the `ping` points in
 *    InfluxDB (the members' own writers).
 * 2. `snmp-stop` on one device (the simulator's agent silent, the address still answers ping): its
 *    owner's SNMP poll fails; the leader's tracker, whose last ping answer predates that, asks the owner
 *    for a ping (netmon.probe.<id>, kind ping) and the owner pings at once, long before the device's 60 s
 *    ping interval; the leader then raises "SNMP not answering" (its WARN line in both languages, the
 *    `device_warning` point), never an outage.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startClusterRuntime, type ClusterRuntime } from '../../../collector/app.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { Device, Site } from '../../../collector/core/types.ts';
import { hasSnmp } from '../../../collector/liveness/mqtt-liveness.ts';
import { loadConfig } from '../../../config/monitor.ts';
import { ResultLog, writeInventory } from '../../../scripts/lib/cluster-lab.ts';
import { startNatsCluster } from '../../../scripts/lib/servers/nats-server.ts';
import { startPostgres } from '../../../scripts/lib/servers/postgres.ts';
import { FleetSimulator } from '../../../simulator/fleet.ts';
import { syntheticInventory } from '../../../simulator/synthetic-inventory.ts';
import { influxRows, startTestInfluxd, type TestServer } from '../../support/influx.ts';
import { freeTcpPort, freeUdpPort, waitFor } from '../../support/ports.ts';
import { freshDatabase } from '../../support/postgres-db.ts';

const SNMP_INTERVAL_MS = 2000;
const PING_INTERVAL_MS = 60_000;
const DB = 'pingcluster';

let dir: string;
let nats: Awaited<ReturnType<typeof startNatsCluster>>;
let postgres: Awaited<ReturnType<typeof startPostgres>>;
let influx: TestServer;
let sim: FleetSimulator;
let leader: ClusterRuntime | undefined;
const leaderLog = memoryLogger('info');
const collectors = new Map<string, ClusterRuntime>();
const base = syntheticInventory({
  sites: 4,
  port: 0,
  seed: 23,
  hostOctet: 160 + Math.floor(Math.random() * 20),
});
const snmpDevices = base.devices.filter(hasSnmp);
// One more site, watched by ping alone (no SNMP on its device): owned like the others, pinged, never polled.
const pingOnlySite: Site = { ...(base.sites[0] as Site), id: 'site-ping-only', name: 'Banjar Ping Only' };
const pingOnly: Device = {
  id: 'site-ping-only-isp',
  siteId: pingOnlySite.id,
  role: 'router',
  host: `127.${base.devices[0]?.host.split('.')[1] ?? '160'}.250.1`,
  port: 161,
  profile: 'generic',
  ping: 'only',
};
const watched = [...snmpDevices, pingOnly];

function writeConfig(node: string, roles: string[], extra: Record<string, unknown>, pgUrl?: string): string {
  const file = join(dir, `${node}.yaml`);
  writeFileSync(
    file,
    stringify({
      inventory: 'inventory.yaml',
      influx: { api: 'v1', url: influx.url, database: DB },
      writer: { flushInterval: '200ms', bufferDir: `buffer-${node}` },
      snmp: { interval: `${SNMP_INTERVAL_MS}ms`, jitter: '0ms', timeout: '300ms', retries: 0 },
      health: { downAfterFailures: 2, recheck: '300ms' },
      incidents: { file: `incidents-${node}.db` },
      log: { level: 'info' },
      ...extra,
      cluster: {
        node,
        roles,
        nats: { servers: nats.urls },
        membership: { heartbeat: '500ms', timeout: '2s' },
        leader: { lease: '3000ms', renew: '500ms' },
        ...(pgUrl ? { postgres: { url: pgUrl } } : {}),
      },
    }),
  );
  return file;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-ping-cluster-'));
  // PostgreSQL runs as the `postgres` user when the tests run as root: it must reach its data under here.
  chmodSync(dir, 0o755);
  [nats, postgres, influx] = await Promise.all([
    startNatsCluster({ nodes: 1, dir: join(dir, 'nats') }),
    startPostgres({ dir: join(dir, 'pg') }),
    startTestInfluxd(),
  ]);
  const pgUrl = await freshDatabase(postgres.url, 'pingcluster');
  const port = await freeUdpPort();
  const inv = {
    sites: [...base.sites, pingOnlySite],
    devices: [...base.devices.map((d) => ({ ...d, port })), { ...pingOnly, port }],
  };
  sim = new FleetSimulator({ inventory: inv, seed: 23 });
  await sim.start();
  writeInventory(dir, inv, port);
  // The leader first: the results the collectors publish are fresh when it reads them.
  const leaderFile = writeConfig(
    'alert-a',
    ['alerting'],
    { http: { host: '127.0.0.1', port: await freeTcpPort() } },
    pgUrl,
  );
  const leaderConfig = await loadConfig(leaderFile);
  leader = await startClusterRuntime(leaderConfig, { log: leaderLog });
  await waitFor(() => leader?.alerting?.node.role === 'leader', {
    timeoutMs: 20_000,
    what: 'alert-a leading',
  });
  const ping = {
    interval: `${PING_INTERVAL_MS}ms`,
    fastInterval: `${PING_INTERVAL_MS}ms`,
    recheck: '2s',
    count: 1,
    timeout: '500ms',
    period: '100ms',
  };
  // Both collectors at once: each takes its share after one heartbeat, having seen the other.
  const started = await Promise.all(
    ['col-1', 'col-2'].map(async (node) => {
      const file = writeConfig(node, ['collector'], { ping });
      return [
        node,
        await startClusterRuntime(await loadConfig(file), { log: memoryLogger('warn') }),
      ] as const;
    }),
  );
  for (const [node, rt] of started) collectors.set(node, rt);
}, 120_000);

afterAll(async () => {
  for (const m of collectors.values()) await m.stop().catch(() => undefined);
  await leader?.stop().catch(() => undefined);
  await sim?.stop();
  await nats?.stop();
  await postgres?.stop();
  await influx?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const ownerOf = (deviceId: string): string | undefined =>
  [...collectors].find(([, rt]) => rt.collector?.owned().includes(deviceId))?.[0];

describe('ping on collector members', () => {
  const log = (): ResultLog => new ResultLog(nats.urls);
  let results: ResultLog;

  it('each device is pinged by its owner only; the results are on the stream, the points in InfluxDB', async () => {
    results = log();
    const [c1, c2] = [collectors.get('col-1'), collectors.get('col-2')];
    if (!c1?.collector || !c2?.collector) throw new Error('collectors not started');
    await waitFor(
      () =>
        c1.collector?.owned().length !== 0 &&
        c2.collector?.owned().length !== 0 &&
        (c1.collector?.owned().length ?? 0) + (c2.collector?.owned().length ?? 0) === watched.length,
      { timeoutMs: 20_000, what: 'the fleet shared between col-1 and col-2' },
    );
    const pings = await waitFor(
      async () => {
        const got = (await results.update()).filter((r) => r.msg.probe.source === 'ping');
        return watched.every((d) => got.some((r) => r.msg.probe.deviceId === d.id)) ? got : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 300, what: 'a ping result for every device' },
    );
    // Only one handover each (the start): ownership is what it was at every ping.
    expect(c1.collector.stats().handovers).toBe(1);
    expect(c2.collector.stats().handovers).toBe(1);
    for (const r of pings) expect(r.msg.collector).toBe(ownerOf(r.msg.probe.deviceId));
    expect(pings.every((r) => r.msg.probe.ok)).toBe(true);
    expect(c1.collector.stats().pinged + c2.collector.stats().pinged).toBe(watched.length);
    // The ping-only device: pinged by its owner, never polled.
    expect(ownerOf(pingOnly.id)).toBeDefined();
    expect(
      results.all
        .filter((r) => r.msg.probe.deviceId === pingOnly.id && r.msg.probe.source !== 'ping')
        .map((r) => JSON.stringify(r.msg)),
    ).toEqual([]);
    // Polls and pings share each member's numbering, without a gap.
    for (const id of ['col-1', 'col-2']) {
      const seqs = results.all.filter((r) => r.msg.collector === id).map((r) => r.msg.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    }
    // The ping points, written by the members' own writers (the leader has no `ping:` at all).
    await waitFor(
      async () => {
        const rows = await influxRows(influx.url, DB, 'SELECT * FROM "ping"');
        const seen = new Set(rows.map((r) => String(r.device)));
        return watched.every((d) => seen.has(d.id));
      },
      { timeoutMs: 10_000, what: 'a ping point for every device in InfluxDB' },
    );
  });

  it('SNMP stopped: the leader asks the owner for a ping, the owner pings at once, the leader warns', async () => {
    const owner = collectors.get('col-2')?.collector;
    if (!owner) throw new Error('col-2 not started');
    const id = owner.owned()[0];
    const d = base.devices.find((x) => x.id === id);
    if (!id || !d) throw new Error('col-2 owns nothing');
    const firstPing = results.all.find((r) => r.msg.probe.source === 'ping' && r.msg.probe.deviceId === id);
    if (!firstPing) throw new Error(`no first ping of ${id}`);
    const stoppedAt = Date.now();
    sim.stopSnmp(id);
    // The first result of the device from `source` at or after `fromMs`, as the stream shows it.
    const next = (source: string, fromMs: number, what: string) =>
      waitFor(
        async () =>
          (await results.update()).find(
            (r) =>
              r.msg.probe.deviceId === id && r.msg.probe.source === source && r.msg.probe.timeMs >= fromMs,
          ),
        { timeoutMs: 10_000, intervalMs: 200, what },
      );
    const failed = await next('snmp', stoppedAt, `a poll of ${id} after snmp-stop`);
    expect(failed.msg.probe.ok).toBe(false);
    const asked = await next('ping', failed.msg.probe.timeMs, `a ping of ${id} after its failed poll`);
    process.stdout.write(
      `ping request: ${id} pinged by ${asked.msg.collector} ${asked.msg.probe.timeMs - failed.msg.probe.timeMs} ms after its failed poll (its ping interval: ${PING_INTERVAL_MS} ms, last ping ${asked.msg.probe.timeMs - firstPing.msg.probe.timeMs} ms before)\n`,
    );
    expect(asked.msg.collector).toBe('col-2');
    expect(asked.msg.probe.ok).toBe(true);
    // Not its schedule: the next scheduled ping is a minute after the first.
    expect(asked.msg.probe.timeMs - firstPing.msg.probe.timeMs).toBeLessThan(PING_INTERVAL_MS / 2);
    // Nobody else pinged it.
    expect(
      results.all.some(
        (r) => r.msg.probe.deviceId === id && r.msg.probe.source === 'ping' && r.msg.collector !== 'col-2',
      ),
    ).toBe(false);

    // The warning on the leader: its WARN line in both languages, and the device_warning point.
    const line = await waitFor(
      () => leaderLog.records.find((r) => r.msg === 'SNMP NOT ANSWERING' && r.device === id),
      { timeoutMs: 15_000, what: `the leader's SNMP NOT ANSWERING line for ${id}` },
    );
    expect(String(line.text_id)).toContain('SNMP tidak menjawab');
    expect(String(line.text_en)).toContain('SNMP not answering');
    await waitFor(
      async () =>
        (
          await influxRows(
            influx.url,
            DB,
            `SELECT * FROM "device_warning" WHERE device = '${id}' AND active = 1`,
          )
        ).length > 0,
      { timeoutMs: 10_000, what: `the device_warning point of ${id}` },
    );
    sim.startSnmp(id);
  });
});
