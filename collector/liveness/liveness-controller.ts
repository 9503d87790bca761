/**
 * Carries out the decisions of mqtt-liveness.ts: feeds probe results to the health state machine, asks for
 * SNMP probes, and keeps one wake-up timer per device on the injected clock. No network I/O; the Monitor
 * wires it:
 *
 *   MqttSource ─ LivenessEvent ─► MqttLivenessController.report ─► hooks.observe   (HealthTracker.observe)
 *                                                              └─► hooks.probeSnmp (Scheduler.expedite)
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Device, DeviceState, ProbeResult } from '../core/types.ts';
import {
  applyLivenessEvent,
  applyLivenessWake,
  hasSnmp,
  type Connection,
  type LivenessAction,
  type LivenessEvent,
  type LivenessPolicy,
  type LivenessStep,
} from './mqtt-liveness.ts';

export interface MqttLivenessHooks {
  /** A probe result for the health state machine. */
  observe(probe: ProbeResult): void;
  /** One SNMP probe of the device, now. */
  probeSnmp(deviceId: string): void;
  /** The device's current health state. */
  stateOf(deviceId: string): DeviceState | undefined;
}

export interface MqttLivenessControllerOptions {
  readonly clock: Clock;
  readonly log: Logger;
  readonly policy: LivenessPolicy;
  readonly hooks: MqttLivenessHooks;
}

export class MqttLivenessController {
  readonly #o: MqttLivenessControllerOptions;
  readonly #connections = new Map<string, Connection>();
  readonly #timers = new Map<string, TimerHandle>();
  #stopped = false;

  constructor(opts: MqttLivenessControllerOptions) {
    this.#o = opts;
  }

  /** One event from the MQTT source, for a device of the inventory. */
  report(ev: LivenessEvent, device: Pick<Device, 'id' | 'role' | 'host'>): void {
    if (this.#stopped || ev.deviceId !== device.id) return;
    const prev = this.#connections.get(device.id);
    this.#apply(device.id, applyLivenessEvent(prev, ev, { snmp: hasSnmp(device) }, this.#o.policy));
  }

  /** What is known of a device's MQTT connection (for the status API and tests). */
  connection(deviceId: string): Connection | undefined {
    return this.#connections.get(deviceId);
  }

  /** Pending wake-ups (devices waiting out their grace). */
  pending(): number {
    return this.#timers.size;
  }

  stop(): void {
    this.#stopped = true;
    for (const id of [...this.#timers.keys()]) this.#cancel(id);
  }

  #wake(deviceId: string): void {
    this.#timers.delete(deviceId);
    if (this.#stopped) return;
    const { clock, hooks, policy } = this.#o;
    const step = applyLivenessWake(
      this.#connections.get(deviceId),
      deviceId,
      clock.now(),
      hooks.stateOf(deviceId),
      policy,
    );
    this.#apply(deviceId, step);
  }

  #apply(deviceId: string, step: LivenessStep): void {
    if (step.next) this.#connections.set(deviceId, step.next);
    for (const a of step.actions) {
      try {
        this.#run(a);
      } catch (err) {
        // A hook's failure must not stop the other actions, nor escape into the MQTT client's handler.
        this.#o.log.error('mqtt liveness action failed', {
          device: deviceId,
          action: a.type,
          error: errorMessage(err),
        });
      }
    }
  }

  #run(a: LivenessAction): void {
    const { clock, hooks, log } = this.#o;
    switch (a.type) {
      case 'observe':
        return hooks.observe(a.probe);
      case 'probe_snmp':
        return hooks.probeSnmp(a.deviceId);
      case 'cancel_wake':
        return this.#cancel(a.deviceId);
      case 'wake':
        this.#cancel(a.deviceId);
        this.#timers.set(
          a.deviceId,
          clock.setTimeout(() => this.#wake(a.deviceId), Math.max(1, a.atMs - clock.now())),
        );
        return;
      case 'note':
        return log.info(a.message, { device: a.deviceId });
    }
  }

  #cancel(deviceId: string): void {
    const t = this.#timers.get(deviceId);
    if (t) this.#o.clock.clearTimeout(t);
    this.#timers.delete(deviceId);
  }
}
