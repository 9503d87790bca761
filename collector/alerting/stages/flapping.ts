/**
 * Stage 2, flapping: is this incident flapping? The incident lifecycle (collector/alerting/alert.ts) counts
 * the flaps and hands on a firing alert with `flaps` once, when they reach the threshold: that is not a new
 * outage to page but the one notice that the incident keeps going down and up. It goes to the contacts the
 * incident reached and past area grouping (it is one site's story); pages stop until the device is stable.
 */
import type { Next, Notice, Stage } from './stage.ts';

export class FlappingStage implements Stage {
  readonly name = 'flapping' as const;

  run(notice: Notice, next: Next): void {
    if (notice.kind === 'page' && notice.alert.status === 'firing' && notice.alert.flaps !== undefined)
      return next({ ...notice, kind: 'flapping' });
    next(notice);
  }
}
