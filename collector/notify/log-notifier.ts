import type { Logger } from '../core/log.ts';
import type { Notification } from './notification.ts';
import type { Notifier } from './notifier.ts';

/** Writes each notification as one structured log line (the always-on channel). */
export class LogNotifier implements Notifier {
  readonly name = 'log';
  readonly always = true;
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  send(n: Notification): Promise<void> {
    if (n.recovery && n.status === 'firing') {
      this.#log.info('RECOVERING', {
        alert: n.id,
        device: n.device?.id,
        site: n.site?.id,
        confirmAt: n.recovery.confirmAt,
        text_id: n.text.id,
        text_en: n.text.en,
      });
      return Promise.resolve();
    }
    const level = n.status === 'firing' ? 'warn' : 'info';
    this.#log[level](n.status === 'firing' ? 'ALERT' : 'RECOVERED', {
      alert: n.id,
      severity: n.severity,
      device: n.device?.id,
      site: n.site?.id,
      kecamatan: n.area?.kecamatan,
      text_id: n.text.id,
      text_en: n.text.en,
    });
    return Promise.resolve();
  }
}
