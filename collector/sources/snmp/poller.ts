/**
 * SnmpPoller: reads what a device's profile declares and returns a DeviceReading (or throws SnmpError with
 * a ProbeFailureReason as `code`). It only fetches; decode.ts transforms.
 *
 * A device's first poll is two round trips:
 *   1. GET of the profile's scalars (sysUpTime.0). This is also the liveness check: it gets the full
 *      timeout x (retries + 1), and a dead device fails here.
 *   2. One multi-column GETBULK walk of every interface and Wi-Fi column the profile names (walk.ts), so
 *      only the needed ifTable/ifXTable columns travel, several per request. The device answered step 1,
 *      so a timeout here is most likely a reply too big for a datagram: the walk halves the repetitions.
 *      The repetitions that worked are remembered per device, so the next poll does not pay for the
 *      fallback again. One lost datagram on a lossy backhaul also looks like a too-big reply, so after
 *      REGROW_AFTER_POLLS clean polls the repetitions are doubled again (up to maxRepetitions): a device
 *      that really needs few pays one timeout per REGROW_AFTER_POLLS polls, and one that had bad luck
 *      does not stay at a round trip per row for ever.
 *      Every column cursor of a GETBULK gets all the repetitions, and those past the column's last row
 *      spill into the next column, wasted: a 12-row table asked with 25 repetitions comes back twice as
 *      big as it needs to. So once the table size is known, a poll asks for (rows + 1) repetitions,
 *      enough to read every row and see each column end in one request.
 * Once the table size is known, a poll is one round trip (issue #14: every request costs a datagram
 * each way, a timer and a decode): the scalars go as GETBULK non-repeaters (a GETNEXT of "sysUpTime"
 * answers sysUpTime.0) in the walk's first request, which is then the liveness check. It gets one
 * attempt; if it is lost (or the agent says tooBig), the poll goes on as above with the liveness
 * attempts left (at least one), so a dead device fails after as many timeouts as before (with
 * retries >= 1), and a device that answers, but not in one trip, is polled in two for the next
 * REGROW_AFTER_POLLS polls.
 *
 * Sessions (on the pooled sockets of session.ts) are kept per device and reused; close() closes them all.
 */
import type { Clock } from '../../core/clock.ts';
import { systemClock } from '../../core/clock.ts';
import { SnmpError, errorMessage } from '../../core/errors.ts';
import type { Device, DeviceReading, ProbeFailureReason, ProbeResult } from '../../core/types.ts';
import type { Profile, ProfileSet } from '../../../config/profiles.ts';
import { decodeReading, type DecodeWarning } from './decode.ts';
import {
  SnmpRequestError,
  openSnmpClient,
  type SnmpClient,
  type SnmpClientOptions,
  type VarBind,
} from './session.ts';
import { walkColumns, type WalkResult } from './walk.ts';

/** Clean polls (no fallback) at learned repetitions before trying twice as many again. */
export const REGROW_AFTER_POLLS = 20;

export interface SnmpPollerOptions {
  /** Per request attempt. */
  readonly timeoutMs: number;
  /** Extra attempts after a timeout. */
  readonly retries: number;
  /** GETBULK max-repetitions to start with (halved on too-big replies). */
  readonly maxRepetitions: number;
  readonly profiles: ProfileSet;
  readonly clock?: Clock | undefined;
  /** Values skipped while decoding (wrong type, bad index): the rest of the reading is kept. */
  readonly onDecodeWarning?: ((device: Device, warning: DecodeWarning) => void) | undefined;
  /** Tests pass a fake transport. */
  readonly openClient?: ((device: Device, opts: SnmpClientOptions) => SnmpClient) | undefined;
}

/** What one poll did, besides the reading: for tests, benchmarks and logs. */
export interface PollDetail {
  readonly reading: DeviceReading;
  readonly warnings: readonly DecodeWarning[];
  readonly requests: number;
  readonly fallbacks: number;
  readonly repetitions: number;
}

interface SessionEntry {
  /** The device fields the session was built from: a change means a new session. */
  readonly host: string;
  readonly port: number;
  readonly snmp: Device['snmp'];
  readonly client: SnmpClient;
  /** Learned GETBULK repetitions that this device answers. */
  repetitions: number;
  /** Polls without a fallback since the repetitions last changed. */
  cleanPolls: number;
  /** Rows of the longest column at the last poll (0: not known yet). */
  rows: number;
  /** Polls left to make in two round trips, after a one-trip request was lost by a device that answers. */
  twoTripPolls: number;
}

export class SnmpPoller {
  readonly #opts: SnmpPollerOptions;
  readonly #clock: Clock;
  readonly #sessions = new Map<string, SessionEntry>();
  #closed = false;

  constructor(opts: SnmpPollerOptions) {
    if (!(opts.timeoutMs > 0)) throw new RangeError('timeoutMs must be > 0');
    if (!(opts.retries >= 0)) throw new RangeError('retries must be >= 0');
    if (!(opts.maxRepetitions >= 1)) throw new RangeError('maxRepetitions must be >= 1');
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
  }

  async poll(device: Device): Promise<DeviceReading> {
    const detail = await this.pollDetailed(device);
    for (const w of detail.warnings) this.#opts.onDecodeWarning?.(device, w);
    return detail.reading;
  }

  async pollDetailed(device: Device): Promise<PollDetail> {
    const profile = this.#profileOf(device);
    const entry = this.#session(device);
    const plan = requestPlanOf(profile);
    const maxRepetitions = entry.rows > 0 ? Math.min(entry.repetitions, entry.rows + 1) : entry.repetitions;

    try {
      let scalars: readonly VarBind[] | undefined;
      let walk: WalkResult | undefined;
      let requests = 0;
      if (plan.nextOfScalars !== undefined && entry.rows > 0 && entry.twoTripPolls === 0) {
        // One round trip: the scalars as non-repeaters of the walk's first request (see the header).
        try {
          walk = await walkColumns(entry.client, plan.columns, {
            maxRepetitions,
            nonRepeaters: plan.nextOfScalars,
            firstAttempts: 1,
          });
          scalars = walk.scalars;
          requests = walk.requests;
        } catch (err) {
          if (!isLostOrTooBig(err)) throw err;
          // Lost, or too big for the path: the device is asked the two-step way below, with the
          // liveness attempts that are left.
          requests = 1;
        }
      } else if (entry.twoTripPolls > 0) {
        entry.twoTripPolls--;
      }
      let timeMs: number;
      if (walk === undefined) {
        // sysUpTime first: the liveness check (see the header). A profile without scalars still needs one.
        const attempts = requests > 0 ? { attempts: Math.max(1, this.#opts.retries) } : undefined;
        scalars = await entry.client.get(plan.liveness, attempts);
        if (requests > 0) entry.twoTripPolls = REGROW_AFTER_POLLS; // it answers, but not in one trip
        requests++;
        timeMs = this.#clock.now();
        walk =
          plan.columns.length > 0
            ? await walkColumns(entry.client, plan.columns, { maxRepetitions })
            : { columns: new Map(), requests: 0, fallbacks: 0, repetitions: entry.repetitions, scalars: [] };
        requests += walk.requests;
      } else {
        timeMs = this.#clock.now();
      }
      this.#learn(entry, walk.fallbacks, walk.repetitions);
      let rows = 0;
      for (const c of walk.columns.values() as Iterable<readonly unknown[]>)
        if (c.length > rows) rows = c.length;
      entry.rows = rows;
      const { reading, warnings } = decodeReading(
        profile,
        {
          scalars: plan.scalarOids.length > 0 ? (scalars ?? NO_SCALARS) : NO_SCALARS,
          columns: walk.columns,
          inside: true,
        },
        { deviceId: device.id, timeMs },
      );
      return {
        reading,
        warnings,
        requests,
        fallbacks: walk.fallbacks,
        repetitions: walk.repetitions,
      };
    } catch (err) {
      throw err instanceof SnmpError
        ? err
        : new SnmpRequestError('internal', `${device.id}: ${errorMessage(err)}`, { cause: err });
    }
  }

  /** One liveness check (GET sysUpTime.0), for the health state machine. Never throws. */
  async probe(device: Device): Promise<ProbeResult> {
    const started = this.#clock.now();
    try {
      const entry = this.#session(device);
      await entry.client.get([this.#profileOrUndefined(device)?.scalars.sysUpTime ?? '1.3.6.1.2.1.1.3.0']);
      const now = this.#clock.now();
      return { deviceId: device.id, timeMs: now, ok: true, durationMs: now - started, source: 'snmp' };
    } catch (err) {
      const now = this.#clock.now();
      const reason: ProbeFailureReason = err instanceof SnmpRequestError ? err.reason : 'internal';
      return {
        deviceId: device.id,
        timeMs: now,
        ok: false,
        durationMs: now - started,
        source: 'snmp',
        failure: { reason, message: errorMessage(err) },
      };
    }
  }

  /** Close every session; polls in flight fail with `internal`. The poller cannot be used afterwards. */
  close(): void {
    this.#closed = true;
    for (const s of this.#sessions.values()) s.client.close();
    this.#sessions.clear();
  }

  /** Forget one device's session (inventory change). */
  forget(deviceId: string): void {
    this.#sessions.get(deviceId)?.client.close();
    this.#sessions.delete(deviceId);
  }

  get openSessions(): number {
    return this.#sessions.size;
  }

  #learn(entry: SessionEntry, fallbacks: number, worked: number): void {
    if (fallbacks > 0) {
      entry.repetitions = worked;
      entry.cleanPolls = 0;
    } else if (entry.repetitions < this.#opts.maxRepetitions && ++entry.cleanPolls >= REGROW_AFTER_POLLS) {
      entry.repetitions = Math.min(this.#opts.maxRepetitions, entry.repetitions * 2);
      entry.cleanPolls = 0;
    }
  }

  #profileOrUndefined(device: Device): Profile | undefined {
    return this.#opts.profiles.get(device.profile);
  }

  #profileOf(device: Device): Profile {
    const p = this.#profileOrUndefined(device);
    if (!p) throw new SnmpRequestError('internal', `${device.id}: unknown SNMP profile "${device.profile}"`);
    return p;
  }

  #session(device: Device): SessionEntry {
    if (this.#closed) throw new SnmpRequestError('internal', 'SNMP poller is closed');
    // A changed address or credential object (inventory reload) gets a new session.
    const existing = this.#sessions.get(device.id);
    if (
      existing &&
      existing.host === device.host &&
      existing.port === device.port &&
      existing.snmp === device.snmp
    ) {
      return existing;
    }
    existing?.client.close();
    const open = this.#opts.openClient ?? openSnmpClient;
    const entry: SessionEntry = {
      host: device.host,
      port: device.port,
      snmp: device.snmp,
      client: open(device, { timeoutMs: this.#opts.timeoutMs, retries: this.#opts.retries }),
      repetitions: this.#opts.maxRepetitions,
      cleanPolls: 0,
      rows: 0,
      twoTripPolls: 0,
    };
    this.#sessions.set(device.id, entry);
    return entry;
  }
}

const SYS_UPTIME_ONLY: readonly string[] = ['1.3.6.1.2.1.1.3.0'];
const NO_SCALARS: readonly never[] = [];

/** What a poll of a profile asks for: the same every poll, so worked out once per profile object. */
interface RequestPlan {
  /** The profile's scalars (decoded into the reading). */
  readonly scalarOids: readonly string[];
  /** What the liveness GET asks: the scalars, or sysUpTime.0 when the profile has none. */
  readonly liveness: readonly string[];
  /**
   * The liveness OIDs as GETNEXT starting points (each instance ".0" taken off: the next OID after
   * "sysUpTime" is "sysUpTime.0"), for the one-trip poll; undefined when one is not a ".0" instance.
   */
  readonly nextOfScalars: readonly string[] | undefined;
  readonly columns: readonly string[];
}

const plans = new WeakMap<Profile, RequestPlan>();

function requestPlanOf(profile: Profile): RequestPlan {
  let plan = plans.get(profile);
  if (plan === undefined) {
    const scalarOids = profile.scalars.sysUpTime === undefined ? [] : [profile.scalars.sysUpTime];
    const liveness = scalarOids.length > 0 ? scalarOids : SYS_UPTIME_ONLY;
    const columns = columnsOf(profile);
    const instances = liveness.map((oid) => (oid.startsWith('.') ? oid.slice(1) : oid));
    plan = {
      scalarOids,
      liveness,
      nextOfScalars:
        columns.length > 0 && instances.every((oid) => /^\d+(\.\d+)+\.0$/.test(oid))
          ? instances.map((oid) => oid.slice(0, -2))
          : undefined,
      columns,
    };
    plans.set(profile, plan);
  }
  return plan;
}

/** A request that got no answer, or an agent that said tooBig: the two-step poll may still work. */
function isLostOrTooBig(err: unknown): boolean {
  return (
    err instanceof SnmpError &&
    (err.code === 'timeout' || (err instanceof SnmpRequestError && err.status === 'TooBig'))
  );
}

/** Every walked column of a profile (interfaces, Wi-Fi metrics, overrides), compiled at load. */
export function columnsOf(profile: Profile): string[] {
  return [...profile.columns];
}
