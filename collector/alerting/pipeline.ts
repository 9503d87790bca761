/**
 * The suppression pipeline: the stages, in order, in this one place (after Alertmanager's
 * `notify.PipelineBuilder`). An alert event of the incident lifecycle enters as a notice and each stage
 * answers one question:
 *
 *   notice ─► dependency ─► flapping ─► maintenance ─► area ─► routing ─► delivery (channels, feeds)
 *             upstream      flapping     window or     one of   who
 *             device out?   incident?    silence?      many?    hears?
 *
 * Each stage is a module of its own under stages/ with its own table test (test/unit/alerting/stages/).
 * Delivery turns the notice into the bilingual notification and hands it to the dispatcher.
 */
import type { Logger } from '../core/log.ts';
import type { Topology } from '../health/topology.ts';
import { buildAreaNotification, buildNotification, type Notification } from '../notify/notification.ts';
import { flappingText } from './messages.ts';
import { AreaStage } from './stages/area.ts';
import { DependencyStage, type DependencyView } from './stages/dependency.ts';
import { FlappingStage } from './stages/flapping.ts';
import { MaintenanceStage, type MaintenanceStageDeps } from './stages/maintenance.ts';
import { RoutingStage, type RoutingDeps } from './stages/routing.ts';
import { chain, type Notice, type Stage, type StageName } from './stages/stage.ts';
import type { Clock } from '../core/clock.ts';
import type { AreaPolicy } from './area.ts';

export interface AlertPipelineDeps {
  readonly topology: Topology;
  readonly clock: Clock;
  readonly log: Logger;
  readonly dependency: DependencyView;
  readonly maintenance: Omit<MaintenanceStageDeps, 'log' | 'siteOf'>;
  readonly area?: AreaPolicy | undefined;
  readonly routing: Omit<RoutingDeps, 'siteOf'>;
  readonly linkBase?: string | undefined;
  /** Where a routed notification goes: the dispatcher (channels undefined: every channel). */
  readonly dispatch: (n: Notification, channels: readonly string[] | undefined) => void;
}

export class AlertPipeline {
  readonly maintenance: MaintenanceStage;
  readonly area: AreaStage;
  readonly routing: RoutingStage;
  /** In order: the one list of the suppression stages. */
  readonly stages: readonly Stage[];
  readonly #run: (notice: Notice, from?: StageName) => void;
  readonly #deps: AlertPipelineDeps;

  constructor(deps: AlertPipelineDeps) {
    this.#deps = deps;
    const siteOf = (id: string) => deps.topology.site(id);
    const log = deps.log;
    this.maintenance = new MaintenanceStage({ ...deps.maintenance, siteOf, log });
    this.area = new AreaStage(deps.area, deps.topology, deps.clock);
    this.routing = new RoutingStage({ ...deps.routing, siteOf });
    this.stages = [
      new DependencyStage(deps.dependency, (n, upstream) =>
        log.info('alert held: upstream device out', { alert: noticeId(n), upstream }),
      ),
      new FlappingStage(),
      this.maintenance,
      this.area,
      this.routing,
    ];
    this.#run = chain(this.stages, (n) => this.#deliver(n));
  }

  /** An alert event of the incident lifecycle: through every stage. */
  offer(notice: Notice): void {
    this.#run(notice);
  }

  /** A notice that already passed the stages before `from` (a page released when its window ended). */
  resume(notice: Notice, from: StageName): void {
    this.#run(notice, from);
  }

  #deliver(n: Notice): void {
    const { topology, log, linkBase, dispatch } = this.#deps;
    const channels = n.to?.channels;
    if (n.kind === 'area') {
      const inc = n.incident;
      log.warn(inc.status === 'firing' ? 'AREA OUTAGE' : 'AREA RECOVERED', {
        kecamatan: inc.kecamatan,
        sites: inc.sites.length,
      });
      return dispatch(buildAreaNotification(inc, linkBase), channels);
    }
    const { alert } = n;
    const device = topology.device(alert.deviceId);
    const site = topology.site(alert.siteId);
    if (!device || !site) return;
    const base = buildNotification(alert, site, device, linkBase);
    if (n.kind === 'page') return dispatch(base, channels);
    log.warn('flapping', { alert: alert.id, flaps: alert.flaps });
    dispatch({ ...base, kind: 'flapping', text: flappingText(alert, site, device, base.link) }, channels);
  }
}

function noticeId(n: Notice): string {
  return n.kind === 'area' ? `area:${n.incident.kecamatan}` : n.alert.id;
}
