/**
 * Stage 4, area grouping: is this page one of many in its kecamatan? Then it waits the group wait and is
 * folded into one area incident (a power cut, a flood) instead of paging on its own; the area incident is
 * the notice (collector/alerting/area.ts decides, with its timers). Flapping notices and recoveries of
 * pages never sent pass as the grouper says. Without an area policy every page passes at once.
 * (Alertmanager's `dispatch` aggregation groups, with their group_wait.)
 */
import type { Clock } from '../../core/clock.ts';
import type { Topology } from '../../health/topology.ts';
import { AreaGrouper, type AreaBook, type AreaIncident, type AreaPolicy } from '../area.ts';
import type { Next, Notice, Stage } from './stage.ts';

export class AreaStage implements Stage {
  readonly name = 'area' as const;
  readonly #grouper: AreaGrouper | undefined;
  readonly #clock: Clock;
  /** The stage after this one: the grouper pages later, from its timers. The chain never changes. */
  #next: Next | undefined;

  constructor(policy: AreaPolicy | undefined, topology: Topology, clock: Clock) {
    this.#clock = clock;
    this.#grouper =
      policy &&
      new AreaGrouper(policy, topology, clock, {
        page: (alert) => this.#next?.({ kind: 'page', alert, timeMs: this.#clock.now() }),
        area: (incident) => this.#next?.({ kind: 'area', incident, timeMs: this.#clock.now() }),
      });
  }

  run(notice: Notice, next: Next): void {
    this.#next = next;
    if (notice.kind !== 'page' || !this.#grouper) return next(notice);
    this.#grouper.offer(notice.alert);
  }

  /**
   * Keep area incidents in `book` (the incident store: collector/alerting/area-book.ts) and take over the
   * open ones it holds; returns those. Without an area policy nothing is grouped and nothing taken over.
   */
  keepIn(book: AreaBook): AreaIncident[] {
    return this.#grouper?.keepIn(book) ?? [];
  }

  /** The area incidents open now (the feeds show them). */
  open(): AreaIncident[] {
    return this.#grouper?.open() ?? [];
  }

  /** Stopping: the pages still waiting go out now rather than never. */
  flush(): void {
    this.#grouper?.flush();
  }
}
