/** A channel that delivers notifications. `send` throws NotifyError, saying whether a retry can help. */
import type { Notification } from './notification.ts';

export interface Notifier {
  readonly name: string;
  send(n: Notification): Promise<void>;
}
