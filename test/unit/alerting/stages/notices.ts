/** Alerts and notices for the stage tables, and a runner that says what a stage passed on. */
import type { Alert } from '../../../../collector/alerting/alert.ts';
import type { Notice, Stage } from '../../../../collector/alerting/stages/stage.ts';

export const T0 = Date.parse('2026-11-23T10:00:00+08:00');

export function alertOf(deviceId: string, siteId: string, over: Partial<Alert> = {}): Alert {
  return {
    id: `${deviceId}@t0`,
    status: 'firing',
    kind: 'device_down',
    severity: 'low',
    deviceId,
    role: 'router',
    siteId,
    startedAt: T0,
    affectedDevices: [],
    affectedSites: [],
    ...over,
  };
}

export function page(alert: Alert, timeMs = T0): Notice {
  return { kind: 'page', alert, timeMs };
}

/** Runs one notice through one stage: what it passed on (empty: held back). */
export function runStage(stage: Stage, notice: Notice): Notice[] {
  const out: Notice[] = [];
  stage.run(notice, (n) => out.push(n));
  return out;
}
