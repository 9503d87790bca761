/** `npm run cluster` writes one config per member (scripts/cluster.ts): each must pass the config's own checks. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../../../config/monitor.ts';
import { memberConfig } from '../../../scripts/cluster.ts';

const root = join(import.meta.dirname, '../../..');
const example = parse(readFileSync(join(root, 'config/netmon.example.yaml'), 'utf8')) as Record<
  string,
  unknown
>;
const where = {
  root,
  dir: '/tmp/netmon-cluster-test',
  inventory: join(root, 'var/badung.inventory.yaml'),
  influxUrl: 'http://127.0.0.1:18086',
  natsUrls: ['nats://127.0.0.1:14222', 'nats://127.0.0.1:14223', 'nats://127.0.0.1:14224'],
  postgresUrl: 'postgres://netmon@127.0.0.1:15432/netmon',
  simControl: '127.0.0.1:18161',
};

describe('scripts/cluster.ts member configs', () => {
  it('a collector and an alerting candidate: valid, with their own node, roles, buffer and port', () => {
    const col = memberConfig(example, { node: 'collector-2', roles: ['collector'], httpPort: 8091 }, where);
    const alert = memberConfig(example, { node: 'alerting-1', roles: ['alerting'], httpPort: 8093 }, where);
    const c = parseConfig(stringify(col), join(where.dir, 'collector-2.yaml'));
    const a = parseConfig(stringify(alert), join(where.dir, 'alerting-1.yaml'));
    expect(c.cluster?.node).toBe('collector-2');
    expect(c.cluster?.roles).toEqual(['collector']);
    expect(c.cluster?.postgres).toBeUndefined();
    expect(c.cluster?.nats.servers).toEqual(where.natsUrls);
    expect(a.cluster?.roles).toEqual(['alerting']);
    expect(a.cluster?.postgres?.url).toBe(where.postgresUrl);
    expect(c.http.listen.port).toBe(8091);
    expect(JSON.stringify(c)).toContain(join(where.dir, 'collector-2', 'buffer'));
    // One trap receiver (collector-1, on the port the simulator sends to); every collector pings what it owns.
    expect(c.traps).toBeUndefined();
    expect(c.ping?.intervalMs).toBeGreaterThan(0);
    expect(a.ping).toBeUndefined();
    const first = memberConfig(example, { node: 'collector-1', roles: ['collector'], httpPort: 8090 }, where);
    expect(parseConfig(stringify(first), join(where.dir, 'collector-1.yaml')).traps?.port).toBeGreaterThan(0);
    // The example config is not changed for the next member.
    expect(example['cluster'] ?? null).toBeNull();
  });
});
