/**
 * Availability per kecamatan over the last 30 and 90 days for the status page (pure), computed by the
 * uptime reports' engine (collector/reports/report.ts buildReport) from one history read of 90 days.
 *
 * The 30-day figures come from the same read: each site's history is re-based to the 30-day start (its
 * state then is its last transition before it), so the engine sees what a read of 30 days would give.
 */
import type { Inventory } from '../core/types.ts';
import type { SiteHistory, StateChange } from '../reports/availability.ts';
import type { History } from '../reports/history.ts';
import { buildReport, defaultTargets } from '../reports/report.ts';
import type { AvailabilityWindow, StatusAvailability } from './model.ts';

export const DAY_MS = 86_400_000;

/** The site's history as seen from `fromMs` on: the state at `fromMs`, and the transitions after it. */
export function rebaseHistory(h: SiteHistory, fromMs: number): SiteHistory {
  let initial = h.initial;
  const after: StateChange[] = [];
  for (const c of h.changes) {
    if (c.timeMs < fromMs) initial = c.state;
    else after.push(c);
  }
  return {
    initial,
    changes: after,
    maintenance: h.maintenance.filter((i) => i.endMs > fromMs),
    clockBreaches: h.clockBreaches,
  };
}

function rebase(history: History, fromMs: number): History {
  return {
    heartbeatMs: history.heartbeatMs,
    watching: history.watching.filter((i) => i.endMs > fromMs),
    sites: new Map([...history.sites].map(([id, h]) => [id, rebaseHistory(h, fromMs)])),
  };
}

/** From a history of at least the last 90 days, read up to `nowMs`. */
export function statusAvailability(
  inventory: Inventory,
  history90: History,
  nowMs: number,
): StatusAvailability {
  const window = (days: number) => {
    const fromMs = nowMs - days * DAY_MS;
    const report = buildReport(inventory, days === 90 ? history90 : rebase(history90, fromMs), {
      fromMs,
      toMs: nowMs,
      nowMs,
      periodLabel: `${days}d`,
      // Only the percentages are used; the targets do not matter here.
      targets: defaultTargets(),
    });
    const at = (pct: number | null): AvailabilityWindow => ({ pct, fromMs, toMs: nowMs });
    return {
      overall: at(report.overall.availabilityPct),
      byKecamatan: new Map(report.byKecamatan.map((g) => [g.key, at(g.availabilityPct)])),
    };
  };
  const d30 = window(30);
  const d90 = window(90);
  const none = (fromMs: number): AvailabilityWindow => ({ pct: null, fromMs, toMs: nowMs });
  const kecamatan = new Set([...d30.byKecamatan.keys(), ...d90.byKecamatan.keys()]);
  return {
    computedAtMs: nowMs,
    overall: { d30: d30.overall, d90: d90.overall },
    byKecamatan: new Map(
      [...kecamatan].map((k) => [
        k,
        {
          d30: d30.byKecamatan.get(k) ?? none(nowMs - 30 * DAY_MS),
          d90: d90.byKecamatan.get(k) ?? none(nowMs - 90 * DAY_MS),
        },
      ]),
    ),
  };
}
