/**
 * The MQTT limits of issue #10 in the config: the per-device rate limit and the telemetry timestamp
 * window, their defaults, and errors that name the key.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../config/monitor.ts';

const config = (mqtt: string) =>
  `inventory: inv.yaml\ninflux: { api: v1, url: "http://127.0.0.1:8086", database: netmon }\nmqtt: { password: collector-secret${mqtt} }\n`;

describe('mqtt limits', () => {
  it('defaults to 10 messages a second, bursts of 50, and ts within 30 d back and 5 min ahead', () => {
    const c = parseConfig(config(''), '/etc/netmon/netmon.yaml', {});
    expect(c.mqtt?.rateLimit).toEqual({ perSecond: 10, burst: 50 });
    expect(c.mqtt?.timestampWindow).toEqual({ maxAgeMs: 30 * 86_400_000, maxAheadMs: 5 * 60_000 });
  });

  it('reads them from the mqtt section', () => {
    const c = parseConfig(
      config(', rateLimit: { perSecond: 0.5, burst: 5 }, maxTelemetryAge: 7d, maxClockAhead: 90s'),
      '/etc/netmon/netmon.yaml',
      {},
    );
    expect(c.mqtt?.rateLimit).toEqual({ perSecond: 0.5, burst: 5 });
    expect(c.mqtt?.timestampWindow).toEqual({ maxAgeMs: 7 * 86_400_000, maxAheadMs: 90_000 });
  });

  it.each([
    [', rateLimit: { perSecond: 0 }', /mqtt\.rateLimit\.perSecond.*more than 0/],
    [', rateLimit: { burst: 0.5 }', /mqtt\.rateLimit\.burst/],
    [', rateLimit: { perMinute: 5 }', /mqtt\.rateLimit.*perMinute/],
    [', maxClockAhead: soon', /mqtt\.maxClockAhead.*'soon' is not a duration/],
  ])('refuses %s naming the key', (extra, want) => {
    expect(() => parseConfig(config(extra), '/etc/netmon/netmon.yaml', {})).toThrow(want);
  });
});
