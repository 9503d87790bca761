/**
 * The UDP under every SNMPv2c session of the own codec (v2c-session.ts): a bounded number of sockets and
 * one table of the requests in flight (request-table.ts), matched to their replies by request id.
 *
 * Why not a socket (or a pooled socket object) per session (issue #14): a session is kept per device, so
 * whatever a session holds is multiplied by the fleet. Routed by the reply's source address, as
 * socket-pool.ts does for net-snmp's sessions, each session needed an emitter with its listeners, a map of
 * its own requests and a set of the addresses it sent to, and each socket a map of those addresses: 1.2 KB
 * a device in a heap snapshot at 33k devices, for tables that were empty between polls. Here a request id
 * is unique in the process (one counter), so the request table is one map for every session, a session
 * holds only its agent's address and community, and nothing is kept per device between polls.
 *
 * A reply is taken only from the address and port its request was sent to (RFC 3417 section 3: an agent
 * answers from the address it was asked on); one from anywhere else, or for an id no longer in flight (a
 * reply after its timeout), is dropped and counted (`stray`). A datagram that is not an SNMP message at
 * all is blamed on the requests in flight to its sender (their session's onUnparseable), else counted.
 *
 * Sockets are opened on first use, up to `size` per address family, and used in turn; each asks for a
 * large receive buffer (replies to many requests in flight queue on a few sockets). A socket holds the
 * event loop open only while a request sent through it waits. A socket that fails is closed and its
 * requests fail at once (`internal`); the next request opens another.
 */
import { createSocket, type RemoteInfo, type Socket, type SocketType } from 'node:dgram';
import type { ProbeFailureReason } from '../../core/types.ts';
import { RequestTable } from './request-table.ts';
import { decodeHeader, type MessageHeader } from './v2c-codec.ts';

export interface V2cTransportOptions {
  /** Sockets at most, per address family. Default 64 (session.ts SHARED_SOCKETS). */
  readonly size?: number | undefined;
  /** SO_RCVBUF asked for each socket, bytes (the kernel caps it at net.core.rmem_max). Default 4 MiB. */
  readonly recvBufferSize?: number | undefined;
}

export interface V2cTransportStats {
  /** UDP sockets open now. */
  readonly sockets: number;
  /** Requests waiting for their reply. */
  readonly inFlight: number;
  /** Datagrams dropped: no request in flight with their id from their address, or not SNMP and nobody to blame. */
  readonly stray: number;
}

/** Who sent a request: told of datagrams from its agent that are not SNMP; cancel() fails its requests. */
export interface RequestOwner {
  /** A datagram from the agent that is not an SNMP message (the request still waits for its reply). */
  unparseable(err: unknown): void;
}

/** Called once per request: with the reply (the whole datagram and its parsed header), or the error. */
export type ReplyDone = (err: Error | null, msg?: Buffer, h?: MessageHeader) => void;

/** A request in flight. */
interface Request {
  readonly id: number;
  readonly owner: RequestOwner;
  readonly done: ReplyDone;
  readonly ip: string;
  readonly port: number;
  readonly carrier: Carrier;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** One socket and how many requests sent through it are waiting. */
class Carrier {
  readonly socket: Socket;
  waiting = 0;
  closed = false;

  constructor(socket: Socket) {
    this.socket = socket;
  }
}

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

export class V2cTransport {
  readonly #size: number;
  readonly #recvBufferSize: number;
  readonly #carriers: Record<SocketType, Carrier[]> = { udp4: [], udp6: [] };
  readonly #pending = new RequestTable<Request>();
  #turn = 0;
  #stray = 0;
  #closed = false;

  constructor(opts: V2cTransportOptions = {}) {
    const size = opts.size ?? 64;
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError('V2cTransport size must be an integer >= 1');
    this.#size = size;
    this.#recvBufferSize = opts.recvBufferSize ?? 4 * 1024 * 1024;
  }

  /** A request id not in flight, for the next request (encoded into the message before it is sent). */
  nextId(): number {
    return this.#pending.nextId();
  }

  /**
   * Send `msg` (a request whose id is `id`) to the agent at ip:port (an IP address: the session resolves
   * names) and wait up to `timeoutMs` for its reply. `done` is called once: with the reply, or an error
   * (V2cError `timeout`, or `internal` on socket loss or close; a send's own error as it is).
   */
  send(
    owner: RequestOwner,
    id: number,
    msg: Buffer,
    ip: string,
    port: number,
    family: 4 | 6,
    timeoutMs: number,
    done: ReplyDone,
  ): void {
    const carrier = this.#closed ? undefined : this.#carrier(family === 6 ? 'udp6' : 'udp4');
    if (carrier === undefined) return done(new V2cError('internal', 'transport closed'));
    const r: Request = { id, owner, done, ip, port, carrier, timer: undefined };
    this.#pending.add(r);
    if (carrier.waiting++ === 0) carrier.socket.ref();
    r.timer = setTimeout(() => this.#fail(r, new V2cError('timeout', 'no response (timeout)')), timeoutMs);
    carrier.socket.send(msg, 0, msg.length, port, ip, (err) => {
      if (err) this.#fail(r, err);
    });
  }

  /** Fail every request in flight for `owner` (its session closed). */
  cancel(owner: RequestOwner, err: Error): void {
    for (const r of this.#pending.entries()) if (r.owner === owner) this.#fail(r, err);
  }

  stats(): V2cTransportStats {
    return {
      sockets: this.#carriers.udp4.length + this.#carriers.udp6.length,
      inFlight: this.#pending.size,
      stray: this.#stray,
    };
  }

  /** Close every socket; requests in flight fail. Later requests fail at once. */
  close(): void {
    this.#closed = true;
    for (const t of ['udp4', 'udp6'] as const) for (const c of [...this.#carriers[t]]) this.#lose(t, c);
  }

  #carrier(type: SocketType): Carrier {
    const list = this.#carriers[type];
    if (list.length < this.#size) {
      const socket = createSocket({ type, recvBufferSize: this.#recvBufferSize });
      const carrier = new Carrier(socket);
      socket.unref();
      socket.on('message', (msg, rinfo) => this.#deliver(msg, rinfo));
      socket.on('error', () => this.#lose(type, carrier));
      socket.on('close', () => this.#lose(type, carrier));
      list.push(carrier);
      return carrier;
    }
    this.#turn = (this.#turn + 1) % list.length;
    return list[this.#turn] as Carrier;
  }

  #deliver(msg: Buffer, rinfo: RemoteInfo): void {
    let h: MessageHeader;
    try {
      h = decodeHeader(msg);
    } catch (err) {
      this.#unparseable(err, rinfo);
      return;
    }
    const r = this.#pending.get(h.requestId);
    if (r === undefined || r.port !== rinfo.port || r.ip !== rinfo.address) {
      this.#stray++;
      return;
    }
    this.#settle(r);
    r.done(null, msg, h);
  }

  /** Not SNMP: the requests waiting on its sender hear of it (a timeout then says why); else counted. */
  #unparseable(err: unknown, rinfo: RemoteInfo): void {
    let blamed = false;
    for (const r of this.#pending.entries()) {
      if (r.port !== rinfo.port || r.ip !== rinfo.address) continue;
      blamed = true;
      r.owner.unparseable(err);
    }
    if (!blamed) this.#stray++;
  }

  /** No longer in flight: out of the table, its timer cleared, its socket's hold released. */
  #settle(r: Request): boolean {
    if (!this.#pending.delete(r)) return false;
    clearTimeout(r.timer);
    if (--r.carrier.waiting === 0 && !r.carrier.closed) r.carrier.socket.unref();
    return true;
  }

  #fail(r: Request, err: Error): void {
    if (this.#settle(r)) r.done(err);
  }

  /** A socket failed or closed: it is dropped, and what waits on it fails. */
  #lose(type: SocketType, carrier: Carrier): void {
    if (carrier.closed) return;
    carrier.closed = true;
    const list = this.#carriers[type];
    const i = list.indexOf(carrier);
    if (i >= 0) list.splice(i, 1);
    try {
      carrier.socket.close();
    } catch {
      // already closed
    }
    const err = new V2cError('internal', 'socket closed');
    for (const r of this.#pending.entries()) if (r.carrier === carrier) this.#fail(r, err);
  }
}
