/**
 * The HTTP API's port (collector/http/service.ts) implemented over the running Monitor and its incident
 * store. Translation only: every decision is the Monitor's; refusals become ApiError with their status.
 */
import type { IncidentLiveState, Monitor } from './monitor.ts';
import type { Alert } from './alerting/alert.ts';
import { lostEdgeOf, MONITORING_LOST_KIND, monitoringLostTexts } from './alerting/edge-book.ts';
import { isoWita, isoWitaOrNull } from './core/time-zone.ts';
import {
  scopeMatches,
  unknownScopeValues,
  type MaintenanceWindow,
  type Scope,
  type Silence,
} from './alerting/scope.ts';
import type { Clock } from './core/clock.ts';
import type { Category, Inventory } from './core/types.ts';
import { headline } from './feeds/texts.ts';
import type { Topology } from './health/topology.ts';
import { RequestProblem } from './http/bodies.ts';
import {
  ApiError,
  type Bilingual,
  type DeviceWarningView,
  type IncidentDetail,
  type IncidentFilter,
  type IncidentView,
  type MaintenanceView,
  type MonitorService,
  type NewMaintenance,
  type NewSilence,
  type SilenceView,
  type SiteState,
  type TimelineEventView,
} from './http/service.ts';
import { buildNotification } from './notify/notification.ts';
import type { InfluxSource } from './reports/history.ts';
import type { AvailabilityReport } from './reports/model.ts';
import {
  generateReport,
  renderReport,
  ReportNoDataError,
  ReportRequestError,
  type ReportFormat,
  type ReportQuery,
} from './reports/generate.ts';
import type { Incident, IncidentEvent, IncidentStoreLike } from './store/store.ts';

/** A device warning's words (collector/sources/ping/attach.ts logs the same). */
const WARNING_TEXT: Readonly<Record<DeviceWarningView['kind'], Bilingual>> = {
  snmp_not_answering: {
    id: 'SNMP tidak menjawab: perangkat masih menjawab ping, bukan gangguan',
    en: 'SNMP not answering: the device still answers ping, not an outage',
  },
};

/** Where reports read from, and the targets they measure against; absent: reports are not available. */
export interface ReportSettings {
  readonly source: InfluxSource;
  readonly inventory: Inventory;
  readonly targets: Readonly<Record<Category, number>>;
}

/**
 * What the service asks of the running monitor: the roles' read side (state, incidents' live state) and
 * the operators' actions (acknowledge, resolve, maintenance, silences). Nothing of polling or delivery.
 */
export type ServedMonitor = Pick<
  Monitor,
  | 'status'
  | 'health'
  | 'topology'
  | 'siteState'
  | 'incidentLiveState'
  | 'acknowledge'
  | 'resolveByHand'
  | 'maintenanceWindows'
  | 'addMaintenance'
  | 'deleteMaintenance'
  | 'silences'
  | 'addSilence'
  | 'deleteSilence'
>;

export class MonitorApi implements MonitorService {
  readonly #monitor: ServedMonitor;
  readonly #store: IncidentStoreLike;
  readonly #clock: Clock;

  readonly #reports: ReportSettings | undefined;

  constructor(monitor: ServedMonitor, store: IncidentStoreLike, clock: Clock, reports?: ReportSettings) {
    this.#monitor = monitor;
    this.#store = store;
    this.#clock = clock;
    this.#reports = reports;
  }

  async availabilityReport(
    q: ReportQuery,
    format: ReportFormat,
  ): Promise<{ body: Buffer; contentType: string; filename: string }> {
    const r = this.#reports;
    if (!r)
      throw new ApiError(503, 'reports need the InfluxDB 1.x API (influx.api: v1) to read the history from');
    let report;
    try {
      report = await generateReport(r.source, r.inventory, q, {
        nowMs: this.#clock.now(),
        targets: r.targets,
      });
    } catch (err) {
      if (err instanceof ReportRequestError) throw new ApiError(400, err.message);
      // A period the monitor never watched: nothing to report (not "0 of 987 sites meet target").
      if (err instanceof ReportNoDataError) throw new ApiError(404, err.message);
      throw err;
    }
    const out = await renderReport(report, format);
    const period = report.periodLabel.replace(/[^0-9A-Za-z-]+/g, '_');
    return {
      body: format === 'json' ? reportJson(report) : out.body,
      contentType: out.contentType,
      filename: `badung-netmon-${period}.${out.extension}`,
    };
  }

  health(): { status: 'ok' | 'degraded'; details: Record<string, unknown> } {
    const s = this.#monitor.status();
    // Samples waiting on disk (the database is away) or lost: degraded. A queue being flushed is normal.
    // Past capacity (scheduler.ts overload): polls are late; details.overloaded says so, with the rate.
    const overloaded = s.scheduler.overload?.overloaded === true;
    const degraded = (s.writer.onDisk ?? 0) > 0 || s.writer.dropped > 0 || overloaded;
    return {
      status: degraded ? 'degraded' : 'ok',
      details: {
        overloaded,
        uptimeS: Math.round((this.#clock.now() - s.startedAt) / 1000),
        devices: s.devices,
        states: s.states,
        polls: s.polls,
        scheduler: s.scheduler,
        writer: s.writer,
        notifications: s.notifications,
        // Devices that answer ping while SNMP does not: not outages, not counted as degraded (README: Ping).
        warnings: this.#warnings(),
      },
    };
  }

  #warnings(): {
    count: number;
    devices: { deviceId: string; siteId: string | null; kind: string; since: string; text: Bilingual }[];
  } {
    const topo = this.#monitor.topology;
    const list = this.#monitor.health
      .warnings()
      .sort((a, b) => a.sinceMs - b.sinceMs || a.deviceId.localeCompare(b.deviceId));
    return {
      count: list.length,
      // The oldest 100: enough to act on; /sites/:id has every device's.
      devices: list.slice(0, 100).map((w) => ({
        deviceId: w.deviceId,
        siteId: topo.siteOfDevice(w.deviceId)?.id ?? null,
        kind: w.kind,
        since: isoWita(w.sinceMs),
        text: WARNING_TEXT[w.kind],
      })),
    };
  }

  sites(filter: { kecamatan?: string | undefined; state?: string | undefined }): SiteState[] {
    const topo = this.#monitor.topology;
    const out: SiteState[] = [];
    for (const id of topo.siteIds()) {
      const s = this.site(id);
      if (!s) continue;
      if (filter.kecamatan && s.kecamatan !== filter.kecamatan) continue;
      if (filter.state && s.state !== filter.state) continue;
      out.push(s);
    }
    return out;
  }

  site(id: string): SiteState | undefined {
    const site = this.#monitor.topology.site(id);
    const view = this.#monitor.siteState(id);
    if (!site || !view) return undefined;
    return {
      id: site.id,
      name: site.name,
      category: site.category,
      kecamatan: site.kecamatan,
      desa: site.desa,
      lat: site.lat,
      lon: site.lon,
      state: view.state,
      recoveryConfirmAt: isoWitaOrNull(view.recoveryConfirmAt),
      devices: view.devices.map((d) => ({
        id: d.id,
        role: d.role,
        state: d.state,
        since: isoWita(d.since),
        warning: this.#warningOf(d.id),
      })),
      warnings: view.devices.filter((d) => this.#monitor.health.get(d.id)?.warning).length,
    };
  }

  #warningOf(deviceId: string): DeviceWarningView | null {
    const w = this.#monitor.health.get(deviceId)?.warning;
    return w ? { kind: w.kind, since: isoWita(w.sinceMs), text: WARNING_TEXT[w.kind] } : null;
  }

  incidents(filter: IncidentFilter): IncidentView[] {
    const topo = this.#monitor.topology;
    let siteIds: string[] | undefined;
    if (filter.siteId) siteIds = [filter.siteId];
    if (filter.kecamatan) {
      const inKec = topo.siteIds().filter((id) => topo.site(id)?.kecamatan === filter.kecamatan);
      siteIds = siteIds ? siteIds.filter((id) => inKec.includes(id)) : inKec;
    }
    return this.#store
      .list({
        status: filter.status,
        siteIds,
        severity: filter.severity,
        sinceMs: filter.sinceMs,
        limit: filter.limit,
      })
      .map((inc) => this.#view(inc));
  }

  incident(id: string): IncidentDetail | undefined {
    const incident = this.#store.get(id);
    if (!incident) return undefined;
    return {
      incident: this.#view(incident),
      timeline: this.#store.timeline(id).map(timelineView),
      notifications: this.#store
        .notificationsOf(id)
        .map((n) => ({ channel: n.channel, kind: n.kind, sentAt: isoWita(n.sentAt) })),
    };
  }

  #view(inc: Incident): IncidentView {
    return incidentView(inc, this.#monitor.topology, this.#monitor.incidentLiveState(inc.id));
  }

  acknowledge(id: string, by: string, note: string | undefined): IncidentView {
    return this.#view(outcome(this.#monitor.acknowledge(id, by, note), id));
  }

  resolve(id: string, by: string, note: string | undefined): IncidentView {
    return this.#view(outcome(this.#monitor.resolveByHand(id, by, note), id));
  }

  maintenance(): MaintenanceView[] {
    return this.#monitor.maintenanceWindows().map(maintenanceView);
  }

  addMaintenance(w: NewMaintenance, by: string): MaintenanceView {
    this.#checkScope(w.scope);
    return maintenanceView(this.#monitor.addMaintenance(w, by));
  }

  /** A scope naming a site (device, kecamatan, ...) the inventory does not have, or matching none: 400. */
  #checkScope(scope: Scope): void {
    const topo = this.#monitor.topology;
    const sites = topo.siteIds().flatMap((id) => topo.site(id) ?? []);
    const devices = topo.deviceIds().map((id) => ({ id }));
    const issues = unknownScopeValues(scope, { sites, devices });
    const sitesOnly: Scope = { ...scope, devices: undefined };
    if (issues.length === 0 && !sites.some((site) => scopeMatches(sitesOnly, { site })))
      issues.push({
        path: 'scope',
        message: 'covers no site of the inventory (every list it names must match the same site)',
      });
    if (issues.length === 0) return;
    const first = issues[0]!;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    throw new RequestProblem(
      400,
      'invalid_body',
      `invalid request body: ${first.path}: ${first.message}${more}`,
      issues,
    );
  }

  deleteMaintenance(id: string, by: string): void {
    const r = this.#monitor.deleteMaintenance(id, by);
    if (r === 'not_found') throw new ApiError(404, `no maintenance window '${id}'`);
    if (r === 'config')
      throw new ApiError(409, `maintenance window '${id}' comes from the config file; change it there`);
  }

  silences(): SilenceView[] {
    return this.#monitor.silences().map(silenceView);
  }

  addSilence(s: NewSilence, by: string): SilenceView {
    this.#checkScope(s.scope);
    return silenceView(this.#monitor.addSilence(s, by));
  }

  deleteSilence(id: string, by: string): void {
    if (!this.#monitor.deleteSilence(id, by)) throw new ApiError(404, `no silence '${id}'`);
  }
}

// ---- v1 views: pure (record, context) → what the API sends, every time ISO with +08:00 ----------------

/** An incident with its site, texts, recovery settling and silence (collector/http/service.ts IncidentView). */
export function incidentView(inc: Incident, topology: Topology, live: IncidentLiveState): IncidentView {
  const site = inc.siteId === undefined ? undefined : topology.site(inc.siteId);
  const recovering = inc.status !== 'resolved' && live.recovery !== undefined;
  const s = inc.status === 'resolved' ? undefined : live.suppression;
  return {
    id: inc.id,
    kind: inc.kind,
    severity: inc.severity,
    status: inc.status,
    state: recovering ? 'recovering' : inc.status,
    recoveryConfirmAt: recovering ? isoWitaOrNull(live.recovery?.confirmAtMs) : null,
    silenced: s
      ? { kind: s.kind, id: s.id, by: s.by ?? null, until: isoWita(s.untilMs), reason: s.reason }
      : null,
    openedAt: isoWita(inc.openedAt),
    acknowledgedAt: isoWitaOrNull(inc.acknowledgedAt),
    acknowledgedBy: inc.acknowledgedBy ?? null,
    resolvedAt: isoWitaOrNull(inc.resolvedAt),
    clockBreachedAt: isoWitaOrNull(inc.clockBreachedAt),
    escalationLevel: inc.escalationLevel,
    deviceId: inc.deviceId ?? null,
    siteId: inc.siteId ?? null,
    siteName: site?.name ?? null,
    category: site?.category ?? null,
    // A "monitoring lost" incident has no site: its place is the edge's kecamatan.
    kecamatan:
      site?.kecamatan ??
      (inc.kind === MONITORING_LOST_KIND ? lostEdgeOf(inc)?.kecamatan.join(', ') : undefined) ??
      null,
    desa: site?.desa ?? null,
    ...incidentTexts(inc, topology, recovering ? live.recovery : undefined),
  };
}

/** The incident's headline and full text, as its notification says them now (firing, recovering, resolved). */
function incidentTexts(
  inc: Incident,
  topology: Topology,
  recovery: IncidentLiveState['recovery'],
): { title: Bilingual; summary: Bilingual } {
  if (inc.kind === MONITORING_LOST_KIND) {
    const sites = topology.siteIds().flatMap((id) => topology.site(id) ?? []);
    const texts = monitoringLostTexts(inc, sites);
    if (texts) return texts;
  }
  const stored = inc.data.alert as Alert | undefined;
  const site = inc.siteId === undefined ? undefined : topology.site(inc.siteId);
  const device = inc.deviceId === undefined ? undefined : topology.device(inc.deviceId);
  if (!stored || !site || !device) {
    const what = `${inc.kind} ${inc.deviceId ?? inc.siteId ?? inc.id}`;
    return { title: { id: what, en: what }, summary: { id: what, en: what } };
  }
  const alert: Alert =
    inc.status === 'resolved'
      ? { ...stored, id: inc.id, status: 'resolved', resolvedAt: inc.resolvedAt ?? inc.openedAt }
      : { ...stored, id: inc.id, status: 'firing', recovery };
  const n = buildNotification(alert, site, device);
  return { title: headline(n), summary: n.text };
}

/** The report's data as the v1 API sends it: its period and generation time ISO (+08:00), not ms. */
function reportJson(report: AvailabilityReport): Buffer {
  const { fromMs, toMs, generatedAtMs, ...rest } = report;
  const view = { from: isoWita(fromMs), to: isoWita(toMs), generatedAt: isoWita(generatedAtMs), ...rest };
  return Buffer.from(`${JSON.stringify(view, null, 2)}\n`);
}

export function timelineView(e: IncidentEvent): TimelineEventView {
  return { time: isoWita(e.timeMs), type: e.type, actor: e.actor ?? null, note: e.note ?? null };
}

export function maintenanceView(w: MaintenanceWindow): MaintenanceView {
  const sc = w.schedule;
  return {
    id: w.id,
    name: w.name,
    scope: w.scope,
    schedule:
      sc.kind === 'once'
        ? { kind: 'once', start: isoWita(sc.startMs), end: isoWita(sc.endMs) }
        : {
            kind: 'weekly',
            days: sc.days ?? null,
            at: sc.at,
            duration: sc.durationMs,
            timeZone: sc.timeZone,
            from: isoWitaOrNull(sc.fromMs),
            until: isoWitaOrNull(sc.untilMs),
          },
    source: w.source,
    createdBy: w.createdBy ?? null,
    reason: w.reason ?? null,
  };
}

export function silenceView(s: Silence): SilenceView {
  return {
    id: s.id,
    scope: s.scope,
    startsAt: isoWita(s.startsAt),
    endsAt: isoWita(s.endsAt),
    createdBy: s.createdBy,
    comment: s.comment,
  };
}

function outcome(r: ReturnType<Monitor['acknowledge']>, id: string): Incident {
  if (r.outcome === 'ok') return r.incident;
  if (r.outcome === 'not_found') throw new ApiError(404, `no incident '${id}'`);
  throw new ApiError(409, `incident '${id}': ${r.why}`);
}
