/**
 * A minimal SNMP agent for one simulated device: one UDP socket at the device's own address, SNMPv2c
 * communities and SNMPv3 USM (RFC 3414; AES privacy per RFC 3826), read-only GET / GETNEXT / GETBULK.
 * It is the simulator's only network code for SNMP; what it serves comes from a DeviceResponder.
 *
 * Like a real agent it stays silent on a wrong community and on SNMPv1; for SNMPv3 it sends the USM
 * Report PDUs of RFC 3414 §3.2 (unknown engine for discovery, unknown user, wrong digest, time window),
 * because that is what real agents (net-snmp snmpd, RouterOS) do and what v3 clients rely on.
 */
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import type { RemoteInfo, Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../collector/core/clock.ts';
import type { SnmpCredentials } from '../collector/core/types.ts';
import { BerError, SimulatorStartError } from './errors.ts';
import { AnswerWriter, type PduAnswer } from './mib-view.ts';
import {
  ErrorStatus,
  MsgFlags,
  PduType,
  decodeMessage,
  decodeScopedPdu,
  decodeVarbindList,
  encodeCommunityMessage,
  encodeCommunityResponse,
  encodePdu,
  encodeScopedPdu,
  encodeV3Message,
  scanCommunityRequest,
} from './snmp-message.ts';
import type { CommunityRequest } from './snmp-message.ts';
import type { CommunityMessage, Pdu, V3Message } from './snmp-message.ts';
import {
  computeMac,
  decrypt,
  encrypt,
  localizedKey,
  macLength,
  privSupported,
  privacyKey,
  verifyMac,
} from './usm.ts';

/** What the agent asks the simulator about its device. */
export interface DeviceResponder {
  /** True when the device must not answer at all (cut, or behind a cut router). */
  isSilent(): boolean;
  /** Extra delay before a reply is sent, ms (0 = none). */
  replyDelayMs(): number;
  /** Answer a read PDU within `budget` bytes of varbinds. */
  answer(pdu: Pdu, budget: number): PduAnswer;
  /**
   * The wire path's answer to a read request (GET, GETNEXT, GETBULK): its varbinds written into `out`
   * (reset by the agent to the budget). `key` names the request exactly (mib-view.ts planFor); `oids` is
   * called only when the request is new. Returns the error-status (tooBig: `out` holds nothing to send),
   * or undefined for any other PDU type (the agent then goes the generic way).
   */
  answerInto(
    type: number,
    nonRepeaters: number,
    maxRepetitions: number,
    key: string,
    oids: () => readonly (readonly number[])[],
    out: AnswerWriter,
  ): number | undefined;
}

export interface AgentStats {
  received: number;
  answered: number;
  /** Datagrams ignored: wrong community or user, SNMPv1, malformed. */
  rejected: number;
  /** Datagrams ignored because the device was cut. */
  silenced: number;
  reports: number;
  sendErrors: number;
}

export function emptyStats(): AgentStats {
  return { received: 0, answered: 0, rejected: 0, silenced: 0, reports: 0, sendErrors: 0 };
}

/** Largest response the agent builds (a UDP datagram is at most 65,507 bytes over IPv4). */
const MAX_DATAGRAM = 65_000;
/** Room left for the message and PDU headers around the varbinds. */
const V2C_OVERHEAD = 48;
const V3_OVERHEAD = 240;
/** RFC 3414 §3.2 step 7b: 150-second time window. */
const TIME_WINDOW_S = 150;

const USM_STATS = [1, 3, 6, 1, 6, 3, 15, 1, 1];
/**
 * node:dgram's `lookup` for sockets that only ever send to IP literals (the source of a request): the
 * address as it is, at once. Anything else is an error, never a name resolution.
 */
function literalLookup(
  address: string,
  family: unknown,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const f = isIP(address);
  if (f === 0)
    callback(Object.assign(new Error(`not an IP address: ${address}`), { code: 'EINVAL' }), address, 0);
  else callback(null, address, f);
}

/** #answerRaw's "not mine": the generic path decides. */
const GENERIC = Symbol('generic');
const NO_BYTES = Buffer.alloc(0);
/** One writer for every agent of the process: answers are built synchronously, one at a time. */
const writer = new AnswerWriter();
const UsmReport = {
  unsupportedSecLevels: 1,
  notInTimeWindows: 2,
  unknownUserNames: 3,
  unknownEngineIds: 4,
  wrongDigests: 5,
  decryptionErrors: 6,
} as const;

interface V3Keys {
  readonly auth?: Buffer | undefined;
  readonly priv?: Buffer | undefined;
}

export interface SnmpAgentOptions {
  readonly host: string;
  readonly port: number;
  readonly credentials: SnmpCredentials;
  readonly engineId: Buffer;
  readonly responder: DeviceResponder;
  readonly stats: AgentStats;
  /** Schedules delayed replies (slowDevice); real time in practice. */
  readonly timer: Clock;
}

export class SnmpAgent {
  readonly #o: SnmpAgentOptions;
  #socket: Socket | undefined;
  readonly #pending = new Set<TimerHandle>();
  #engineBoots = 1;
  #engineStart = performance.now();
  #keys: V3Keys | undefined;
  #salt = 0n;
  readonly #community: Buffer | undefined;
  readonly #user: Buffer | undefined;

  constructor(o: SnmpAgentOptions) {
    this.#o = o;
    const c = o.credentials;
    this.#community = c.version === '2c' ? Buffer.from(c.community.reveal(), 'utf8') : undefined;
    this.#user = c.version === '3' ? Buffer.from(c.user, 'utf8') : undefined;
  }

  get engineBoots(): number {
    return this.#engineBoots;
  }

  /** snmpEngineTime (RFC 3411): seconds since the engine last (re)started, in real time. */
  engineTime(): number {
    return Math.floor((performance.now() - this.#engineStart) / 1000);
  }

  /** The device rebooted: a new engine boot (RFC 3414 §2.2.2), engine time from zero. */
  restartEngine(): void {
    this.#engineBoots += 1;
    this.#engineStart = performance.now();
  }

  async start(): Promise<void> {
    // Replies go to the address a request came from, always an IP: no resolver round (dns.lookup and a
    // nextTick per datagram, node:dgram's default), the answer is handed to the kernel at once.
    const socket = createSocket({
      type: this.#o.host.includes(':') ? 'udp6' : 'udp4',
      lookup: literalLookup,
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.close();
        reject(
          new SimulatorStartError(`cannot bind ${this.#o.host}:${this.#o.port}: ${err.message}`, {
            cause: err,
          }),
        );
      };
      socket.once('error', onError);
      socket.bind(this.#o.port, this.#o.host, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    // After bind: errors are counted, never thrown (an ICMP unreachable must not stop the agent).
    socket.on('error', () => {
      this.#o.stats.sendErrors += 1;
    });
    socket.on('message', (buf, rinfo) => this.#onMessage(buf, rinfo));
    this.#socket = socket;
  }

  async stop(): Promise<void> {
    for (const t of this.#pending) this.#o.timer.clearTimeout(t);
    this.#pending.clear();
    const socket = this.#socket;
    this.#socket = undefined;
    if (!socket) return;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  #onMessage(buf: Buffer, rinfo: RemoteInfo): void {
    const stats = this.#o.stats;
    stats.received += 1;
    if (this.#o.responder.isSilent()) {
      stats.silenced += 1;
      return;
    }
    let reply: Buffer | undefined;
    try {
      reply = this.handle(buf);
    } catch {
      // Malformed input (BerError) or a crypto failure: drop it, as a real agent does. Never rethrow here.
      reply = undefined;
    }
    if (!reply) {
      stats.rejected += 1;
      return;
    }
    const delay = this.#o.responder.replyDelayMs();
    if (delay > 0) {
      const handle = this.#o.timer.setTimeout(() => {
        this.#pending.delete(handle);
        this.#send(reply, rinfo);
      }, delay);
      this.#pending.add(handle);
    } else {
      this.#send(reply, rinfo);
    }
  }

  #send(reply: Buffer, rinfo: RemoteInfo): void {
    const socket = this.#socket;
    if (!socket) return;
    socket.send(reply, rinfo.port, rinfo.address, this.#afterSend);
  }

  /** One callback for every send (not a closure per datagram). */
  readonly #afterSend = (err: Error | null): void => {
    if (err) this.#o.stats.sendErrors += 1;
    else this.#o.stats.answered += 1;
  };

  /** Process one datagram; the reply, or undefined to stay silent. Exposed for benchmarks and tests. */
  handle(buf: Buffer): Buffer | undefined {
    // The hot path: an SNMPv2c read request, read in place and answered from a cached plan.
    const raw = scanCommunityRequest(buf);
    if (raw !== undefined) {
      if (raw.version !== 1) return undefined; // SNMPv1 is not served
      const fast = this.#answerRaw(buf, raw);
      if (fast !== GENERIC) return fast;
    }
    const msg = decodeMessage(buf);
    if (msg.version === 3) return this.#handleV3(buf, msg);
    if (msg.version === 1) return this.#handleV2c(msg);
    return undefined; // SNMPv1 is not served
  }

  /** An SNMPv2c request from its header fields (scanCommunityRequest); GENERIC for what it does not do. */
  #answerRaw(buf: Buffer, raw: CommunityRequest): Buffer | undefined | typeof GENERIC {
    const community = this.#community;
    if (
      !community ||
      raw.communityEnd - raw.communityStart !== community.length ||
      community.compare(buf, raw.communityStart, raw.communityEnd) !== 0
    ) {
      return undefined;
    }
    const bulk = raw.type === PduType.GetBulk;
    const nr = bulk ? raw.errorStatus : 0;
    const mr = bulk ? raw.errorIndex : 0;
    // The varbind list's bytes name the request: a poller sends the same ones every interval.
    const key = `r${raw.type}/${nr}/${mr}/${buf.toString('latin1', raw.vblStart, raw.vblEnd)}`;
    const out = writer.reset(MAX_DATAGRAM - V2C_OVERHEAD - community.length);
    const status = this.#o.responder.answerInto(
      raw.type,
      raw.errorStatus,
      raw.errorIndex,
      key,
      () => decodeVarbindList(buf, raw.vblStart, raw.vblEnd).map((v) => v.oid),
      out,
    );
    if (status === undefined) return GENERIC;
    return encodeCommunityResponse(
      1,
      community,
      raw.requestId,
      status,
      0,
      status === ErrorStatus.TooBig ? NO_BYTES : out.bytes,
    );
  }

  #handleV2c(msg: CommunityMessage): Buffer | undefined {
    if (!this.#community || !msg.community.equals(this.#community)) return undefined;
    const answer = this.#answer(msg.pdu, MAX_DATAGRAM - V2C_OVERHEAD - msg.community.length);
    if (!answer) return undefined;
    return encodeCommunityMessage(1, msg.community, answer);
  }

  #answer(pdu: Pdu, budget: number): Buffer | undefined {
    if (
      pdu.type !== PduType.Get &&
      pdu.type !== PduType.GetNext &&
      pdu.type !== PduType.GetBulk &&
      pdu.type !== PduType.Set
    ) {
      return undefined;
    }
    const a = this.#o.responder.answer(pdu, budget);
    return encodePdu(
      {
        type: PduType.Response,
        requestId: pdu.requestId,
        errorStatus: a.errorStatus,
        errorIndex: a.errorIndex,
        varbinds: [],
      },
      a.bytes ? [a.bytes] : a.varbinds,
    );
  }

  #v3Keys(): V3Keys {
    if (this.#keys) return this.#keys;
    const c = this.#o.credentials;
    if (c.version !== '3') return {};
    const authProto = c.authProtocol ?? 'sha';
    const auth =
      c.level !== 'noAuthNoPriv' && c.authKey
        ? localizedKey(authProto, c.authKey.reveal(), this.#o.engineId)
        : undefined;
    const privProto = c.privProtocol ?? 'aes';
    const priv =
      c.level === 'authPriv' && c.privKey && privSupported(privProto)
        ? privacyKey(authProto, privProto, c.privKey.reveal(), this.#o.engineId)
        : undefined;
    this.#keys = { auth, priv };
    return this.#keys;
  }

  #handleV3(buf: Buffer, msg: V3Message): Buffer | undefined {
    const c = this.#o.credentials;
    if (c.version !== '3' || msg.securityModel !== 3) return undefined;
    const reportable = (msg.flags & MsgFlags.Reportable) !== 0;
    const wantsAuth = (msg.flags & MsgFlags.Auth) !== 0;
    const wantsPriv = (msg.flags & MsgFlags.Priv) !== 0;
    if (wantsPriv && !wantsAuth) return undefined; // RFC 3412 §7.2 step 5: invalid flags
    const requestId = (): number => {
      if (wantsPriv) return 0;
      try {
        return decodeScopedPdu(msg.data).pdu.requestId;
      } catch {
        return 0;
      }
    };
    const report = (kind: number, authenticated = false): Buffer | undefined =>
      reportable ? this.#report(msg, kind, requestId(), authenticated) : undefined;

    // Discovery (empty engine ID) or a message for another engine (RFC 3414 §3.2 step 3).
    if (!msg.usm.engineId.equals(this.#o.engineId)) return report(UsmReport.unknownEngineIds);
    if (!this.#user || !msg.usm.userName.equals(this.#user)) return report(UsmReport.unknownUserNames);
    const level = wantsPriv ? 'authPriv' : wantsAuth ? 'authNoPriv' : 'noAuthNoPriv';
    if (level !== c.level) return report(UsmReport.unsupportedSecLevels);
    const keys = this.#v3Keys();
    const authProto = c.authProtocol ?? 'sha';
    const privProto = c.privProtocol ?? 'aes';
    if (wantsAuth) {
      if (!keys.auth) return undefined;
      if (!verifyMac(authProto, keys.auth, buf, msg.authParamsOffset, msg.usm.authParams)) {
        return report(UsmReport.wrongDigests);
      }
      // RFC 3414 §3.2 step 7b
      if (
        msg.usm.engineBoots !== this.#engineBoots ||
        Math.abs(msg.usm.engineTime - this.engineTime()) > TIME_WINDOW_S
      ) {
        return report(UsmReport.notInTimeWindows, true);
      }
    }
    let scopedBytes = msg.data;
    if (wantsPriv) {
      if (!keys.priv) return report(UsmReport.decryptionErrors);
      try {
        scopedBytes = decrypt(
          privProto,
          keys.priv,
          msg.usm.engineBoots,
          msg.usm.engineTime,
          msg.usm.privParams,
          msg.data,
        );
      } catch {
        return report(UsmReport.decryptionErrors);
      }
    }
    const scoped = decodeScopedPdu(scopedBytes);
    const budget = Math.min(Math.max(484, msg.maxSize), MAX_DATAGRAM) - V3_OVERHEAD - msg.usm.userName.length;
    const pduBytes = this.#answer(scoped.pdu, budget);
    if (!pduBytes) return undefined;
    return this.#wrapV3(
      msg,
      encodeScopedPdu(this.#o.engineId, scoped.contextName, pduBytes),
      wantsAuth,
      wantsPriv,
    );
  }

  #wrapV3(msg: V3Message, scopedPdu: Buffer, auth: boolean, priv: boolean): Buffer {
    const c = this.#o.credentials;
    if (c.version !== '3') throw new BerError('not an SNMPv3 device');
    const authProto = c.authProtocol ?? 'sha';
    const keys = this.#v3Keys();
    const boots = this.#engineBoots;
    const time = this.engineTime();
    let data = scopedPdu;
    let privParams = Buffer.alloc(0);
    if (priv && keys.priv) {
      // RFC 3826 §3.1.2.1: a 64-bit salt that changes with every message.
      this.#salt = (this.#salt + 1n) & 0xffffffffffffffffn;
      privParams = Buffer.alloc(8);
      privParams.writeBigUInt64BE(this.#salt);
      data = encrypt(c.privProtocol ?? 'aes', keys.priv, boots, time, privParams, scopedPdu);
    }
    const { bytes, authParamsOffset } = encodeV3Message({
      msgId: msg.msgId,
      maxSize: MAX_DATAGRAM,
      flags: (auth ? MsgFlags.Auth : 0) | (priv ? MsgFlags.Priv : 0),
      usm: {
        engineId: this.#o.engineId,
        engineBoots: boots,
        engineTime: time,
        userName: msg.usm.userName,
        authParams: auth ? Buffer.alloc(macLength(authProto)) : Buffer.alloc(0),
        privParams,
      },
      data,
      encrypted: priv,
    });
    if (auth && keys.auth) computeMac(authProto, keys.auth, bytes).copy(bytes, authParamsOffset);
    return bytes;
  }

  #report(msg: V3Message, kind: number, requestId: number, authenticated: boolean): Buffer {
    this.#o.stats.reports += 1;
    const pdu = encodePdu({
      type: PduType.Report,
      requestId,
      errorStatus: 0,
      errorIndex: 0,
      varbinds: [
        { oid: [...USM_STATS, kind, 0], value: { type: 'counter32', value: this.#o.stats.reports } },
      ],
    });
    const scoped = encodeScopedPdu(this.#o.engineId, Buffer.alloc(0), pdu);
    if (authenticated) return this.#wrapV3(msg, scoped, true, false);
    return encodeV3Message({
      msgId: msg.msgId,
      maxSize: MAX_DATAGRAM,
      flags: 0,
      usm: {
        engineId: this.#o.engineId,
        engineBoots: this.#engineBoots,
        engineTime: this.engineTime(),
        userName: msg.usm.userName,
        authParams: Buffer.alloc(0),
        privParams: Buffer.alloc(0),
      },
      data: scoped,
      encrypted: false,
    }).bytes;
  }
}
