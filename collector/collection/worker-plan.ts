/**
 * How the fleet is split over collection worker threads (worker-collection.ts). Pure: table tests in
 * test/unit/collection/worker-plan.test.ts.
 *
 * - How many workers: `snmp.workers` (config/monitor.ts): a number, or `auto` = one per core the process
 *   may use. On the 2-core machine the benchmark ran on, the main thread (health, incidents, HTTP) costs a
 *   few percent of a core, so a worker per core, not cores - 1 (README, collector section, "sizing").
 * - Who polls what: rendezvous hashing over the workers, the same function a cluster's collectors use
 *   (collector/cluster/ownership.ts): a worker restarted under its name gets the same devices back.
 * - Crossing the thread boundary: the config holds Secret objects (communities, keys, tokens), whose value
 *   is a private field that structured clone drops. packSecrets/unpackSecrets carry them over as marked
 *   plain objects; nothing else reads the marked form.
 */
import { ownerOf, type OwnerCandidate } from '../cluster/ownership.ts';
import { Secret } from '../core/secret.ts';
import type { Device, Inventory, Site } from '../core/types.ts';

/** `snmp.workers` as the config holds it: absent = 1 (one event loop, today's collector). */
export type WorkersSetting = 'auto' | number | undefined;

/** The number of collection threads for a setting on a machine with `cores` usable cores. */
export function resolveWorkers(setting: WorkersSetting, cores: number): number {
  if (setting === undefined) return 1;
  if (setting === 'auto') return Math.max(1, Math.floor(cores));
  return Math.max(1, Math.floor(setting));
}

/** The name of worker `index` (0-based): what its log lines, errors and rendezvous weight use. */
export function workerName(index: number): string {
  return `collection-worker-${index + 1}`;
}

/** What one worker polls: its devices (in inventory order) and the sites they belong to. */
export interface WorkerShare {
  readonly name: string;
  readonly inventory: Inventory;
  readonly deviceIds: readonly string[];
}

/**
 * Splits `deviceIds` (those to poll) over `workers` threads by rendezvous hashing. Every id is in exactly
 * one share; an id not in the inventory is in none (nothing could poll it).
 */
export function splitDevices(
  inventory: Inventory,
  deviceIds: readonly string[],
  workers: number,
): WorkerShare[] {
  const members: OwnerCandidate[] = Array.from({ length: workers }, (_, i) => ({
    id: workerName(i),
    pins: [],
  }));
  const byId = new Map<string, Device>(inventory.devices.map((d) => [d.id, d]));
  const siteById = new Map<string, Site>(inventory.sites.map((s) => [s.id, s]));
  const shares = members.map(() => ({ devices: [] as Device[], sites: new Set<string>() }));
  const index = new Map(members.map((m, i) => [m.id, i]));
  for (const id of deviceIds) {
    const device = byId.get(id);
    if (!device) continue;
    const owner = ownerOf({ id, kecamatan: siteById.get(device.siteId)?.kecamatan ?? '' }, members);
    const share = shares[index.get(owner ?? '') ?? -1];
    if (!share) continue;
    share.devices.push(device);
    share.sites.add(device.siteId);
  }
  return shares.map((s, i) => ({
    name: workerName(i),
    inventory: { sites: inventory.sites.filter((site) => s.sites.has(site.id)), devices: s.devices },
    deviceIds: s.devices.map((d) => d.id),
  }));
}

/** The worker that polls each device (the inverse of the shares). */
export function ownerIndex(shares: readonly WorkerShare[]): Map<string, number> {
  const out = new Map<string, number>();
  shares.forEach((s, i) => {
    for (const id of s.deviceIds) out.set(id, i);
  });
  return out;
}

const SECRET_MARK = '__netmonSecret';

/** A copy of `value` with every Secret replaced by a marked plain object (for postMessage). */
export function packSecrets(value: unknown): unknown {
  if (value instanceof Secret) return { [SECRET_MARK]: value.reveal() };
  if (Array.isArray(value)) return value.map(packSecrets);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = packSecrets(v);
    return out;
  }
  return value;
}

/** The inverse of packSecrets: marked objects become Secrets again. */
export function unpackSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unpackSecrets);
  if (isPlainObject(value)) {
    const mark = value[SECRET_MARK];
    if (typeof mark === 'string' && Object.keys(value).length === 1) return new Secret(mark);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = unpackSecrets(v);
    return out;
  }
  return value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
