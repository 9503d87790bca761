/**
 * Who is in the cluster: every member puts its record in the KV bucket `netmon_members` every heartbeat,
 * and watches the bucket. A member is live while this observer has seen a put for it within `timeout`, by
 * the observer's own clock (no clock is compared across machines), and gone at once when its key is deleted
 * (a clean stop). The view is a pure function of (observations, now): `liveView` below, tested on fake time;
 * the Membership class only feeds it from the store and tells when it changes.
 *
 * Three rules beyond the design's one line:
 * - A value read when the watch starts (put before this observer was watching) counts as seen at the time
 *   the server stored it, if that is earlier than now: a member dead for an hour is not live for another
 *   `timeout` because an observer just started.
 * - Self-fencing: this member counts itself live only while its own puts come back within
 *   `timeout - heartbeat`, a heartbeat sooner than the others stop counting it. Cut off from NATS, it
 *   drops its devices before anyone takes them over, so no device is polled twice; the others take them
 *   at `timeout`. A pinned member (an edge collector behind a flaky uplink) keeps counting itself: it keeps
 *   polling its kecamatan through the cut, its results queued until the link returns.
 * - A record that does not decode is counted and logged, and changes nothing.
 * - A watch that stalls is replaced. The KV watch is an ordered consumer on one server; when that server
 *   dies, the client may take from 10 s to over 30 s to notice and recreate it (seen in
 *   test/integration/cluster/nats-failover.test.ts), or give up and end the watch. Meanwhile this member's
 *   puts are acked but never come back, so it would fence itself while the others still count it: its
 *   devices polled by nobody. A put acked `2 x heartbeat` ago whose revision the watch has not delivered
 *   means the watch is stalled: it is stopped and a new one started (current values first, each counted
 *   from when it was stored, so nothing is judged live that was not).
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { decodeMember, encodeMember, type MemberRecord } from './subjects.ts';

/** One change of the bucket as the store's watch delivers it. */
export interface MemberEvent {
  readonly key: string;
  readonly op: 'PUT' | 'DEL' | 'PURGE';
  readonly value: Uint8Array;
  /** When the server stored it (its clock). */
  readonly createdMs: number;
  /** Delivered as a current value when the watch started, not as a change seen live. */
  readonly initial: boolean;
  /** The bucket's sequence number of this change (a put's ack names the same one). */
  readonly revision: number;
}

/** The KV bucket, as membership needs it (collector/cluster/nats.ts implements it). */
export interface MembersStore {
  /** Resolves with the revision the bucket stored it at. */
  put(key: string, value: Uint8Array): Promise<number>;
  delete(key: string): Promise<void>;
  /** Watch every key; resolves once the current values have been delivered. */
  watch(onEvent: (event: MemberEvent) => void): Promise<{ stop(): void }>;
}

export interface Observation {
  readonly record: MemberRecord;
  /** When this observer saw the last put (its own clock). */
  readonly seenAtMs: number;
}

export type Observations = ReadonlyMap<string, Observation>;

/** The observations after one event (`record` is the decoded value of a put). */
export function observe(
  obs: Observations,
  event: Pick<MemberEvent, 'key' | 'op' | 'createdMs' | 'initial'> & { readonly record?: MemberRecord },
  nowMs: number,
): Map<string, Observation> {
  const next = new Map(obs);
  if (event.op !== 'PUT') {
    next.delete(event.key);
    return next;
  }
  if (!event.record) return next;
  const seenAtMs = event.initial ? Math.min(nowMs, event.createdMs) : nowMs;
  next.set(event.key, { record: event.record, seenAtMs });
  return next;
}

export interface ViewPolicy {
  readonly timeoutMs: number;
  /** This observer's own id: judged by `selfTimeoutMs` (or always live with `selfAlwaysLive`). */
  readonly self?: MemberRecord | undefined;
  readonly selfTimeoutMs?: number | undefined;
  readonly selfAlwaysLive?: boolean | undefined;
}

function timeoutOf(id: string, policy: ViewPolicy): number {
  return id === policy.self?.id ? (policy.selfTimeoutMs ?? policy.timeoutMs) : policy.timeoutMs;
}

/** The live members at `nowMs`, by id. */
export function liveView(obs: Observations, nowMs: number, policy: ViewPolicy): MemberRecord[] {
  const live: MemberRecord[] = [];
  for (const [id, o] of obs) {
    if (id === policy.self?.id && policy.selfAlwaysLive) continue;
    if (nowMs - o.seenAtMs < timeoutOf(id, policy)) live.push(o.record);
  }
  if (policy.self && policy.selfAlwaysLive) live.push(policy.self);
  return live.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** When the view next changes by time alone (a member's timeout running out), if ever. */
export function nextExpiry(obs: Observations, nowMs: number, policy: ViewPolicy): number | undefined {
  let next: number | undefined;
  for (const [id, o] of obs) {
    if (id === policy.self?.id && policy.selfAlwaysLive) continue;
    const at = o.seenAtMs + timeoutOf(id, policy);
    if (at > nowMs && (next === undefined || at < next)) next = at;
  }
  return next;
}

export interface MembershipOptions {
  readonly store: MembersStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly self: MemberRecord;
  readonly heartbeatMs: number;
  readonly timeoutMs: number;
}

export interface MembershipStats {
  readonly live: number;
  readonly heartbeats: number;
  readonly heartbeatFailures: number;
  readonly badRecords: number;
  /** Watches replaced because this member's acked puts did not come back through them. */
  readonly rewatches: number;
}

/** The membership of this process: heartbeats out, the live view in, a callback when it changes. */
export class Membership {
  readonly #o: MembershipOptions;
  readonly #policy: ViewPolicy;
  #obs: Observations = new Map();
  #watch: { stop(): void } | undefined;
  #beatTimer: TimerHandle | undefined;
  #expiryTimer: TimerHandle | undefined;
  #beating: Promise<void> | undefined;
  #running = false;
  /** Listeners are told from the first heartbeat on (the view without this member is no news). */
  #started = false;
  #lastIds = '';
  readonly #listeners: ((live: readonly MemberRecord[]) => void)[] = [];
  #stats = { heartbeats: 0, heartbeatFailures: 0, badRecords: 0, rewatches: 0 };
  #failingSince: number | undefined;
  /** The oldest of this member's acked puts the watch has not delivered yet (its revision is the newest). */
  #unseen: { revision: number; ackedAtMs: number } | undefined;
  /** The newest revision of this member's key the watch delivered (it may come before the put's ack). */
  #ownSeenRevision = 0;
  /** Bumped per watch: events of a watch that was replaced are ignored. */
  #watchGen = 0;
  #rewatching: Promise<void> | undefined;

  constructor(opts: MembershipOptions) {
    this.#o = opts;
    const pinned = opts.self.pins.length > 0;
    this.#policy = {
      timeoutMs: opts.timeoutMs,
      self: opts.self,
      selfTimeoutMs: Math.max(opts.heartbeatMs, opts.timeoutMs - opts.heartbeatMs),
      selfAlwaysLive: pinned,
    };
  }

  /** Watch the bucket (current values first), put the first heartbeat, then one every heartbeatMs. */
  async start(): Promise<void> {
    this.#running = true;
    this.#watch = await this.#startWatch();
    await this.#beat();
    this.#started = true;
    this.#armBeat();
    this.#changed();
  }

  /** The live members now (this one included while it counts itself live). */
  live(): MemberRecord[] {
    return liveView(this.#obs, this.#o.clock.now(), this.#policy);
  }

  /** Called with the live members whenever the set of live ids changes. */
  onChange(listener: (live: readonly MemberRecord[]) => void): void {
    this.#listeners.push(listener);
  }

  stats(): MembershipStats {
    return { live: this.live().length, ...this.#stats };
  }

  /** Stop the heartbeats and delete this member's key: the others take its devices at once. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#started = false;
    if (this.#beatTimer) this.#o.clock.clearTimeout(this.#beatTimer);
    if (this.#expiryTimer) this.#o.clock.clearTimeout(this.#expiryTimer);
    this.#beatTimer = undefined;
    this.#expiryTimer = undefined;
    await this.#beating;
    await this.#rewatching;
    try {
      await this.#o.store.delete(this.#o.self.id);
    } catch (err) {
      this.#o.log.warn('could not delete the member key; the others wait for its timeout', {
        member: this.#o.self.id,
        error: errorMessage(err),
      });
    }
    this.#watch?.stop();
    this.#watch = undefined;
  }

  #armBeat(): void {
    if (!this.#running) return;
    this.#beatTimer = this.#o.clock.setTimeout(() => {
      this.#beatTimer = undefined;
      // One put at a time: a put still waiting (NATS away) is not stacked on.
      if (!this.#beating) void this.#beat();
      if (this.#watchStalled()) this.#rewatching ??= this.#rewatch();
      this.#armBeat();
    }, this.#o.heartbeatMs);
  }

  #beat(): Promise<void> {
    const { store, self, clock, log } = this.#o;
    const run = (async () => {
      try {
        const revision = await store.put(self.id, encodeMember(self));
        if (revision > this.#ownSeenRevision)
          this.#unseen = { revision, ackedAtMs: this.#unseen?.ackedAtMs ?? clock.now() };
        this.#stats.heartbeats++;
        if (this.#failingSince !== undefined)
          log.info('heartbeats go through again', {
            member: self.id,
            afterMs: clock.now() - this.#failingSince,
          });
        this.#failingSince = undefined;
      } catch (err) {
        this.#stats.heartbeatFailures++;
        if (this.#failingSince === undefined) {
          this.#failingSince = clock.now();
          log.warn('heartbeat failed; retrying every heartbeat', {
            member: self.id,
            error: errorMessage(err),
          });
        }
      }
    })();
    this.#beating = run.finally(() => {
      this.#beating = undefined;
    });
    return this.#beating;
  }

  #startWatch(): Promise<{ stop(): void }> {
    const gen = ++this.#watchGen;
    return this.#o.store.watch((ev) => {
      if (gen === this.#watchGen) this.#onEvent(ev);
    });
  }

  /** An acked put of this member not delivered by the watch within two heartbeats. */
  #watchStalled(): boolean {
    const u = this.#unseen;
    return u !== undefined && this.#o.clock.now() - u.ackedAtMs >= 2 * this.#o.heartbeatMs;
  }

  /** Stop the watch and start another; a start that fails is tried again at the next heartbeat. */
  async #rewatch(): Promise<void> {
    const { clock, log, self } = this.#o;
    const u = this.#unseen;
    log.warn('members watch stalled: own heartbeat not seen through it; watching again', {
      member: self.id,
      revision: u?.revision,
      ackedMsAgo: u ? clock.now() - u.ackedAtMs : undefined,
    });
    this.#stats.rewatches++;
    this.#watch?.stop();
    this.#watch = undefined;
    try {
      const watch = await this.#startWatch();
      if (this.#running) this.#watch = watch;
      else watch.stop();
      // Judged afresh from now: the new watch gets two heartbeats to deliver this member's puts.
      if (this.#unseen) this.#unseen = { ...this.#unseen, ackedAtMs: clock.now() };
    } catch (err) {
      log.warn('members watch could not be started again; trying at the next heartbeat', {
        member: self.id,
        error: errorMessage(err),
      });
    } finally {
      this.#rewatching = undefined;
    }
  }

  #onEvent(ev: MemberEvent): void {
    if (ev.key === this.#o.self.id) {
      this.#ownSeenRevision = Math.max(this.#ownSeenRevision, ev.revision);
      if (this.#unseen && this.#ownSeenRevision >= this.#unseen.revision) this.#unseen = undefined;
    }
    let record: MemberRecord | undefined;
    if (ev.op === 'PUT') {
      const d = decodeMember(ev.value);
      if (!d.ok) {
        this.#stats.badRecords++;
        this.#o.log.warn('bad member record skipped', { key: ev.key, error: d.error });
        return;
      }
      if (d.value.id !== ev.key) {
        this.#stats.badRecords++;
        this.#o.log.warn('bad member record skipped', {
          key: ev.key,
          error: `record id '${d.value.id}' is not its key`,
        });
        return;
      }
      record = d.value;
    }
    this.#obs = observe(this.#obs, { ...ev, record }, this.#o.clock.now());
    if (this.#running && this.#started) this.#changed();
  }

  /** Tell the listeners if the live set changed, and wake up when it next changes by time alone. */
  #changed(): void {
    const now = this.#o.clock.now();
    const live = liveView(this.#obs, now, this.#policy);
    const ids = live.map((m) => `${m.id}[${m.pins.join('|')}]`).join(',');
    if (ids !== this.#lastIds) {
      this.#lastIds = ids;
      for (const l of this.#listeners) {
        try {
          l(live);
        } catch (err) {
          this.#o.log.error('membership listener failed', { error: errorMessage(err) });
        }
      }
    }
    if (this.#expiryTimer) this.#o.clock.clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    const at = nextExpiry(this.#obs, now, this.#policy);
    if (at !== undefined && this.#running)
      this.#expiryTimer = this.#o.clock.setTimeout(() => {
        this.#expiryTimer = undefined;
        this.#changed();
      }, at - now);
  }
}
