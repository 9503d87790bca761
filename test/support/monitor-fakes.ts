/** Fakes for unit tests of the Monitor on fake time: a poller whose devices can be cut, a recording channel. */
import type { FakeClock } from '../../collector/core/clock.ts';
import { SnmpError } from '../../collector/core/errors.ts';
import type { Device, DeviceReading } from '../../collector/core/types.ts';
import type { Notification } from '../../collector/notify/notification.ts';
import type { Notifier } from '../../collector/notify/notifier.ts';
import type { DevicePoller, SampleWriterLike } from '../../collector/pipeline.ts';

/** Answers every device at once, except those in `cut` (an SNMP timeout). */
export class ScriptedPoller implements DevicePoller {
  readonly cut = new Set<string>();
  constructor(private readonly clock: FakeClock) {}
  poll(device: Device): Promise<DeviceReading> {
    if (this.cut.has(device.id))
      return Promise.reject(new SnmpError('timeout', `${device.id}: no answer`, { retryable: true }));
    return Promise.resolve({
      deviceId: device.id,
      timeMs: this.clock.now(),
      sysUpTimeCs: this.clock.now() / 10,
      interfaces: [],
      wifi: [],
    });
  }
  close(): void {}
}

/** A writer that drops every sample, for the Monitor where no sample is looked at. */
export function nullWriter(): SampleWriterLike {
  return {
    push: () => undefined,
    start: () => Promise.resolve(),
    stop: () => Promise.resolve(),
    stats: () => ({ written: 0, buffered: 0, dropped: 0, invalid: 0, failures: 0 }),
  };
}

/** A notification channel that keeps what it was sent. */
export class RecordingChannel implements Notifier {
  readonly sent: Notification[] = [];
  constructor(readonly name: string) {}
  send(n: Notification): Promise<void> {
    this.sent.push(n);
    return Promise.resolve();
  }
}

export const flush = (): Promise<void> => new Promise<void>((r) => setImmediate(r));

/** Move fake time on in steps, letting the promises of each step settle. */
export async function advance(clock: FakeClock, ms: number, step = 60_000): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await flush();
  }
}
