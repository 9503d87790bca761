/**
 * The live feed (`GET /api/v1/events`, server-sent events): one EventSource for the whole console, its
 * events handed to whoever listens. EventSource reconnects by itself; each reconnection brings a fresh
 * `snapshot`, so a page that missed events while away is whole again.
 */
export interface SiteEvent {
  readonly id: string;
  readonly state: string;
  readonly previous?: string;
  readonly since?: string | number | null;
  readonly recoveryConfirmAt?: string | number | null;
  readonly at?: string | number;
}
export interface SnapshotEvent {
  readonly sites: readonly SiteEvent[];
}
export interface DeviceEvent {
  readonly id: string;
  readonly siteId: string;
  readonly state: string;
  /** Present on a transition; absent on a warning raised or cleared (the state did not change). */
  readonly previous?: string;
  /** A warning raised (the warning) or cleared (null); absent on a transition. */
  readonly warning?: DeviceWarning | null;
  readonly at?: string | number;
}
/** A warning on a device that stays up (today: "SNMP not answering", ping still answers). */
export interface DeviceWarning {
  readonly kind: string;
  readonly since: string | number;
  readonly text?: { readonly id: string; readonly en: string };
}
export interface IncidentEvent {
  readonly id: string;
  readonly status: string;
  readonly siteId?: string;
  readonly kind: string;
  readonly at?: string | number;
}
export interface HealthEvent {
  readonly status: string;
  readonly details?: Record<string, unknown>;
  readonly [k: string]: unknown;
}

export interface LiveEvents {
  snapshot: SnapshotEvent;
  site: SiteEvent;
  device: DeviceEvent;
  incident: IncidentEvent;
  health: HealthEvent;
  connection: { readonly connected: boolean };
}
type Handler<K extends keyof LiveEvents> = (e: LiveEvents[K]) => void;

const handlers = new Map<keyof LiveEvents, Set<(e: never) => void>>();
let source: EventSource | undefined;

export function on<K extends keyof LiveEvents>(kind: K, f: Handler<K>): () => void {
  let set = handlers.get(kind);
  if (!set) handlers.set(kind, (set = new Set()));
  set.add(f);
  return () => set.delete(f);
}

function emit<K extends keyof LiveEvents>(kind: K, e: LiveEvents[K]): void {
  const set = handlers.get(kind) as Set<Handler<K>> | undefined;
  for (const f of set ?? []) {
    try {
      f(e);
    } catch (err) {
      console.error(`live ${kind} handler failed`, err);
    }
  }
}

export function connect(url = '/api/v1/events'): void {
  if (source) return;
  const es = new EventSource(url, { withCredentials: true });
  source = es;
  es.onopen = () => emit('connection', { connected: true });
  es.onerror = () => emit('connection', { connected: false });
  for (const kind of ['snapshot', 'site', 'device', 'incident', 'health'] as const) {
    es.addEventListener(kind, (m: MessageEvent<string>) => {
      let data: unknown;
      try {
        data = JSON.parse(m.data);
      } catch {
        console.warn(`live ${kind}: not JSON`, m.data);
        return;
      }
      emit(kind, data as LiveEvents[typeof kind]);
    });
  }
}

export function disconnect(): void {
  source?.close();
  source = undefined;
  emit('connection', { connected: false });
}
