/**
 * Stage 1, dependency: is a device this one depends on out too? Then the outage is the upstream device's,
 * and its alert (which lists this device among the affected) is the page. The health tracker already calls
 * such a device `unreachable` rather than down (collector/health/device-state.ts), so this stage holds only
 * what reaches alerting by another road: an outage taken over after a restart while the upstream device went
 * down in the meantime. Recoveries always pass: whoever heard of an outage hears of its end.
 * (Alertmanager's inhibit rules: a source alert mutes its targets.)
 */
import type { DeviceState } from '../../core/types.ts';
import type { Next, Notice, Stage } from './stage.ts';

export interface DependencyView {
  parentOf(deviceId: string): string | undefined;
  stateOf(deviceId: string): DeviceState | undefined;
}

/** The nearest device upstream of `deviceId` that is down or unreachable now, if any. */
export function upstreamOut(view: DependencyView, deviceId: string): string | undefined {
  const seen = new Set<string>([deviceId]);
  for (let id = view.parentOf(deviceId); id !== undefined && !seen.has(id); id = view.parentOf(id)) {
    seen.add(id);
    const state = view.stateOf(id);
    if (state === 'down' || state === 'unreachable') return id;
  }
  return undefined;
}

export class DependencyStage implements Stage {
  readonly name = 'dependency' as const;
  readonly #view: DependencyView;
  readonly #held: (notice: Notice, upstream: string) => void;

  constructor(view: DependencyView, held: (notice: Notice, upstream: string) => void = () => undefined) {
    this.#view = view;
    this.#held = held;
  }

  run(notice: Notice, next: Next): void {
    if (notice.kind === 'area' || notice.alert.status === 'resolved') return next(notice);
    const upstream = upstreamOut(this.#view, notice.alert.deviceId);
    if (upstream === undefined) return next(notice);
    this.#held(notice, upstream);
  }
}
