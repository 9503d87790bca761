/**
 * InfluxDB 2.x API sink: POST /api/v2/write (InfluxDB 2 and 3, InfluxDB Cloud, VictoriaMetrics...), over
 * the 2.x adapter (collector/influx/v2.ts). Each batch is one request of our own line protocol
 * (line-protocol.ts); every failure is a SinkError at once, the SampleWriter retries.
 */
import type { Sample } from '../core/types.ts';
import { InfluxV2Client, type InfluxV2Connection } from '../influx/v2.ts';
import { encodeBatch } from './line-protocol.ts';
import type { SampleSink } from './sink.ts';

export interface InfluxV2Options extends InfluxV2Connection {
  readonly org: string;
  readonly bucket: string;
}

export class InfluxV2Sink implements SampleSink {
  readonly name: string;
  readonly #opts: InfluxV2Options;
  readonly #client: InfluxV2Client;

  constructor(opts: InfluxV2Options) {
    this.#opts = opts;
    this.#client = new InfluxV2Client(opts, 'influx-v2');
    this.name = `${this.#client.name}/${opts.org}/${opts.bucket}`;
  }

  /** Check the server answers /ping. Buckets are not created here (InfluxDB 2 needs an org id and rights). */
  async start(): Promise<void> {
    await this.#client.ping();
  }

  async write(batch: readonly Sample[]): Promise<void> {
    if (batch.length === 0) return;
    await this.#client.write(encodeBatch(batch), { org: this.#opts.org, bucket: this.#opts.bucket });
  }

  async close(): Promise<void> {
    // No WriteApi, so no buffers or retry timers to close.
  }
}
