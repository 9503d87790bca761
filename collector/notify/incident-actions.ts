/**
 * What an operator can do to an incident from a chat (Telegram buttons), over the monitor's service port
 * (collector/http/service.ts), the same the HTTP API uses: every decision stays the monitor's. Refusals come
 * back as values, never thrown, so a chat handler can answer the operator with them.
 *
 * The timeline records who acted and how: the operator's name as actor, "via Telegram" as note. A silence
 * covers the incident's site (or, without a site, its device) from now for the given time.
 */
import { errorMessage } from '../core/errors.ts';
import { ApiError, type IncidentView, type MonitorService } from '../http/service.ts';
import type { IncidentEvent } from '../store/incident-store.ts';

export type ActionOutcome =
  | { readonly ok: true; readonly incident: IncidentView; readonly silenceId?: string | undefined }
  | { readonly ok: false; readonly reason: 'not_found' | 'conflict' | 'failed'; readonly message: string };

export interface IncidentActions {
  acknowledge(id: string, by: string, via: string): ActionOutcome;
  resolve(id: string, by: string, via: string): ActionOutcome;
  silence(id: string, durationMs: number, by: string, via: string): ActionOutcome;
}

export interface ServiceActionsDeps {
  readonly now: () => number;
  /** Adds a silence's line to the incident's timeline (the service's addSilence does not know incidents). */
  readonly addEvent?: ((ev: IncidentEvent) => void) | undefined;
}

export function serviceActions(
  service: Pick<MonitorService, 'incident' | 'acknowledge' | 'resolve' | 'addSilence'>,
  deps: ServiceActionsDeps,
): IncidentActions {
  return {
    acknowledge: (id, by, via) => attempt(() => ({ ok: true, incident: service.acknowledge(id, by, via) })),
    resolve: (id, by, via) => attempt(() => ({ ok: true, incident: service.resolve(id, by, via) })),
    silence: (id, durationMs, by, via) =>
      attempt(() => {
        const detail = service.incident(id);
        if (!detail) return { ok: false, reason: 'not_found', message: `no incident '${id}'` };
        const inc = detail.incident;
        if (inc.status === 'resolved')
          return { ok: false, reason: 'conflict', message: 'it is already resolved' };
        const scope = inc.siteId
          ? { sites: [inc.siteId] }
          : inc.deviceId
            ? { devices: [inc.deviceId] }
            : undefined;
        if (!scope)
          return { ok: false, reason: 'conflict', message: 'it names no site or device to silence' };
        const now = deps.now();
        const minutes = Math.round(durationMs / 60_000);
        const silence = service.addSilence(
          {
            scope,
            startsAt: now,
            endsAt: now + durationMs,
            comment: `${via}: incident ${id}, ${minutes} min`,
          },
          by,
        );
        deps.addEvent?.({
          incidentId: id,
          timeMs: now,
          type: 'silenced',
          actor: by,
          note: `${via}, ${minutes} min (${silence.id})`,
        });
        return { ok: true, incident: inc, silenceId: silence.id };
      }),
  };
}

function attempt(fn: () => ActionOutcome): ActionOutcome {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ApiError)
      return { ok: false, reason: err.status === 404 ? 'not_found' : 'conflict', message: err.message };
    return { ok: false, reason: 'failed', message: errorMessage(err) };
  }
}
