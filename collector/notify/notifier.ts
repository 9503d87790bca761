/** A channel that delivers notifications. `send` throws NotifyError, saying whether a retry can help. */
import type { Notification } from './notification.ts';

export interface Notifier {
  readonly name: string;
  /** Gets every notification, whatever the routing (the log). */
  readonly always?: boolean | undefined;
  send(n: Notification): Promise<void>;
}
