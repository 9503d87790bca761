/**
 * The simulator's trap sender: an SNMPv2c Trap-PDU (RFC 3416 §4.2.6) from a device's own address, as a
 * real device sends one to its configured trap receiver. Varbinds per RFC 3416 §4.2.6: sysUpTime.0, then
 * snmpTrapOID.0, then the trap's objects (ifIndex, ifAdminStatus, ifOperStatus for linkDown/linkUp,
 * RFC 2863 §8).
 */
import { createSocket } from 'node:dgram';
import { encodeCommunityMessage, encodePdu, PduType, type Varbind } from './snmp-message.ts';

export const TRAP_TYPES = ['coldStart', 'warmStart', 'linkDown', 'linkUp', 'authenticationFailure'] as const;
export type TrapType = (typeof TRAP_TYPES)[number];

const oid = (s: string): number[] => s.split('.').map(Number);

export interface TrapToSend {
  /** The device's address: the trap leaves from it (the receiver knows devices by source address). */
  readonly from: string;
  readonly to: { readonly host: string; readonly port: number };
  readonly community: string;
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

/** Send one trap; resolves once the datagram has left. */
export async function sendTrap(t: TrapToSend): Promise<void> {
  const pdu = encodePdu({
    type: PduType.TrapV2,
    requestId: Math.floor(Math.random() * 2 ** 31),
    errorStatus: 0,
    errorIndex: 0,
    varbinds: trapVarbinds(t),
  });
  const msg = encodeCommunityMessage(1, Buffer.from(t.community), pdu);
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
