/**
 * The `cluster:` section (config/cluster.ts): absent changes nothing; present, its durations are read as
 * the rest of the config reads them; every bad value is refused naming the key and the fix.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../collector/core/errors.ts';
import { crossCheck } from '../../../config/cross-check.ts';
import { parseConfig } from '../../../config/monitor.ts';

const FILE = join('/tmp', 'netmon.yaml');
const BASE = `inventory: inv.yaml\ninflux: { api: v1, url: "http://127.0.0.1:8086", database: netmon }\n`;
const NATS = 'nats: { servers: [nats://127.0.0.1:4222, nats://127.0.0.1:4223] }';
const EDGE = 'edges: [{ domain: edge-ks, kecamatan: [Kuta Selatan] }]';
const PG = 'postgres: { url: "postgres://netmon@127.0.0.1:5432/netmon" }';
const withCluster = (body: string) => `${BASE}cluster:\n${body.replace(/^/gm, '  ')}\n`;

const errorOf = (text: string): string => {
  try {
    parseConfig(text, FILE, {});
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('accepted');
};

describe('cluster: in the monitor config', () => {
  it('is absent by default: the one process, nothing else changes', () => {
    const c = parseConfig(BASE, FILE, {});
    expect(c.cluster).toBeUndefined();
  });

  it('reads the design example with its durations in ms', () => {
    const c = parseConfig(
      withCluster(
        [
          'node: col-1',
          'roles: [collector]',
          NATS,
          'membership: { heartbeat: 1s, timeout: 5s }',
          'leader: { lease: 5s, renew: 1s }',
          'pin: { kecamatan: [Kuta Selatan] }',
          'domain: edge-kuta-selatan',
          'hubDomain: hub',
          'edges: [{ domain: edge-kuta-selatan, kecamatan: [Kuta Selatan] }]',
        ].join('\n'),
      ),
      FILE,
      {},
    );
    expect(c.cluster).toEqual({
      node: 'col-1',
      roles: ['collector'],
      nats: { servers: ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4223'] },
      postgres: undefined,
      membership: { heartbeatMs: 1000, timeoutMs: 5000 },
      leader: { leaseMs: 5000, renewMs: 1000 },
      pin: { kecamatan: ['Kuta Selatan'] },
      domain: 'edge-kuta-selatan',
      hubDomain: 'hub',
      edges: [{ domain: 'edge-kuta-selatan', kecamatan: ['Kuta Selatan'] }],
    });
  });

  it('a central member lists the edges too (no domain, no pin): edges default to none', () => {
    const c = parseConfig(
      withCluster(
        `node: alert-1\nroles: [collector, alerting]\n${NATS}\n${PG}\nedges: [{ domain: edge-ks, kecamatan: [Kuta Selatan, Kuta] }]`,
      ),
      FILE,
      {},
    );
    expect(c.cluster?.edges).toEqual([{ domain: 'edge-ks', kecamatan: ['Kuta Selatan', 'Kuta'] }]);
    expect(parseConfig(withCluster(`node: c\nroles: [collector]\n${NATS}`), FILE, {}).cluster?.edges).toEqual(
      [],
    );
  });

  it('fills membership and leader from their defaults; pin and domain stay absent', () => {
    const c = parseConfig(withCluster(`node: col-2\nroles: [collector]\n${NATS}`), FILE, {});
    expect(c.cluster).toMatchObject({
      membership: { heartbeatMs: 1000, timeoutMs: 5000 },
      leader: { leaseMs: 5000, renewMs: 1000 },
    });
    expect(c.cluster?.pin).toBeUndefined();
    expect(c.cluster?.domain).toBeUndefined();
    expect(c.cluster?.postgres).toBeUndefined();
  });

  it('takes milliseconds as numbers and 500ms-style strings', () => {
    const c = parseConfig(
      withCluster(`node: c\nroles: [collector]\n${NATS}\nmembership: { heartbeat: 250ms, timeout: 1500 }`),
      FILE,
      {},
    );
    expect(c.cluster?.membership).toEqual({ heartbeatMs: 250, timeoutMs: 1500 });
  });

  const bad: [string, string, RegExp][] = [
    ['no node', `roles: [collector]\n${NATS}`, /cluster\.node/],
    ['a node with a dot', `node: col.1\nroles: [collector]\n${NATS}`, /cluster\.node: a member id/],
    ['a node with capitals', `node: Col1\nroles: [collector]\n${NATS}`, /cluster\.node: a member id/],
    ['no roles', `node: c\nroles: []\n${NATS}`, /cluster\.roles: name at least one role/],
    [
      'an unknown role',
      `node: c\nroles: [poller]\n${NATS}`,
      /cluster\.roles\[0\]: a role is one of: collector, alerting/,
    ],
    [
      'a role twice',
      `node: c\nroles: [collector, collector]\n${NATS}`,
      /cluster\.roles\[1\]: 'collector' is listed twice/,
    ],
    [
      'no servers',
      'node: c\nroles: [collector]\nnats: { servers: [] }',
      /cluster\.nats\.servers: name at least one NATS server/,
    ],
    [
      'an http server',
      'node: c\nroles: [collector]\nnats: { servers: [http://127.0.0.1:4222] }',
      /cluster\.nats\.servers\[0\]: expected nats:\/\/host:port/,
    ],
    [
      'alerting without postgres',
      `node: c\nroles: [alerting]\n${NATS}`,
      /cluster\.postgres: cluster\.postgres\.url is required with the alerting role/,
    ],
    [
      'a mysql url',
      `node: c\nroles: [alerting]\n${NATS}\npostgres: { url: "mysql://x@h/db" }`,
      /cluster\.postgres\.url: expected postgres:\/\//,
    ],
    [
      'a bad duration',
      `node: c\nroles: [collector]\n${NATS}\nmembership: { heartbeat: soon }`,
      /cluster\.membership\.heartbeat: 'soon' is not a duration/,
    ],
    [
      'a heartbeat too fast',
      `node: c\nroles: [collector]\n${NATS}\nmembership: { heartbeat: 10ms }`,
      /cluster\.membership\.heartbeat: '10ms' is not a duration 100ms/,
    ],
    [
      'a timeout under two heartbeats',
      `node: c\nroles: [collector]\n${NATS}\nmembership: { heartbeat: 2s, timeout: 3s }`,
      /cluster\.membership\.timeout: must be at least twice membership\.heartbeat \(2000ms\)/,
    ],
    [
      'a renewal over a third of the lease',
      `node: c\nroles: [collector]\n${NATS}\nleader: { lease: 3s, renew: 1500ms }`,
      /cluster\.leader\.renew: must be at most a third of leader\.lease/,
    ],
    [
      'an empty pin',
      `node: c\nroles: [collector]\n${NATS}\npin: { kecamatan: [] }`,
      /cluster\.pin\.kecamatan: name at least one kecamatan/,
    ],
    [
      'a pin without the collector role',
      `node: c\nroles: [alerting]\n${NATS}\n${PG}\npin: { kecamatan: [Kuta] }`,
      /cluster\.pin: pin applies to the collector role/,
    ],
    [
      'a domain with a dot',
      `node: c\nroles: [collector]\n${NATS}\ndomain: edge.kuta`,
      /cluster\.domain: a JetStream domain/,
    ],
    ['an unknown key', `node: c\nroles: [collector]\n${NATS}\nreplicas: 3`, /replicas/],
    [
      'an edge domain twice',
      `node: c\nroles: [collector]\n${NATS}\nedges: [{ domain: e1, kecamatan: [Kuta] }, { domain: e1, kecamatan: [Mengwi] }]`,
      /cluster\.edges\[1\]\.domain: edge domain 'e1' is listed twice/,
    ],
    [
      'a kecamatan under two edges',
      `node: c\nroles: [collector]\n${NATS}\nedges: [{ domain: e1, kecamatan: [Kuta] }, { domain: e2, kecamatan: [Kuta] }]`,
      /cluster\.edges\[1\]\.kecamatan\[0\]: 'Kuta' is served by edge 'e1' already/,
    ],
    [
      'an edge without kecamatan',
      `node: c\nroles: [collector]\n${NATS}\nedges: [{ domain: e1, kecamatan: [] }]`,
      /cluster\.edges\[0\]\.kecamatan: name at least one kecamatan the edge serves/,
    ],
    [
      'an edge on the hub domain',
      `node: c\nroles: [collector]\n${NATS}\nhubDomain: hub\nedges: [{ domain: hub, kecamatan: [Kuta] }]`,
      /cluster\.edges\[0\]\.domain: 'hub' is the hub's domain/,
    ],
    [
      'a domain without hubDomain',
      `node: c\nroles: [collector]\n${NATS}\npin: { kecamatan: [Kuta Selatan] }\ndomain: edge-ks\n${EDGE}`,
      /cluster\.hubDomain: required with domain/,
    ],
    [
      'a domain no edge lists',
      `node: c\nroles: [collector]\n${NATS}\npin: { kecamatan: [Kuta Selatan] }\ndomain: edge-x\nhubDomain: hub\n${EDGE}`,
      /cluster\.domain: no entry of cluster\.edges has domain 'edge-x'/,
    ],
    [
      'an edge collector without pin',
      `node: c\nroles: [collector]\n${NATS}\ndomain: edge-ks\nhubDomain: hub\n${EDGE}`,
      /cluster\.pin: an edge collector is pinned to its kecamatan: add pin: \{ kecamatan: \[Kuta Selatan\] \}/,
    ],
    [
      'an edge collector pinned outside its edge',
      `node: c\nroles: [collector]\n${NATS}\npin: { kecamatan: [Mengwi] }\ndomain: edge-ks\nhubDomain: hub\n${EDGE}`,
      /cluster\.pin\.kecamatan\[0\]: 'Mengwi' is not a kecamatan of edge 'edge-ks'/,
    ],
    [
      'an edge collector with the alerting role',
      `node: c\nroles: [collector, alerting]\n${NATS}\n${PG}\npin: { kecamatan: [Kuta Selatan] }\ndomain: edge-ks\nhubDomain: hub\n${EDGE}`,
      /cluster\.roles: an edge collector \(domain set\) has the collector role only/,
    ],
    [
      'a domain equal to hubDomain',
      `node: c\nroles: [collector]\n${NATS}\npin: { kecamatan: [Kuta Selatan] }\ndomain: edge-ks\nhubDomain: edge-ks\n${EDGE}`,
      /cluster\.domain: must differ from hubDomain/,
    ],
  ];
  it.each(bad)('refuses %s, naming the key', (_what, body, want) => {
    expect(errorOf(withCluster(body))).toMatch(want);
  });

  it('a pinned kecamatan must be one the inventory has', () => {
    const settings = parseConfig(
      withCluster(`node: edge-1\nroles: [collector]\n${NATS}\npin: { kecamatan: [Kuta Selatn, Mengwi] }`),
      FILE,
      {},
    );
    const site = {
      id: 's1',
      name: 'S1',
      category: 'banjar' as const,
      desa: 'Jimbaran',
      lat: -8.8,
      lon: 115.2,
      criticality: 'low' as const,
    };
    const inventory = {
      sites: [
        { ...site, kecamatan: 'Kuta Selatan' },
        { ...site, id: 's2', kecamatan: 'Mengwi' },
      ],
      devices: [],
    };
    const issues = crossCheck(settings, inventory);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toEqual(['cluster', 'pin', 'kecamatan', 0]);
    expect(issues[0]?.message).toMatch(/'Kuta Selatn'.*did you mean 'Kuta Selatan'/);
    const edges = parseConfig(
      withCluster(
        `node: c\nroles: [collector]\n${NATS}\nedges: [{ domain: e1, kecamatan: [Mengwi, Kuta Selatn] }]`,
      ),
      FILE,
      {},
    );
    const edgeIssues = crossCheck(edges, inventory);
    expect(edgeIssues.map((i) => i.path)).toEqual([['cluster', 'edges', 0, 'kecamatan', 1]]);
  });
});
