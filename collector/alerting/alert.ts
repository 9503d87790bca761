/**
 * Outage alerts. One outage of a device is one alert: opened when the device goes down, resolved when it
 * answers again. A device that is merely unreachable (its parent is down) gets no alert of its own; it is
 * listed as affected in its parent's alert.
 */
import type { Criticality, DeviceRole, Site, Transition } from '../core/types.ts';
import type { Topology } from '../health/topology.ts';
import type { IncidentStoreLike } from '../store/store.ts';

export interface AffectedSite {
  readonly id: string;
  readonly name: string;
}

export interface Alert {
  /** Stable for the whole outage: the device and when its outage began. */
  readonly id: string;
  readonly status: 'firing' | 'resolved';
  readonly kind: 'device_down';
  readonly severity: Criticality;
  readonly deviceId: string;
  readonly role: DeviceRole;
  readonly siteId: string;
  readonly startedAt: number;
  readonly resolvedAt?: number | undefined;
  readonly cause?: string | undefined;
  /** Devices that depend on this one (APs behind a router, routers of sites behind an upstream). */
  readonly affectedDevices: readonly string[];
  /** Other sites that lose their connection with this device. */
  readonly affectedSites: readonly AffectedSite[];
  /** Times it went down again before its recovery settled (flapping), when it did. */
  readonly flaps?: number | undefined;
  /**
   * Set on a firing alert whose device answers again while its recovery settles: since when it is up,
   * and when the recovery will be confirmed (RECOVERED sent, incident resolved) if it stays up.
   */
  readonly recovery?: { readonly sinceMs: number; readonly confirmAtMs: number } | undefined;
}

/**
 * Flapping with hysteresis: a device that comes back is only called recovered once it has stayed up for
 * `settleMs`; going down again before that continues the same incident (no new page) and counts a flap.
 * At `flapThreshold` flaps the incident is reported once as flapping; its recovery is sent once it is
 * stable. settleMs 0: recoveries at once, no flap detection.
 */
export interface FlapPolicy {
  readonly settleMs: number;
  readonly flapThreshold: number;
}

/**
 * Keeps the open alerts and turns transitions into alert events. With a store, every alert is a durable
 * incident: after a restart (even kill -9) the open ones are taken over, a device still down is not
 * alerted again (the same incident comes back, and the dispatcher's ledger knows it was sent), and a
 * device that came back while the monitor was away gets its recovery.
 */
export class AlertBook {
  readonly #open = new Map<string, Alert>();
  readonly #topology: Topology;
  readonly #store: IncidentStoreLike | undefined;
  /** Devices whose incident was open when this process started and that have not been judged yet. */
  readonly #takenOver = new Set<string>();

  readonly #severityOf: (site: Site) => Criticality;
  readonly #flap: FlapPolicy;
  /** Devices up again whose recovery has not settled yet → since when. */
  readonly #recovering = new Map<string, number>();

  constructor(
    topology: Topology,
    store?: IncidentStoreLike,
    severityOf?: (site: Site) => Criticality,
    flap: FlapPolicy = { settleMs: 0, flapThreshold: 2 },
  ) {
    this.#flap = flap;
    this.#topology = topology;
    this.#severityOf = severityOf ?? ((site) => site.criticality);
    this.#store = store;
    for (const inc of store?.unresolved() ?? []) {
      const alert = inc.kind === 'device_down' ? (inc.data.alert as Alert | undefined) : undefined;
      if (alert && inc.deviceId) {
        // Flaps are events of the timeline: counted again, so a restart neither forgets nor repeats them.
        const flaps = store?.timeline(inc.id).filter((e) => e.type === 'flap').length ?? 0;
        this.#open.set(inc.deviceId, {
          ...alert,
          id: inc.id,
          status: 'firing',
          ...(flaps > 0 ? { flaps } : {}),
        });
        this.#takenOver.add(inc.deviceId);
      }
    }
  }

  open(): Alert[] {
    return [...this.#open.values()];
  }

  /** The open alert of one device, if any (no copy of the list: site states read it for every device). */
  openOf(deviceId: string): Alert | undefined {
    return this.#open.get(deviceId);
  }

  /**
   * An operator resolved the incident by hand (over the API): forget it, so the device's next outage is
   * a new incident. Returns the resolved alert, or undefined when no such alert is open.
   */
  closeByHand(incidentId: string, timeMs: number): Alert | undefined {
    for (const [deviceId, a] of this.#open) {
      if (a.id !== incidentId) continue;
      this.#open.delete(deviceId);
      this.#takenOver.delete(deviceId);
      this.#recovering.delete(deviceId);
      return { ...a, status: 'resolved', resolvedAt: timeMs };
    }
    return undefined;
  }

  /** The alert event this transition causes, if any. */
  onTransition(t: Transition): Alert | undefined {
    const existing = this.#open.get(t.deviceId);
    if (t.to === 'down' && existing && this.#takenOver.delete(t.deviceId)) {
      // Still down after a restart: the same incident; the dispatcher's ledger skips what was sent.
      return existing;
    }
    if (t.to === 'down' && !existing) {
      const alert = this.#newAlert(t);
      if (!alert) return undefined;
      const stored = this.#store?.open({
        id: alert.id,
        kind: alert.kind,
        key: `device:${alert.deviceId}`,
        severity: alert.severity,
        openedAt: alert.startedAt,
        siteId: alert.siteId,
        deviceId: alert.deviceId,
        data: { alert },
      }).incident;
      const opened = stored ? { ...alert, id: stored.id, startedAt: stored.openedAt } : alert;
      this.#open.set(t.deviceId, opened);
      return opened;
    }
    if (t.to === 'down' && existing && this.#recovering.delete(t.deviceId)) {
      // Down again before its recovery settled: the same incident, one more flap.
      const flaps = (existing.flaps ?? 0) + 1;
      const flapping = { ...existing, flaps };
      this.#open.set(t.deviceId, flapping);
      this.#store?.addEvent({
        incidentId: existing.id,
        timeMs: t.timeMs,
        type: 'flap',
        note: `flap ${flaps}`,
      });
      return flaps === this.#flap.flapThreshold ? flapping : undefined;
    }
    if (t.to === 'up' && existing) {
      this.#takenOver.delete(t.deviceId);
      if (this.#flap.settleMs > 0) {
        this.#recovering.set(t.deviceId, t.timeMs);
        return undefined;
      }
      return this.#resolve(t.deviceId, existing, t.timeMs);
    }
    return undefined;
  }

  /** Recoveries that have settled by `nowMs` (up for settleMs without going down again). */
  settle(nowMs: number): Alert[] {
    const out: Alert[] = [];
    for (const [deviceId, since] of this.#recovering) {
      if (nowMs - since < this.#flap.settleMs) continue;
      this.#recovering.delete(deviceId);
      const existing = this.#open.get(deviceId);
      if (existing) out.push(this.#resolve(deviceId, existing, since));
    }
    return out;
  }

  /**
   * The device's recovery still settling, if any: since when it is up and when it will be confirmed.
   * (AlertBook.open() leaves it out; the Monitor adds it where the surfaces show it.)
   */
  recoveryOf(deviceId: string): { sinceMs: number; confirmAtMs: number } | undefined {
    const since = this.#recovering.get(deviceId);
    if (since === undefined || !this.#open.has(deviceId)) return undefined;
    return { sinceMs: since, confirmAtMs: since + this.#flap.settleMs };
  }

  /** When the next recovery settles, if one is pending. */
  nextSettleAt(): number | undefined {
    let next: number | undefined;
    for (const since of this.#recovering.values()) {
      const at = since + this.#flap.settleMs;
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  #resolve(deviceId: string, existing: Alert, timeMs: number): Alert {
    this.#open.delete(deviceId);
    this.#store?.resolve(existing.id, timeMs);
    return { ...existing, status: 'resolved', resolvedAt: timeMs };
  }

  #newAlert(t: Transition): Alert | undefined {
    const device = this.#topology.device(t.deviceId);
    const site = this.#topology.siteOfDevice(t.deviceId);
    if (!device || !site) return undefined;
    const affectedDevices = this.#topology.dependentsOf(t.deviceId);
    const siteIds = new Set<string>();
    for (const id of affectedDevices) {
      const s = this.#topology.siteOfDevice(id);
      if (s && s.id !== site.id) siteIds.add(s.id);
    }
    const affectedSites = [...siteIds].map((id) => ({ id, name: this.#topology.site(id)?.name ?? id }));
    return {
      id: `${t.deviceId}@${new Date(t.timeMs).toISOString()}`,
      status: 'firing',
      kind: 'device_down',
      severity: this.#severityOf(site),
      deviceId: device.id,
      role: device.role,
      siteId: site.id,
      startedAt: t.timeMs,
      cause: t.cause,
      affectedDevices,
      affectedSites,
    };
  }
}
