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
}

/** The KV bucket, as membership needs it (collector/cluster/nats.ts implements it). */
export interface MembersStore {
  put(key: string, value: Uint8Array): Promise<void>;
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
  #stats = { heartbeats: 0, heartbeatFailures: 0, badRecords: 0 };
  #failingSince: number | undefined;

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
    this.#watch = await this.#o.store.watch((ev) => this.#onEvent(ev));
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
      this.#armBeat();
    }, this.#o.heartbeatMs);
  }

  #beat(): Promise<void> {
    const { store, self, clock, log } = this.#o;
    const run = (async () => {
      try {
        await store.put(self.id, encodeMember(self));
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

  #onEvent(ev: MemberEvent): void {
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
