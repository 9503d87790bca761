/**
 * The SNMP transport: the only module in collector/ that imports `net-snmp`. It gives a device's requests
 * as a few promise-returning methods over one of two transports, with our own VarBind type (Counter64 as
 * bigint) and SnmpError with a ProbeFailureReason as `code`:
 *   - SNMPv2c: v2c-session.ts with its own codec (v2c-codec.ts): requests written straight into a Buffer,
 *     replies read straight into VarBinds. net-snmp's request and decode path cost more per poll than
 *     the whole budget of issue #14 allows (see README, "Fleet benchmark"); `codec: 'net-snmp'` keeps
 *     the old path, for comparison.
 *   - SNMPv3: net-snmp's Session (USM, keys, encryption), its callbacks, values and error zoo mapped here.
 *
 * Sessions do not open a UDP socket each, so the open files do not grow with the fleet: v2c sessions send
 * through the process's v2c transport (v2c-transport.ts: shared sockets, replies matched by request id),
 * net-snmp's through a bounded pool of shared sockets (socket-pool.ts, its `dgramModule` option).
 *
 * Retries are done here, not by net-snmp (its sessions are created with retries: 0), so a caller can ask
 * for a single attempt: the bulk walk's too-big fallback (walk.ts) must not wait out every retry of a
 * request that the agent will always drop.
 */
import snmp from 'net-snmp';
import { SnmpError, errorMessage } from '../../core/errors.ts';
import type { Device, ProbeFailureReason, SnmpAuthProtocol, SnmpPrivProtocol } from '../../core/types.ts';
import { walkSubtree } from './walk.ts';
import { SocketPool } from './socket-pool.ts';
import { V2cError, V2cSession, type Done } from './v2c-session.ts';
import { V2cTransport } from './v2c-transport.ts';

/** SMI value types (RFC 2578) and the three SNMPv2 per-varbind exceptions (RFC 3416 section 4.2). */
export type VarBindType =
  | 'Boolean'
  | 'Integer'
  | 'BitString'
  | 'OctetString'
  | 'Null'
  | 'OID'
  | 'IpAddress'
  | 'Counter32'
  | 'Gauge32'
  | 'TimeTicks'
  | 'Opaque'
  | 'Counter64'
  | 'noSuchObject'
  | 'noSuchInstance'
  | 'endOfMibView';

export type VarBindValue = bigint | number | string | Buffer | boolean | null;

/**
 * One variable binding as the agent sent it. OctetString/Opaque values stay raw Buffers (the decoder
 * decides whether they are text); Counter64 is a bigint; Counter32, Gauge32, TimeTicks, Integer are
 * numbers; OID and IpAddress are dotted strings; exceptions carry null.
 */
export interface VarBind {
  readonly oid: string;
  readonly type: VarBindType;
  readonly value: VarBindValue;
}

export const EXCEPTION_TYPES: ReadonlySet<VarBindType> = new Set([
  'noSuchObject',
  'noSuchInstance',
  'endOfMibView',
]);

export interface RequestOptions {
  /** Attempts for this request (1 = no retry). Defaults to the client's retries + 1. */
  readonly attempts?: number | undefined;
}

export interface SnmpClient {
  get(oids: readonly string[], opts?: RequestOptions): Promise<VarBind[]>;
  /** One GETBULK: for each repeater OID, the varbinds the agent returned for it (possibly fewer than asked). */
  getBulk(
    oids: readonly string[],
    nonRepeaters: number,
    maxRepetitions: number,
    opts?: RequestOptions,
  ): Promise<VarBind[][]>;
  /** Every varbind under `baseOid`, by GETBULK, with the too-big fallback of walk.ts. */
  bulkWalk(baseOid: string, maxRepetitions: number): Promise<VarBind[]>;
  close(): void;
}

export interface SnmpClientOptions {
  readonly timeoutMs: number;
  readonly retries: number;
  /** The UDP sockets a net-snmp session sends through (default: the process's shared pool). */
  readonly sockets?: SocketPool | undefined;
  /** What a v2c session of the own codec sends through (default: the process's shared transport). */
  readonly v2c?: V2cTransport | undefined;
  /**
   * Who encodes and decodes SNMPv2c: `own` (v2c-codec.ts, the default) or `net-snmp` (the library's
   * Session, as before issue #14; for benchmarks and the tests that compare the two). v3 is net-snmp's.
   */
  readonly codec?: 'own' | 'net-snmp' | undefined;
}

/**
 * Real UDP sockets every SNMP client of the process shares, at most, in the v2c transport and in the
 * socket pool each (v2c-transport.ts, socket-pool.ts): the count stays bounded.
 * Not fewer: libuv reads at most 32 datagrams from a socket per turn of the event loop, and a reply
 * left in a socket's buffer while the loop runs its timers can time out there. 64 sockets read up to
 * 2,048 replies a turn, more than the in-flight cap (snmp.concurrency, 256 by default) can have pending.
 */
export const SHARED_SOCKETS = 64;
let sharedPool: SocketPool | undefined;

/**
 * The process's pool, made on first use. One pool for the whole process, because the number that matters
 * (open files) is the process's; its sockets hold the event loop open only while a reply is awaited.
 */
export function sharedSocketPool(): SocketPool {
  return (sharedPool ??= new SocketPool({ size: SHARED_SOCKETS }));
}

let sharedTransport: V2cTransport | undefined;

/** The process's v2c transport, made on first use (one for the process, as the pool). */
export function sharedV2cTransport(): V2cTransport {
  return (sharedTransport ??= new V2cTransport({ size: SHARED_SOCKETS }));
}

/** An SNMP request failed. `code` is the ProbeFailureReason; `status` is the agent's error-status, if any. */
export class SnmpRequestError extends SnmpError {
  readonly reason: ProbeFailureReason;
  /** RFC 3416 error-status name (e.g. "TooBig") when the agent answered with an error. */
  readonly status: string | undefined;

  constructor(
    reason: ProbeFailureReason,
    message: string,
    opts: { status?: string | undefined; cause?: unknown } = {},
  ) {
    super(reason, message, { retryable: reason === 'timeout', cause: opts.cause });
    this.reason = reason;
    this.status = opts.status;
  }
}

const TYPE_NAMES: Readonly<Record<number, VarBindType>> = {
  1: 'Boolean',
  2: 'Integer',
  3: 'BitString',
  4: 'OctetString',
  5: 'Null',
  6: 'OID',
  64: 'IpAddress',
  65: 'Counter32',
  66: 'Gauge32',
  67: 'TimeTicks',
  68: 'Opaque',
  70: 'Counter64',
  128: 'noSuchObject',
  129: 'noSuchInstance',
  130: 'endOfMibView',
};

const AUTH: Readonly<Record<SnmpAuthProtocol, snmp.AuthProtocols>> = {
  md5: snmp.AuthProtocols.md5,
  sha: snmp.AuthProtocols.sha,
  sha224: snmp.AuthProtocols.sha224,
  sha256: snmp.AuthProtocols.sha256,
  sha384: snmp.AuthProtocols.sha384,
  sha512: snmp.AuthProtocols.sha512,
};

const PRIV: Readonly<Record<SnmpPrivProtocol, snmp.PrivProtocols>> = {
  des: snmp.PrivProtocols.des,
  aes: snmp.PrivProtocols.aes,
  aes256b: snmp.PrivProtocols.aes256b,
  aes256r: snmp.PrivProtocols.aes256r,
};

/** Big-endian unsigned bytes → bigint (Counter64 arrives as a Buffer of up to 9 bytes). */
export function bufferToBigInt(buf: Uint8Array): bigint {
  let v = 0n;
  for (const byte of buf) v = (v << 8n) | BigInt(byte);
  return v;
}

/** net-snmp's varbind → ours. Exported for unit tests of the adapter. */
export function fromNetSnmp(vb: snmp.Varbind): VarBind {
  const type = vb.type === undefined ? undefined : TYPE_NAMES[vb.type];
  if (type === undefined) {
    // net-snmp rejects unknown types while parsing; this is a guard, not an expected path.
    return { oid: vb.oid, type: 'Null', value: null };
  }
  const raw = vb.value;
  if (type === 'Counter64') {
    if (Buffer.isBuffer(raw)) return { oid: vb.oid, type, value: bufferToBigInt(raw) };
    if (typeof raw === 'bigint') return { oid: vb.oid, type, value: raw };
    if (typeof raw === 'number') return { oid: vb.oid, type, value: BigInt(raw) };
    return { oid: vb.oid, type, value: null };
  }
  return { oid: vb.oid, type, value: raw ?? null };
}

function credentialsOf(device: Device): NonNullable<Device['snmp']> {
  if (!device.snmp) {
    throw new SnmpRequestError('internal', `device ${device.id} has no SNMP credentials`);
  }
  return device.snmp;
}

function createSession(device: Device, opts: SnmpClientOptions): snmp.Session {
  const creds = credentialsOf(device);
  const base = {
    port: device.port,
    timeout: opts.timeoutMs,
    retries: 0,
    backoff: 1,
    idBitsSize: 32,
    // Not a socket per session: one of a few shared ones (socket-pool.ts).
    dgramModule: (opts.sockets ?? sharedSocketPool()).dgramModule,
  };
  if (creds.version === '2c') {
    // net-snmp defaults to SNMPv1, which has no GETBULK and no Counter64.
    return snmp.createSession(device.host, creds.community.reveal(), { ...base, version: snmp.Version2c });
  }
  const level =
    creds.level === 'authPriv'
      ? snmp.SecurityLevel.authPriv
      : creds.level === 'authNoPriv'
        ? snmp.SecurityLevel.authNoPriv
        : snmp.SecurityLevel.noAuthNoPriv;
  const user: snmp.User = { name: creds.user, level };
  if (creds.level !== 'noAuthNoPriv') {
    if (!creds.authKey)
      throw new SnmpRequestError('internal', `device ${device.id}: ${creds.level} needs an authKey`);
    user.authProtocol = AUTH[creds.authProtocol ?? 'sha'];
    user.authKey = creds.authKey.reveal();
  }
  if (creds.level === 'authPriv') {
    if (!creds.privKey)
      throw new SnmpRequestError('internal', `device ${device.id}: authPriv needs a privKey`);
    user.privProtocol = PRIV[creds.privProtocol ?? 'aes'];
    user.privKey = creds.privKey.reveal();
  }
  return snmp.createV3Session(device.host, user, { ...base, version: snmp.Version3 });
}

const AUTH_CODES = new Set<number>([
  snmp.ResponseInvalidCode.EAuthFailure,
  snmp.ResponseInvalidCode.ECouldNotDecrypt,
  14, // ENotInTimeWindow (net-snmp 3.29; missing from @types/net-snmp)
  snmp.ResponseInvalidCode.EUnexpectedReport,
]);

/** Any transport failure → SnmpRequestError. Messages name the device, never a credential. */
export function toSnmpError(err: unknown, where: string): SnmpRequestError {
  if (err instanceof SnmpRequestError) return err;
  if (err instanceof V2cError) {
    return new SnmpRequestError(err.reason, `${where}: ${err.message}`, { status: err.status, cause: err });
  }
  const e = err as { name?: unknown; code?: unknown; status?: unknown; message?: unknown };
  const msg = `${where}: ${errorMessage(err)}`;
  switch (e?.name) {
    case 'RequestTimedOutError':
      return new SnmpRequestError('timeout', `${where}: no response (timeout)`, { cause: err });
    case 'ResponseInvalidError':
      // USM reports (wrong digest, unknown user, decryption error) and undecryptable replies.
      if (typeof e.code === 'number' && AUTH_CODES.has(e.code))
        return new SnmpRequestError('auth', msg, { cause: err });
      return new SnmpRequestError('decode', msg, { cause: err });
    case 'RequestFailedError': {
      const status = typeof e.status === 'number' ? snmp.ErrorStatus[e.status] : undefined;
      return new SnmpRequestError('agent_error', msg, { status, cause: err });
    }
    case 'RequestInvalidError':
      return new SnmpRequestError('internal', msg, { cause: err });
    default:
      if (e?.code === 'ECONNREFUSED') return new SnmpRequestError('refused', msg, { cause: err });
      return new SnmpRequestError('internal', msg, { cause: err });
  }
}

/** What carries a client's requests: v2c-session.ts, or net-snmp's Session. Results as our VarBinds. */
interface Transport {
  get(oids: readonly string[], done: Done<VarBind[]>): void;
  getBulk(
    oids: readonly string[],
    nonRepeaters: number,
    maxRepetitions: number,
    done: Done<VarBind[][]>,
  ): void;
  close(): void;
}

/** net-snmp's Session as a Transport: its varbinds mapped by fromNetSnmp. */
function netSnmpTransport(session: snmp.Session): Transport {
  return {
    get: (oids, done) =>
      session.get([...oids], (err: Error | null, vbs?: snmp.Varbind[]) =>
        err ? done(err) : done(null, (vbs ?? []).map(fromNetSnmp)),
      ),
    getBulk: (oids, nonRepeaters, maxRepetitions, done) =>
      session.getBulk([...oids], nonRepeaters, maxRepetitions, (err: Error | null, vbs?: unknown[]) =>
        err
          ? done(err)
          : done(
              null,
              ((vbs ?? []) as (snmp.Varbind | snmp.Varbind[])[]).map((v) =>
                (Array.isArray(v) ? v : [v]).map(fromNetSnmp),
              ),
            ),
      ),
    close: () => session.close(),
  };
}

class SessionClient implements SnmpClient {
  readonly #transport: Transport;
  /** Kept for error messages (which name it), not a string made per device up front. */
  readonly #device: Device;
  readonly #attempts: number;
  /** Time of the last reply that could not be parsed: a timeout after it is reported as `decode`. */
  #lastDecodeErrorAt = -Infinity;
  #lastDecodeError = '';
  #closed = false;

  constructor(device: Device, opts: SnmpClientOptions) {
    this.#device = device;
    this.#attempts = Math.max(1, opts.retries + 1);
    const unparseable = (err: unknown): void => {
      this.#lastDecodeErrorAt = performance.now();
      this.#lastDecodeError = errorMessage(err);
    };
    try {
      const creds = credentialsOf(device);
      if (creds.version === '2c' && opts.codec !== 'net-snmp') {
        this.#transport = new V2cSession({
          host: device.host,
          port: device.port,
          community: creds.community.reveal(),
          timeoutMs: opts.timeoutMs,
          transport: opts.v2c ?? sharedV2cTransport(),
          onUnparseable: unparseable,
        });
      } else {
        const session = createSession(device, opts);
        // net-snmp emits "error" for a datagram it cannot parse; without a listener that would throw.
        session.on('error', unparseable);
        this.#transport = netSnmpTransport(session);
      }
    } catch (err) {
      throw toSnmpError(err, this.#where);
    }
  }

  get(oids: readonly string[], opts: RequestOptions = {}): Promise<VarBind[]> {
    return this.#request(opts, (done: Done<VarBind[]>) => this.#transport.get(oids, done));
  }

  getBulk(
    oids: readonly string[],
    nonRepeaters: number,
    maxRepetitions: number,
    opts: RequestOptions = {},
  ): Promise<VarBind[][]> {
    return this.#request(opts, (done: Done<VarBind[][]>) =>
      this.#transport.getBulk(oids, nonRepeaters, maxRepetitions, done),
    );
  }

  bulkWalk(baseOid: string, maxRepetitions: number): Promise<VarBind[]> {
    return walkSubtree(this, baseOid, { maxRepetitions });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#transport.close();
    } catch {
      // Already closed by the library after a socket error: nothing to release.
    }
  }

  /** The device, as error messages name it. */
  get #where(): string {
    return `${this.#device.id} (${this.#device.host}:${this.#device.port})`;
  }

  async #request<T>(opts: RequestOptions, send: (done: Done<T>) => void): Promise<T> {
    const attempts = Math.max(1, opts.attempts ?? this.#attempts);
    let last: SnmpRequestError | undefined;
    for (let i = 0; i < attempts; i++) {
      if (this.#closed) throw new SnmpRequestError('internal', `${this.#where}: session closed`);
      const started = performance.now();
      try {
        return await new Promise<T>((resolve, reject) => {
          try {
            send((err, result) => (err ? reject(err) : resolve(result as T)));
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      } catch (err) {
        last = toSnmpError(err, this.#where);
        if (last.reason === 'timeout' && this.#lastDecodeErrorAt >= started) {
          throw new SnmpRequestError(
            'decode',
            `${this.#where}: unparseable reply (${this.#lastDecodeError})`,
            {
              cause: err,
            },
          );
        }
        if (!last.retryable) throw last;
      }
    }
    throw last ?? new SnmpRequestError('internal', `${this.#where}: no attempt made`);
  }
}

/** A client for one device (v2c or v3 from device.snmp). Creating it does no I/O. */
export function openSnmpClient(device: Device, opts: SnmpClientOptions): SnmpClient {
  return new SessionClient(device, opts);
}
