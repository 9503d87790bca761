/**
 * MQTT broker benchmark: the embedded aedes broker and Debian's Mosquitto, in the same run, with the same
 * load: N device clients (authenticated, each on its own topic) publishing the simulator's telemetry
 * (simulator/mqtt/telemetry.ts: three routers in four, 250-460 bytes; one sensor in four, ~170 bytes; plus
 * a send timestamp), and one collector subscribed to all of it. Two phases per broker:
 *
 *   saturated  every device publishes QoS 1 back to back: the most the broker passes on this machine
 *   paced      the devices together publish --rate messages/s: latency at a steady, realistic load
 *
 * Prints messages per second through the broker, end-to-end latency percentiles (publish → collector), and
 * the broker's CPU per 1,000 messages (from /proc). Not a test.
 *
 *   npx tsx scripts/bench-mqtt.ts [--seconds 10] [--devices 50] [--rate 1000]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { intOption, parseCommandArgs } from './lib/cli.ts';
import mqtt, { type MqttClient } from 'mqtt';
import { deviceTopic } from '../broker/topics.ts';
import { FleetSimulator } from '../simulator/fleet.ts';
import { routerTelemetry, sensorTelemetry } from '../simulator/mqtt/telemetry.ts';
import { syntheticInventory } from '../simulator/synthetic-inventory.ts';
import { freeLoopbackPort } from './lib/servers/process.ts';
import { startMosquitto } from './lib/servers/mosquitto.ts';

const COMMAND = 'bench-mqtt';
const USAGE = `usage: scripts/bench-mqtt.ts [--seconds 10] [--devices 50] [--rate 1000]

  --seconds N   length of each phase (default 10)
  --devices N   device clients publishing (default 50)
  --rate N      messages per second of all devices together in the paced phase (default 1000)
  -h, --help    this text

Benchmarks the embedded broker and Mosquitto with the same load. Not a test.`;
const values = parseCommandArgs(COMMAND, USAGE, {
  seconds: { type: 'string', default: '10' },
  devices: { type: 'string', default: '50' },
  rate: { type: 'string', default: '1000' },
});
const SECONDS = intOption(COMMAND, USAGE, 'seconds', values.seconds, 1, 3600);
const DEVICES = intOption(COMMAND, USAGE, 'devices', values.devices, 1, 10_000);
const RATE = intOption(COMMAND, USAGE, 'rate', values.rate, 1, 1_000_000);
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((c) => c.exitCode === null && c.kill('SIGTERM')));
process.on('SIGINT', () => process.exit(130));

function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

// What each bench device sends: the simulator's payload for a router (three in four) or a sensor.
const inventory = syntheticInventory({ sites: DEVICES, port: 1161, seed: 7, hostOctet: 7 });
const fleet = new FleetSimulator({ inventory, seed: 7 });
const routers = inventory.devices.filter((d) => d.role === 'router');
const templates: Record<string, unknown>[] = Array.from({ length: DEVICES }, (_, i) => {
  const now = Date.now();
  const r = routers[i % routers.length];
  return i % 4 === 3 || !r
    ? sensorTelemetry(`bench-${i}`, now, 86_400)
    : routerTelemetry(`bench-${i}`, fleet.valuesAt(r.id, now), now);
});

function payload(i: number): string {
  // The send time (ms, sub-ms precision) for the latency: 25 bytes more than the device sends.
  return JSON.stringify({
    ...templates[i],
    ts: Date.now(),
    sent: performance.timeOrigin + performance.now(),
  });
}
const sizes = templates.map((_, i) => payload(i).length).sort((a, b) => a - b);

type Phase = 'saturated' | 'paced';

interface Run {
  phase: Phase;
  msgs: number;
  perS: number;
  p50: number;
  p95: number;
  p99: number;
  brokerCpuMsPer1k: number;
}

async function run(url: string, brokerPid: number, phase: Phase): Promise<Run> {
  const collector = await mqtt.connectAsync(url, {
    username: 'netmon-collector',
    password: 'collector-secret',
    reconnectPeriod: 0,
  });
  const lat: number[] = [];
  collector.on('message', (_t, p) => {
    const sent = (JSON.parse(p.toString()) as { sent: number }).sent;
    lat.push(performance.timeOrigin + performance.now() - sent);
  });
  await collector.subscribeAsync('netmon/v1/+/+/telemetry', { qos: 1 });
  const devices: MqttClient[] = [];
  for (let i = 0; i < DEVICES; i++) {
    devices.push(
      await mqtt.connectAsync(url, {
        username: `bench-${i}`,
        password: `pw-bench-${i}`,
        reconnectPeriod: 0,
        keepalive: 30,
      }),
    );
  }
  const cpu0 = cpuMsOf(brokerPid);
  const until = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  let sent = 0;
  const topics = devices.map((_, i) => deviceTopic('bench', `bench-${i}`, 'telemetry'));
  if (phase === 'saturated') {
    await Promise.all(
      devices.map(async (c, i) => {
        while (performance.now() < until) {
          await c.publishAsync(topics[i] ?? '', payload(i), { qos: 1 });
          sent++;
        }
      }),
    );
  } else {
    // Round robin over the devices, RATE messages a second in 10 ms steps, without waiting for PUBACKs.
    let next = 0;
    while (performance.now() < until) {
      const due = Math.floor(((performance.now() - t0) / 1000) * RATE);
      for (; sent < due; sent++, next = (next + 1) % DEVICES) {
        devices[next]?.publish(topics[next] ?? '', payload(next), { qos: 1 });
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  const deadline = Date.now() + 10_000;
  while (lat.length < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuMsOf(brokerPid) - cpu0;
  await Promise.all([...devices, collector].map((c) => c.endAsync()));
  lat.sort((a, b) => a - b);
  const pct = (p: number): number => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] ?? NaN;
  return {
    phase,
    msgs: lat.length,
    perS: lat.length / wall,
    p50: pct(50),
    p95: pct(95),
    p99: pct(99),
    brokerCpuMsPer1k: (cpu / Math.max(1, lat.length)) * 1000,
  };
}

async function main(): Promise<void> {
  const port = await freeLoopbackPort();
  const worker = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/bench/broker-worker.ts', String(port), String(DEVICES)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(worker);
  const url = await new Promise<string>((resolve, reject) => {
    worker.stdout.on('data', (b: Buffer) => {
      const m = /"ready":"([^"]+)"/.exec(b.toString());
      if (m?.[1]) resolve(m[1]);
    });
    worker.once('exit', (code) => reject(new Error(`broker worker exited ${String(code)}`)));
  });
  const users: Record<string, string> = { 'netmon-collector': 'collector-secret' };
  for (let i = 0; i < DEVICES; i++) users[`bench-${i}`] = `pw-bench-${i}`;
  const mosq = await startMosquitto(users, 'netmon-collector');
  const mosqPid = Number(
    spawnSync('pgrep', ['-n', '-f', 'netmon-mosquitto-'], { encoding: 'utf8' }).stdout.trim(),
  );
  try {
    console.log(
      `${DEVICES} devices, QoS 1, one collector subscribed; ${SECONDS} s per phase and broker; ${cpus().length} cores`,
    );
    console.log(
      `payloads ${sizes[0]}-${sizes[sizes.length - 1]} bytes (median ${sizes[Math.floor(sizes.length / 2)]}); paced at ${RATE} msg/s`,
    );
    const results: [string, Run][] = [];
    for (const phase of ['saturated', 'paced'] as const) {
      results.push(['aedes (embedded)', await run(url, worker.pid ?? 0, phase)]);
      results.push(['mosquitto', await run(mosq.url, mosqPid, phase)]);
    }
    const version =
      spawnSync('/usr/sbin/mosquitto', ['-h'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '';
    const cols = (c: string[]): string =>
      [
        c[0]?.padEnd(18),
        c[1]?.padEnd(10),
        ...c.slice(2, 6).map((x) => x.padStart(8)),
        c[6]?.padStart(14),
      ].join(' ');
    console.log(cols(['broker', 'phase', 'msgs/s', 'p50 ms', 'p95 ms', 'p99 ms', 'CPU ms/1k msg']));
    for (const [name, r] of results) {
      console.log(
        cols([
          name,
          r.phase,
          r.perS.toFixed(0),
          r.p50.toFixed(2),
          r.p95.toFixed(2),
          r.p99.toFixed(2),
          r.brokerCpuMsPer1k.toFixed(1),
        ]),
      );
    }
    console.log(
      JSON.stringify({
        bench: 'mqtt',
        devices: DEVICES,
        seconds: SECONDS,
        rate: RATE,
        payloadBytes: { min: sizes[0], max: sizes[sizes.length - 1] },
        node: process.version,
        mosquitto: version.trim(),
        results: results.map(([broker, r]) => ({ broker, ...r })),
      }),
    );
  } finally {
    await mosq.stop();
  }
}

main().catch((err: unknown) => {
  console.error(`bench-mqtt: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
