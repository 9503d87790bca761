/**
 * The device state machine, as pure functions of (health, event, parent) → health.
 *
 *   unknown/up ──fail──► suspect ──N consecutive failures──► down          (parent answered after we failed)
 *                                                        └──► unreachable   (parent down or unreachable)
 *   any ──ok──► up
 *
 * A device is only called down when its parent is known to be fine *after* the device started failing;
 * until the parent has been confirmed, the device stays suspect and the caller is asked to probe the
 * parent. That ordering rule is what makes a site cut one outage (the router) instead of a storm.
 *
 * Two signals (collector/sources/ping/): a device may be watched by its agent (SNMP, or MQTT) and by ICMP.
 * Its reachability fails only when every signal it has is lost:
 *
 *   ping lost,     SNMP lost      ─► a failure (suspect, then down or unreachable as above)
 *   ping answers,  SNMP lost      ─► reachable: no failure, but after N SNMP failures the warning
 *                                    "SNMP not answering" (not an outage, never a page at outage severity)
 *   ping lost,     SNMP answered  ─► no failure yet: SNMP is asked at once (`verifySnmp`) to confirm
 *   either answers                ─► up (a device that answers ping is reachable, whatever its agent says)
 *
 * A device that has never been pinged (ping off, or no result yet) behaves as with one signal; a ping-only
 * device (no agent) has only ping, so each lost ping is a failure.
 */
import type { DeviceState, ProbeResult } from '../core/types.ts';

export interface HealthPolicy {
  /** Consecutive failed polls before a device is down (or unreachable). */
  readonly downAfterFailures: number;
}

/** The last word of one signal (ping, or the agent: SNMP/MQTT) about a device. */
export interface SignalMemory {
  readonly ok: boolean;
  /** When it last spoke (ok or not). */
  readonly atMs: number;
  /** Consecutive failures of this signal (0 when ok). */
  readonly failures: number;
  /** Start of its current run of failures (or of answers). */
  readonly sinceMs: number;
}

export type HealthWarningKind = 'snmp_not_answering';

export interface DeviceHealth {
  readonly state: DeviceState;
  /** When the device entered `state`. */
  readonly since: number;
  /** Consecutive failed probes. */
  readonly failures: number;
  /** Start of the current run of failures. */
  readonly firstFailureAt?: number | undefined;
  readonly lastOkAt?: number | undefined;
  readonly lastFailure?: string | undefined;
  /** ICMP's last word; absent while the device has never been pinged. */
  readonly ping?: SignalMemory | undefined;
  /** The agent's (SNMP, or MQTT) last word; absent before the first poll. */
  readonly agent?: SignalMemory | undefined;
  /** A warning that is not an outage: ping answers while SNMP does not. */
  readonly warning?: { readonly kind: HealthWarningKind; readonly sinceMs: number } | undefined;
  /**
   * SNMP failures in a row while ping's last word was an answer: the warning's count. Failures while
   * ping was lost too (an outage) do not count, so a recovery whose ping comes back before its agent
   * (a router still booting) is not "SNMP not answering".
   */
  readonly agentFailuresPingOk?: number | undefined;
}

/** What a device needs to know of its parent. `undefined` when it has none. */
export interface ParentView {
  readonly id: string;
  readonly state: DeviceState;
  readonly lastOkAt?: number | undefined;
}

export interface Step {
  readonly next: DeviceHealth;
  /** The parent must be probed before this device's failure can be judged. */
  readonly verifyParent: boolean;
  /** Why the state is what it is (for the transition's cause). */
  readonly cause?: string | undefined;
  /** Ping was lost while SNMP last answered: poll SNMP now to tell a cut from lost ICMP. */
  readonly verifySnmp?: boolean | undefined;
  /** SNMP failed while ping answers: poll SNMP again soon (the warning needs N failures). */
  readonly recheckSnmp?: boolean | undefined;
  /** SNMP failed and ping's last answer predates that: ping the device now. */
  readonly verifyPing?: boolean | undefined;
  /** The warning was raised or cleared by this step. */
  readonly warning?: 'raised' | 'cleared' | undefined;
}

export function initialHealth(now: number): DeviceHealth {
  return { state: 'unknown', since: now, failures: 0 };
}

const isParentOut = (p: ParentView): boolean => p.state === 'down' || p.state === 'unreachable';

function withState(h: DeviceHealth, state: DeviceState, now: number): DeviceHealth {
  return h.state === state ? h : { ...h, state, since: now };
}

/** Apply one probe result (from SNMP, MQTT or ping). */
export function applyProbe(
  h: DeviceHealth,
  probe: ProbeResult,
  parent: ParentView | undefined,
  policy: HealthPolicy,
): Step {
  const now = probe.timeMs;
  if (probe.ok) {
    // Every probe of a healthy device ends here: one new object, no spreads.
    const up = remember(h, probe, 'up', h.state === 'up' ? h.since : now, 0, undefined, now);
    const w = judgeWarning(h, up, policy, now);
    return { next: w.next, verifyParent: false, warning: w.warning };
  }
  const heard = remember(h, probe, h.state, h.since, h.failures, h.firstFailureAt, h.lastOkAt);
  const reason = probe.failure ? `${probe.failure.reason}: ${probe.failure.message}` : 'failed';
  if (probe.source === 'ping' && heard.agent?.ok) {
    // ICMP may be filtered or a packet lost: only a failing agent makes it a failure. Ask SNMP once, when
    // ping has just started failing (a device that never answers ping is not polled at the ping rate).
    const next = { ...heard, lastFailure: `ping lost (${reason}); SNMP last answered` };
    return { next, verifyParent: false, verifySnmp: heard.ping?.failures === 1 };
  }
  if (probe.source === 'snmp' && heard.ping?.ok) {
    // Ping answers: the device is reachable, its agent is not. A warning after N failures, not an outage.
    const next = { ...heard, lastFailure: `SNMP: ${reason}; ping answers` };
    const w = judgeWarning(h, next, policy, now);
    const fresh = heard.ping.atMs >= (heard.agent?.sinceMs ?? now);
    return {
      next: w.next,
      verifyParent: false,
      warning: w.warning,
      recheckSnmp: w.next.warning === undefined,
      verifyPing: !fresh,
    };
  }
  const failing: DeviceHealth = {
    ...heard,
    failures: h.failures + 1,
    firstFailureAt: h.firstFailureAt ?? now,
    lastFailure: probe.source === 'ping' ? `ping lost (${reason})` : reason,
    // Every signal is lost: this is an outage in the making, not an SNMP warning.
    warning: undefined,
  };
  const step = judgeFailing(failing, parent, policy, now);
  return h.warning ? { ...step, warning: 'cleared' } : step;
}

/** The next agentFailuresPingOk: one more for an agent failure while ping answered; 0 on any other word. */
function countWhilePingOk(h: DeviceHealth, probe: ProbeResult): number {
  if (probe.source === 'ping') return probe.ok ? (h.agentFailuresPingOk ?? 0) : 0;
  if (probe.ok) return 0;
  return h.ping?.ok === true ? (h.agentFailuresPingOk ?? 0) + 1 : 0;
}

/**
 * Record what the probe's signal said (and the count of agent failures while ping answered), with the
 * state fields given. Every field is named, so each device's health has one shape.
 */
function remember(
  h: DeviceHealth,
  probe: ProbeResult,
  state: DeviceState,
  since: number,
  failures: number,
  firstFailureAt: number | undefined,
  lastOkAt: number | undefined,
): DeviceHealth {
  return {
    state,
    since,
    failures,
    firstFailureAt,
    lastOkAt,
    lastFailure: h.lastFailure,
    ping: probe.source === 'ping' ? signalHeard(h.ping, probe) : h.ping,
    agent: probe.source === 'ping' ? h.agent : signalHeard(h.agent, probe),
    warning: h.warning,
    agentFailuresPingOk: countWhilePingOk(h, probe),
  };
}

/** A signal's memory after it spoke. */
function signalHeard(was: SignalMemory | undefined, probe: ProbeResult): SignalMemory {
  return {
    ok: probe.ok,
    atMs: probe.timeMs,
    failures: probe.ok ? 0 : (was?.failures ?? 0) + 1,
    sinceMs: was !== undefined && was.ok === probe.ok ? was.sinceMs : probe.timeMs,
  };
}

/**
 * The "SNMP not answering" warning: up when the agent has failed N times in a row while ping answered,
 * and ping answered since those failures began; down as soon as the agent answers (or every signal is
 * lost).
 */
function judgeWarning(
  before: DeviceHealth,
  next: DeviceHealth,
  policy: HealthPolicy,
  now: number,
): { next: DeviceHealth; warning?: 'raised' | 'cleared' } {
  const a = next.agent;
  const p = next.ping;
  const due =
    a !== undefined && !a.ok && (next.agentFailuresPingOk ?? 0) >= policy.downAfterFailures && p?.ok === true;
  const holds = due && p.atMs >= a.sinceMs;
  if (holds && !before.warning)
    return { next: { ...next, warning: { kind: 'snmp_not_answering', sinceMs: now } }, warning: 'raised' };
  if (holds || (due && before.warning)) return { next: { ...next, warning: before.warning } };
  if (before.warning) return { next: { ...next, warning: undefined }, warning: 'cleared' };
  return { next };
}

/**
 * Re-judge a failing device after its parent changed state (no new probe of its own). A healthy device
 * is left alone: its own next probe decides.
 */
export function applyParentChange(
  h: DeviceHealth,
  parent: ParentView | undefined,
  policy: HealthPolicy,
  now: number,
): Step {
  if (h.failures === 0) return { next: h, verifyParent: false };
  return judgeFailing(h, parent, policy, now, true);
}

function judgeFailing(
  h: DeviceHealth,
  parent: ParentView | undefined,
  policy: HealthPolicy,
  now: number,
  parentChanged = false,
): Step {
  // Already down: stays down until it answers (an outage is over only when the device is back).
  if (h.state === 'down') return { next: h, verifyParent: false, cause: h.lastFailure };

  if (parent && isParentOut(parent)) {
    // Its path to us is gone: we cannot tell whether the device itself is fine.
    return {
      next: withState(h, 'unreachable', now),
      verifyParent: false,
      cause: `parent ${parent.id} is ${parent.state}`,
    };
  }
  if (h.failures < policy.downAfterFailures && !(parentChanged && h.state === 'unreachable')) {
    return {
      next: withState(h, h.state === 'unreachable' ? 'unreachable' : 'suspect', now),
      verifyParent: false,
      cause: h.lastFailure,
    };
  }
  if (!parent) return { next: withState(h, 'down', now), verifyParent: false, cause: h.lastFailure };
  const parentConfirmed =
    parent.state === 'up' && parent.lastOkAt !== undefined && parent.lastOkAt >= (h.firstFailureAt ?? now);
  if (parentConfirmed) {
    if (h.failures >= policy.downAfterFailures) {
      return { next: withState(h, 'down', now), verifyParent: false, cause: h.lastFailure };
    }
    // Was unreachable, the parent is back, but we have not failed often enough since to call it down.
    return { next: h, verifyParent: false, cause: h.lastFailure };
  }
  // Parent not confirmed since we started failing: keep the current judgement and ask for a parent probe.
  const holding = h.state === 'unreachable' ? h : withState(h, 'suspect', now);
  return { next: holding, verifyParent: true, cause: h.lastFailure };
}
