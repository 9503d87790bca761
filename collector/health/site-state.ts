/**
 * The one rule for what a site shows: the API, the `site_state` points, the MQTT state topic and (through
 * the same alerts) the feeds all read it here, so they tell one story. Pure: what the monitor knows of the
 * site's devices, its maintenance and its open incidents → the state.
 *
 * Worst first:
 *   not_monitored the edge collector of its kecamatan is lost ("monitoring lost", collector/cluster/
 *                 edge-watch.ts): what its devices last showed is stale, so neither down nor up
 *   maintenance   inside a maintenance window or silence (an outage there pages nobody)
 *   flapping      a device of it keeps going down and up (its incident counted flaps)
 *   down          a device of it is down
 *   unreachable   a device of it cannot be reached because its parent is out
 *   recovering    every device answers again, but a recovery is still settling (alerts.flapping.settle):
 *                 the incident stays open until `recoveryConfirmAt`, when RECOVERED is sent
 *   suspect, unknown, up   the worst of its devices
 */
import type { DeviceState, Sample, Site } from '../core/types.ts';
import { siteTags } from '../sinks/schema.ts';

export type SiteStateName = DeviceState | 'maintenance' | 'flapping' | 'recovering' | 'not_monitored';

/** Every state a site can show, for query validation and docs. */
export const SITE_STATES = [
  'up',
  'down',
  'unreachable',
  'suspect',
  'unknown',
  'maintenance',
  'flapping',
  'recovering',
  'not_monitored',
] as const satisfies readonly SiteStateName[];

/** `state_code` of the `site_state` measurement (collector/sinks/schema.ts documents it). */
export const SITE_STATE_CODE: Readonly<Record<SiteStateName, number>> = {
  up: 1,
  down: 0,
  unreachable: -1,
  suspect: 2,
  unknown: 3,
  maintenance: 4,
  flapping: 5,
  recovering: 6,
  not_monitored: 7,
};

export interface SiteDevice {
  readonly id: string;
  readonly role: string;
  readonly state: DeviceState;
  /** When the device entered `state` (ms). */
  readonly since: number;
}

export interface SiteFacts {
  readonly devices: readonly SiteDevice[];
  /** Covered by a maintenance window or a silence now. */
  readonly inMaintenance: boolean;
  /** A device of the site has an open incident that flapped. */
  readonly flapping: boolean;
  /** When each recovery of the site's devices that is still settling will be confirmed (ms). */
  readonly recoveriesConfirmAt: readonly number[];
  /** Since when nothing monitors the site (its edge is lost); absent while it is monitored. */
  readonly notMonitoredSince?: number | undefined;
}

export interface SiteStateDecision {
  readonly state: SiteStateName;
  /** The site reaches the internet: its router (or, without one, any device) answers. */
  readonly up: boolean;
  readonly inMaintenance: boolean;
  /** While a recovery settles: when the last one is confirmed (ms); absent otherwise. */
  readonly recoveryConfirmAt?: number | undefined;
  /** State `not_monitored`: since when. */
  readonly notMonitoredSince?: number | undefined;
}

const OUT_FIRST: readonly DeviceState[] = ['down', 'unreachable'];
const REST_FIRST: readonly DeviceState[] = ['suspect', 'unknown', 'up'];

export function decideSiteState(f: SiteFacts): SiteStateDecision {
  // Nobody monitors it: what its devices last showed may be long stale, so it is not said to be up.
  if (f.notMonitoredSince !== undefined)
    return {
      state: 'not_monitored',
      up: false,
      inMaintenance: f.inMaintenance,
      notMonitoredSince: f.notMonitoredSince,
    };
  const has = (s: DeviceState) => f.devices.some((d) => d.state === s);
  const out = OUT_FIRST.find(has);
  const settling = f.recoveriesConfirmAt.length > 0;
  let state: SiteStateName;
  if (f.inMaintenance) state = 'maintenance';
  else if (f.flapping) state = 'flapping';
  else if (out) state = out;
  else if (settling) state = 'recovering';
  else state = REST_FIRST.find(has) ?? 'unknown';
  const routers = f.devices.filter((d) => d.role === 'router');
  const up = (routers.length > 0 ? routers : f.devices).some((d) => d.state === 'up');
  return {
    state,
    up,
    inMaintenance: f.inMaintenance,
    ...(settling ? { recoveryConfirmAt: Math.max(...f.recoveriesConfirmAt) } : {}),
  };
}

/** A site's state as its `site_state` point (collector/sinks/schema.ts): what maps and availability read. */
export function siteStateSample(
  site: Site,
  view: SiteStateDecision & { readonly devices: readonly SiteDevice[] },
  timeMs: number,
): Sample {
  return {
    measurement: 'site_state',
    tags: siteTags(site),
    fields: {
      state: view.state,
      state_code: SITE_STATE_CODE[view.state],
      up: view.up ? 1 : 0,
      in_maintenance: view.inMaintenance ? 1 : 0,
      devices_down: view.devices.filter((d) => d.state === 'down' || d.state === 'unreachable').length,
      lat: site.lat,
      lon: site.lon,
    },
    timeMs,
  };
}
