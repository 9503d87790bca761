/**
 * A bounded number of UDP sockets for any number of SNMP sessions.
 *
 * net-snmp opens one UDP socket per Session (its constructor calls `dgram.createSocket`), and the poller
 * keeps a session per device: 17,000 devices held 19,087 open files against a limit of 20,000. A Session
 * takes a `dgramModule` option, though, and uses only a few methods of the socket it gets from it
 * (send, on('message'|'close'|'error'), ref, unref, close; bind only with a source address, which we never
 * set). So each session gets a SharedSocket from this pool: a small object with those methods that sends
 * through one of at most `size` real sockets and receives what the real socket gets from the session's
 * agent. The sessions, their request ids, timeouts and USM state stay net-snmp's own.
 *
 * Replies are routed by their source (address:port), which is the address the session sent to: an agent
 * answers from the address it was asked on (RFC 3417 section 3 transport mapping; on loopback and on a
 * single-homed device it always does). Two sessions talking to the same agent through one real socket both
 * get its replies and each keeps the ones whose request id it knows (net-snmp drops unknown ids). A reply
 * from an address nobody sent to is dropped and counted (`unrouted`).
 *
 * Sessions are spread over the real sockets in turn; each real socket asks for a large receive buffer
 * (the kernel caps it at net.core.rmem_max), since replies to many polls in flight now queue on a few
 * sockets. A real socket holds the event loop open only while one of its sessions waits for a reply
 * (net-snmp's ref/unref, counted), as a Session's own socket did.
 */
import { createSocket, type RemoteInfo, type Socket, type SocketType } from 'node:dgram';
import { lookup } from 'node:dns';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';

export interface SocketPoolOptions {
  /** Real sockets at most (per address family). Default 8 (the collector uses session.ts SHARED_SOCKETS). */
  readonly size?: number | undefined;
  /** SO_RCVBUF asked for each real socket, bytes. Default 4 MiB. */
  readonly recvBufferSize?: number | undefined;
}

export interface SocketPoolStats {
  /** Real UDP sockets open now. */
  readonly sockets: number;
  /** Sessions (shared sockets) open now. */
  readonly sessions: number;
  /** Datagrams received from an address no open session sent to (dropped). */
  readonly unrouted: number;
}

type SendCallback = (error: Error | null, bytes?: number) => void;
const noop = (): void => undefined;

/** One real socket and the sessions that use it. */
class Carrier {
  readonly socket: Socket;
  readonly routes = new Map<string, Set<SharedSocket>>();
  readonly members = new Set<SharedSocket>();
  #refs = 0;
  closed = false;

  constructor(
    type: SocketType,
    recvBufferSize: number,
    onMessage: (c: Carrier, msg: Buffer, rinfo: RemoteInfo) => void,
    onGone: (c: Carrier, err?: Error) => void,
  ) {
    this.socket = createSocket({ type, recvBufferSize });
    this.socket.unref();
    this.socket.on('message', (msg, rinfo) => onMessage(this, msg, rinfo));
    this.socket.on('error', (err) => onGone(this, err));
    this.socket.on('close', () => onGone(this));
  }

  ref(): void {
    if (this.#refs++ === 0 && !this.closed) this.socket.ref();
  }

  unref(): void {
    if (this.#refs === 0) return;
    if (--this.#refs === 0 && !this.closed) this.socket.unref();
  }
}

/**
 * What net-snmp sees as its socket. Methods are the subset index.js calls on `this.dgram` in a Session;
 * anything else (bind with a source address) is refused loudly rather than done wrong.
 */
export class SharedSocket extends EventEmitter {
  readonly #pool: SocketPool;
  readonly type: SocketType;
  /** The real socket it uses; undefined after that one went away, until the next send picks another. */
  carrier: Carrier | undefined;
  /** Resolved remote "address:port" keys this session sent to through its carrier (usually one). */
  readonly keys = new Set<string>();
  /** net-snmp waits for a reply (it ref'd the socket): the carrier must hold the event loop open. */
  refd = false;
  #closed = false;
  /**
   * The last address and port sent to, when the address was an IP, and their route key: a session sends
   * to one agent, so the IP check and the key string are worked out once, not per request.
   */
  #lastAddress = '';
  #lastPort = -1;
  #lastKey = '';

  constructor(pool: SocketPool, type: SocketType) {
    super();
    this.#pool = pool;
    this.type = type;
  }

  send(
    buffer: Buffer,
    offset: number,
    length: number,
    port: number,
    address: string,
    callback?: SendCallback,
  ): void {
    const done: SendCallback = callback ?? noop;
    if (address === this.#lastAddress && port === this.#lastPort)
      return this.#sendTo(buffer, offset, length, port, address, this.#lastKey, done);
    if (isIP(address) !== 0) {
      this.#lastAddress = address;
      this.#lastPort = port;
      this.#lastKey = `${address}:${port}`;
      return this.#sendTo(buffer, offset, length, port, address, this.#lastKey, done);
    }
    lookup(address, { family: this.type === 'udp6' ? 6 : 4 }, (err, ip) => {
      if (err) done(err);
      else this.#sendTo(buffer, offset, length, port, ip, `${ip}:${port}`, done);
    });
  }

  #sendTo(
    buffer: Buffer,
    offset: number,
    length: number,
    port: number,
    ip: string,
    key: string,
    done: SendCallback,
  ): void {
    const carrier = this.#closed ? undefined : this.#pool.carrierFor(this);
    if (!carrier) return done(new Error('Not running'));
    this.#pool.route(this, carrier, key);
    carrier.socket.send(buffer, offset, length, port, ip, done);
  }

  ref(): this {
    if (!this.refd && !this.#closed) {
      this.refd = true;
      this.carrier?.ref();
    }
    return this;
  }

  unref(): this {
    if (this.refd) {
      this.refd = false;
      this.carrier?.unref();
    }
    return this;
  }

  bind(): this {
    throw new Error('a pooled SNMP socket cannot bind a source address or port');
  }

  close(callback?: () => void): this {
    if (this.#closed) return this;
    this.unref();
    this.#closed = true;
    this.#pool.release(this);
    // A closed dgram socket emits 'close' (net-snmp cancels the session's requests on it), asynchronously.
    process.nextTick(() => {
      this.emit('close');
      callback?.();
    });
    return this;
  }

  /**
   * Its real socket went away (a socket error, or the pool closed): net-snmp fails the requests in flight
   * on 'close'. The session itself stays usable: its next send goes through another real socket.
   */
  lost(): void {
    this.carrier = undefined;
    this.keys.clear();
    this.refd = false;
    this.emit('close');
  }
}

export class SocketPool {
  readonly #size: number;
  readonly #recvBufferSize: number;
  readonly #carriers: Record<SocketType, Carrier[]> = { udp4: [], udp6: [] };
  #next = 0;
  #sessions = 0;
  #unrouted = 0;
  #closed = false;

  constructor(opts: SocketPoolOptions = {}) {
    const size = opts.size ?? 8;
    if (!Number.isInteger(size) || size < 1) throw new RangeError('SocketPool size must be an integer >= 1');
    this.#size = size;
    this.#recvBufferSize = opts.recvBufferSize ?? 4 * 1024 * 1024;
  }

  /** The `dgramModule` net-snmp's Session takes: its createSocket hands out shared sockets. */
  get dgramModule(): { createSocket: (type: SocketType) => SharedSocket } {
    return { createSocket: (type) => this.createSocket(type) };
  }

  /** A session's socket. No real socket is opened before its first send. */
  createSocket(type: SocketType | { type: SocketType }): SharedSocket {
    const t: SocketType = typeof type === 'string' ? type : type.type;
    this.#sessions++;
    return new SharedSocket(this, t);
  }

  /** @internal the real socket a session sends through: its own, or (first send, or its own went away) one given now. */
  carrierFor(s: SharedSocket): Carrier | undefined {
    if (s.carrier && !s.carrier.closed) return s.carrier;
    if (this.#closed) return undefined;
    const list = this.#carriers[s.type];
    let carrier: Carrier;
    if (list.length < this.#size) {
      carrier = new Carrier(
        s.type,
        this.#recvBufferSize,
        (c, msg, rinfo) => this.#deliver(c, msg, rinfo),
        (c, err) => this.#gone(s.type, c, err),
      );
      list.push(carrier);
    } else {
      // In turn, but never onto a socket with more sessions than the least loaded one has.
      carrier = list[this.#next++ % list.length] as Carrier;
      for (const c of list) if (c.members.size < carrier.members.size) carrier = c;
    }
    carrier.members.add(s);
    s.carrier = carrier;
    if (s.refd) carrier.ref();
    return carrier;
  }

  /** @internal a session sent to `key`: replies from there are its. */
  route(s: SharedSocket, carrier: Carrier, key: string): void {
    if (s.keys.has(key)) return;
    s.keys.add(key);
    let set = carrier.routes.get(key);
    if (!set) carrier.routes.set(key, (set = new Set()));
    set.add(s);
  }

  /** @internal a session closed. */
  release(s: SharedSocket): void {
    this.#sessions--;
    const carrier = s.carrier;
    s.carrier = undefined;
    if (!carrier) return;
    for (const key of s.keys) {
      const set = carrier.routes.get(key);
      set?.delete(s);
      if (set?.size === 0) carrier.routes.delete(key);
    }
    s.keys.clear();
    carrier.members.delete(s);
  }

  stats(): SocketPoolStats {
    return {
      sockets: this.#carriers.udp4.length + this.#carriers.udp6.length,
      sessions: this.#sessions,
      unrouted: this.#unrouted,
    };
  }

  /** Close every real socket; sessions still open see their socket close (net-snmp fails their requests). */
  close(): void {
    this.#closed = true;
    for (const t of ['udp4', 'udp6'] as const) {
      for (const c of [...this.#carriers[t]]) {
        c.closed = true;
        try {
          c.socket.close();
        } catch {
          // already closed
        }
        this.#gone(t, c);
      }
    }
  }

  #deliver(carrier: Carrier, msg: Buffer, rinfo: RemoteInfo): void {
    const set = carrier.routes.get(`${rinfo.address}:${rinfo.port}`);
    if (!set || set.size === 0) {
      this.#unrouted++;
      return;
    }
    for (const s of set) s.emit('message', msg, rinfo);
  }

  #gone(type: SocketType, carrier: Carrier, err?: Error): void {
    const list = this.#carriers[type];
    const i = list.indexOf(carrier);
    if (i < 0) return;
    list.splice(i, 1);
    carrier.closed = true;
    if (err) {
      try {
        carrier.socket.close();
      } catch {
        // already closed
      }
    }
    const members = [...carrier.members];
    carrier.members.clear();
    carrier.routes.clear();
    for (const s of members) s.lost();
  }
}
