/** A channel that delivers notifications. `send` throws NotifyError, saying whether a retry can help. */
import type { Notification } from './notification.ts';

export interface Notifier {
  readonly name: string;
  /** Gets every notification, whatever the routing (the log). */
  readonly always?: boolean | undefined;
  /**
   * Also gets the recovering notice of an outage whose device answers again while its recovery settles
   * (`recovery` set, status still firing): for feeds read by machines (CAP receivers), not for people.
   */
  readonly statusUpdates?: boolean | undefined;
  send(n: Notification): Promise<void>;
}
