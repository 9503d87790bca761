/**
 * The one file that takes traps through npm net-snmp (`snmp.createReceiver`): it binds the UDP port and
 * hands each trap over as a plain TrapIn (trap-rules.ts), or reports why one was refused.
 *
 * Two checks. The library's: the communities and SNMPv3 users of the inventory are registered with it,
 * so it refuses any other community or user, checks v3 digests and decrypts. Then trap-rules.ts's, per
 * device: a community or user is good only from the device that has it.
 *
 * The library's authorization must stay on. net-snmp 3.x's `disableAuthorization` also switches off the
 * SNMPv3 digest check (Listener.processIncoming copies it into message.disableAuthentication): with it,
 * an authNoPriv trap carrying a known user name and any digest at all would be accepted
 * (test/integration/snmp/traps-v3.test.ts sends one).
 */
import type { Socket } from 'node:dgram';
import snmp from 'net-snmp';
import { NetmonError, errorMessage } from '../../core/errors.ts';
import type { SnmpAuthProtocol, SnmpCredentials, SnmpPrivProtocol } from '../../core/types.ts';
import type { TrapIn } from './trap-rules.ts';

export class TrapReceiverError extends NetmonError {}

export interface TrapReceiverOptions {
  readonly host: string;
  readonly port: number;
  /** SNMPv3 users of the inventory (their keys let the library check and decrypt their traps). */
  readonly users: readonly Extract<SnmpCredentials, { version: '3' }>[];
  /** v1/v2c communities of the inventory: the library refuses any other. */
  readonly communities: readonly string[];
  readonly onTrap: (t: TrapIn) => void;
  /** A message refused by the library: `auth` (unknown v3 user, bad digest) or `bad` (undecodable). */
  readonly onRefused: (kind: 'auth' | 'bad', source: string | undefined, why: string) => void;
}

export interface RunningReceiver {
  readonly port: number;
  close(): Promise<void>;
}

// The library's own constants (numbers): it looks its algorithms up by them, and a name such as 'sha'
// finds none (every v3 trap then fails inside the library, as test/integration/snmp/traps-v3.test.ts shows).
const AUTH: Readonly<Record<SnmpAuthProtocol, number>> = {
  md5: snmp.AuthProtocols.md5,
  sha: snmp.AuthProtocols.sha,
  sha224: snmp.AuthProtocols.sha224,
  sha256: snmp.AuthProtocols.sha256,
  sha384: snmp.AuthProtocols.sha384,
  sha512: snmp.AuthProtocols.sha512,
};
const PRIV: Readonly<Record<SnmpPrivProtocol, number>> = {
  des: snmp.PrivProtocols.des,
  aes: snmp.PrivProtocols.aes,
  aes256b: snmp.PrivProtocols.aes256b,
  aes256r: snmp.PrivProtocols.aes256r,
};
const LEVEL: Readonly<Record<'noAuthNoPriv' | 'authNoPriv' | 'authPriv', number>> = {
  noAuthNoPriv: snmp.SecurityLevel.noAuthNoPriv,
  authNoPriv: snmp.SecurityLevel.authNoPriv,
  authPriv: snmp.SecurityLevel.authPriv,
};

interface LibVarbind {
  oid: string;
  value: unknown;
}
interface LibPdu {
  type: number;
  varbinds?: LibVarbind[];
  community?: string;
  user?: string;
  generic?: number;
}

/** The part of net-snmp's Receiver used here (the package ships no types). */
interface LibReceiver {
  getAuthorizer(): { addUser(user: Record<string, unknown>): void; addCommunity(community: string): void };
  close(done: () => void): void;
  readonly listener: { readonly sockets: Record<string, Socket> };
}
/** The library's errors carry a name (RequestFailedError, ResponseInvalidError, ...) and maybe a code. */
type LibError = Error & { rinfo?: { address: string }; code?: unknown };
type LibCallback = (error: LibError | null, data: { pdu: LibPdu; rinfo: { address: string } } | null) => void;
const createReceiver = snmp.createReceiver as (
  options: Record<string, unknown>,
  cb: LibCallback,
) => LibReceiver;
const TRAP_V1: number = snmp.PduType.Trap;

export async function startTrapReceiver(o: TrapReceiverOptions): Promise<RunningReceiver> {
  const onMessage: LibCallback = (error, data) => {
    try {
      if (error) {
        o.onRefused(refusalKind(error), error.rinfo?.address, error.message);
        return;
      }
      if (data) o.onTrap(toTrapIn(data.pdu, data.rinfo.address));
    } catch (err) {
      o.onRefused('bad', data?.rinfo.address, errorMessage(err));
    }
  };
  let receiver: LibReceiver;
  let port: number;
  try {
    receiver = createReceiver(
      {
        // "0" as a string: net-snmp turns a falsy port into 162 (Receiver) or 161 (Listener), so the
        // number 0 ("any free port") would bind a fixed privileged port; Node's bind takes "0" as 0.
        port: o.port === 0 ? '0' : o.port,
        address: o.host,
        transport: o.host.includes(':') ? 'udp6' : 'udp4',
        // Never true: it would also skip the SNMPv3 digest check (see the top of this file).
        disableAuthorization: false,
        includeAuthentication: true,
      },
      onMessage,
    );
    // Before the first message can arrive (the socket binds on a later turn of the event loop).
    const authorizer = receiver.getAuthorizer();
    for (const c of new Set(o.communities)) authorizer.addCommunity(c);
    for (const u of o.users) {
      authorizer.addUser({
        name: u.user,
        level: LEVEL[u.level],
        ...(u.authProtocol && u.authKey
          ? { authProtocol: AUTH[u.authProtocol], authKey: u.authKey.reveal() }
          : {}),
        ...(u.privProtocol && u.privKey
          ? { privProtocol: PRIV[u.privProtocol], privKey: u.privKey.reveal() }
          : {}),
      });
    }
    const socket = Object.values(receiver.listener.sockets)[0];
    if (!socket) throw new Error('net-snmp opened no socket');
    port = await new Promise<number>((resolve, reject) => {
      socket.once('listening', () => resolve(socket.address().port));
      socket.once('error', reject);
    });
  } catch (err) {
    throw new TrapReceiverError(
      'traps_listen',
      `cannot receive traps on ${o.host}:${o.port}: ${errorMessage(err)}${o.port < 1024 ? ' (a port below 1024 needs CAP_NET_BIND_SERVICE, or redirect 162 to an unprivileged port: README, Traps)' : ''}`,
      { retryable: false, cause: err },
    );
  }
  return { port, close: () => new Promise<void>((resolve) => receiver.close(() => resolve())) };
}

/**
 * Why the library refused a message: credentials (an unknown community or user, a missing or wrong
 * digest, a message that cannot be decrypted with the user's key) or anything else (undecodable).
 */
export function refusalKind(error: { name?: string; message: string; code?: unknown }): 'auth' | 'bad' {
  // ResponseInvalidCode 4 ECouldNotDecrypt, 5 EAuthFailure; RequestFailedError: unknown community or user.
  if (error.name === 'RequestFailedError') return 'auth';
  if (error.name === 'ResponseInvalidError' && (error.code === 4 || error.code === 5)) return 'auth';
  return /community|user|authentication|privacy|digest|decrypt/i.test(error.message) ? 'auth' : 'bad';
}

function toTrapIn(pdu: LibPdu, source: string): TrapIn {
  const version: TrapIn['version'] = pdu.user !== undefined ? '3' : pdu.type === TRAP_V1 ? '1' : '2c';
  return {
    source,
    version,
    community: pdu.community,
    user: pdu.user,
    generic: pdu.generic,
    varbinds: (pdu.varbinds ?? []).map((v) => ({ oid: v.oid, value: plain(v.value) })),
  };
}

/** Library values to plain ones: OIDs are strings already, integers numbers, octet strings Buffers. */
function plain(v: unknown): unknown {
  return Buffer.isBuffer(v) ? v.toString('latin1') : v;
}
