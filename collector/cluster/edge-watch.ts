/**
 * "Monitoring of Kuta Selatan lost" (issue #15): an edge (config/cluster.ts `edges`) whose collectors are
 * all gone from membership is one incident of its own kind, told apart from "sites in Kuta Selatan are
 * down". Its devices are not polled from the centre (strict pins, ownership.ts), so no site pages while
 * it lasts; the incident resolves when a collector of the edge is back, and the results the edge kept
 * through the cut then arrive late (history and reports, never pages: remote-collection.ts ProbeGate).
 *
 * Pure: the edges, the live members (membership.ts liveView, which already waited the membership
 * timeout after the last heartbeat) and the time in; the new state and the events out. An edge never seen
 * since this leader began watching gets one membership timeout of grace (the leader just started, the
 * edge's heartbeats may be on their way) before it counts as lost. EdgeWatch below feeds it from the
 * members bucket; the alerting leader turns its events into incidents in the store and their pages
 * (collector/alerting/edge-book.ts), and starts each watch from the incidents the store holds open, so a
 * new leader continues an incident instead of raising it again.
 */
import type { EdgeConfig } from '../../config/cluster.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { formatWita } from '../core/time-zone.ts';
import type { Site } from '../core/types.ts';
import { formatDuration, type AlertText } from '../alerting/messages.ts';
import type { Notification } from '../notify/notification.ts';
import {
  liveView,
  nextExpiry,
  observe,
  type MemberEvent,
  type MembersStore,
  type Observations,
} from './membership.ts';
import { decodeMember, type MemberRecord } from './subjects.ts';

/** What the watch knows of one edge. */
export interface EdgeStatus {
  /** Served: at least one of its collectors is live. */
  readonly served: boolean;
  /** When it was lost (an open "monitoring lost" incident); absent while served or not yet judged. */
  readonly lostAtMs?: number | undefined;
  /**
   * The open incident's id, when it was not opened by this judgement (taken over from the incident store:
   * a new leader continues it); absent: incidentIdOf(edge, lostAtMs).
   */
  readonly incidentId?: string | undefined;
}

/** An open "monitoring lost" incident as the incident store holds it (collector/alerting/edge-book.ts). */
export interface LostEdge {
  readonly domain: string;
  readonly incidentId: string;
  readonly lostAtMs: number;
}

export type EdgeStates = ReadonlyMap<string, EdgeStatus>;

export interface EdgeEvent {
  readonly kind: 'lost' | 'back';
  readonly edge: EdgeConfig;
  /** The incident: one per loss, named by the edge and the time it was lost. */
  readonly incidentId: string;
  readonly lostAtMs: number;
  /** When it happened (lost: = lostAtMs). */
  readonly atMs: number;
  /** For 'back': the collectors serving it again. */
  readonly collectors: readonly string[];
}

/** The live collectors pinned to any kecamatan of the edge. */
export function servingCollectors(edge: EdgeConfig, live: readonly MemberRecord[]): string[] {
  return live
    .filter((m) => m.roles.includes('collector') && m.pins.some((k) => edge.kecamatan.includes(k)))
    .map((m) => m.id);
}

export const incidentIdOf = (edge: EdgeConfig, lostAtMs: number): string =>
  `monitoring:${edge.domain}:${lostAtMs}`;

/**
 * One judgement: per edge, served or not; `lost` when it stops being served (or was never served within
 * `graceMs` of `watchStartedMs`), `back` when a lost edge is served again. Nothing else is an event.
 */
export function judgeEdges(
  edges: readonly EdgeConfig[],
  live: readonly MemberRecord[],
  states: EdgeStates,
  nowMs: number,
  watch: { readonly startedAtMs: number; readonly graceMs: number },
): { readonly states: Map<string, EdgeStatus>; readonly events: EdgeEvent[] } {
  const next = new Map<string, EdgeStatus>();
  const events: EdgeEvent[] = [];
  for (const edge of edges) {
    const before = states.get(edge.domain);
    const collectors = servingCollectors(edge, live);
    if (collectors.length > 0) {
      if (before?.lostAtMs !== undefined)
        events.push({
          kind: 'back',
          edge,
          incidentId: before.incidentId ?? incidentIdOf(edge, before.lostAtMs),
          lostAtMs: before.lostAtMs,
          atMs: nowMs,
          collectors,
        });
      next.set(edge.domain, { served: true });
      continue;
    }
    if (before?.lostAtMs !== undefined) {
      next.set(edge.domain, before);
      continue;
    }
    const wasServed = before?.served === true;
    const graceOver = nowMs - watch.startedAtMs >= watch.graceMs;
    if (wasServed || graceOver) {
      events.push({
        kind: 'lost',
        edge,
        incidentId: incidentIdOf(edge, nowMs),
        lostAtMs: nowMs,
        atMs: nowMs,
        collectors: [],
      });
      next.set(edge.domain, { served: false, lostAtMs: nowMs });
    } else next.set(edge.domain, { served: false });
  }
  return { states: next, events };
}

/** The kecamatan of an edge, as people read them: "Kuta Selatan", "Kuta Selatan dan Kuta" / "and". */
function places(edge: EdgeConfig): { id: string; en: string } {
  const k = edge.kecamatan;
  if (k.length === 1) return { id: `Kec. ${k[0] ?? ''}`, en: `${k[0] ?? ''} district` };
  const head = k.slice(0, -1).join(', ');
  return { id: `Kec. ${head} dan ${k.at(-1) ?? ''}`, en: `${head} and ${k.at(-1) ?? ''} districts` };
}

/** The bilingual text: the monitoring is lost, which is not the same as the sites being down. */
export function monitoringLostText(ev: EdgeEvent, sitesTotal: number): AlertText {
  const p = places(ev.edge);
  if (ev.kind === 'lost') {
    const at = formatWita(ev.lostAtMs);
    return {
      id: `[PEMANTAUAN TERPUTUS] Pemantauan ${p.id} terputus sejak ${at}: kolektor edge (${ev.edge.domain}) tidak terhubung ke pusat. Status ${sitesTotal} lokasi tidak diketahui; ini BUKAN berarti lokasi mati. Hasil pemantauan disimpan di edge dan dikirim saat sambungan pulih.`,
      en: `[MONITORING LOST] Monitoring of ${p.en} lost since ${at}: the edge collector (${ev.edge.domain}) cannot reach the centre. The state of ${sitesTotal} sites is unknown; this does NOT mean they are down. The edge keeps its results and sends them when the link returns.`,
    };
  }
  const at = formatWita(ev.atMs);
  const dur = formatDuration(ev.atMs - ev.lostAtMs);
  return {
    id: `PULIH: pemantauan ${p.id} tersambung kembali pukul ${at} setelah ${dur.id}.`,
    en: `RECOVERED: monitoring of ${p.en} is back at ${at} after ${dur.en}.`,
  };
}

/** The notification of a "monitoring lost" incident (kind monitoring_lost), firing or resolved. */
export function monitoringLostNotification(ev: EdgeEvent, sites: readonly Site[]): Notification {
  const inEdge = sites.filter((s) => ev.edge.kecamatan.includes(s.kecamatan));
  const resolved = ev.kind === 'back';
  return {
    schema: 'badung-netmon/alert/v1',
    id: ev.incidentId,
    status: resolved ? 'resolved' : 'firing',
    kind: 'monitoring_lost',
    severity: 'high',
    startedAt: new Date(ev.lostAtMs).toISOString(),
    resolvedAt: resolved ? new Date(ev.atMs).toISOString() : undefined,
    durationS: resolved ? Math.round((ev.atMs - ev.lostAtMs) / 1000) : undefined,
    cause: `edge ${ev.edge.domain}: no live collector`,
    affected: { devices: [], sites: inEdge.map((s) => ({ id: s.id, name: s.name })) },
    text: monitoringLostText(ev, inEdge.length),
  };
}

export interface EdgeWatchOptions {
  /** The members bucket, watched only (the watch puts nothing). */
  readonly store: Pick<MembersStore, 'watch'>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly edges: readonly EdgeConfig[];
  /** The membership timeout: a member not heard from for this long is gone (and the grace at start). */
  readonly timeoutMs: number;
  /**
   * The edges already lost when this watch starts (the incidents open in the store): judged as lost from
   * the first moment, so they raise nothing new, and `back` resolves them under their own ids.
   */
  readonly lost?: readonly LostEdge[] | undefined;
  readonly onEvent: (ev: EdgeEvent) => void;
}

/**
 * The alerting leader's watch over the edges: the members bucket (observer only, no heartbeat of its
 * own), judged at every change and whenever a member's timeout runs out.
 *
 * A watch can stall when the nats-server holding its consumer dies (membership.ts); with no puts of its
 * own this watch cannot see that directly, but every live member puts each heartbeat (at most half a
 * timeout apart), so a watch that delivered nothing for half a timeout is either over a dead cluster or
 * stalled. Before such a watch raises "monitoring lost", it is replaced and the edges judged again on
 * what the new one delivers (each current value counted from when it was stored).
 */
export class EdgeWatch {
  readonly #o: EdgeWatchOptions;
  #obs: Observations = new Map();
  #states: EdgeStates = new Map();
  #startedAtMs = 0;
  #watch: { stop(): void } | undefined;
  #timer: TimerHandle | undefined;
  #running = false;
  /** When the watch last delivered anything, and when the watch in use was started. */
  #lastEventMs = -Infinity;
  #watchStartedMs = -Infinity;
  /** Bumped per watch: events of a watch that was replaced are ignored. */
  #watchGen = 0;
  #rewatching = false;

  constructor(opts: EdgeWatchOptions) {
    this.#o = opts;
  }

  async start(): Promise<void> {
    if (this.#o.edges.length === 0) return;
    this.#running = true;
    this.#startedAtMs = this.#o.clock.now();
    const known = new Set(this.#o.edges.map((e) => e.domain));
    this.#states = new Map(
      (this.#o.lost ?? [])
        .filter((l) => known.has(l.domain))
        .map((l) => [l.domain, { served: false, lostAtMs: l.lostAtMs, incidentId: l.incidentId }]),
    );
    this.#watch = await this.#startWatch();
    this.#judge();
  }

  #startWatch(): Promise<{ stop(): void }> {
    const gen = ++this.#watchGen;
    this.#watchStartedMs = this.#o.clock.now();
    return this.#o.store.watch((ev) => {
      if (gen === this.#watchGen) this.#onEvent(ev);
    });
  }

  /** Silent for half a timeout, and this silence not yet checked with a new watch. */
  #silent(now: number): boolean {
    return now - this.#lastEventMs >= this.#o.timeoutMs / 2 && this.#watchStartedMs <= this.#lastEventMs;
  }

  /** A new watch in place of this one (its observations start afresh), then the edges judged again. */
  async #rewatch(): Promise<void> {
    const { clock, log } = this.#o;
    this.#rewatching = true;
    log.warn('members watch silent before an edge would be judged lost; watching again', {
      silentMs: clock.now() - this.#lastEventMs,
    });
    const before = this.#obs;
    this.#watch?.stop();
    this.#watch = undefined;
    this.#obs = new Map();
    try {
      const watch = await this.#startWatch();
      if (this.#running) this.#watch = watch;
      else watch.stop();
    } catch (err) {
      // Judged on what was seen before: the edges whose members timed out are lost.
      this.#obs = before;
      log.warn('members watch could not be started again', { error: errorMessage(err) });
    } finally {
      this.#rewatching = false;
    }
    if (this.#running) this.#judge();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#watch?.stop();
    this.#watch = undefined;
  }

  /** The edges lost now (their open incidents). */
  lost(): string[] {
    return [...this.#states.entries()].filter(([, s]) => s.lostAtMs !== undefined).map(([d]) => d);
  }

  pendingTimers(): number {
    return this.#timer ? 1 : 0;
  }

  #onEvent(ev: MemberEvent): void {
    this.#lastEventMs = this.#o.clock.now();
    let record: MemberRecord | undefined;
    if (ev.op === 'PUT') {
      const d = decodeMember(ev.value);
      if (!d.ok || d.value.id !== ev.key) return;
      record = d.value;
    }
    this.#obs = observe(this.#obs, { ...ev, record }, this.#o.clock.now());
    if (this.#running) this.#judge();
  }

  #judge(): void {
    const { clock, edges, timeoutMs, log } = this.#o;
    const now = clock.now();
    const policy = { timeoutMs };
    const live = liveView(this.#obs, now, policy);
    const r = judgeEdges(edges, live, this.#states, now, {
      startedAtMs: this.#startedAtMs,
      graceMs: timeoutMs,
    });
    if (this.#rewatching) return; // judged again once the new watch is in
    if (r.events.some((e) => e.kind === 'lost') && this.#silent(now)) {
      if (this.#timer) clock.clearTimeout(this.#timer);
      this.#timer = undefined;
      void this.#rewatch();
      return;
    }
    this.#states = r.states;
    for (const ev of r.events) {
      log.warn(ev.kind === 'lost' ? 'EDGE MONITORING LOST' : 'EDGE MONITORING BACK', {
        edge: ev.edge.domain,
        kecamatan: ev.edge.kecamatan,
        incident: ev.incidentId,
      });
      try {
        this.#o.onEvent(ev);
      } catch (err) {
        log.error('edge event not handled', { edge: ev.edge.domain, error: errorMessage(err) });
      }
    }
    if (this.#timer) clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#running) return;
    // Wake when a member's timeout runs out, or when the start's grace ends (an edge never seen).
    const expiry = nextExpiry(this.#obs, now, policy);
    const graceEnd = this.#startedAtMs + timeoutMs;
    const at = Math.min(expiry ?? Infinity, graceEnd > now ? graceEnd : Infinity);
    if (at !== Infinity)
      this.#timer = clock.setTimeout(() => {
        this.#timer = undefined;
        this.#judge();
      }, at - now);
  }
}
