/**
 * The HTTP API's port (collector/http/service.ts) implemented over the running Monitor and its incident
 * store. Translation only: every decision is the Monitor's; refusals become ApiError with their status.
 */
import type { Monitor } from './app.ts';
import type { Clock } from './core/clock.ts';
import {
  ApiError,
  type IncidentDetail,
  type IncidentFilter,
  type MonitorService,
  type NewMaintenance,
  type NewSilence,
  type SiteState,
} from './http/service.ts';
import type { Incident, IncidentStore } from './store/incident-store.ts';
import type { Category, Inventory } from './core/types.ts';
import type { InfluxSource } from './reports/history.ts';
import {
  generateReport,
  renderReport,
  ReportRequestError,
  type ReportFormat,
  type ReportQuery,
} from './reports/generate.ts';

/** Where reports read from, and the targets they measure against; absent: reports are not available. */
export interface ReportSettings {
  readonly source: InfluxSource;
  readonly inventory: Inventory;
  readonly targets: Readonly<Record<Category, number>>;
}
import type { MaintenanceWindow, Silence } from './alerting/scope.ts';

export class MonitorApi implements MonitorService {
  readonly #monitor: Monitor;
  readonly #store: IncidentStore;
  readonly #clock: Clock;

  readonly #reports: ReportSettings | undefined;

  constructor(monitor: Monitor, store: IncidentStore, clock: Clock, reports?: ReportSettings) {
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
      throw err;
    }
    const out = await renderReport(report, format);
    const period = report.periodLabel.replace(/[^0-9A-Za-z-]+/g, '_');
    return {
      body: out.body,
      contentType: out.contentType,
      filename: `badung-netmon-${period}.${out.extension}`,
    };
  }

  health(): { status: 'ok' | 'degraded'; details: Record<string, unknown> } {
    const s = this.#monitor.status();
    // Samples waiting on disk (the database is away) or lost: degraded. A queue being flushed is normal.
    const degraded = (s.writer.onDisk ?? 0) > 0 || s.writer.dropped > 0;
    return {
      status: degraded ? 'degraded' : 'ok',
      details: {
        uptimeS: Math.round((this.#clock.now() - s.startedAt) / 1000),
        devices: s.devices,
        states: s.states,
        writer: s.writer,
        notifications: s.notifications,
      },
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
      devices: view.devices,
    };
  }

  incidents(filter: IncidentFilter): Incident[] {
    const topo = this.#monitor.topology;
    let siteIds: string[] | undefined;
    if (filter.siteId) siteIds = [filter.siteId];
    if (filter.kecamatan) {
      const inKec = topo.siteIds().filter((id) => topo.site(id)?.kecamatan === filter.kecamatan);
      siteIds = siteIds ? siteIds.filter((id) => inKec.includes(id)) : inKec;
    }
    return this.#store.list({
      status: filter.status,
      siteIds,
      severity: filter.severity,
      sinceMs: filter.sinceMs,
      limit: filter.limit,
    });
  }

  incident(id: string): IncidentDetail | undefined {
    const incident = this.#store.get(id);
    if (!incident) return undefined;
    return {
      incident,
      timeline: this.#store.timeline(id),
      notifications: this.#store.notificationsOf(id),
    };
  }

  acknowledge(id: string, by: string, note: string | undefined): Incident {
    return outcome(this.#monitor.acknowledge(id, by, note), id);
  }

  resolve(id: string, by: string, note: string | undefined): Incident {
    return outcome(this.#monitor.resolveByHand(id, by, note), id);
  }

  maintenance(): MaintenanceWindow[] {
    return this.#monitor.maintenanceWindows();
  }

  addMaintenance(w: NewMaintenance, by: string): MaintenanceWindow {
    return this.#monitor.addMaintenance(w, by);
  }

  deleteMaintenance(id: string, by: string): void {
    const r = this.#monitor.deleteMaintenance(id, by);
    if (r === 'not_found') throw new ApiError(404, `no maintenance window '${id}'`);
    if (r === 'config')
      throw new ApiError(409, `maintenance window '${id}' comes from the config file; change it there`);
  }

  silences(): Silence[] {
    return this.#monitor.silences();
  }

  addSilence(s: NewSilence, by: string): Silence {
    return this.#monitor.addSilence(s, by);
  }

  deleteSilence(id: string, by: string): void {
    if (!this.#monitor.deleteSilence(id, by)) throw new ApiError(404, `no silence '${id}'`);
  }
}

function outcome(r: ReturnType<Monitor['acknowledge']>, id: string): Incident {
  if (r.outcome === 'ok') return r.incident;
  if (r.outcome === 'not_found') throw new ApiError(404, `no incident '${id}'`);
  throw new ApiError(409, `incident '${id}': ${r.why}`);
}
