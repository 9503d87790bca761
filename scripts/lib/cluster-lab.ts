/**
 * A cluster of collector processes on loopback, for the cluster tests (test/integration/cluster/) and the
 * benchmark (scripts/bench-cluster.ts): the config files, each collector as its own process
 * (collector/main.ts, what `npm start` runs, here with `cluster:`), so a test can kill -9 it, and a reader
 * of everything the results stream holds. The servers (nats-server nodes, influxd, the fleet simulator)
 * are started by the caller and named here by their URLs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { connect } from 'nats';
import type { Inventory } from '../../collector/core/types.ts';
import { RESULTS_STREAM, decodeResult, type ResultMessage } from '../../collector/cluster/subjects.ts';
import { slotOf } from '../../collector/scheduler/scheduler.ts';

const REPO = resolve(import.meta.dirname, '../..');

export interface LabSettings {
  readonly dir: string;
  readonly natsUrls: readonly string[];
  readonly influxUrl: string;
  readonly database: string;
  readonly inventory: Inventory;
  /** The simulator's UDP port (every device answers there, on its own loopback address). */
  readonly snmpPort: number;
  readonly interval: string;
  readonly heartbeat: string;
  readonly timeout: string;
  /** SNMP timeout per request. Default 500ms. */
  readonly snmpTimeout?: string | undefined;
  readonly logLevel?: 'debug' | 'info' | 'warn' | undefined;
}

/** One collector process. */
export interface CollectorProcess {
  readonly id: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves once the process logged that it joined the cluster. */
  readonly joined: Promise<void>;
  readonly exited: Promise<void>;
  /** The last output lines (for a failure message). */
  output(): string;
  kill9(): Promise<void>;
  /**
   * SIGTERM: a clean stop (results flushed, key deleted); resolves when it exited. Not exited within
   * `timeoutMs` (default 20 s): killed, and an error with its output.
   */
  stop(timeoutMs?: number): Promise<void>;
}

/** The inventory file the collectors read (v2c `public`, every device at the simulator's port). */
export function writeInventory(dir: string, inventory: Inventory, port: number): string {
  const file = join(dir, 'inventory.yaml');
  writeFileSync(
    file,
    stringify({
      credentials: { c: { version: '2c', community: 'public' } },
      defaults: { credentials: 'c', port },
      sites: inventory.sites.map((s) => ({
        ...s,
        upstream: undefined,
        devices: inventory.devices
          .filter((d) => d.siteId === s.id)
          .map((d) => ({ id: d.id, role: d.role, host: d.host, profile: d.profile, ping: d.ping })),
      })),
    }),
  );
  return file;
}

/** The config of collector `id`: its own buffer directory, the cluster section, everything on loopback. */
export function writeCollectorConfig(s: LabSettings, id: string, pins?: readonly string[]): string {
  const file = join(s.dir, `${id}.yaml`);
  mkdirSync(join(s.dir, id), { recursive: true });
  writeFileSync(
    file,
    stringify({
      inventory: 'inventory.yaml',
      influx: { api: 'v1', url: s.influxUrl, database: s.database },
      writer: { flushInterval: '500ms', bufferDir: `${id}/buffer` },
      snmp: { interval: s.interval, jitter: '0ms', timeout: s.snmpTimeout ?? '500ms', retries: 0 },
      incidents: { file: `${id}/incidents.db` },
      log: { level: s.logLevel ?? 'info' },
      cluster: {
        node: id,
        roles: ['collector'],
        nats: { servers: [...s.natsUrls] },
        membership: { heartbeat: s.heartbeat, timeout: s.timeout },
        ...(pins && pins.length > 0 ? { pin: { kecamatan: [...pins] } } : {}),
      },
    }),
  );
  return file;
}

const TAIL = 6000;
/** A read of the stream, or a collector's start, that takes longer than this is a failure. */
const READ_TIMEOUT_MS = 15_000;
const JOIN_TIMEOUT_MS = 60_000;

/** Start collector `id` as its own process (node --import tsx collector/main.ts --config <id>.yaml). */
export function startCollector(s: LabSettings, id: string, pins?: readonly string[]): CollectorProcess {
  const config = writeCollectorConfig(s, id, pins);
  const child = spawn(process.execPath, ['--import', 'tsx', 'collector/main.ts', '--config', config], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let joinedResolve: () => void = () => undefined;
  let joinedReject: (err: Error) => void = () => undefined;
  const joined = new Promise<void>((res, rej) => {
    joinedResolve = res;
    joinedReject = rej;
  });
  const keep = (b: Buffer): void => {
    const text = b.toString('utf8');
    out = (out + text).slice(-TAIL);
    if (text.includes('collector joined the cluster')) joinedResolve();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const joinTimer = setTimeout(
    () => joinedReject(new Error(`collector ${id} did not join within ${JOIN_TIMEOUT_MS} ms:\n${out}`)),
    JOIN_TIMEOUT_MS,
  );
  void joined.finally(() => clearTimeout(joinTimer)).catch(() => undefined);
  const exited = new Promise<void>((res) => {
    child.once('exit', (code, signal) => {
      joinedReject(
        new Error(`collector ${id} exited (${signal ?? `code ${String(code)}`}) before it joined:\n${out}`),
      );
      res();
    });
  });
  // A start that fails is seen by whoever awaits `joined`; nobody else must see an unhandled rejection.
  joined.catch(() => undefined);
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    id,
    child,
    pid: child.pid ?? -1,
    joined,
    exited,
    output: () => out,
    kill9: async () => {
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
    stop: async (timeoutMs = 20_000) => {
      if (!alive()) return;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((res) => (timer = setTimeout(() => res(false), timeoutMs)));
      const done = await Promise.race([exited.then(() => true), late]);
      clearTimeout(timer);
      if (done) return;
      child.kill('SIGKILL');
      await exited;
      throw new Error(`collector ${id} did not stop within ${timeoutMs} ms of SIGTERM; its output:\n${out}`);
    },
  };
}

/** One stored result with where it is in the stream. */
export interface StoredResult {
  readonly streamSeq: number;
  readonly msg: ResultMessage;
}

/**
 * The results stream as read so far, in stream order: update() reads what is new (an ordered consumer
 * from the next stream sequence), so a test that polls it often does not read the whole stream each time.
 */
export class ResultLog {
  readonly all: StoredResult[] = [];
  #next = 1;
  constructor(readonly natsUrls: readonly string[]) {}

  async update(urls: readonly string[] = this.natsUrls): Promise<StoredResult[]> {
    const nc = await connect({ servers: [...urls], name: 'netmon-lab-reader', timeout: 5000 });
    // A read that stalls (a stream leader being elected under it) ends with an error, not a hung test:
    // closing the connection ends every request and iterator on it.
    let stalled = false;
    const timer = setTimeout(() => {
      stalled = true;
      void nc.close();
    }, READ_TIMEOUT_MS);
    try {
      const jsm = await nc.jetstreamManager({ timeout: 5000 });
      const info = await jsm.streams.info(RESULTS_STREAM);
      const last = info.state.last_seq;
      // Message by message (64 requests at once), each with its own timeout: an ordered consumer can wait
      // for ever while the stream elects a leader.
      while (this.#next <= last) {
        const seqs = Array.from({ length: Math.min(64, last - this.#next + 1) }, (_, i) => this.#next + i);
        const got = await Promise.all(seqs.map((seq) => jsm.streams.getMessage(RESULTS_STREAM, { seq })));
        for (const m of got) {
          const d = decodeResult(m.data);
          if (!d.ok) throw new Error(`stream message ${m.seq}: ${d.error}`);
          this.all.push({ streamSeq: m.seq, msg: d.value });
        }
        this.#next += seqs.length;
      }
      if (this.#next <= last) throw new Error(`reading the results stream ended at ${this.#next} of ${last}`);
      return this.all;
    } catch (err) {
      if (stalled) throw new Error(`reading the results stream stalled (at ${this.#next})`, { cause: err });
      throw err;
    } finally {
      clearTimeout(timer);
      if (!nc.isClosed()) await nc.close();
    }
  }
}

/** Everything the results stream holds now, in stream order. */
export function readResults(natsUrls: readonly string[]): Promise<StoredResult[]> {
  return new ResultLog(natsUrls).update();
}

/** The stream's replicas and leader (the node to kill for the worst case). */
export async function streamPlacement(
  natsUrls: readonly string[],
): Promise<{ replicas: number; leader: string | undefined }> {
  const nc = await connect({ servers: [...natsUrls], name: 'netmon-lab-reader' });
  try {
    const info = await (await nc.jetstreamManager()).streams.info(RESULTS_STREAM);
    return { replicas: info.config.num_replicas, leader: info.cluster?.leader };
  } finally {
    await nc.close();
  }
}

/** Per (device, aligned interval), the collectors that polled it: more than one is a double poll. */
export function doublePolls(
  results: readonly StoredResult[],
  intervalMs: number,
): { device: string; slotMs: number; collectors: string[] }[] {
  const by = new Map<string, { device: string; slotMs: number; collectors: string[] }>();
  for (const { msg } of results) {
    const slotMs = slotOf(msg.probe.deviceId, intervalMs, msg.probe.timeMs);
    const key = `${msg.probe.deviceId}@${slotMs}`;
    const e = by.get(key) ?? { device: msg.probe.deviceId, slotMs, collectors: [] };
    e.collectors.push(msg.collector);
    by.set(key, e);
  }
  return [...by.values()].filter((e) => e.collectors.length > 1);
}

/** Per collector run (collector, startedAtMs): the seq numbers missing below its highest, and repeats. */
export function seqGaps(results: readonly StoredResult[]): {
  run: string;
  max: number;
  missing: number[];
  repeated: number[];
}[] {
  const runs = new Map<string, number[]>();
  for (const { msg } of results) {
    const run = `${msg.collector}@${msg.startedAtMs ?? 0}`;
    runs.set(run, [...(runs.get(run) ?? []), msg.seq]);
  }
  return [...runs.entries()].map(([run, seqs]) => {
    const seen = new Set<number>();
    const repeated: number[] = [];
    for (const s of seqs) {
      if (seen.has(s)) repeated.push(s);
      seen.add(s);
    }
    const max = Math.max(...seqs);
    const missing: number[] = [];
    for (let i = 1; i <= max; i++) if (!seen.has(i)) missing.push(i);
    return { run, max, missing, repeated };
  });
}

/**
 * Takeover delay after a collector died at `killedAtMs`: per device it owned (those it polled in the
 * interval before), the time to the first poll by another collector. Undefined for a device not polled yet.
 */
export function takeoverDelays(
  results: readonly StoredResult[],
  victim: string,
  killedAtMs: number,
  intervalMs: number,
): Map<string, number | undefined> {
  const owned = new Set(
    results
      .filter((r) => r.msg.collector === victim && r.msg.probe.timeMs > killedAtMs - intervalMs - 500)
      .map((r) => r.msg.probe.deviceId),
  );
  const out = new Map<string, number | undefined>();
  for (const id of owned) {
    const next = results.find(
      (r) => r.msg.probe.deviceId === id && r.msg.collector !== victim && r.msg.probe.timeMs > killedAtMs,
    );
    out.set(id, next ? next.msg.probe.timeMs - killedAtMs : undefined);
  }
  return out;
}
