/**
 * MQTT broker benchmark: the embedded aedes broker and Debian's Mosquitto, in the same run, with the same
 * load: N device clients (authenticated, each on its own topic) publishing telemetry of the size a real
 * agent sends (~400 bytes of JSON) as fast as QoS 1 allows, and one collector subscribed to all of it.
 * Prints messages per second through the broker, end-to-end latency percentiles (publish → collector), and
 * the broker's CPU per 1,000 messages. Not a test.
 *
 *   npx tsx scripts/bench-mqtt.ts [--seconds 10] [--devices 50]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { deviceTopic } from '../broker/topics.ts';
import { freeLoopbackPort } from './lib/servers/process.ts';
import { startMosquitto } from './lib/servers/mosquitto.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, devices: { type: 'string', default: '50' } },
});
const SECONDS = Number(values.seconds);
const DEVICES = Number(values.devices);
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((c) => c.exitCode === null && c.kill('SIGTERM')));
process.on('SIGINT', () => process.exit(130));

function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

function payload(i: number, seq: number): string {
  // What an OpenWrt agent sends, plus the send time for the latency.
  return JSON.stringify({
    ts: Date.now(),
    sent: performance.timeOrigin + performance.now(),
    seq,
    uptime_s: 86400 + seq,
    cpu_pct: 12.5,
    mem_pct: 43.1,
    load1: 0.21,
    clients: i % 30,
    rx_bps: 1843200.5,
    tx_bps: 402112.25,
    temperature_c: 48.5,
    rssi_dbm: -61,
    power_v: 12.1,
    fw: 'OpenWrt 23.05.3 r23809-234f1a2efa',
    board: 'linksys,wrt1200ac',
    radio: [
      { band: '2g', ch: 6, noise: -95 },
      { band: '5g', ch: 44, noise: -102 },
    ],
  });
}

interface Run {
  msgs: number;
  perS: number;
  p50: number;
  p95: number;
  p99: number;
  brokerCpuMsPer1k: number;
  bytes: number;
}

async function run(url: string, brokerPid: number): Promise<Run> {
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
  await Promise.all(
    devices.map(async (c, i) => {
      const topic = deviceTopic('bench', `bench-${i}`, 'telemetry');
      for (let seq = 0; performance.now() < until; seq++) {
        await c.publishAsync(topic, payload(i, seq), { qos: 1 });
        sent++;
      }
    }),
  );
  const deadline = Date.now() + 10_000;
  while (lat.length < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuMsOf(brokerPid) - cpu0;
  await Promise.all([...devices, collector].map((c) => c.endAsync()));
  lat.sort((a, b) => a - b);
  const pct = (p: number): number => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] ?? NaN;
  return {
    msgs: lat.length,
    perS: lat.length / wall,
    p50: pct(50),
    p95: pct(95),
    p99: pct(99),
    brokerCpuMsPer1k: (cpu / Math.max(1, lat.length)) * 1000,
    bytes: payload(0, 0).length,
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
      `${DEVICES} devices publishing QoS 1 telemetry for ${SECONDS}s per broker, one collector subscribed; ${cpus().length} cores`,
    );
    const aedes = await run(url, worker.pid ?? 0);
    const mosquitto = await run(mosq.url, mosqPid);
    const version =
      spawnSync('/usr/sbin/mosquitto', ['-h'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '';
    const row = (n: string, r: Run): string =>
      [
        n.padEnd(22),
        r.perS.toFixed(0).padStart(9),
        r.p50.toFixed(2).padStart(8),
        r.p95.toFixed(2).padStart(8),
        r.p99.toFixed(2).padStart(8),
        r.brokerCpuMsPer1k.toFixed(1).padStart(14),
      ].join(' ');
    console.log(`payload ${aedes.bytes} bytes`);
    console.log(
      [
        'broker'.padEnd(22),
        'msgs/s'.padStart(9),
        'p50 ms'.padStart(8),
        'p95 ms'.padStart(8),
        'p99 ms'.padStart(8),
        'CPU ms/1k msg'.padStart(14),
      ].join(' '),
    );
    console.log(row('aedes (embedded)', aedes));
    console.log(row('mosquitto', mosquitto));
    console.log(
      JSON.stringify({
        bench: 'mqtt',
        devices: DEVICES,
        seconds: SECONDS,
        node: process.version,
        mosquitto: version.trim(),
        aedes,
        mosquitto_: mosquitto,
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
