/**
 * The `cluster:` section of the monitor config (issue #15). Absent: the embedded single process, as before
 * (`npm start` needs neither NATS nor PostgreSQL). Present: this process is one member of a cluster that
 * shares the fleet over NATS JetStream (collector/cluster/) and keeps incidents in PostgreSQL.
 *
 *   cluster:
 *     node: col-1                    # this process's member id, unique in the cluster
 *     roles: [collector]             # any of: collector, alerting (a process may run both)
 *     nats: { servers: [nats://127.0.0.1:4222, nats://127.0.0.1:4223] }
 *     postgres: { url: postgres://netmon@127.0.0.1:5432/netmon }   # required when roles has alerting
 *     membership: { heartbeat: 1s, timeout: 5s }
 *     leader: { lease: 5s, renew: 1s }
 *     pin: { kecamatan: [Kuta Selatan] }   # optional: an edge collector polls only these kecamatan
 *     domain: edge-kuta-selatan             # optional: JetStream domain of the leaf node this collector uses
 *     hubDomain: hub                        # the hub's JetStream domain (required with domain: KV lives there)
 *     edges:                                # cluster-wide: kecamatan served only by edge collectors
 *       - { domain: edge-kuta-selatan, kecamatan: [Kuta Selatan] }
 *
 * Edges (issue #15): a kecamatan listed under `edges` is polled only by collectors pinned to it, never by the
 * central ones, even while its edge collectors are silent (an uplink cut: the centre cannot reach those
 * devices, and polling them from there would page every site as down). The alerting leader raises one
 * "monitoring lost" incident per edge whose collectors are all gone. Every member gets the same `edges`
 * list; an edge collector names its own leaf domain in `domain` and is pinned to (some of) its kecamatan.
 *
 * The member id names the member's KV key and its result subject (`netmon.results.<node>`), so it is one
 * NATS subject token: no dots, no spaces. A pinned kecamatan must be one the inventory has (checked in
 * config/cross-check.ts, where the inventory is known).
 */
import { z } from 'zod';
import { parseDuration } from './yaml-source.ts';

export const CLUSTER_ROLES = ['collector', 'alerting'] as const;
export type ClusterRole = (typeof CLUSTER_ROLES)[number];

export interface ClusterConfig {
  /** This process's member id. */
  readonly node: string;
  readonly roles: readonly ClusterRole[];
  readonly nats: { readonly servers: readonly string[] };
  /** The incident store of the alerting role (required with it). */
  readonly postgres?: { readonly url: string } | undefined;
  /** A heartbeat put every heartbeatMs; a member not heard from for timeoutMs is gone. */
  readonly membership: { readonly heartbeatMs: number; readonly timeoutMs: number };
  /** The alerting leader's lease in KV (collector/cluster/leader.ts). */
  readonly leader: { readonly leaseMs: number; readonly renewMs: number };
  /** Kecamatan this collector alone polls (while it lives); absent: unpinned, any device not pinned. */
  readonly pin?: { readonly kecamatan: readonly string[] } | undefined;
  /** JetStream domain of the leaf node this member talks to (an edge collector). */
  readonly domain?: string | undefined;
  /** The hub's JetStream domain: where an edge collector (on a leaf node) finds the members bucket. */
  readonly hubDomain?: string | undefined;
  /** Kecamatan served only by edge collectors (strict pins), with the leaf domain of each edge. */
  readonly edges: readonly EdgeConfig[];
}

/** One edge: a leaf node's JetStream domain and the kecamatan its collectors alone poll. */
export interface EdgeConfig {
  readonly domain: string;
  readonly kecamatan: readonly string[];
}

/** A duration (`500ms`, `5s`, `1m`, or ms as a number) between min and max ms. */
const ms = (def: string, min: number, max: number) =>
  z
    .union([z.string(), z.number()])
    .default(def)
    .transform((v, ctx) => {
      const n = parseDuration(v);
      if (n === undefined || n < min || n > max) {
        ctx.addIssue({
          code: 'custom',
          message: `'${v}' is not a duration ${min}ms..${max / 1000}s; write e.g. ${def}`,
        });
        return z.NEVER;
      }
      return n;
    });

/** One NATS subject token and KV key: lower-case letters, digits, dashes, underscores. */
const MEMBER_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const NATS_URL = /^(nats|tls|ws|wss):\/\/[^\s/]+$/;
const POSTGRES_URL = /^postgres(ql)?:\/\/\S+$/;
const DOMAIN = /^[A-Za-z0-9_-]+$/;

export const clusterSchema = z
  .strictObject({
    node: z.string().regex(MEMBER_ID, {
      message:
        'a member id: lower-case letters, digits, dashes or underscores, at most 63 (it is a NATS subject token)',
    }),
    roles: z
      .array(z.enum(CLUSTER_ROLES, { message: `a role is one of: ${CLUSTER_ROLES.join(', ')}` }))
      .min(1, { message: 'name at least one role: collector, alerting' }),
    nats: z.strictObject({
      servers: z
        .array(z.string().regex(NATS_URL, { message: 'expected nats://host:port (or tls://host:port)' }))
        .min(1, { message: 'name at least one NATS server, e.g. nats://127.0.0.1:4222' }),
    }),
    postgres: z
      .strictObject({
        url: z.string().regex(POSTGRES_URL, {
          message: 'expected postgres://user@host:port/database',
        }),
      })
      .optional(),
    membership: z
      .strictObject({ heartbeat: ms('1s', 100, 60_000), timeout: ms('5s', 300, 600_000) })
      .prefault({}),
    leader: z.strictObject({ lease: ms('5s', 300, 600_000), renew: ms('1s', 100, 60_000) }).prefault({}),
    pin: z
      .strictObject({
        kecamatan: z
          .array(z.string().min(1))
          .min(1, { message: 'name at least one kecamatan, or leave pin out' }),
      })
      .optional(),
    domain: z
      .string()
      .regex(DOMAIN, { message: 'a JetStream domain: letters, digits, dashes, underscores' })
      .optional(),
    hubDomain: z
      .string()
      .regex(DOMAIN, { message: 'a JetStream domain: letters, digits, dashes, underscores' })
      .optional(),
    edges: z
      .array(
        z.strictObject({
          domain: z.string().regex(DOMAIN, {
            message: "the edge's leaf JetStream domain: letters, digits, dashes, underscores",
          }),
          kecamatan: z
            .array(z.string().min(1))
            .min(1, { message: 'name at least one kecamatan the edge serves' }),
        }),
      )
      .default([]),
  })
  .superRefine((c, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    c.roles.forEach((r, i) => {
      if (c.roles.indexOf(r) !== i) issue(['roles', i], `'${r}' is listed twice`);
    });
    if (c.roles.includes('alerting') && !c.postgres)
      issue(
        ['postgres'],
        'cluster.postgres.url is required with the alerting role (incidents live in PostgreSQL in a cluster)',
      );
    // Two missed heartbeats are not yet a death: a member is judged on its heartbeats, not on one late put.
    if (c.membership.timeout < 2 * c.membership.heartbeat)
      issue(
        ['membership', 'timeout'],
        `must be at least twice membership.heartbeat (${c.membership.heartbeat}ms), or one late heartbeat moves devices`,
      );
    // The leader steps down after lease - renew without a successful renewal (collector/cluster/leader.ts):
    // at least two renewals must fit in that, or one late renewal deposes it.
    if (c.leader.renew * 3 > c.leader.lease)
      issue(
        ['leader', 'renew'],
        `must be at most a third of leader.lease (${c.leader.lease}ms), or one late renewal deposes the leader`,
      );
    if (c.pin && !c.roles.includes('collector'))
      issue(['pin'], 'pin applies to the collector role; add collector to roles or remove pin');
    const edgeOf = new Map<string, string>();
    c.edges.forEach((e, i) => {
      if (c.edges.findIndex((x) => x.domain === e.domain) !== i)
        issue(['edges', i, 'domain'], `edge domain '${e.domain}' is listed twice`);
      if (e.domain === c.hubDomain)
        issue(['edges', i, 'domain'], `'${e.domain}' is the hub's domain (hubDomain), not an edge's`);
      e.kecamatan.forEach((k, j) => {
        const other = edgeOf.get(k);
        if (other !== undefined)
          issue(['edges', i, 'kecamatan', j], `'${k}' is served by edge '${other}' already`);
        else edgeOf.set(k, e.domain);
      });
    });
    if (c.domain !== undefined) {
      if (c.hubDomain === undefined)
        issue(
          ['hubDomain'],
          "required with domain: an edge collector reaches the hub's members bucket through its leaf node by the hub's JetStream domain",
        );
      else if (c.hubDomain === c.domain) issue(['domain'], `must differ from hubDomain ('${c.hubDomain}')`);
      const edge = c.edges.find((e) => e.domain === c.domain);
      if (!edge)
        issue(
          ['domain'],
          `no entry of cluster.edges has domain '${c.domain}': list the edge (its domain and kecamatan) there`,
        );
      else if (!c.pin)
        issue(
          ['pin'],
          `an edge collector is pinned to its kecamatan: add pin: { kecamatan: [${edge.kecamatan.join(', ')}] }`,
        );
      else
        c.pin.kecamatan.forEach((k, j) => {
          if (!edge.kecamatan.includes(k))
            issue(
              ['pin', 'kecamatan', j],
              `'${k}' is not a kecamatan of edge '${edge.domain}' (${edge.kecamatan.join(', ')})`,
            );
        });
      if (c.roles.includes('alerting'))
        issue(
          ['roles'],
          'an edge collector (domain set) has the collector role only: alerting runs at the hub',
        );
    }
  })
  .transform((c): ClusterConfig => ({
    node: c.node,
    roles: c.roles,
    nats: { servers: c.nats.servers },
    postgres: c.postgres,
    membership: { heartbeatMs: c.membership.heartbeat, timeoutMs: c.membership.timeout },
    leader: { leaseMs: c.leader.lease, renewMs: c.leader.renew },
    pin: c.pin,
    domain: c.domain,
    hubDomain: c.hubDomain,
    edges: c.edges,
  }));
