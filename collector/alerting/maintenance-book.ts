/**
 * Maintenance windows and silences as a running part: the calendar (config windows, and those and the
 * silences made over the API, kept in the incident store), read again whenever a window or silence opens or
 * closes. Each read writes the sites whose cover changed (`maintenance` measurement), releases the alerts
 * the maintenance stage held that are no longer covered (they page now) and arms the next read.
 */
import { randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { Sample } from '../core/types.ts';
import type { Topology } from '../health/topology.ts';
import type { SampleWriterLike } from '../pipeline.ts';
import { siteTags } from '../sinks/schema.ts';
import type { IncidentStoreLike } from '../store/store.ts';
import { MaintenanceCalendar, type Cover } from './calendar.ts';
import type { MaintenanceWindow, ScopeTarget, Silence } from './scope.ts';

export interface MaintenanceBookDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly topology: Topology;
  readonly writer: SampleWriterLike;
  readonly store?: IncidentStoreLike | undefined;
  /** Windows from the config (those created over the API are in the store). */
  readonly windows?: readonly MaintenanceWindow[] | undefined;
  /** After each read: the sites whose cover changed (the alerts no longer covered are handled first). */
  readonly changed: (siteIds: ReadonlySet<string>, nowMs: number) => void;
  /** Each read, before `changed`: release what the maintenance stage holds that is no longer covered. */
  readonly release: (nowMs: number) => void;
}

export class MaintenanceBook {
  readonly #deps: MaintenanceBookDeps;
  readonly #calendar: MaintenanceCalendar;
  /** Sites under maintenance at the last read → the window's name or the silence's comment. */
  #covered = new Map<string, string>();
  #timer: TimerHandle | undefined;
  #running = false;

  constructor(deps: MaintenanceBookDeps) {
    this.#deps = deps;
    this.#calendar = new MaintenanceCalendar(
      [...(deps.windows ?? []), ...((deps.store?.suppressions('maintenance') ?? []) as MaintenanceWindow[])],
      (deps.store?.suppressions('silence') ?? []) as Silence[],
    );
  }

  start(): void {
    this.#running = true;
    this.read();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer) this.#deps.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  coverOf(target: ScopeTarget, timeMs: number): Cover | undefined {
    return this.#calendar.activeFor(target, timeMs);
  }

  /** Whether a site is under maintenance or silenced now (for the API and dashboards). */
  inMaintenance(siteId: string): boolean {
    const site = this.#deps.topology.site(siteId);
    return site !== undefined && this.#calendar.activeFor({ site }, this.#deps.clock.now()) !== undefined;
  }

  windows(): MaintenanceWindow[] {
    return this.#calendar.windows();
  }

  silences(): Silence[] {
    return this.#calendar.silences();
  }

  addWindow(w: Omit<MaintenanceWindow, 'id' | 'source' | 'createdBy'>, by: string): MaintenanceWindow {
    const window: MaintenanceWindow = { ...w, id: `mw-${randomUUID()}`, source: 'api', createdBy: by };
    this.#deps.store?.saveSuppression('maintenance', window.id, window, this.#deps.clock.now());
    this.#calendar.addWindow(window);
    this.#deps.log.info('maintenance window added', { id: window.id, name: window.name, by });
    this.read();
    return window;
  }

  deleteWindow(id: string, by: string): 'ok' | 'not_found' | 'config' {
    const w = this.#calendar.window(id);
    if (!w) return 'not_found';
    if (w.source === 'config') return 'config';
    this.#deps.store?.deleteSuppression('maintenance', id);
    this.#calendar.removeWindow(id);
    this.#deps.log.info('maintenance window deleted', { id, by });
    this.read();
    return 'ok';
  }

  addSilence(s: Omit<Silence, 'id' | 'createdBy'>, by: string): Silence {
    const silence: Silence = { ...s, id: `sil-${randomUUID()}`, createdBy: by };
    this.#deps.store?.saveSuppression('silence', silence.id, silence, this.#deps.clock.now());
    this.#calendar.addSilence(silence);
    this.#deps.log.info('silence added', { id: silence.id, by, comment: s.comment });
    this.read();
    return silence;
  }

  deleteSilence(id: string, by: string): boolean {
    if (!this.#calendar.removeSilence(id)) return false;
    this.#deps.store?.deleteSuppression('silence', id);
    this.#deps.log.info('silence deleted', { id, by });
    this.read();
    return true;
  }

  /** A window or silence opened or closed (or was added or removed): see the header. */
  read(): void {
    const { clock, topology, store, writer } = this.#deps;
    const now = clock.now();
    for (const id of this.#calendar.expire(now)) store?.deleteSuppression('silence', id);
    const covered = new Map<string, string>();
    for (const id of topology.siteIds()) {
      const site = topology.site(id);
      const cover = site && this.#calendar.activeFor({ site }, now);
      if (cover) covered.set(id, cover.kind === 'maintenance' ? cover.window.name : cover.silence.comment);
    }
    const samples: Sample[] = [];
    const changed = new Set<string>();
    const point = (siteId: string, active: number, reason: string) => {
      changed.add(siteId);
      const site = topology.site(siteId);
      if (site)
        samples.push({
          measurement: 'maintenance',
          tags: siteTags(site),
          fields: { active, reason },
          timeMs: now,
        });
    };
    for (const [id, reason] of covered) if (!this.#covered.has(id)) point(id, 1, reason);
    for (const [id, reason] of this.#covered) if (!covered.has(id)) point(id, 0, reason);
    if (samples.length > 0) writer.push(samples);
    this.#covered = covered;
    this.#deps.release(now);
    // After the pages: a listener reading the site state sees the alerts as they now stand.
    this.#deps.changed(changed, now);

    if (this.#timer) clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const next = this.#calendar.nextChange(now);
    if (next !== undefined && this.#running)
      this.#timer = clock.setTimeout(
        () => this.read(),
        // Re-read at most daily: a window added far ahead is picked up by the next read.
        Math.max(1, Math.min(next - now, 86_400_000)),
      );
  }
}
