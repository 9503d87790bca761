/**
 * InfluxDB 1.x API sink (InfluxDB 1.x, and anything else speaking /write + /query with databases), over
 * the 1.x adapter (collector/influx/v1.ts, the package's transport).
 *
 * start() creates the database when it is missing. write() sends the batch as our own line protocol
 * (line-protocol.ts: the escaping InfluxDB documents, integer fields with the `i` suffix from SCHEMA), the
 * same bytes the 2.x sink sends, in one POST /write. No retries here: the SampleWriter buffers and retries,
 * and needs every failure as a SinkError.
 */
import type { Sample } from '../core/types.ts';
import { InfluxV1Client, type InfluxV1Connection } from '../influx/v1.ts';
import { encodeBatchPieces } from './line-protocol.ts';
import { quoteIdent } from './retention.ts';
import type { SampleSink } from './sink.ts';

export interface InfluxV1Options extends InfluxV1Connection {
  readonly database: string;
  readonly retentionPolicy?: string | undefined;
}

export class InfluxV1Sink implements SampleSink {
  readonly name: string;
  readonly #opts: InfluxV1Options;
  readonly #client: InfluxV1Client;

  constructor(opts: InfluxV1Options) {
    this.#opts = opts;
    this.#client = new InfluxV1Client(opts, 'influx-v1');
    this.name = `${this.#client.name}/${opts.database}`;
  }

  /** Create the database when it is missing (CREATE DATABASE is idempotent in InfluxDB 1.x). */
  async start(): Promise<void> {
    const shown = await this.#client.execute('SHOW DATABASES');
    const names = (shown.series ?? []).flatMap((s) => (s.values ?? []).map((v) => v[0]));
    if (!names.includes(this.#opts.database))
      await this.#client.execute(`CREATE DATABASE ${quoteIdent(this.#opts.database)}`);
  }

  async write(batch: readonly Sample[]): Promise<void> {
    if (batch.length === 0) return;
    await this.#client.write(encodeBatchPieces(batch), {
      database: this.#opts.database,
      retentionPolicy: this.#opts.retentionPolicy,
    });
  }

  async close(): Promise<void> {
    this.#client.close();
  }
}
