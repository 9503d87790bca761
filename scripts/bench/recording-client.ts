/**
 * An SnmpClient that passes every call to a real one and keeps the varbinds it returned, so the benchmark
 * can compare what our poller received with what the exporter read. Used for one verification poll only,
 * never in the measured loop.
 */
import type { RequestOptions, SnmpClient, VarBind } from '../../collector/sources/snmp/session.ts';

export class RecordingClient implements SnmpClient {
  readonly received: VarBind[] = [];
  requests = 0;
  readonly #inner: SnmpClient;

  constructor(inner: SnmpClient) {
    this.#inner = inner;
  }

  async get(oids: readonly string[], opts?: RequestOptions): Promise<VarBind[]> {
    this.requests++;
    const vbs = await this.#inner.get(oids, opts);
    this.received.push(...vbs);
    return vbs;
  }

  async getBulk(
    oids: readonly string[],
    nonRepeaters: number,
    maxRepetitions: number,
    opts?: RequestOptions,
  ): Promise<VarBind[][]> {
    this.requests++;
    const rows = await this.#inner.getBulk(oids, nonRepeaters, maxRepetitions, opts);
    for (const r of rows) this.received.push(...r);
    return rows;
  }

  async bulkWalk(baseOid: string, maxRepetitions: number): Promise<VarBind[]> {
    this.requests++; // at least one; the inner walk does not report its count
    const vbs = await this.#inner.bulkWalk(baseOid, maxRepetitions);
    this.received.push(...vbs);
    return vbs;
  }

  close(): void {
    this.#inner.close();
  }
}
