/** The sink a config asks for: the InfluxDB 1.x API (default) or the /api/v2/write API. */
import type { InfluxConfig } from '../../config/monitor.ts';
import { Secret } from '../core/secret.ts';
import { InfluxV1Sink } from './influx-v1.ts';
import { InfluxV2Sink } from './influx-v2.ts';
import type { SampleSink } from './sink.ts';

export function createSink(c: InfluxConfig): SampleSink {
  if (c.api === 'v1') {
    return new InfluxV1Sink({
      url: c.url,
      database: c.database,
      username: c.username,
      password: c.password,
      retentionPolicy: c.retentionPolicy,
      timeoutMs: c.timeoutMs,
    });
  }
  return new InfluxV2Sink({
    url: c.url,
    org: c.org,
    bucket: c.bucket,
    token: c.token ?? new Secret(''),
    timeoutMs: c.timeoutMs,
  });
}
