/**
 * The suppression pipeline's vocabulary, after Alertmanager's `notify.Stage` and `inhibit.Muter`: a notice
 * (an alert event that would tell people something) passes through an ordered list of stages, each
 * answering one question. A stage passes the notice on (perhaps changed, perhaps later) or holds it back.
 * The list itself is in collector/alerting/pipeline.ts, in order, in one place.
 *
 * In one process `next` is a function call; over a bus (the next issue) a stage boundary can become a
 * subject: a notice is plain data.
 */
import type { Alert } from '../alert.ts';
import type { AreaIncident } from '../area.ts';

/**
 * What travels down the pipeline:
 *   page      an outage of a device (firing) or its recovery (resolved)
 *   flapping  the one notice that an incident keeps going down and up (pages stop until it is stable)
 *   area      a mass outage of a kecamatan, or its end (the area stage folds pages into it)
 */
export type Notice =
  | {
      readonly kind: 'page' | 'flapping';
      readonly alert: Alert;
      readonly timeMs: number;
      readonly to?: Route;
    }
  | { readonly kind: 'area'; readonly incident: AreaIncident; readonly timeMs: number; readonly to?: Route };

/** Where a notice goes, set by the routing stage: channel names; undefined channels, every channel. */
export interface Route {
  readonly channels: readonly string[] | undefined;
}

/** Hands a notice to the next stage (or, after the last, to delivery). */
export type Next = (notice: Notice) => void;

export interface Stage {
  /** Names the stage in logs and in the ordered list. */
  readonly name: StageName;
  /** The stage's one question, asked of one notice: call `next` to pass it on, or don't. */
  run(notice: Notice, next: Next): void;
}

export type StageName = 'dependency' | 'flapping' | 'maintenance' | 'area' | 'routing';

/** The stages wired in order: the returned function runs a notice from `from` (default: the first). */
export function chain(stages: readonly Stage[], deliver: Next): (notice: Notice, from?: StageName) => void {
  const entries = new Map<StageName, Next>();
  let next = deliver;
  for (let i = stages.length - 1; i >= 0; i--) {
    const stage = stages[i];
    if (!stage) continue;
    const after = next;
    next = (n) => stage.run(n, after);
    entries.set(stage.name, next);
  }
  const first = next;
  return (notice, from) => (from ? (entries.get(from) ?? first) : first)(notice);
}
