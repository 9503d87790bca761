/**
 * The topic grammar (documented in broker/README.md):
 *
 *   netmon/v1/<site>/<device>/telemetry   device → monitor   JSON telemetry (payloads.ts)
 *   netmon/v1/<site>/<device>/status      device → monitor   {"state":"online"|"offline", "clean"?: bool}, retained;
 *                                                            the device's Last Will is {"state":"offline","clean":false}
 *   netmon/v1/state/site/<site>           monitor → others   current site state, retained
 *   netmon/v1/state/device/<device>       monitor → others   current device state, retained
 *   netmon/v1/alerts                      monitor → others   every alert and recovery (not retained)
 *
 * Who may do what: a device publishes only its own telemetry and status and subscribes to nothing; the
 * collector reads every device topic and writes the state topics; a subscriber (another regency system)
 * reads the state and alert topics. Pure.
 */
import type { Account } from './accounts.ts';

export const PREFIX = 'netmon/v1';

export type DeviceTopic = {
  readonly kind: 'telemetry' | 'status';
  readonly site: string;
  readonly device: string;
};

export function deviceTopic(site: string, device: string, kind: 'telemetry' | 'status'): string {
  return `${PREFIX}/${site}/${device}/${kind}`;
}
export const siteStateTopic = (site: string): string => `${PREFIX}/state/site/${site}`;
export const deviceStateTopic = (device: string): string => `${PREFIX}/state/device/${device}`;
export const ALERTS_TOPIC = `${PREFIX}/alerts`;

/** A device topic, or undefined for anything else. */
export function parseDeviceTopic(topic: string): DeviceTopic | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== PREFIX || parts[2] === 'state') return undefined;
  const [, , site, device, kind] = parts;
  if (!site || !device || (kind !== 'telemetry' && kind !== 'status')) return undefined;
  return { kind, site, device };
}

/** Why `account` may not publish to `topic`, or undefined when it may. */
export function publishDenied(account: Account, topic: string): string | undefined {
  if (account.role === 'collector') {
    return topic.startsWith(`${PREFIX}/state/`) || topic === ALERTS_TOPIC
      ? undefined
      : 'the collector writes only state and alert topics';
  }
  if (account.role === 'subscriber') return 'subscribers may not publish';
  const t = parseDeviceTopic(topic);
  if (!t) return `'${topic}' is not a device topic (netmon/v1/<site>/<device>/telemetry|status)`;
  if (t.device !== account.deviceId || t.site !== account.siteId) {
    return `device ${account.deviceId ?? '?'} may publish only under ${PREFIX}/${account.siteId ?? '?'}/${account.deviceId ?? '?'}/`;
  }
  return undefined;
}

/** Why `account` may not subscribe to `filter`, or undefined when it may. */
export function subscribeDenied(account: Account, filter: string): string | undefined {
  if (account.role === 'collector') return filter.startsWith(`${PREFIX}/`) ? undefined : 'outside netmon/v1/';
  if (account.role === 'subscriber') {
    return filter.startsWith(`${PREFIX}/state/`) || filter === ALERTS_TOPIC
      ? undefined
      : 'subscribers read only state and alert topics';
  }
  return 'devices may not subscribe';
}
