/**
 * What an MQTT connection event means for a device's health, as pure functions of
 * (connection, event, policy) → (connection, actions). No I/O, no timers: the caller
 * (liveness-controller.ts) carries the actions out and calls back when a wake-up falls due.
 *
 *   connected ─────────────────────────► observe ok                       (it is alive: up)
 *   clean_disconnect ──────────────────► note only                        (it said goodbye: not an outage)
 *   will | keepalive_lapsed ──► observe failure at once (suspect) ─┬─ SNMP too: one immediate SNMP probe,
 *                                                                  │  which confirms (down) or clears (up)
 *                                                                  └─ MQTT-only: wake after the grace; still
 *                                                                     gone → observe failure (down), and
 *                                                                     again every retryMs while the health
 *                                                                     state machine holds it suspect (it
 *                                                                     waits for the parent router)
 *
 * MQTT 3.1.1 §3.1.2.5: the broker publishes a client's Will when the network connection closes without a
 * DISCONNECT packet, including when the keepalive lapses (§3.1.2.10: 1.5 x keepalive without a packet).
 * A DISCONNECT discards the Will (§3.14.4), so a clean disconnect never reaches us as a Will.
 */
import type { Device, DeviceState, ProbeResult } from '../core/types.ts';

export type LivenessKind = 'will' | 'keepalive_lapsed' | 'connected' | 'clean_disconnect';

/** One device's connection news, from the embedded broker's events or from the status topic. */
export interface LivenessEvent {
  readonly deviceId: string;
  /**
   * connected: it (re)connected; will: it vanished without a DISCONNECT, its Last Will fires (with an
   * external broker this includes a lapsed keepalive); keepalive_lapsed: the embedded broker timed it out;
   * clean_disconnect: it said goodbye.
   */
  readonly kind: LivenessKind;
  readonly timeMs: number;
}

export interface LivenessPolicy {
  /** An MQTT-only device is down once it has not come back this long after its connection was lost. */
  readonly graceMs: number;
  /** After the grace, how soon to judge again a device the health state machine still holds suspect. */
  readonly retryMs: number;
}

/** What is known of one device's MQTT connection. */
export type Connection =
  | { readonly state: 'connected'; readonly since: number }
  | { readonly state: 'lost'; readonly since: number; readonly how: 'will' | 'keepalive_lapsed' }
  | { readonly state: 'closed'; readonly since: number };

export type LivenessAction =
  /** Feed this probe result to the health state machine (HealthTracker.observe). */
  | { readonly type: 'observe'; readonly probe: ProbeResult }
  /** Probe this device over SNMP now (Scheduler.expedite). */
  | { readonly type: 'probe_snmp'; readonly deviceId: string }
  /** Call `onWake` for this device at `atMs` (replacing any earlier wake-up of it). */
  | { readonly type: 'wake'; readonly deviceId: string; readonly atMs: number }
  /** Forget any pending wake-up of this device. */
  | { readonly type: 'cancel_wake'; readonly deviceId: string }
  /** Worth a log line, nothing else. */
  | { readonly type: 'note'; readonly deviceId: string; readonly message: string };

export interface LivenessStep {
  readonly next: Connection | undefined;
  readonly actions: readonly LivenessAction[];
}

/** Whether a device answers SNMP (sensors speak only MQTT; a ping-only device has no agent). */
export function hasSnmp(device: Pick<Device, 'role' | 'host'> & Partial<Pick<Device, 'ping'>>): boolean {
  return device.role !== 'sensor' && device.host !== '' && device.ping !== 'only';
}

function lostProbe(deviceId: string, timeMs: number, message: string): ProbeResult {
  return {
    deviceId,
    timeMs,
    ok: false,
    durationMs: 0,
    source: 'mqtt',
    failure: { reason: 'timeout', message },
  };
}

const HOW: Record<'will' | 'keepalive_lapsed', string> = {
  will: 'MQTT connection lost (Last Will)',
  keepalive_lapsed: 'MQTT keepalive lapsed',
};

/** Apply one liveness event. */
export function applyLivenessEvent(
  prev: Connection | undefined,
  ev: LivenessEvent,
  device: { readonly snmp: boolean },
  policy: LivenessPolicy,
): LivenessStep {
  const id = ev.deviceId;
  switch (ev.kind) {
    case 'connected':
      return {
        next: { state: 'connected', since: ev.timeMs },
        actions: [
          { type: 'cancel_wake', deviceId: id },
          {
            type: 'observe',
            probe: { deviceId: id, timeMs: ev.timeMs, ok: true, durationMs: 0, source: 'mqtt' },
          },
        ],
      };
    case 'clean_disconnect':
      return {
        next: { state: 'closed', since: ev.timeMs },
        actions: [
          { type: 'cancel_wake', deviceId: id },
          { type: 'note', deviceId: id, message: 'mqtt clean disconnect (not an outage)' },
        ],
      };
    case 'will':
    case 'keepalive_lapsed': {
      // The same loss told twice (the broker's event and the Will on the status topic; a retained Will
      // read again after a reconnect of the collector): the first one counts, its clock keeps running.
      if (prev?.state === 'lost') return { next: prev, actions: [] };
      const next: Connection = { state: 'lost', since: ev.timeMs, how: ev.kind };
      const suspect: LivenessAction = { type: 'observe', probe: lostProbe(id, ev.timeMs, HOW[ev.kind]) };
      return {
        next,
        actions: device.snmp
          ? [suspect, { type: 'probe_snmp', deviceId: id }]
          : [suspect, { type: 'wake', deviceId: id, atMs: ev.timeMs + policy.graceMs }],
      };
    }
  }
}

/**
 * A wake-up fell due. `health` is the device's state in the health state machine now. An MQTT-only device
 * still gone after the grace fails again (down, once its parent is confirmed); while it stays suspect, it is
 * judged again every retryMs. A device that came back, or is already down or unreachable, needs nothing.
 */
export function applyLivenessWake(
  prev: Connection | undefined,
  deviceId: string,
  nowMs: number,
  health: DeviceState | undefined,
  policy: LivenessPolicy,
): LivenessStep {
  if (prev?.state !== 'lost') return { next: prev, actions: [] };
  // A timer may fire a millisecond early by the wall clock: not due yet is a wake-up re-armed, never dropped.
  const due = prev.since + policy.graceMs;
  if (nowMs < due) return { next: prev, actions: [{ type: 'wake', deviceId, atMs: due }] };
  if (health === 'down' || health === 'unreachable') return { next: prev, actions: [] };
  const goneS = Math.round((nowMs - prev.since) / 1000);
  return {
    next: prev,
    actions: [
      { type: 'observe', probe: lostProbe(deviceId, nowMs, `${HOW[prev.how]}; not back after ${goneS} s`) },
      { type: 'wake', deviceId, atMs: nowMs + policy.retryMs },
    ],
  };
}
