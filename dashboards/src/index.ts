/** Every dashboard and the file its JSON is committed as (dashboards/json/, loaded by the provisioning). */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { availabilityDashboard } from './availability.ts';
import { monitorHealthDashboard } from './monitor-health.ts';
import { overviewDashboard } from './overview.ts';
import { siteDetailDashboard } from './site-detail.ts';

export const DASHBOARDS: readonly { file: string; build: () => dashboard.Dashboard }[] = [
  { file: 'overview.json', build: () => withPanelIds(overviewDashboard().build()) },
  { file: 'site-detail.json', build: () => withPanelIds(siteDetailDashboard().build()) },
  { file: 'availability.json', build: () => withPanelIds(availabilityDashboard().build()) },
  { file: 'monitor-health.json', build: () => withPanelIds(monitorHealthDashboard().build()) },
];

/** Panel ids, 1.. in layout order: Grafana links and embeds panels by them, so they must be stable. */
function withPanelIds(d: dashboard.Dashboard): dashboard.Dashboard {
  return { ...d, panels: d.panels?.map((p, i) => ({ ...p, id: i + 1 })) };
}

/** The JSON as committed: stable key order as built, two-space indent, a final newline. */
export function dashboardJson(d: dashboard.Dashboard): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}
