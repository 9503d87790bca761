/**
 * Debian's nats-server (2.9, JetStream) as plain processes on loopback, for tests, benchmarks and
 * `npm run cluster`: a cluster of N nodes with JetStream (file store under `dir`), each with a client port,
 * a route port, a monitoring port (its `/healthz` says when the node and JetStream are ready) and a leaf
 * node port; and a leaf node with its own JetStream domain (an edge site behind a flaky uplink).
 *
 * Every node keeps its ports and its store across kill9() and start(), as a machine that crashed and came
 * back does.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freeLoopbackPort, requireBinary, startProcess, type RunningServer } from './process.ts';

export const NATS_SERVER_BINARY = '/usr/sbin/nats-server';

export interface NatsNode {
  readonly name: string;
  /** For clients: `nats://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  /** For a leaf node to connect to: `nats-leaf://127.0.0.1:PORT` (absent on a leaf node itself). */
  readonly leafUrl?: string | undefined;
  readonly leafPort?: number | undefined;
  readonly pid: number | undefined;
  /** SIGKILL, as a crash would; resolves once it has exited. */
  kill9(): Promise<void>;
  /** Start it again (same ports, same store); resolves when `/healthz` answers. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface NatsCluster {
  readonly nodes: readonly NatsNode[];
  /** Client URLs of every node. */
  readonly urls: readonly string[];
  /** Leaf node URLs of every node (nats-leaf://...). */
  readonly leafUrls: readonly string[];
  stop(): Promise<void>;
}

export interface NatsClusterOptions {
  /** Where each node keeps its JetStream store and config (`dir/<name>/`). */
  readonly dir: string;
  /** 1 (a single JetStream server) or 3 and more (a JetStream cluster: a majority must live). Default 3. */
  readonly nodes?: number | undefined;
  /** JetStream domain of the hub, so leaf nodes with their own domain can source from it. */
  readonly domain?: string | undefined;
  /** `host:port` the nodes tell leaf nodes to reconnect to (the uplink proxy in front of node 1). */
  readonly leafAdvertise?: string | undefined;
  readonly binary?: string | undefined;
  readonly startTimeoutMs?: number | undefined;
}

interface NodePorts {
  readonly client: number;
  readonly cluster: number;
  readonly http: number;
  readonly leaf: number;
}

const q = (s: string): string => JSON.stringify(s);

/** One cluster node's config (nats-server's own format). Pure, so a test can read it. */
export function natsNodeConfig(
  name: string,
  storeDir: string,
  ports: NodePorts,
  routes: readonly number[],
  domain?: string,
  leafAdvertise?: string,
): string {
  const leaf = [`listen: "127.0.0.1:${ports.leaf}"`];
  // A leaf node learns the hub's leaf address from it and reconnects there: behind an uplink (a proxy in
  // a test) the hub must name the uplink's address, or the leaf would go around it.
  if (leafAdvertise) leaf.push(`advertise: ${q(leafAdvertise)}`);
  else leaf.push('no_advertise: true');
  const lines = [
    `server_name: ${q(name)}`,
    `listen: "127.0.0.1:${ports.client}"`,
    `http: "127.0.0.1:${ports.http}"`,
    'jetstream {',
    `  store_dir: ${q(storeDir)}`,
    '  max_memory_store: 64MB',
    '  max_file_store: 2GB',
    ...(domain ? [`  domain: ${q(domain)}`] : []),
    '}',
    `leafnodes { ${leaf.join(', ')} }`,
  ];
  if (routes.length > 0)
    lines.push(
      'cluster {',
      '  name: "netmon"',
      `  listen: "127.0.0.1:${ports.cluster}"`,
      `  routes: [${routes.map((p) => q(`nats-route://127.0.0.1:${p}`)).join(', ')}]`,
      '}',
    );
  return lines.join('\n') + '\n';
}

/** A leaf node's config: its own JetStream domain, one remote (the hub's leaf port, or a proxy in front). */
export function natsLeafConfig(
  name: string,
  storeDir: string,
  clientPort: number,
  httpPort: number,
  domain: string,
  hubLeafUrl: string,
): string {
  return [
    `server_name: ${q(name)}`,
    `listen: "127.0.0.1:${clientPort}"`,
    `http: "127.0.0.1:${httpPort}"`,
    'jetstream {',
    `  store_dir: ${q(storeDir)}`,
    '  max_memory_store: 64MB',
    '  max_file_store: 2GB',
    `  domain: ${q(domain)}`,
    '}',
    'leafnodes {',
    '  reconnect: 1',
    `  remotes: [ { url: ${q(hubLeafUrl)} } ]`,
    '}',
    '',
  ].join('\n');
}

function nodeOf(name: string, server: RunningServer, clientPort: number, leafPort?: number): NatsNode {
  return {
    name,
    url: `nats://127.0.0.1:${clientPort}`,
    port: clientPort,
    leafUrl: leafPort === undefined ? undefined : `nats-leaf://127.0.0.1:${leafPort}`,
    leafPort,
    get pid() {
      return server.pid;
    },
    kill9: () => server.kill9(),
    start: () => server.start(),
    stop: () => server.stop(),
  };
}

/** Start N nodes at once (a JetStream cluster is ready only once a majority is up). */
export async function startNatsCluster(opts: NatsClusterOptions): Promise<NatsCluster> {
  const binary = opts.binary ?? NATS_SERVER_BINARY;
  requireBinary(binary, 'nats-server');
  const n = opts.nodes ?? 3;
  if (n !== 1 && n < 3) throw new Error(`a JetStream cluster needs 1 or at least 3 nodes, not ${n}`);
  const dir = resolve(opts.dir);
  const ports: NodePorts[] = [];
  for (let i = 0; i < n; i++)
    ports.push({
      client: await freeLoopbackPort(),
      cluster: await freeLoopbackPort(),
      http: await freeLoopbackPort(),
      leaf: await freeLoopbackPort(),
    });
  const started = await Promise.allSettled(
    ports.map(async (p, i) => {
      const name = `n${i + 1}`;
      const nodeDir = join(dir, name);
      mkdirSync(join(nodeDir, 'jetstream'), { recursive: true });
      const routes = n > 1 ? ports.filter((_, j) => j !== i).map((o) => o.cluster) : [];
      const conf = join(nodeDir, 'nats.conf');
      writeFileSync(
        conf,
        natsNodeConfig(name, join(nodeDir, 'jetstream'), p, routes, opts.domain, opts.leafAdvertise),
      );
      const server = await startProcess({
        name: `nats-server ${name}`,
        binary,
        args: ['-c', conf],
        port: p.http,
        readyPath: '/healthz',
        startTimeoutMs: opts.startTimeoutMs ?? 30_000,
      });
      return nodeOf(name, server, p.client, p.leaf);
    }),
  );
  const nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(nodes.map((x) => x.stop()));
    throw failed.reason;
  }
  return {
    nodes,
    urls: nodes.map((x) => x.url),
    leafUrls: nodes.flatMap((x) => (x.leafUrl ? [x.leafUrl] : [])),
    stop: async () => {
      await Promise.all(nodes.map((x) => x.stop()));
    },
  };
}

export interface NatsLeafOptions {
  readonly dir: string;
  /** The hub's leaf URL (`cluster.leafUrls[0]`) or a proxy's in front of it. */
  readonly hubLeafUrl: string;
  /** The leaf's own JetStream domain, e.g. `edge-kuta-selatan`. */
  readonly domain: string;
  readonly name?: string | undefined;
  readonly binary?: string | undefined;
  readonly startTimeoutMs?: number | undefined;
}

/** A leaf node with its own JetStream domain; it reconnects to the hub every second while cut off. */
export async function startNatsLeaf(opts: NatsLeafOptions): Promise<NatsNode> {
  const binary = opts.binary ?? NATS_SERVER_BINARY;
  requireBinary(binary, 'nats-server');
  const name = opts.name ?? `leaf-${opts.domain}`;
  const nodeDir = join(resolve(opts.dir), name);
  mkdirSync(join(nodeDir, 'jetstream'), { recursive: true });
  const client = await freeLoopbackPort();
  const http = await freeLoopbackPort();
  const conf = join(nodeDir, 'nats.conf');
  writeFileSync(
    conf,
    natsLeafConfig(name, join(nodeDir, 'jetstream'), client, http, opts.domain, opts.hubLeafUrl),
  );
  const server = await startProcess({
    name: `nats-server ${name}`,
    binary,
    args: ['-c', conf],
    port: http,
    readyPath: '/healthz',
    startTimeoutMs: opts.startTimeoutMs ?? 30_000,
  });
  return nodeOf(name, server, client);
}
