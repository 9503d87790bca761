/**
 * The simulator's trap sender: an SNMPv2-Trap-PDU (RFC 3416 §4.2.6) from a device's own address, as a
 * real device sends one to its configured trap receiver, in SNMPv2c (a community) or SNMPv3 (USM: the
 * device's user and keys). Varbinds per RFC 3416 §4.2.6: sysUpTime.0, then snmpTrapOID.0, then the trap's
 * objects (ifIndex, ifAdminStatus, ifOperStatus for linkDown/linkUp, RFC 2863 §8).
 *
 * SNMPv3 (RFC 3412 §7.1, RFC 3414 §3.1): for a trap the sender is the authoritative engine, so the
 * message carries the device's own engine ID, boots and time, the keys are localised with that engine ID,
 * and no discovery happens. authPriv encrypts the scoped PDU with AES-CFB (RFC 3826), then the HMAC is
 * written over the whole message (RFC 3414 §6.3.1, §7.3.1).
 */
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import type { SnmpCredentials } from '../collector/core/types.ts';
import { SimulatorControlError } from './errors.ts';
import {
  encodeCommunityMessage,
  encodePdu,
  encodeScopedPdu,
  encodeV3Message,
  MsgFlags,
  PduType,
  type Varbind,
} from './snmp-message.ts';
import { computeMac, encrypt, localizedKey, macLength, privacyKey, privSupported } from './usm.ts';

export const TRAP_TYPES = ['coldStart', 'warmStart', 'linkDown', 'linkUp', 'authenticationFailure'] as const;
export type TrapType = (typeof TRAP_TYPES)[number];

const oid = (s: string): number[] => s.split('.').map(Number);

/** SNMPv3 security of a trap: the device's USM user and its engine (the sender is authoritative). */
export interface V3TrapSecurity {
  readonly credentials: Extract<SnmpCredentials, { version: '3' }>;
  readonly engineId: Buffer;
  /** snmpEngineBoots and snmpEngineTime (seconds) of the sending engine. */
  readonly engineBoots: number;
  readonly engineTime: number;
}

export interface TrapToSend {
  /** The device's address: the trap leaves from it (the receiver knows devices by source address). */
  readonly from: string;
  readonly to: { readonly host: string; readonly port: number };
  /** SNMPv2c: the community. */
  readonly community?: string | undefined;
  /** SNMPv3 instead of a community. */
  readonly v3?: V3TrapSecurity | undefined;
  readonly type: TrapType;
  /** sysUpTime in hundredths of a second. */
  readonly uptimeCs: number;
  /** The interface of a linkDown or linkUp. */
  readonly ifIndex?: number | undefined;
}

export function trapVarbinds(t: Pick<TrapToSend, 'type' | 'uptimeCs' | 'ifIndex'>): Varbind[] {
  const n = TRAP_TYPES.indexOf(t.type) + 1;
  const vbs: Varbind[] = [
    { oid: oid('1.3.6.1.2.1.1.3.0'), value: { type: 'timeticks', value: t.uptimeCs % 2 ** 32 } },
    { oid: oid('1.3.6.1.6.3.1.1.4.1.0'), value: { type: 'oid', value: oid(`1.3.6.1.6.3.1.1.5.${n}`) } },
  ];
  if ((t.type === 'linkDown' || t.type === 'linkUp') && t.ifIndex !== undefined) {
    const up = t.type === 'linkUp' ? 1 : 2;
    vbs.push(
      { oid: oid(`1.3.6.1.2.1.2.2.1.1.${t.ifIndex}`), value: { type: 'integer', value: t.ifIndex } },
      { oid: oid(`1.3.6.1.2.1.2.2.1.7.${t.ifIndex}`), value: { type: 'integer', value: 1 } },
      { oid: oid(`1.3.6.1.2.1.2.2.1.8.${t.ifIndex}`), value: { type: 'integer', value: up } },
    );
  }
  return vbs;
}

/** The trap's datagram: SNMPv2c with `community`, or SNMPv3 with `v3`. */
export function encodeTrap(t: Omit<TrapToSend, 'from' | 'to'>): Buffer {
  const requestId = Math.floor(Math.random() * 2 ** 31);
  const pdu = encodePdu({
    type: PduType.TrapV2,
    requestId,
    errorStatus: 0,
    errorIndex: 0,
    varbinds: trapVarbinds(t),
  });
  if (!t.v3) {
    if (t.community === undefined)
      throw new SimulatorControlError(400, 'a trap needs a community (SNMPv2c) or SNMPv3 credentials');
    return encodeCommunityMessage(1, Buffer.from(t.community), pdu);
  }
  const { credentials: c, engineId, engineBoots, engineTime } = t.v3;
  const auth = c.level !== 'noAuthNoPriv';
  const priv = c.level === 'authPriv';
  const authProto = c.authProtocol ?? 'sha';
  const privProto = c.privProtocol ?? 'aes';
  if (auth && !c.authKey) throw new SimulatorControlError(400, `SNMPv3 user ${c.user} has no auth key`);
  if (priv && (!c.privKey || !privSupported(privProto)))
    throw new SimulatorControlError(400, `SNMPv3 user ${c.user}: privacy ${privProto} cannot be sent here`);
  // RFC 3416 §4.2.6: a trap's scoped PDU names the sending engine as its context engine.
  let data = encodeScopedPdu(engineId, Buffer.alloc(0), pdu);
  let privParams = Buffer.alloc(0);
  if (priv && c.privKey) {
    privParams = randomBytes(8); // RFC 3826 §3.1.2.1: the salt, never twice with one key
    const key = privacyKey(authProto, privProto, c.privKey.reveal(), engineId);
    data = encrypt(privProto, key, engineBoots, engineTime, privParams, data);
  }
  const { bytes, authParamsOffset } = encodeV3Message({
    msgId: requestId,
    maxSize: 65507,
    // A trap is unconfirmed: not reportable (RFC 3412 §6.4).
    flags: (auth ? MsgFlags.Auth : 0) | (priv ? MsgFlags.Priv : 0),
    usm: {
      engineId,
      engineBoots,
      engineTime,
      userName: Buffer.from(c.user, 'utf8'),
      authParams: auth ? Buffer.alloc(macLength(authProto)) : Buffer.alloc(0),
      privParams,
    },
    data,
    encrypted: priv,
  });
  if (auth && c.authKey)
    computeMac(authProto, localizedKey(authProto, c.authKey.reveal(), engineId), bytes).copy(
      bytes,
      authParamsOffset,
    );
  return bytes;
}

/** Send one trap; resolves once the datagram has left. */
export async function sendTrap(t: TrapToSend): Promise<void> {
  const msg = encodeTrap(t);
  const socket = createSocket(t.from.includes(':') ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, t.from, () => resolve());
    });
    await new Promise<void>((resolve, reject) => {
      socket.send(msg, t.to.port, t.to.host, (err) => (err ? reject(err) : resolve()));
    });
  } finally {
    socket.close();
  }
}
