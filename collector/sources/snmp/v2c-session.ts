/**
 * One SNMPv2c agent's requests: GET and GETBULK, encoded and decoded by v2c-codec.ts, sent through the
 * process's v2c transport (v2c-transport.ts: shared sockets, one table of requests in flight). The
 * transport under session.ts's client for v2c devices (net-snmp keeps v3). A session is kept per device,
 * so it holds only its agent's address and community: nothing is kept between requests.
 *
 * What it does per request, as net-snmp's Session did: a request id (the transport's, unique in the
 * process), one timer, the reply matched by id and source address (replies to other sessions, and late
 * replies to a request that timed out, are ignored), then checked: version and community as sent, a
 * GetResponse, error-status 0, and for a GET one varbind per OID asked. Retries are the caller's
 * (session.ts). Failures are V2cError with the ProbeFailureReason they stand for; a send error
 * (ECONNREFUSED, an unknown host) is passed as it is.
 *
 * Differences, on purpose: a reply that matches a request but does not parse fails that request at once
 * as `decode` (net-snmp dropped it and let the request time out); and no error message carries the
 * community (net-snmp's community mismatch message printed both).
 */
import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import { errorMessage } from '../../core/errors.ts';
import type { VarBind } from './session.ts';
import {
  decodeVarbinds,
  encodeRequest,
  ERROR_STATUS,
  PduTag,
  VERSION_2C,
  type MessageHeader,
} from './v2c-codec.ts';
import { V2cError, type RequestOwner, type V2cTransport } from './v2c-transport.ts';

export { V2cError } from './v2c-transport.ts';

export type Done<T> = (err: Error | null, result?: T) => void;

export interface V2cSessionOptions {
  readonly host: string;
  readonly port: number;
  readonly community: string;
  /** Per request. */
  readonly timeoutMs: number;
  readonly transport: V2cTransport;
  /** A datagram from the agent that is not an SNMP reply at all (no request id to blame). */
  readonly onUnparseable?: ((err: unknown) => void) | undefined;
}

/**
 * Communities are few (a fleet shares a handful): one Buffer each, shared by the sessions that use it,
 * not one per session (read only: the encoder copies it into each request). Bounded, in case an
 * inventory gives every device its own.
 */
const communities = new Map<string, Buffer>();

function communityBuffer(community: string): Buffer {
  let b = communities.get(community);
  if (b === undefined) {
    if (communities.size >= 1024) communities.clear();
    b = Buffer.from(community, 'utf8');
    communities.set(community, b);
  }
  return b;
}

export class V2cSession implements RequestOwner {
  readonly #host: string;
  /** The host's address family when it is an IP address; 0 for a name (looked up per request). */
  readonly #family: 0 | 4 | 6;
  readonly #port: number;
  readonly #community: Buffer;
  readonly #timeoutMs: number;
  readonly #transport: V2cTransport;
  readonly #onUnparseable: ((err: unknown) => void) | undefined;
  /** Requests of this session in flight: close() looks for them only when there are some. */
  #inFlight = 0;
  #closed = false;

  constructor(opts: V2cSessionOptions) {
    this.#host = opts.host;
    const family = isIP(opts.host);
    this.#family = family === 4 || family === 6 ? family : 0;
    this.#port = opts.port;
    this.#community = communityBuffer(opts.community);
    this.#timeoutMs = opts.timeoutMs;
    this.#transport = opts.transport;
    this.#onUnparseable = opts.onUnparseable;
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

  /** Requests in flight fail (`internal`); later ones are refused. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // The error is made only when there is one to fail: closing an idle session (each of them, at
    // shutdown or when the inventory changes) builds no Error, whose stack capture costs more than the rest.
    if (this.#inFlight > 0) this.#transport.cancel(this, new V2cError('internal', 'session closed'));
  }

  /** RequestOwner: the transport got a datagram from this agent that is not SNMP. */
  unparseable(err: unknown): void {
    this.#onUnparseable?.(err);
  }

  #request(
    pdu: number,
    oids: readonly string[],
    nonRepeaters: number,
    maxRepetitions: number,
    done: Done<VarBind[]>,
  ): void {
    if (this.#closed) return done(new V2cError('internal', 'session closed'));
    const id = this.#transport.nextId();
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
    this.#inFlight++;
    const settled = (err: Error | null, msg?: Buffer, h?: MessageHeader): void => {
      this.#inFlight--;
      if (err || msg === undefined || h === undefined)
        return done(err ?? new V2cError('internal', 'no reply'));
      const reply = replyOf(msg, h, this.#community);
      if (reply instanceof Error) done(reply);
      else done(null, reply);
    };
    if (this.#family !== 0) {
      this.#transport.send(this, id, buf, this.#host, this.#port, this.#family, this.#timeoutMs, settled);
      return;
    }
    lookup(this.#host, (err, ip, family) => {
      if (err) return settled(err);
      if (this.#closed) return settled(new V2cError('internal', 'session closed'));
      this.#transport.send(this, id, buf, ip, this.#port, family === 6 ? 6 : 4, this.#timeoutMs, settled);
    });
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
