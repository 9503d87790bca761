/**
 * What the console knows about the sites: loaded once from `/api/v1/sites`, then kept current by the
 * live feed (snapshot on each connection, a `site` event per change). Pages subscribe to changes.
 */
import { api } from './api.ts';
import { on, type DeviceWarning, type SiteEvent } from './live.ts';

export interface DeviceView {
  readonly id: string;
  readonly role: string;
  state: string;
  since?: string | number;
  /** "SNMP not answering" and the like: not an outage (the state stays up). */
  warning?: DeviceWarning | null;
}

export interface SiteView {
  readonly id: string;
  readonly name: string;
  readonly category: string;
  readonly kecamatan: string;
  readonly desa: string;
  readonly lat?: number;
  readonly lon?: number;
  state: string;
  since?: string | number | null;
  recoveryConfirmAt?: string | number | null;
  devices: DeviceView[];
}

type SiteListener = (site: SiteView, event: SiteEvent | undefined) => void;

const sites = new Map<string, SiteView>();
const listeners = new Set<SiteListener>();
let loading: Promise<void> | undefined;

export function allSites(): SiteView[] {
  return [...sites.values()];
}

export function siteById(id: string): SiteView | undefined {
  return sites.get(id);
}

/** Load the sites once (later calls share the first load). */
export function loadSites(): Promise<void> {
  loading ??= api.get<{ sites: SiteView[] }>('/sites').then(
    (r) => {
      for (const s of r.sites) sites.set(s.id, { ...s, devices: [...(s.devices ?? [])] });
    },
    (err: unknown) => {
      loading = undefined;
      throw err;
    },
  );
  return loading;
}

export function onSiteChange(f: SiteListener): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

function apply(e: SiteEvent, event: SiteEvent | undefined): void {
  const s = sites.get(e.id);
  if (!s) return;
  if (s.state === e.state && s.since === e.since && s.recoveryConfirmAt === e.recoveryConfirmAt) return;
  s.state = e.state;
  s.since = e.since;
  s.recoveryConfirmAt = e.recoveryConfirmAt;
  for (const f of listeners) f(s, event);
}

on('snapshot', (snap) => {
  for (const e of snap.sites) apply(e, undefined);
});
on('site', (e) => apply(e, e));
on('device', (e) => {
  const s = sites.get(e.siteId);
  const d = s?.devices.find((x) => x.id === e.id);
  if (!s || !d) return;
  if (e.warning !== undefined) d.warning = e.warning;
  // A warning's event keeps the state and its `since`; a transition moves both.
  if (e.warning === undefined || e.previous !== undefined) {
    d.state = e.state;
    d.since = e.at;
  }
  for (const f of listeners) f(s, undefined);
});

export function resetStore(): void {
  sites.clear();
  loading = undefined;
}
