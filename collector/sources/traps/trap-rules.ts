/**
 * What a received trap means, as pure functions: which standard trap it is (SNMPv2-MIB snmpTrapOID, or
 * an SNMPv1 generic-trap number), which device of the inventory sent it (by source address), and whether
 * its credentials are that device's (v1/v2c community, or SNMPv3 user). A trap never sets a state: at
 * most it asks for an immediate poll of a known device.
 *
 * RFC 3418 (SNMPv2-MIB): snmpTrapOID.0 = 1.3.6.1.6.3.1.1.4.1.0, the standard traps under
 * snmpTraps 1.3.6.1.6.3.1.1.5: coldStart(1) warmStart(2) linkDown(3) linkUp(4) authenticationFailure(5).
 * RFC 1157: SNMPv1 generic-trap 0..4 are the same five; RFC 3584 §3.1 maps one onto the other.
 */
import type { Device } from '../../core/types.ts';

export const SNMP_TRAP_OID = '1.3.6.1.6.3.1.1.4.1.0';
export const IF_INDEX_PREFIX = '1.3.6.1.2.1.2.2.1.1.';

export const STANDARD_TRAPS = [
  'coldStart',
  'warmStart',
  'linkDown',
  'linkUp',
  'authenticationFailure',
] as const;
export type StandardTrap = (typeof STANDARD_TRAPS)[number];

const BY_OID = new Map<string, StandardTrap>(
  STANDARD_TRAPS.map((name, i) => [`1.3.6.1.6.3.1.1.5.${i + 1}`, name]),
);

/** A received trap, as the receiver adapter hands it over (no library types). */
export interface TrapIn {
  readonly source: string;
  readonly version: '1' | '2c' | '3';
  /** v1/v2c community, when the adapter includes it. */
  readonly community?: string | undefined;
  /** SNMPv3 user name. */
  readonly user?: string | undefined;
  /** SNMPv1 generic-trap (0..6). */
  readonly generic?: number | undefined;
  readonly varbinds: readonly { readonly oid: string; readonly value: unknown }[];
}

/** The trap's name: a standard one, or the trap OID as received (enterprise-specific). */
export function trapName(t: TrapIn): { name: string; standard: boolean } {
  if (t.version === '1') {
    const std =
      t.generic !== undefined && t.generic >= 0 && t.generic <= 4 ? STANDARD_TRAPS[t.generic] : undefined;
    return std ? { name: std, standard: true } : { name: `enterpriseSpecific`, standard: false };
  }
  const vb = t.varbinds.find((v) => v.oid === SNMP_TRAP_OID);
  const oid = typeof vb?.value === 'string' ? vb.value : undefined;
  const std = oid === undefined ? undefined : BY_OID.get(oid);
  return std ? { name: std, standard: true } : { name: oid ?? 'unknown', standard: false };
}

/** The ifIndex a linkDown/linkUp names (its IF-MIB ifIndex varbind), if any. */
export function trapIfIndex(t: TrapIn): number | undefined {
  const vb = t.varbinds.find((v) => v.oid.startsWith(IF_INDEX_PREFIX));
  return typeof vb?.value === 'number' && Number.isInteger(vb.value) ? vb.value : undefined;
}

export type TrapVerdict =
  | { readonly kind: 'accept'; readonly devices: readonly Device[] }
  | { readonly kind: 'unknown_source' }
  | { readonly kind: 'auth'; readonly why: string };

/**
 * Whose trap it is. `bySource` maps an address to the devices at it. The credentials must be those of
 * the device (community for v1/v2c; for v3 the user, which the library has already authenticated).
 */
export function judgeTrap(t: TrapIn, bySource: ReadonlyMap<string, readonly Device[]>): TrapVerdict {
  const at = bySource.get(normaliseAddress(t.source));
  if (!at || at.length === 0) return { kind: 'unknown_source' };
  const matching = at.filter((d) => {
    const c = d.snmp;
    if (!c) return false;
    if (t.version === '3') return c.version === '3' && t.user !== undefined && c.user === t.user;
    return c.version === '2c' && t.community !== undefined && c.community.reveal() === t.community;
  });
  if (matching.length === 0)
    return {
      kind: 'auth',
      why: t.version === '3' ? `SNMPv3 user '${t.user ?? ''}' is not this device's` : 'wrong community',
    };
  return { kind: 'accept', devices: matching };
}

/** "::ffff:127.0.0.1" (an IPv4 peer on a dual-stack socket) is 127.0.0.1. */
export function normaliseAddress(a: string): string {
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}
