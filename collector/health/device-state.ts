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
 */
import type { DeviceState, ProbeResult } from '../core/types.ts';

export interface HealthPolicy {
  /** Consecutive failed polls before a device is down (or unreachable). */
  readonly downAfterFailures: number;
}

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
}

export function initialHealth(now: number): DeviceHealth {
  return { state: 'unknown', since: now, failures: 0 };
}

const isParentOut = (p: ParentView): boolean => p.state === 'down' || p.state === 'unreachable';

function withState(h: DeviceHealth, state: DeviceState, now: number): DeviceHealth {
  return h.state === state ? h : { ...h, state, since: now };
}

/** Apply one probe result. */
export function applyProbe(
  h: DeviceHealth,
  probe: ProbeResult,
  parent: ParentView | undefined,
  policy: HealthPolicy,
): Step {
  const now = probe.timeMs;
  if (probe.ok) {
    const next: DeviceHealth = {
      ...withState(h, 'up', now),
      failures: 0,
      firstFailureAt: undefined,
      lastOkAt: now,
    };
    return { next, verifyParent: false };
  }
  const reason = probe.failure ? `${probe.failure.reason}: ${probe.failure.message}` : 'failed';
  const failing: DeviceHealth = {
    ...h,
    failures: h.failures + 1,
    firstFailureAt: h.firstFailureAt ?? now,
    lastFailure: reason,
  };
  return judgeFailing(failing, parent, policy, now);
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
