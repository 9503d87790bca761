/**
 * Holds every device's health, feeds probe results through the pure state machine, cascades parent
 * changes to dependents, and reports transitions. It does no I/O: the caller wires `onTransition` to
 * storage and alerting, and `requestProbe` to the scheduler.
 *
 * The ping side (collector/sources/ping/) feeds its results to the same `observe`, listens to
 * `onPingRequest` (ping this device now), and `onWarning` carries the "SNMP not answering" warning, which
 * is not a transition: the device stays up.
 */
import type { DeviceState, ProbeResult, Transition } from '../core/types.ts';
import {
  applyParentChange,
  applyProbe,
  initialHealth,
  type DeviceHealth,
  type HealthPolicy,
  type HealthWarningKind,
  type ParentView,
  type Step,
} from './device-state.ts';
import type { Topology } from './topology.ts';

export interface HealthHooks {
  onTransition(t: Transition): void;
  /** Ask for a probe of `deviceId` in `delayMs` (0: as soon as possible). */
  requestProbe(deviceId: string, delayMs: number): void;
}

/** A warning raised or cleared on a device that stays reachable (device-state.ts). */
export interface HealthWarning {
  readonly deviceId: string;
  readonly siteId: string;
  readonly kind: HealthWarningKind;
  readonly raised: boolean;
  readonly timeMs: number;
  /** The agent's last failure, when raised. */
  readonly cause?: string | undefined;
}

export interface HealthTrackerOptions extends HealthPolicy {
  /** How soon to re-probe a device that just failed once (fast confirmation). */
  readonly recheckMs: number;
}

export class HealthTracker {
  readonly #health = new Map<string, DeviceHealth>();
  readonly #topology: Topology;
  readonly #opts: HealthTrackerOptions;
  readonly #hooks: HealthHooks;
  readonly #warningListeners = new Set<(w: HealthWarning) => void>();
  readonly #pingListeners = new Set<(deviceId: string) => void>();

  constructor(topology: Topology, opts: HealthTrackerOptions, hooks: HealthHooks, now: number) {
    this.#topology = topology;
    this.#opts = opts;
    this.#hooks = hooks;
    for (const id of topology.deviceIds()) this.#health.set(id, initialHealth(now));
  }

  /** Seed a device's state (e.g. from a store after restart). */
  restore(deviceId: string, health: DeviceHealth): void {
    if (this.#health.has(deviceId)) this.#health.set(deviceId, health);
  }

  get(deviceId: string): DeviceHealth | undefined {
    return this.#health.get(deviceId);
  }

  snapshot(): Map<string, DeviceHealth> {
    return new Map(this.#health);
  }

  /**
   * The last failure (`<reason>: <message>`, or 'internal') of every device whose last poll failed, read
   * in place: the health figures ask this on every request, and a copy of 100k entries is not free.
   */
  *failureCauses(): Generator<string> {
    for (const h of this.#health.values()) if (h.failures > 0) yield h.lastFailure ?? 'internal';
  }

  countByState(): Record<DeviceState, number> {
    const out: Record<DeviceState, number> = { unknown: 0, up: 0, suspect: 0, down: 0, unreachable: 0 };
    for (const h of this.#health.values()) out[h.state]++;
    return out;
  }

  observe(probe: ProbeResult): void {
    const id = probe.deviceId;
    const h = this.#health.get(id);
    if (!h) return;
    const step = applyProbe(h, probe, this.#parentView(id), this.#opts);
    this.#commit(id, h, step, probe.timeMs);
    if (!probe.ok && step.next.state === 'suspect') {
      this.#hooks.requestProbe(id, this.#opts.recheckMs);
    }
    if (step.verifySnmp) this.#hooks.requestProbe(id, 0);
    if (step.recheckSnmp) this.#hooks.requestProbe(id, this.#opts.recheckMs);
    if (step.verifyPing) this.#askPing(id);
    if (step.warning) this.#warn(id, step.warning === 'raised', probe.timeMs, step.next.lastFailure);
  }

  /** Poll a device now through the monitor's scheduler (an SNMP trap asks this; collector/sources/traps). */
  requestProbe(deviceId: string): void {
    if (this.#health.has(deviceId)) this.#hooks.requestProbe(deviceId, 0);
  }

  /** Listen to "SNMP not answering" warnings raised and cleared. Returns the unsubscribe. */
  onWarning(listener: (w: HealthWarning) => void): () => void {
    this.#warningListeners.add(listener);
    return () => this.#warningListeners.delete(listener);
  }

  /** The pinger listens here: a device to ping now (to confirm a state). Returns the unsubscribe. */
  onPingRequest(listener: (deviceId: string) => void): () => void {
    this.#pingListeners.add(listener);
    return () => this.#pingListeners.delete(listener);
  }

  /** Devices with a warning now, and since when. */
  warnings(): { deviceId: string; kind: HealthWarningKind; sinceMs: number }[] {
    const out: { deviceId: string; kind: HealthWarningKind; sinceMs: number }[] = [];
    for (const [deviceId, h] of this.#health)
      if (h.warning) out.push({ deviceId, kind: h.warning.kind, sinceMs: h.warning.sinceMs });
    return out;
  }

  #askPing(deviceId: string): void {
    for (const l of this.#pingListeners) l(deviceId);
  }

  #warn(deviceId: string, raised: boolean, timeMs: number, cause: string | undefined): void {
    const w: HealthWarning = {
      deviceId,
      siteId: this.#topology.siteOfDevice(deviceId)?.id ?? '',
      kind: 'snmp_not_answering',
      raised,
      timeMs,
      cause: raised ? cause : undefined,
    };
    for (const l of this.#warningListeners) l(w);
  }

  #parentView(deviceId: string): ParentView | undefined {
    const pid = this.#topology.parentOf(deviceId);
    if (pid === undefined) return undefined;
    const p = this.#health.get(pid);
    if (!p) return undefined;
    return { id: pid, state: p.state, lastOkAt: p.lastOkAt };
  }

  #commit(deviceId: string, before: DeviceHealth, step: Step, now: number): void {
    this.#health.set(deviceId, step.next);
    if (step.verifyParent) {
      const pid = this.#topology.parentOf(deviceId);
      if (pid !== undefined) this.#hooks.requestProbe(pid, 0);
    }
    if (step.next.state === before.state) return;
    const site = this.#topology.siteOfDevice(deviceId);
    this.#hooks.onTransition({
      deviceId,
      siteId: site?.id ?? '',
      from: before.state,
      to: step.next.state,
      timeMs: now,
      cause: step.cause,
    });
    this.#cascade(deviceId, step.next.state, now);
  }

  /** A device changed state: re-judge its failing children, and re-probe them when it came back. */
  #cascade(deviceId: string, state: DeviceState, now: number): void {
    for (const child of this.#topology.childrenOf(deviceId)) {
      const ch = this.#health.get(child);
      if (!ch) continue;
      if (state === 'up') {
        if (ch.failures > 0 || ch.state === 'unreachable') {
          // Count the child's failures afresh from the parent's return: after a power cut the APs boot
          // later than the router, and that is not an outage of their own.
          this.#health.set(child, { ...ch, failures: 0, firstFailureAt: undefined });
          this.#hooks.requestProbe(child, 0);
          if (ch.ping) this.#askPing(child);
        }
        continue;
      }
      if (state === 'down' || state === 'unreachable') {
        const step = applyParentChange(ch, this.#parentView(child), this.#opts, now);
        this.#commit(child, ch, step, now);
      }
    }
  }
}
