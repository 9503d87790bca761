/**
 * The unresolved incident of each device, for the live feed's `recovering` events (collector/http/
 * live-feed.ts asks on every transition to up: 3,350 times in the Badung fleet's first poll round).
 *
 *   store.unresolved()  ─► one map, read on the first question
 *   incident changes    ─► the map kept (opened, acknowledged: set; resolved: removed)
 *
 * Asking the store per device was a SQL query (SQLite) per transition; the map answers from memory. It
 * follows the changes an ObservedIncidentStore tells (open, acknowledge, resolve: the only writes that
 * change whether an incident is unresolved, and the fields the feed reads never change), so it must be fed
 * every change of the store the monitor writes to, as console-backend.ts does.
 */
import type { Incident, IncidentStoreLike } from '../store/store.ts';

/** The alert book keys a device's incident `device:<id>` (collector/alerting/alert.ts). */
const DEVICE_KEY = 'device:';

export class OpenDeviceIncidents {
  readonly #store: Pick<IncidentStoreLike, 'unresolved'>;
  /** Device id → its unresolved incident; undefined until the first question. */
  #byDevice: Map<string, Incident> | undefined;

  constructor(store: Pick<IncidentStoreLike, 'unresolved'>) {
    this.#store = store;
  }

  /** The device's unresolved incident, as `store.openByKey(\`device:${deviceId}\`)` answers. */
  of(deviceId: string): Incident | undefined {
    this.#byDevice ??= this.#read();
    return this.#byDevice.get(deviceId);
  }

  /** An incident opened, was acknowledged or resolved (before the first question: read then). */
  changed(incident: Incident): void {
    if (!this.#byDevice || !incident.key.startsWith(DEVICE_KEY)) return;
    const deviceId = incident.key.slice(DEVICE_KEY.length);
    if (incident.status === 'resolved') {
      // Only this incident: a newer one of the same device may be open already.
      if (this.#byDevice.get(deviceId)?.id === incident.id) this.#byDevice.delete(deviceId);
    } else this.#byDevice.set(deviceId, incident);
  }

  #read(): Map<string, Incident> {
    const byDevice = new Map<string, Incident>();
    for (const inc of this.#store.unresolved())
      if (inc.key.startsWith(DEVICE_KEY)) byDevice.set(inc.key.slice(DEVICE_KEY.length), inc);
    return byDevice;
  }
}
