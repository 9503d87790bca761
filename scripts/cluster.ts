/**
 * A local cluster in one command (`npm run cluster`), on loopback, data under var/cluster/:
 *   three nats-server nodes (JetStream), PostgreSQL 15, InfluxDB 1.x, the fleet simulator (the Badung
 *   fleet), three collectors (`roles: [collector]`) and two alerting candidates (`roles: [alerting]`, one
 *   leader at a time), each a `collector/main.ts` process with its own config written to var/cluster/<node>.yaml
 *   from config/netmon.example.yaml plus a `cluster:` section.
 * Ctrl-C stops the monitor processes first, then the simulator and the servers. Logs: var/cluster/<node>.log.
 *
 *   npx tsx scripts/cluster.ts [--collectors 3] [--alerting 2] [--dir var/cluster] [--http-base 8090]
 *                              [--inventory var/badung.inventory.yaml]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse, stringify } from 'yaml';
import { startInfluxd } from './lib/servers/influxd.ts';
import { startNatsCluster } from './lib/servers/nats-server.ts';
import { startPostgres } from './lib/servers/postgres.ts';
import { freeLoopbackPort } from './lib/servers/process.ts';
import { intOption, parseCommandArgs } from './lib/cli.ts';

const USAGE =
  'usage: scripts/cluster.ts [--collectors N] [--alerting N] [--dir DIR] [--http-base PORT] [--inventory FILE]';

interface Member {
  readonly node: string;
  readonly roles: readonly ('collector' | 'alerting')[];
  readonly httpPort: number;
}

/** One member's config: the example config, made absolute, with its own ports, buffer and `cluster:`. */
export function memberConfig(
  example: Record<string, unknown>,
  m: Member,
  where: {
    readonly root: string;
    readonly dir: string;
    readonly inventory: string;
    readonly influxUrl: string;
    readonly natsUrls: readonly string[];
    readonly postgresUrl: string;
    readonly simControl: string;
  },
): Record<string, unknown> {
  const own = join(where.dir, m.node);
  const cfg: Record<string, unknown> = structuredClone(example);
  const obj = (k: string): Record<string, unknown> => (cfg[k] ?? {}) as Record<string, unknown>;
  cfg['inventory'] = where.inventory;
  cfg['influx'] = { ...obj('influx'), url: where.influxUrl };
  cfg['writer'] = { ...obj('writer'), bufferDir: join(own, 'buffer') };
  cfg['incidents'] = { file: join(own, 'incidents.db') };
  cfg['alerts'] = {
    ...obj('alerts'),
    webhooks: [{ name: 'demo-simulator', url: `http://${where.simControl}/webhook` }],
  };
  // MQTT in a cluster goes through an external broker; this demo runs SNMP only.
  delete cfg['mqtt'];
  // The simulator sends its traps to the example's one port: collector-1 receives them (and asks each
  // device's owner for the poll); two receivers on one port would not start. Each collector pings the
  // devices it owns; an alerting candidate pings nothing (its ping requests go to the owners).
  if (m.node !== 'collector-1') delete cfg['traps'];
  if (!m.roles.includes('collector')) delete cfg['ping'];
  cfg['http'] = { ...obj('http'), port: m.httpPort };
  cfg['api'] = { ...obj('api'), tokensFile: join(where.root, 'var/api-tokens.yaml') };
  cfg['console'] = {
    ...obj('console'),
    usersFile: join(where.root, 'var/users.yaml'),
    sessionsFile: join(own, 'sessions.db'),
  };
  cfg['cluster'] = {
    node: m.node,
    roles: [...m.roles],
    nats: { servers: [...where.natsUrls] },
    ...(m.roles.includes('alerting') ? { postgres: { url: where.postgresUrl } } : {}),
    membership: { heartbeat: '1s', timeout: '5s' },
    leader: { lease: '5s', renew: '1s' },
  };
  return cfg;
}

async function main(): Promise<void> {
  const values = parseCommandArgs('cluster', USAGE, {
    collectors: { type: 'string' },
    alerting: { type: 'string' },
    dir: { type: 'string' },
    'http-base': { type: 'string' },
    inventory: { type: 'string' },
  });
  const int = (name: string, raw: string | undefined, dflt: number, min: number, max: number): number =>
    raw === undefined ? dflt : intOption('cluster', USAGE, name, raw, min, max);
  const root = resolve(import.meta.dirname, '..');
  const dir = resolve(values.dir ?? join(root, 'var/cluster'));
  const collectors = int('collectors', values.collectors, 3, 1, 16);
  const alerting = int('alerting', values.alerting, 2, 1, 5);
  const httpBase = int('http-base', values['http-base'], 8090, 1024, 65000);
  const inventory = resolve(values.inventory ?? join(root, 'var/badung.inventory.yaml'));
  mkdirSync(dir, { recursive: true });
  if (!existsSync(inventory)) {
    console.log(`Generating the Badung inventory into ${inventory}`);
    const r = spawnSync('npx', ['tsx', 'scripts/generate-inventory.ts', '--out', inventory], {
      cwd: root,
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error('generating the inventory failed');
  }

  const stops: (() => Promise<void>)[] = [];
  const children: { name: string; child: ChildProcess }[] = [];
  let stopping = false;
  const stopAll = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log(`\nnetmon cluster: stopping (${why}): monitor processes, then the simulator and the servers`);
    const exited = (c: ChildProcess): Promise<void> =>
      c.exitCode !== null || c.signalCode !== null
        ? Promise.resolve()
        : new Promise((r) => c.once('exit', () => r()));
    const monitors = children.filter((c) => c.name !== 'simulator');
    for (const { child } of monitors) child.kill('SIGTERM');
    await Promise.all(monitors.map(({ child }) => exited(child)));
    for (const { child } of children.filter((c) => c.name === 'simulator')) {
      child.kill('SIGTERM');
      await exited(child);
    }
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGINT', () => void stopAll('SIGINT'));
  process.on('SIGTERM', () => void stopAll('SIGTERM'));

  // var/ is private (0700: sessions, tokens); run as root, PostgreSQL runs as `postgres` and must pass
  // through it to var/cluster/postgres: searchable (0711), still not listable, its files still 0600.
  const varDir = join(root, 'var');
  if (dir.startsWith(`${varDir}/`) && process.getuid?.() === 0 && (statSync(varDir).mode & 0o001) === 0)
    chmodSync(varDir, (statSync(varDir).mode & 0o777) | 0o011);
  console.log('Starting three nats-server nodes (JetStream), PostgreSQL and InfluxDB under', dir);
  const [nats, db, influx] = await Promise.all([
    startNatsCluster({ dir: join(dir, 'nats'), nodes: 3 }),
    startPostgres({ dir: join(dir, 'postgres') }),
    startInfluxd({ dataDir: join(dir, 'influxdb') }),
  ]);
  stops.push(
    () => nats.stop(),
    () => db.stop(),
    () => influx.stop(),
  );

  const simControl = `127.0.0.1:${await freeLoopbackPort()}`;
  const simLog = join(dir, 'simulator.log');
  const sim = spawn(
    process.execPath,
    ['--import', 'tsx', 'simulator/main.ts', '--inventory', inventory, '--control', simControl],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push({ name: 'simulator', child: sim });
  const simOut = createWriteStream(simLog);
  sim.stderr.pipe(simOut);
  await new Promise<void>((ready, fail) => {
    let buf = '';
    sim.stdout.on('data', (b: Buffer) => {
      simOut.write(b);
      buf += b.toString();
      if (buf.includes('simulator ready')) ready();
    });
    sim.once('exit', (code) => fail(new Error(`the simulator exited (${code}); see ${simLog}`)));
  });

  const example = parse(readFileSync(join(root, 'config/netmon.example.yaml'), 'utf8')) as Record<
    string,
    unknown
  >;
  const members: Member[] = [
    ...Array.from({ length: collectors }, (_, i) => ({
      node: `collector-${i + 1}`,
      roles: ['collector'] as const,
      httpPort: httpBase + i,
    })),
    ...Array.from({ length: alerting }, (_, i) => ({
      node: `alerting-${i + 1}`,
      roles: ['alerting'] as const,
      httpPort: httpBase + collectors + i,
    })),
  ];
  for (const m of members) {
    const file = join(dir, `${m.node}.yaml`);
    const cfg = memberConfig(example, m, {
      root,
      dir,
      inventory,
      influxUrl: influx.url,
      natsUrls: nats.urls,
      postgresUrl: db.url,
      simControl,
    });
    mkdirSync(join(dir, m.node), { recursive: true });
    writeFileSync(file, `# written by scripts/cluster.ts\n${stringify(cfg)}`);
    const log = createWriteStream(join(dir, `${m.node}.log`));
    const child = spawn(process.execPath, ['--import', 'tsx', 'collector/main.ts', '--config', file], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    child.once('exit', (code, signal) => {
      if (!stopping) console.log(`${m.node} exited (${signal ?? code}); see ${join(dir, `${m.node}.log`)}`);
    });
    children.push({ name: m.node, child });
  }

  console.log(`
netmon cluster is running (pid ${process.pid}; Ctrl-C stops it):
  NATS          ${nats.urls.join(' ')}
  PostgreSQL    ${db.url}
  InfluxDB      ${influx.url}
  Simulator     http://${simControl}/status   cut a site: curl -X POST http://${simControl}/sites/<site-id>/cut
${members.map((m) => `  ${m.node.padEnd(13)} http://127.0.0.1:${m.httpPort}/health   log ${join(dir, `${m.node}.log`)}`).join('\n')}
  Kill one:     kill -9 <pid> of a collector or the alerting leader, and watch the others take over
${children.map((c) => `    ${c.name.padEnd(13)} pid ${c.child.pid}`).join('\n')}
`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  main().catch((err: unknown) => {
    console.error(`netmon cluster: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
