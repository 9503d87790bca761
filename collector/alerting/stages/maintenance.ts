/**
 * Stage 3, maintenance and silences: is the site or device inside a maintenance window or under a silence?
 * An outage that fires inside one is recorded (its incident's timeline says which, by whom, until when) but
 * pages nobody, nor does its recovery or its flapping notice. When the cover ends while the device is still
 * down, `release` hands the alert back to be paged then. (Alertmanager's `silence` and `timeinterval`
 * muters.) The stage remembers which open alerts it holds: the API shows them as silenced, and an incident
 * held back has no clock running (nobody was paged, so nobody is late).
 */
import type { Logger } from '../../core/log.ts';
import type { Site } from '../../core/types.ts';
import type { IncidentEvent } from '../../store/incident-store.ts';
import type { Alert } from '../alert.ts';
import { suppressionOf, type Cover } from '../calendar.ts';
import { isoWita } from '../../core/time-zone.ts';
import type { ScopeTarget, Suppression } from '../scope.ts';
import type { Next, Notice, Stage } from './stage.ts';

export interface MaintenanceStageDeps {
  /** The window or silence covering a target at a time (MaintenanceCalendar.activeFor). */
  readonly coverOf: (target: ScopeTarget, timeMs: number) => Cover | undefined;
  readonly siteOf: (siteId: string) => Site | undefined;
  /** Where the incident timeline is written (the incident store); absent: nowhere. */
  readonly addEvent?: ((ev: IncidentEvent) => void) | undefined;
  readonly log: Logger;
}

export class MaintenanceStage implements Stage {
  readonly name = 'maintenance' as const;
  readonly #deps: MaintenanceStageDeps;
  /** Open alerts held back → the window or silence that holds them. */
  readonly #held = new Map<string, Suppression>();

  constructor(deps: MaintenanceStageDeps) {
    this.#deps = deps;
  }

  /** The window or silence holding back an open alert, if one does. */
  suppression(alertId: string): Suppression | undefined {
    return this.#held.get(alertId);
  }

  run(notice: Notice, next: Next): void {
    if (notice.kind === 'area') return next(notice);
    const { alert, timeMs } = notice;
    const was = this.#held.get(alert.id);
    if (alert.status === 'resolved') {
      if (!was) return next(notice);
      this.#held.delete(alert.id);
      this.#deps.addEvent?.({
        incidentId: alert.id,
        timeMs,
        type: was.kind === 'silence' ? 'recovered_while_silenced' : 'recovered_in_maintenance',
        note: `${was.kind} ${was.id}`,
      });
      return;
    }
    // A flapping notice follows its incident: held if the incident is, sent if it was paged.
    if (notice.kind === 'flapping') return was ? undefined : next(notice);
    const cover = this.#coverOf(alert, timeMs);
    if (!cover) return next(notice);
    const s = suppressionOf(cover, timeMs);
    // The timeline records who silenced it and until when (the API shows it as `silenced`).
    if (!was)
      this.#deps.addEvent?.({
        incidentId: alert.id,
        timeMs,
        type: 'suppressed',
        actor: s.by,
        note: `${s.kind} ${s.id} until ${isoWita(s.untilMs)}: ${s.reason}`,
      });
    this.#held.set(alert.id, s);
    this.#deps.log.info('alert suppressed', {
      alert: alert.id,
      kind: s.kind,
      id: s.id,
      by: s.by,
      until: isoWita(s.untilMs),
      reason: s.reason,
    });
  }

  /**
   * The calendar changed (a window or silence opened, closed, was added or removed): of the open alerts it
   * holds, those still covered show the cover that holds now; the others are released, to be paged now.
   */
  release(open: readonly Alert[], nowMs: number): Alert[] {
    const out: Alert[] = [];
    for (const alert of open) {
      const was = this.#held.get(alert.id);
      if (!was) continue;
      const cover = this.#coverOf(alert, nowMs);
      if (cover) {
        // Still covered, perhaps by another window or silence: the incident shows the one that holds now.
        this.#held.set(alert.id, suppressionOf(cover, nowMs));
        continue;
      }
      this.#held.delete(alert.id);
      // A silence that ended or was deleted is a silence over, not a maintenance window.
      this.#deps.addEvent?.({
        incidentId: alert.id,
        timeMs: nowMs,
        type: was.kind === 'silence' ? 'silence_ended' : 'maintenance_ended',
        note: `${was.kind} ${was.id}: ${was.reason}`,
      });
      this.#deps.log.warn(`${was.kind} over, device still down`, { alert: alert.id, [was.kind]: was.id });
      out.push(alert);
    }
    return out;
  }

  #coverOf(alert: Alert, timeMs: number): Cover | undefined {
    const site = this.#deps.siteOf(alert.siteId);
    return site && this.#deps.coverOf({ site, deviceId: alert.deviceId }, timeMs);
  }
}
