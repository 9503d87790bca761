/**
 * Stage 5, routing: who hears of this notice? The first route matching its kind, severity, category and
 * kecamatan gives the escalation chain (collector/alerting/oncall.ts); a notice goes to the contacts of the
 * chain up to the level its incident reached (a recovery goes to everyone the outage reached, escalations
 * included). Without routes, every channel. `routeOf` is the one place the routed view of an incident is
 * built: pages, flapping notices, recoveries settling and escalations all ask it.
 */
import type { Category, Criticality, Site } from '../../core/types.ts';
import { channelsUpTo, type OnCallPolicy, type RoutedIncident } from '../oncall.ts';
import type { Next, Notice, Stage } from './stage.ts';

/** What routing looks at, for an incident of `kind` and `severity` where it is (an area: no category). */
export function routeOf(
  kind: string,
  severity: Criticality,
  where: { readonly category?: Category | undefined; readonly kecamatan?: string | undefined } = {},
): RoutedIncident {
  return { kind, severity, category: where.category, kecamatan: where.kecamatan };
}

export interface RoutingDeps {
  readonly oncall: OnCallPolicy;
  readonly siteOf: (siteId: string) => Site | undefined;
  /** The escalation level an incident reached (0: the first page only). */
  readonly levelOf: (incidentId: string) => number;
}

export class RoutingStage implements Stage {
  readonly name = 'routing' as const;
  readonly #deps: RoutingDeps;

  constructor(deps: RoutingDeps) {
    this.#deps = deps;
  }

  run(notice: Notice, next: Next): void {
    next({ ...notice, to: { channels: this.channelsOf(notice) } });
  }

  /** The channels a notice goes to; undefined: every channel. */
  channelsOf(notice: Notice): readonly string[] | undefined {
    const { oncall, siteOf, levelOf } = this.#deps;
    if (notice.kind === 'area')
      return channelsUpTo(oncall, routeOf('area_outage', 'critical', notice.incident), 0);
    const { alert } = notice;
    const site = siteOf(alert.siteId);
    const kind = notice.kind === 'flapping' ? 'flapping' : alert.kind;
    // The first page goes to the first contact; a recovery or a flapping notice to all the incident reached.
    const level = notice.kind === 'page' && alert.status === 'firing' ? 0 : levelOf(alert.id);
    return channelsUpTo(oncall, routeOf(kind, alert.severity, site), level);
  }
}
