/**
 * walkColumns against seeded random MIBs and agents (so every run is the same): sparse tables of different
 * lengths, empty columns, unrelated OIDs between and after them; agents that drop replies over a size
 * (snmpsim, a lossy path) or cut them short to fit (snmpd returns as many varbinds as fit, not tooBig).
 * The walk must return exactly each column's rows, in order, whatever the agent does; this fake is a
 * GETBULK (RFC 3416 section 4.2.3) over a sorted list, split per column as net-snmp splits a reply.
 */
import { describe, expect, it } from 'vitest';
import { SnmpError } from '../../../collector/core/errors.ts';
import type { VarBind } from '../../../collector/sources/snmp/session.ts';
import { compareOids, walkColumns, type BulkRequester } from '../../../collector/sources/snmp/walk.ts';

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

interface Case {
  readonly mib: VarBind[];
  readonly columns: string[];
  readonly limit: number;
  readonly mode: 'drop' | 'truncate';
}

function randomCase(r: () => number): Case {
  const table = '1.3.6.1.2.1.2.2.1';
  const ncols = 1 + Math.floor(r() * 6);
  const columns = Array.from({ length: ncols }, (_, i) => `${table}.${2 + i * 3}`);
  const mib: VarBind[] = [{ oid: '1.3.6.1.2.1.1.3.0', type: 'TimeTicks', value: 1 }];
  for (const col of columns) {
    const rows = r() < 0.15 ? 0 : Math.floor(r() * 40);
    let ix = 0;
    for (let i = 0; i < rows; i++) {
      ix += 1 + Math.floor(r() * 3);
      const index = r() < 0.1 ? `${ix}.${Math.floor(r() * 5)}` : String(ix);
      mib.push({ oid: `${col}.${index}`, type: 'Counter32', value: i });
    }
    // Something right after the column that is not in it (the next column of the table, or not).
    // A sibling whose number starts with the column's (…1.2 and …1.20): in no column, whatever its prefix.
    if (r() < 0.3) mib.push({ oid: `${col}0.1`, type: 'Integer', value: 0 });
    if (r() < 0.5)
      mib.push({ oid: `${table}.${Number(col.split('.').at(-1)) + 1}.1`, type: 'Integer', value: 0 });
  }
  mib.push({ oid: '1.3.6.1.2.1.31.1.1.1.1.1', type: 'OctetString', value: Buffer.from('x') });
  mib.sort((a, b) => compareOids(a.oid, b.oid));
  const deduped = mib.filter((vb, i) => i === 0 || mib[i - 1]?.oid !== vb.oid);
  return {
    mib: deduped,
    columns,
    limit: 1 + Math.floor(r() * 60),
    mode: r() < 0.5 ? 'drop' : 'truncate',
  };
}

class FakeAgent implements BulkRequester {
  requests = 0;
  constructor(private readonly c: Case) {}

  #next(oid: string): VarBind {
    // Binary search: the first varbind after `oid`.
    const mib = this.c.mib;
    let lo = 0;
    let hi = mib.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareOids(mib[mid]?.oid ?? '', oid) > 0) hi = mid;
      else lo = mid + 1;
    }
    return mib[lo] ?? { oid, type: 'endOfMibView', value: null };
  }

  getBulk(oids: readonly string[], nonRepeaters: number, reps: number): Promise<VarBind[][]> {
    this.requests++;
    if (nonRepeaters !== 0) throw new Error('unexpected non-repeaters');
    // Row-major reply, as on the wire: repetition 1 of every cursor, then repetition 2, ...
    const cursors = [...oids];
    const flat: VarBind[] = [];
    for (let rep = 0; rep < reps; rep++) {
      cursors.forEach((cur, i) => {
        const vb = this.#next(cur);
        flat.push(vb);
        cursors[i] = vb.oid;
      });
    }
    if (flat.length > this.c.limit) {
      if (this.c.mode === 'drop')
        return Promise.reject(new SnmpError('timeout', 'no response (timeout)', { retryable: true }));
      flat.length = Math.max(1, this.c.limit);
    }
    // net-snmp: varbind i of the reply belongs to cursor i mod N.
    const out: VarBind[][] = oids.map(() => []);
    flat.forEach((vb, i) => out[i % oids.length]?.push(vb));
    return Promise.resolve(out);
  }
}

describe('walkColumns on random MIBs and agents', () => {
  it('returns exactly each column, whatever the table shapes and the agent limits', async () => {
    const r = rng(0xc0ffee);
    const problems: string[] = [];
    let fallbacks = 0;
    let truncated = 0;
    for (let n = 0; n < 300; n++) {
      const c = randomCase(r);
      const agent = new FakeAgent(c);
      const reps = 1 + Math.floor(r() * 30);
      // One varbind per cursor always fits (a limit below the column count only drops): skip those.
      if (c.mode === 'drop' && c.limit < c.columns.length) continue;
      const res = await walkColumns(agent, c.columns, { maxRepetitions: reps });
      fallbacks += res.fallbacks;
      if (c.mode === 'truncate' && c.columns.length * reps > c.limit) truncated++;
      for (const col of c.columns) {
        const want = c.mib.filter((vb) => vb.oid.startsWith(`${col}.`)).map((vb) => vb.oid);
        const got = (res.columns.get(col) ?? []).map((vb) => vb.oid);
        if (JSON.stringify(got) !== JSON.stringify(want) && problems.length < 10)
          problems.push(
            `case ${n} (${c.mode} ${c.limit}, reps ${reps}) ${col}: got ${got.length}, want ${want.length}`,
          );
      }
      // No spinning: every request that is not a fallback delivers a row or ends a column.
      const needed = c.columns.reduce(
        (n, col) => n + 1 + c.mib.filter((vb) => vb.oid.startsWith(`${col}.`)).length,
        0,
      );
      if (agent.requests - res.fallbacks > needed && problems.length < 10)
        problems.push(
          `case ${n}: ${agent.requests} requests (${res.fallbacks} fallbacks) for ${needed} varbinds`,
        );
    }
    expect(problems).toEqual([]);
    expect(fallbacks).toBeGreaterThan(0);
    expect(truncated).toBeGreaterThan(0);
  });
});
