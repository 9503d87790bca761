/**
 * Which live collector polls which device: rendezvous (highest random weight) hashing, with pins. Pure:
 * the live members and the devices in, owners out; every member computes the same answer from the same
 * view, so no lock, no lease per device and no coordinator is needed.
 *
 * - Each (member, device) pair has a weight, hash32(member, device); a device's owner is the eligible
 *   member of highest weight (ties, practically never, to the smaller id).
 * - A join moves only the devices the newcomer now outweighs: about 1/n of them, each to the newcomer.
 *   A death moves only the dead member's devices, each to its second-highest member; no other device
 *   changes hands. (Thaler and Ravishankar, "Using name-based mappings to increase hit rates", 1998.)
 * - Pins: members pinned to kecamatan K are the only eligible ones for K's devices while any of them is
 *   live (an edge collector polls its own kecamatan); otherwise every live unpinned member is eligible. A
 *   pinned member polls nothing outside its pins.
 * - Strict pins (edges, config/cluster.ts `edges`): the devices of a kecamatan an edge serves are eligible
 *   only to members pinned to it, even when none of them is live: while an edge's uplink is cut the
 *   central collectors cannot reach its devices, and taking them over would page every site there as down.
 *   They stay unpolled (in the centre's view) until the edge is back; alerting tells that as "monitoring
 *   lost" (collector/cluster/edge-watch.ts), not as outages.
 */
import { hash32 } from '../core/hash.ts';

/** A live collector as ownership sees it. */
export interface OwnerCandidate {
  readonly id: string;
  /** Kecamatan the member is pinned to; empty: unpinned. */
  readonly pins: readonly string[];
}

/** A device as ownership sees it: its id and its site's kecamatan. */
export interface PlacedDevice {
  readonly id: string;
  readonly kecamatan: string;
}

/** The rendezvous weight of a (member, device) pair. */
export function weight(memberId: string, deviceId: string): number {
  return hash32(memberId, deviceId);
}

/** Kecamatan whose devices only members pinned to them may poll (the edges'); absent: none. */
export type StrictPins = ReadonlySet<string>;

const NONE: StrictPins = new Set();

/** The members eligible for a device of kecamatan `kecamatan`. */
export function eligible(
  members: readonly OwnerCandidate[],
  kecamatan: string,
  strict: StrictPins = NONE,
): OwnerCandidate[] {
  const pinned = members.filter((m) => m.pins.includes(kecamatan));
  if (pinned.length > 0 || strict.has(kecamatan)) return pinned;
  return members.filter((m) => m.pins.length === 0);
}

/** The owner of one device among the live members, or undefined when none is eligible. */
export function ownerOf(
  device: PlacedDevice,
  members: readonly OwnerCandidate[],
  strict: StrictPins = NONE,
): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const m of eligible(members, device.kecamatan, strict)) {
    const w = weight(m.id, device.id);
    if (w > bestWeight || (w === bestWeight && best !== undefined && m.id < best)) {
      best = m.id;
      bestWeight = w;
    }
  }
  return best;
}

/** Every device's owner (devices no live member may poll are absent). */
export function assign(
  devices: readonly PlacedDevice[],
  members: readonly OwnerCandidate[],
  strict: StrictPins = NONE,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of devices) {
    const owner = ownerOf(d, members, strict);
    if (owner !== undefined) out.set(d.id, owner);
  }
  return out;
}

/** The ids of the devices `self` owns, in the order of `devices`. */
export function ownedBy(
  self: string,
  devices: readonly PlacedDevice[],
  members: readonly OwnerCandidate[],
  strict: StrictPins = NONE,
): string[] {
  if (!members.some((m) => m.id === self)) return [];
  return devices.filter((d) => ownerOf(d, members, strict) === self).map((d) => d.id);
}

/** What changes for `self` from one owned set to the next: devices to start and to stop polling. */
export function handover(
  before: ReadonlySet<string>,
  after: ReadonlySet<string>,
): { readonly acquired: string[]; readonly released: string[] } {
  return {
    acquired: [...after].filter((id) => !before.has(id)),
    released: [...before].filter((id) => !after.has(id)),
  };
}
