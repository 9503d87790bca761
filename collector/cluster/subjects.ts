/**
 * The cluster's names on NATS and the codecs of what travels under them. Pure: constants, encoders and
 * decoders, no I/O (collector/cluster/nats.ts does the talking). Shared by the collector node, the
 * membership watcher and the alerting node (collector/cluster/leader.ts), so both ends agree by import.
 *
 *   KV  netmon_members / <memberId>      { v:1, id, roles, pins, startedAtMs }   put every heartbeat
 *   KV  netmon_leader  / alerting        { v:1, holder, term, renewedAtMs, http? } the alerting lease
 *   JS  NETMON_RESULTS  netmon.results.<memberId>   { v:1, collector, seq, startedAtMs, probe }
 *       header Nats-Msg-Id: <deviceId>:<timeMs>:<source>   (JetStream drops a repeat within 2 min)
 *   JS  NETMON_EDGE_<DOMAIN> (in an edge's leaf domain)  netmon.edge.<domain>.<memberId>   same body and header;
 *       NETMON_RESULTS sources it across domains (api $JS.<domain>.API): kept at the edge while the uplink
 *       is cut, copied to the hub in order when it returns
 *   JS  durable pull consumer `alerting` on NETMON_RESULTS (explicit ack)
 *   core netmon.probe.<deviceId>  { delayMs, kind? }   alerting asks the owner of a device for a probe:
 *       kind 'poll' (or none) an SNMP poll, 'ping' a ping at once (the owner's Pinger; delayMs unused)
 *
 * Decoders never throw: a payload that is not what its subject carries gives `{ ok: false, error }` with
 * what was wrong, so the receiver counts it, logs it and goes on (a bad message is never a crash).
 */
import { z } from 'zod';
import { FAILURE_REASONS } from '../collection/collection.ts';
import type { ProbeFailureReason, ProbeResult } from '../core/types.ts';

export const MEMBERS_BUCKET = 'netmon_members';
export const LEADER_BUCKET = 'netmon_leader';
export const LEADER_KEY = 'alerting';
export const RESULTS_STREAM = 'NETMON_RESULTS';
export const RESULTS_PREFIX = 'netmon.results.';
export const RESULTS_SUBJECTS = `${RESULTS_PREFIX}>`;
/** JetStream drops a message whose Nats-Msg-Id it has seen within this window (a retried publish). */
export const RESULTS_DUPLICATE_WINDOW_MS = 120_000;
/** Results are kept this long (late edge results and a standby leader's catch-up read from here). */
export const RESULTS_MAX_AGE_MS = 24 * 3_600_000;
export const ALERTING_CONSUMER = 'alerting';
export const PROBE_PREFIX = 'netmon.probe.';
export const PROBE_SUBJECTS = `${PROBE_PREFIX}>`;

export const resultSubject = (memberId: string): string => `${RESULTS_PREFIX}${memberId}`;

export const EDGE_PREFIX = 'netmon.edge.';
/** The stream an edge collector publishes to, in its leaf node's own JetStream domain. */
export const edgeStream = (domain: string): string =>
  `NETMON_EDGE_${domain.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
/** Subjects of an edge's stream: not under netmon.results.>, so the hub's stream gets them only by sourcing. */
export const edgeSubjects = (domain: string): string => `${EDGE_PREFIX}${domain}.>`;
export const edgeResultSubject = (domain: string, memberId: string): string =>
  `${EDGE_PREFIX}${domain}.${memberId}`;
/** The JetStream API of another domain, as a stream source's `external.api` names it. */
export const domainApi = (domain: string): string => `$JS.${domain}.API`;
export const probeSubject = (deviceId: string): string => `${PROBE_PREFIX}${deviceId}`;

/** The device a probe request is for (device ids may hold dots: the rest of the subject is the id). */
export function deviceOfProbeSubject(subject: string): string | undefined {
  if (!subject.startsWith(PROBE_PREFIX)) return undefined;
  const id = subject.slice(PROBE_PREFIX.length);
  return id === '' ? undefined : id;
}

/** The collector a result subject names. */
export function collectorOfResultSubject(subject: string): string | undefined {
  if (!subject.startsWith(RESULTS_PREFIX)) return undefined;
  const id = subject.slice(RESULTS_PREFIX.length);
  return id === '' || id.includes('.') ? undefined : id;
}

/** One poll is one message: a retried publish of the same poll carries the same id. */
export function resultMsgId(probe: Pick<ProbeResult, 'deviceId' | 'timeMs' | 'source'>): string {
  return `${probe.deviceId}:${probe.timeMs}:${probe.source}`;
}

export type Decoded<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

// ---- payloads --------------------------------------------------------------------------------------------

export interface MemberRecord {
  readonly v: 1;
  readonly id: string;
  readonly roles: readonly string[];
  /** Kecamatan the member is pinned to (empty: unpinned). */
  readonly pins: readonly string[];
  readonly startedAtMs: number;
}

export interface LeaderRecord {
  readonly v: 1;
  readonly holder: string;
  /** The fencing token: previous term + 1 at each takeover. */
  readonly term: number;
  readonly renewedAtMs: number;
  /** Where the holder serves its HTTP API, console and feeds (a standby names it in its 503s). */
  readonly http?: string | undefined;
}

export interface ResultMessage {
  readonly v: 1;
  readonly collector: string;
  /** The collector's own counter: 1, 2, 3, ... from its start (startedAtMs), so a gap shows a loss. */
  readonly seq: number;
  /** When the collector process started: (collector, startedAtMs) names one run of seq. */
  readonly startedAtMs?: number | undefined;
  readonly probe: ProbeResult;
}

/** What the owner does: an SNMP poll (absent: a poll, as before ping in a cluster) or a ping now. */
export type ProbeKind = 'poll' | 'ping';

export interface ProbeRequest {
  readonly delayMs: number;
  readonly kind?: ProbeKind | undefined;
}

/** Epoch ms: Date.now() gives whole ms, a slot time may be fractional (scheduler.ts phaseOf). */
const time = z.number().nonnegative();
const name = z.string().min(1).max(200);

const memberSchema = z.strictObject({
  v: z.literal(1),
  id: name,
  roles: z.array(name),
  pins: z.array(name),
  startedAtMs: time,
});

const leaderSchema = z.strictObject({
  v: z.literal(1),
  holder: name,
  term: z.number().int().min(1),
  renewedAtMs: time,
  http: z.string().url().max(500).optional(),
});

const probeSchema = z.strictObject({
  deviceId: name,
  timeMs: time,
  ok: z.boolean(),
  durationMs: z.number().nonnegative(),
  source: z.enum(['snmp', 'mqtt', 'ping']),
  failure: z
    .strictObject({
      reason: z.enum(FAILURE_REASONS as [ProbeFailureReason, ...ProbeFailureReason[]]),
      message: z.string(),
    })
    .optional(),
});

const resultSchema = z.strictObject({
  v: z.literal(1),
  collector: name,
  seq: z.number().int().min(1),
  startedAtMs: time.optional(),
  probe: probeSchema,
});

const probeRequestSchema = z.strictObject({
  delayMs: z.number().int().min(0).max(3_600_000),
  kind: z.enum(['poll', 'ping']).optional(),
});

const utf8 = new TextEncoder();
const text = new TextDecoder('utf-8', { fatal: true });

function encode(value: unknown): Uint8Array {
  return utf8.encode(JSON.stringify(value));
}

/** Bytes -> JSON -> schema, each failure said in words (with the field path for a schema miss). */
function decode<T>(what: string, schema: z.ZodType<T>, bytes: Uint8Array): Decoded<T> {
  let json: unknown;
  try {
    json = JSON.parse(text.decode(bytes));
  } catch (err) {
    const why = err instanceof SyntaxError ? 'not JSON' : 'not UTF-8';
    return { ok: false, error: `${what}: ${why} (${bytes.length} bytes)` };
  }
  const r = schema.safeParse(json);
  if (r.success) return { ok: true, value: r.data };
  const first = r.error.issues[0];
  const at = first && first.path.length > 0 ? first.path.join('.') : '(top level)';
  return { ok: false, error: `${what}: ${at}: ${first?.message ?? 'invalid'}` };
}

export const encodeMember = (m: MemberRecord): Uint8Array => encode(m);
export const decodeMember = (b: Uint8Array): Decoded<MemberRecord> =>
  decode('member record', memberSchema, b);

export const encodeLeader = (l: LeaderRecord): Uint8Array => encode(l);
export const decodeLeader = (b: Uint8Array): Decoded<LeaderRecord> =>
  decode('leader record', leaderSchema, b);

export const encodeResult = (r: ResultMessage): Uint8Array => encode(r);
export const decodeResult = (b: Uint8Array): Decoded<ResultMessage> =>
  decode('probe result', resultSchema, b);

export const encodeProbeRequest = (r: ProbeRequest): Uint8Array => encode(r);
export const decodeProbeRequest = (b: Uint8Array): Decoded<ProbeRequest> =>
  decode('probe request', probeRequestSchema, b);
