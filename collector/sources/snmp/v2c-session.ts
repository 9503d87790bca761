/**
 * One SNMPv2c agent's requests: GET and GETBULK over a pooled UDP socket (socket-pool.ts), encoded and
 * decoded by v2c-codec.ts. The transport under session.ts's client for v2c devices (net-snmp keeps v3).
 *
 * What it does per request, as net-snmp's Session did: a request id of its own, one timer, the reply
 * matched by id (replies to other sessions on the same socket, and late replies to a request that timed
 * out, are ignored), then checked: version and community as sent, a GetResponse, error-status 0, and
 * for a GET one varbind per OID asked. Retries are the caller's (session.ts). Failures are V2cError with
 * the ProbeFailureReason they stand for; a send error (ECONNREFUSED, an unknown host) is passed as it is.
 *
 * Differences, on purpose: a reply that matches a request but does not parse fails that request at once
 * as `decode` (net-snmp dropped it and let the request time out); and no error message carries the
 * community (net-snmp's community mismatch message printed both).
 */
import { errorMessage } from '../../core/errors.ts';
import type { ProbeFailureReason } from '../../core/types.ts';
import type { VarBind } from './session.ts';
import type { SharedSocket, SocketPool } from './socket-pool.ts';
import {
  decodeHeader,
  decodeVarbinds,
  encodeRequest,
  ERROR_STATUS,
  PduTag,
  VERSION_2C,
  type MessageHeader,
} from './v2c-codec.ts';

export type Done<T> = (err: Error | null, result?: T) => void;

/** A failed request, with the ProbeFailureReason it stands for and the agent's error-status name. */
export class V2cError extends Error {
  override readonly name = 'V2cError';
  readonly reason: ProbeFailureReason;
  readonly status: string | undefined;

  constructor(reason: ProbeFailureReason, message: string, status?: string) {
    super(message);
    this.reason = reason;
    this.status = status;
  }
}

export interface V2cSessionOptions {
  readonly host: string;
  readonly port: number;
  readonly community: string;
  /** Per request. */
  readonly timeoutMs: number;
  readonly sockets: SocketPool;
  /** A datagram from the agent that is not an SNMP reply at all (no request id to blame). */
  readonly onUnparseable?: ((err: unknown) => void) | undefined;
}

interface Pending {
  readonly done: Done<VarBind[]>;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Request ids stay in 1 .. 2^31 - 1 (a positive INTEGER32, RFC 3416 section 3). */
const MAX_REQUEST_ID = 0x7fffffff;

export class V2cSession {
  readonly #host: string;
  readonly #port: number;
  readonly #community: Buffer;
  readonly #timeoutMs: number;
  readonly #socket: SharedSocket;
  readonly #onUnparseable: ((err: unknown) => void) | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId: number;
  #closed = false;

  constructor(opts: V2cSessionOptions) {
    this.#host = opts.host;
    this.#port = opts.port;
    this.#community = Buffer.from(opts.community, 'utf8');
    this.#timeoutMs = opts.timeoutMs;
    this.#onUnparseable = opts.onUnparseable;
    // Sequential from a random start: two sessions to one agent (poller and detection) share its
    // replies, and each must not take the other's for its own.
    this.#nextId = 1 + Math.floor(Math.random() * 0x3fffffff);
    this.#socket = opts.sockets.createSocket('udp4');
    this.#socket.on('message', (msg: Buffer) => this.#onMessage(msg));
    // The real socket went away: what is in flight fails; the next request goes through another one.
    this.#socket.on('close', () => this.#failAll('socket closed'));
  }

  get(oids: readonly string[], done: Done<VarBind[]>): void {
    this.#request(PduTag.GetRequest, oids, 0, 0, (err, vbs) => {
      if (err || vbs === undefined) return done(err ?? new V2cError('internal', 'no varbinds'));
      if (vbs.length !== oids.length)
        return done(new V2cError('decode', 'Requested OIDs do not match response OIDs'));
      done(null, vbs);
    });
  }

  /** For each OID asked, the varbinds returned for it (non-repeaters: one each). */
  getBulk(
    oids: readonly string[],
    nonRepeaters: number,
    maxRepetitions: number,
    done: Done<VarBind[][]>,
  ): void {
    const nr = Math.min(Math.max(0, nonRepeaters), oids.length);
    this.#request(PduTag.GetBulkRequest, oids, nr, maxRepetitions, (err, vbs) => {
      if (err || vbs === undefined) return done(err ?? new V2cError('internal', 'no varbinds'));
      done(null, groupBulk(oids.length, nr, vbs));
    });
  }

  /** Requests in flight fail (`internal`); the socket goes back to the pool. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#failAll('session closed');
    this.#socket.close();
  }

  #request(
    pdu: number,
    oids: readonly string[],
    nonRepeaters: number,
    maxRepetitions: number,
    done: Done<VarBind[]>,
  ): void {
    if (this.#closed) return done(new V2cError('internal', 'session closed'));
    const id = this.#nextId;
    this.#nextId = id >= MAX_REQUEST_ID ? 1 : id + 1;
    let buf: Buffer;
    try {
      buf = encodeRequest({
        pdu,
        requestId: id,
        community: this.#community,
        oids,
        nonRepeaters,
        maxRepetitions,
      });
    } catch (err) {
      return done(new V2cError('internal', errorMessage(err)));
    }
    const pending: Pending = { done, timer: undefined };
    this.#pending.set(id, pending);
    if (this.#pending.size === 1) this.#socket.ref();
    pending.timer = setTimeout(() => {
      if (this.#take(id)) done(new V2cError('timeout', 'no response (timeout)'));
    }, this.#timeoutMs);
    this.#socket.send(buf, 0, buf.length, this.#port, this.#host, (err) => {
      if (err && this.#take(id)) done(err);
    });
  }

  /** The request with this id, no longer pending (its timer cleared); undefined if there is none. */
  #take(id: number): Pending | undefined {
    const p = this.#pending.get(id);
    if (p === undefined) return undefined;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    if (this.#pending.size === 0) this.#socket.unref();
    return p;
  }

  /**
   * Every request in flight fails (`internal`). The error is made only when there is one: closing an idle
   * session (each of them, at shutdown or when the inventory changes) then builds no Error, whose stack
   * capture costs more than the rest of close().
   */
  #failAll(message: string): void {
    if (this.#pending.size === 0) return;
    const err = new V2cError('internal', message);
    for (const id of [...this.#pending.keys()]) this.#take(id)?.done(err);
  }

  #onMessage(msg: Buffer): void {
    let h: MessageHeader;
    try {
      h = decodeHeader(msg);
    } catch (err) {
      this.#onUnparseable?.(err);
      return;
    }
    const p = this.#take(h.requestId);
    if (p === undefined) return; // another session's, or too late
    const reply = replyOf(msg, h, this.#community);
    if (reply instanceof Error) p.done(reply);
    else p.done(null, reply);
  }
}

/** The checks net-snmp made on a reply to a request of ours, and its varbinds. */
function replyOf(msg: Buffer, h: MessageHeader, community: Buffer): V2cError | VarBind[] {
  if (h.version !== VERSION_2C)
    return new V2cError('decode', `reply of SNMP version field ${h.version} to a v2c request`);
  if (!h.community.equals(community)) return new V2cError('decode', 'reply with another community');
  if (h.pdu === PduTag.Report) return new V2cError('auth', 'unexpected Report PDU');
  if (h.pdu !== PduTag.GetResponse)
    return new V2cError('decode', `unknown PDU type 0x${h.pdu.toString(16)} in response`);
  let vbs: VarBind[];
  try {
    vbs = decodeVarbinds(msg, h.varbindsStart, h.varbindsEnd);
  } catch (err) {
    return new V2cError('decode', `unparseable reply (${errorMessage(err)})`);
  }
  if (h.errorStatus > 0) {
    const status = ERROR_STATUS[h.errorStatus] ?? 'GeneralError';
    const at = h.errorIndex > 0 ? vbs[h.errorIndex - 1] : undefined;
    return new V2cError('agent_error', at ? `${status}: ${at.oid}` : status, status);
  }
  return vbs;
}

/**
 * A GETBULK reply's varbinds by the OID they answer (RFC 3416 section 4.2.3): the first
 * `requested` are one per OID asked; after them the repeaters' rows follow in turn.
 */
export function groupBulk(requested: number, nonRepeaters: number, vbs: readonly VarBind[]): VarBind[][] {
  const out: VarBind[][] = [];
  let i = 0;
  for (; i < requested && i < vbs.length; i++) out.push([vbs[i] as VarBind]);
  const repeaters = requested - nonRepeaters;
  if (repeaters <= 0) return out;
  for (; i < vbs.length; i++) out[((i - nonRepeaters) % repeaters) + nonRepeaters]?.push(vbs[i] as VarBind);
  return out;
}
