/**
 * The collector's per-poll path after the network, in one process and without it: what the SNMP poller
 * (walk, decode), normalise, the writer (validate, batch) and the line-protocol encoder cost per device
 * poll, in CPU microseconds and garbage-collection time. For A/B comparisons of those modules on a busy
 * machine: unlike the fleet benchmark, nothing else (simulator, database, other processes) shares the
 * measured process, so the figures move less with the machine's load.
 *
 *   npx tsx scripts/bench/poll-path.ts [--sites 40] [--recordings 8] [--polls 200000] [--devices 3350]
 *
 * It starts the fleet simulator on the first --sites sites of the Badung fleet (loopback addresses
 * 127.200.x.y), polls every SNMP device --recordings times a second apart through the real SnmpPoller
 * and records each GETBULK reply; then replays those replies through a SnmpPoller with a transport that
 * answers from the recordings (no sockets), into the same steps as collection.ts: normalise against the
 * counter memory, SampleWriter.push (validation), and a sink that encodes every batch as line protocol
 * (as influx-v1.ts does, without sending it). The replay clock follows the recorded times, so rates are
 * computed as live; one replayed poll in --recordings per device starts the recordings over (its
 * sysUpTime goes back: a reboot, no rates).
 *
 * Besides CPU and GC time it prints the bytes allocated per poll (the heap's growth between collections)
 * and the bytes per poll that survived a scavenge (copied or promoted: what a scavenge costs), figures
 * that the machine's load does not move, for A/B runs on a busy machine.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { parseInventory } from '../../config/inventory.ts';
import { loadProfiles } from '../../config/profiles.ts';
import { systemClock, type Clock } from '../../collector/core/clock.ts';
import { memoryLogger } from '../../collector/core/log.ts';
import type { Device, Sample } from '../../collector/core/types.ts';
import { Topology } from '../../collector/health/topology.ts';
import { CounterMemory } from '../../collector/normalise/counter-memory.ts';
import { normalise } from '../../collector/normalise/normalise.ts';
import { SnmpPoller } from '../../collector/sources/snmp/poller.ts';
import { openSnmpClient, type SnmpClient, type VarBind } from '../../collector/sources/snmp/session.ts';
import { encodeBatch } from '../../collector/sinks/line-protocol.ts';
import { SampleWriter } from '../../collector/sinks/writer.ts';
import { freeUdpPort } from '../../test/support/ports.ts';
import { parseCommandLine } from '../lib/cli.ts';
import { ChildSet, simulatorArgs, waitForLine } from './children.ts';
import { inventoryYaml, makeFleet } from './fleet-inventory.ts';

const USAGE =
  'usage: npx tsx scripts/bench/poll-path.ts [--sites 40] [--recordings 8] [--polls 200000] [--devices 3350]';
const { values } = parseCommandLine('poll-path', USAGE, {
  sites: { type: 'string', default: '40' },
  recordings: { type: 'string', default: '8' },
  polls: { type: 'string', default: '200000' },
  devices: { type: 'string', default: '3350' },
});
const DEVICES = Number(values.devices);
const SITES = Number(values.sites);
const RECORDINGS = Math.max(2, Number(values.recordings));
const POLLS = Number(values.polls);

const dir = mkdtempSync(join(tmpdir(), 'poll-path-'));
const children = new ChildSet();
process.on('exit', () => {
  children.killAllNow();
  rmSync(dir, { recursive: true, force: true });
});

const port = await freeUdpPort();
const fleet = makeFleet(1, 200, port);
const sites = fleet.sites.slice(0, SITES);
const file = join(dir, 'inventory.yaml');
writeFileSync(file, inventoryYaml(fleet, sites));
const inventory = parseInventory(inventoryYaml(fleet, sites), file);
const devices = inventory.devices.filter((d) => d.snmp !== undefined && d.ping !== 'only');
const topology = new Topology(inventory);
const profiles = loadProfiles();

const sim = await children.start('simulator', process.execPath, simulatorArgs(file, '127.0.0.1:0'));
await waitForLine(sim, /simulator ready/, 120_000);

// ---- record ------------------------------------------------------------------------------------------
interface Recording {
  readonly timeMs: number;
  /** Each GETBULK reply, with its non-repeaters. */
  readonly replies: { readonly nr: number; readonly reply: VarBind[][] }[];
}
const recordings = new Map<string, Recording[]>();
let recordingNow: Recording['replies'] = [];
const live = new SnmpPoller({
  timeoutMs: 2000,
  retries: 1,
  maxRepetitions: 25,
  profiles,
  openClient: (device, opts) => {
    const c = openSnmpClient(device, opts);
    return {
      get: (oids, o) => c.get(oids, o),
      getBulk: async (oids, nr, reps, o) => {
        const r = await c.getBulk(oids, nr, reps, o);
        recordingNow.push({ nr, reply: r });
        return r;
      },
      bulkWalk: (oid, reps) => c.bulkWalk(oid, reps),
      close: () => c.close(),
    } satisfies SnmpClient;
  },
});
// A first poll learns each device's table size (the next ones are one round trip, as in the collector).
for (const d of devices) await live.poll(d).catch(() => undefined);
for (let r = 0; r < RECORDINGS; r++) {
  const started = Date.now();
  for (const d of devices) {
    recordingNow = [];
    try {
      const reading = await live.poll(d);
      const list = recordings.get(d.id) ?? [];
      list.push({ timeMs: reading.timeMs, replies: recordingNow });
      recordings.set(d.id, list);
    } catch {
      // not recorded: a failed poll is not the path measured here
    }
  }
  const wait = 1000 - (Date.now() - started);
  if (wait > 0) await new Promise((res) => setTimeout(res, wait));
}
live.close();
await children.stopAll();
const recorded = devices.filter((d) => (recordings.get(d.id)?.length ?? 0) === RECORDINGS);
// --devices: the recorded devices replayed under as many ids as it takes, so the counter memory and the
// writer hold what a fleet of that size holds (what survives a poll is what the garbage collector costs).
const copies = Math.max(1, Math.ceil(DEVICES / Math.max(1, recorded.length)));
const recordedAs = new Map<string, string>();
const replayed: Device[] = [];
for (let k = 0; k < copies; k++)
  for (const d of recorded) {
    if (replayed.length >= DEVICES) break;
    const id = k === 0 ? d.id : `${d.id}#${k}`;
    recordedAs.set(id, d.id);
    replayed.push(k === 0 ? d : { ...d, id });
  }
console.log(
  `poll-path: ${recorded.length} of ${devices.length} devices recorded ${RECORDINGS} times (${SITES} sites), replayed as ${replayed.length}`,
);

// ---- replay ------------------------------------------------------------------------------------------
let cursor = { device: '', index: 0, call: 0, cycle: 0 };
let nowMs = 0;
const clock: Clock = { ...systemClock, now: () => nowMs };
const replayClient: SnmpClient = {
  // A device's first replayed poll is two round trips (the table size is not known yet): the GET is
  // answered with the first recorded request's non-repeaters, the walk with its repeaters.
  get: () => {
    const first = recordings.get(cursor.device)?.[cursor.index]?.replies[0];
    const vbs = first?.reply.slice(0, first.nr).map((c) => c[0]);
    return vbs?.every((v) => v !== undefined)
      ? Promise.resolve(vbs)
      : Promise.reject(new Error('replay: no scalars recorded'));
  },
  getBulk: (_oids, nr) => {
    const rec = recordings.get(cursor.device)?.[cursor.index]?.replies[cursor.call++];
    if (!rec) return Promise.reject(new Error('replay: no reply recorded'));
    return Promise.resolve(nr === rec.nr ? rec.reply : rec.reply.slice(rec.nr - nr));
  },
  bulkWalk: () => Promise.reject(new Error('replay: no walk recorded')),
  close: () => undefined,
};
const poller = new SnmpPoller({
  timeoutMs: 2000,
  retries: 1,
  maxRepetitions: 25,
  profiles,
  openClient: () => replayClient,
});
let encodedBytes = 0;
const writer = new SampleWriter({
  sink: {
    name: 'encode-only',
    start: async () => undefined,
    write: async (batch: readonly Sample[]) => {
      encodedBytes += encodeBatch(batch).length;
    },
    close: async () => undefined,
  },
  clock,
  log: memoryLogger('error'),
  batchSize: 5000,
  flushIntervalMs: 1000,
  bufferDir: join(dir, 'buffer'),
  maxBufferBytes: 1e9,
  maxMemorySamples: 1e6,
});
await writer.start();
// The counter memory as collection.ts keeps it (compact, rewritten in place).
const previous = new CounterMemory();
let warnings = 0;
let samples = 0;

async function pollOnce(d: Device, index: number, cycle: number): Promise<void> {
  const source = recordedAs.get(d.id) ?? d.id;
  const recs = recordings.get(source);
  const rec = recs?.[index];
  if (!recs || !rec) return;
  cursor = { device: source, index, call: 0, cycle };
  const span = (recs[RECORDINGS - 1]?.timeMs ?? 0) - (recs[0]?.timeMs ?? 0);
  nowMs = rec.timeMs + cycle * (span + 1000);
  const started = clock.now();
  const reading = await poller.poll(d);
  const site = topology.siteOfDevice(source);
  if (!site) return;
  const result = normalise(previous.get(d.id), reading, { site, device: d, pollMs: clock.now() - started });
  previous.set(reading);
  warnings += result.warnings.length;
  samples += result.samples.length;
  writer.push(result.samples);
}

interface RunFigures {
  readonly cpuUs: number;
  readonly gcMs: number;
  readonly wallMs: number;
  /** Bytes allocated per poll: what the heap grew by between collections (and before and after them). */
  readonly allocated: number;
  /** Bytes per poll that survived a scavenge (copied in the young generation or promoted): its work. */
  readonly survived: number;
}

type GcStats = NonNullable<ReturnType<GCProfiler['stop']>>['statistics'][number]['afterGC'];
const spaceUsed = (s: GcStats, name: string): number =>
  s.heapSpaceStatistics.find((x) => x.spaceName === name)?.spaceUsedSize ?? 0;

async function run(polls: number): Promise<RunFigures> {
  const gc = new GCProfiler();
  const heap0 = getHeapStatistics().used_heap_size;
  gc.start();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  for (let cycle = 0; n < polls; cycle++) {
    for (let index = 0; index < RECORDINGS && n < polls; index++) {
      for (const d of replayed) {
        await pollOnce(d, index, cycle);
        if (++n >= polls) break;
      }
      await writer.flush();
    }
  }
  await writer.flush();
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  const heap1 = getHeapStatistics().used_heap_size;
  const stats = gc.stop()?.statistics ?? [];
  // cost: microseconds per collection (node's GCProfiler).
  const gcMs = stats.reduce((sum, e) => sum + e.cost / 1000, 0);
  let allocated = 0;
  let survived = 0;
  let usedAfter = heap0;
  for (const e of stats) {
    allocated += e.beforeGC.heapStatistics.usedHeapSize - usedAfter;
    usedAfter = e.afterGC.heapStatistics.usedHeapSize;
    if (e.gcType === 'Scavenge') {
      survived +=
        spaceUsed(e.afterGC, 'new_space') +
        spaceUsed(e.afterGC, 'old_space') -
        spaceUsed(e.beforeGC, 'old_space');
    }
  }
  allocated += heap1 - usedAfter;
  return {
    cpuUs: (cpu.user + cpu.system) / polls,
    gcMs: gcMs / polls,
    wallMs,
    allocated: allocated / polls,
    survived: survived / polls,
  };
}

await run(Math.min(POLLS, 20_000)); // warm-up: V8 compiles the hot paths
samples = 0;
warnings = 0;
encodedBytes = 0;
const r = await run(POLLS);
console.log(
  `poll-path: ${POLLS} polls: ${r.cpuUs.toFixed(1)} CPU-us per poll (GC ${(r.gcMs * 1000).toFixed(1)} us of it), ` +
    `${(samples / POLLS).toFixed(2)} samples and ${(encodedBytes / POLLS).toFixed(0)} line-protocol bytes per poll, ` +
    `${(warnings / POLLS).toFixed(3)} warnings per poll, wall ${(r.wallMs / 1000).toFixed(1)} s; ` +
    `${(r.allocated / 1024).toFixed(1)} KB allocated and ${(r.survived / 1024).toFixed(2)} KB surviving scavenges per poll`,
);
await writer.stop();
process.exit(0);
