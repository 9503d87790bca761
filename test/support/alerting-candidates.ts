/**
 * Alerting candidates as their own processes, for the cluster e2e tests (test/e2e/alerting-failover.test.ts,
 * cluster-front.test.ts): each is `collector/main.ts` on its cluster config, what `npm start` runs, so a
 * test can kill -9 it; its log (JSON lines) beside its config, kept with NETMON_KEEP_TEST_DIR=1. And the
 * lease as the KV holds it, read the way an operator would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { stringify } from 'yaml';
import type { LabSettings } from '../../scripts/lib/cluster-lab.ts';
import { freeLoopbackPort } from '../../scripts/lib/servers/process.ts';

/** What every candidate of a test shares: the lab's servers, PostgreSQL, the lease, more config keys. */
export interface CandidateSettings {
  readonly lab: LabSettings;
  readonly pgUrl: string;
  readonly leaseMs: number;
  readonly renewMs: number;
  /** More top-level config keys (alerts, console, ...). */
  readonly more?: ((node: string) => Record<string, unknown>) | undefined;
}

export class AlertingCandidates {
  readonly #dir: string;
  readonly #children = new Map<string, ChildProcess>();
  readonly #configs = new Map<string, string>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  /**
   * Write a candidate's config (`roles: [alerting]`, polled at the lab's interval, its own HTTP port on
   * loopback, SQLite files of its own) beside the lab's inventory; resolves to its HTTP address.
   */
  async configure(node: string, s: CandidateSettings): Promise<string> {
    const { lab } = s;
    const httpPort = await freeLoopbackPort();
    const file = join(this.#dir, `${node}.yaml`);
    writeFileSync(
      file,
      stringify({
        inventory: 'inventory.yaml',
        influx: { api: 'v1', url: lab.influxUrl, database: lab.database },
        writer: { flushInterval: '200ms', bufferDir: `buffer-${node}` },
        snmp: { interval: lab.interval, jitter: '0ms', timeout: '300ms', retries: 0 },
        health: { downAfterFailures: 2, recheck: '300ms' },
        incidents: { file: `incidents-${node}.db` },
        // Each candidate serves HTTP on its own port (the leader the API, a standby 503s).
        http: { host: '127.0.0.1', port: httpPort },
        log: { level: 'info' },
        ...s.more?.(node),
        cluster: {
          node,
          roles: ['alerting'],
          nats: { servers: lab.natsUrls },
          postgres: { url: s.pgUrl },
          leader: { lease: `${s.leaseMs}ms`, renew: `${s.renewMs}ms` },
        },
      }),
    );
    this.#configs.set(node, file);
    return `http://127.0.0.1:${httpPort}`;
  }

  start(node: string): ChildProcess {
    const log = openSync(join(this.#dir, `${node}.log`), 'a');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'collector/main.ts', '--config', this.#configs.get(node) ?? ''],
      { stdio: ['ignore', log, 'inherit'] },
    );
    closeSync(log);
    this.#children.set(node, child);
    return child;
  }

  /** What the node has logged so far. */
  log(node: string): string {
    return readFileSync(join(this.#dir, `${node}.log`), 'utf8');
  }

  async kill9(node: string): Promise<void> {
    await this.#end(node, 'SIGKILL');
  }

  /** SIGTERM: a clean stop (pending pages delivered, lease released); resolves when it exited. */
  async stop(node: string): Promise<void> {
    await this.#end(node, 'SIGTERM');
  }

  /** Every node still running, killed (afterAll). */
  killAll(): void {
    for (const child of this.#children.values())
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  async #end(node: string, signal: NodeJS.Signals): Promise<void> {
    await endProcess(this.#children.get(node), signal);
  }
}

/** Send `signal` to a child and resolve when it has exited; at once if it is gone already (or absent). */
export async function endProcess(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  // Gone already (exited, or killed by a signal: then exitCode stays null): no 'exit' event will come.
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

/** The alerting lease as the KV `netmon_leader` holds it. */
export async function readLease(
  nc: NatsConnection,
): Promise<{ holder: string; term: number; http?: string | undefined } | undefined> {
  // Bound only: a reader that created the bucket would make it with one replica (the client's default),
  // and the node holding it would be a single point of failure for the cluster under test.
  const kv = await nc.jetstream().views.kv('netmon_leader', { bindOnly: true });
  const e = await kv.get('alerting');
  if (!e || e.operation !== 'PUT') return undefined;
  return JSON.parse(e.string()) as { holder: string; term: number; http?: string | undefined };
}
