/**
 * The multi-column GETBULK walk with a requester that behaves like an agent dropping replies too big for a
 * datagram (a fault a real agent shows only with some data, so faked here on cue).
 */
import { describe, expect, it } from 'vitest';
import { SnmpError } from '../../../collector/core/errors.ts';
import type { VarBind } from '../../../collector/sources/snmp/session.ts';
import {
  compareOids,
  inSubtree,
  oidSuffix,
  parseOid,
  walkColumns,
  type BulkRequester,
} from '../../../collector/sources/snmp/walk.ts';

const COLS = ['1.3.6.1.2.1.2.2.1.2', '1.3.6.1.2.1.2.2.1.10'];
const ROWS = 12;
const MIB: VarBind[] = COLS.flatMap((c) =>
  Array.from({ length: ROWS }, (_, i) => ({
    oid: `${c}.${i + 1}`,
    type: 'Counter32' as const,
    value: i * 100,
  })),
).sort((a, b) => compareOids(a.oid, b.oid));

class DroppingAgent implements BulkRequester {
  requests: number[] = [];
  constructor(private readonly maxVarbinds: number) {}
  getBulk(oids: readonly string[], _nr: number, reps: number): Promise<VarBind[][]> {
    this.requests.push(reps);
    if (oids.length * reps > this.maxVarbinds) {
      return Promise.reject(new SnmpError('timeout', 'no response (timeout)', { retryable: true }));
    }
    return Promise.resolve(
      oids.map((start) => {
        const after = MIB.filter((vb) => compareOids(vb.oid, start) > 0).slice(0, reps);
        while (after.length < reps) after.push({ oid: start, type: 'endOfMibView', value: null });
        return after;
      }),
    );
  }
}

describe('walkColumns', () => {
  it('reads every row of every column in few requests', async () => {
    const agent = new DroppingAgent(1000);
    const r = await walkColumns(agent, COLS, { maxRepetitions: 25 });
    expect(r.columns.get(COLS[0]!)?.length).toBe(ROWS);
    expect(r.columns.get(COLS[1]!)?.map((v) => v.value)).toEqual(
      Array.from({ length: ROWS }, (_, i) => i * 100),
    );
    expect(r.requests).toBe(1);
    expect(r.fallbacks).toBe(0);
  });

  it('the same array of bases walked again, and changed in place, walks what it holds now', async () => {
    const agent = new DroppingAgent(1000);
    const bases = [COLS[0]!, `.${COLS[0]!}`];
    const first = await walkColumns(agent, bases, { maxRepetitions: 5 });
    expect([...first.columns.keys()]).toEqual([COLS[0]]);
    const again = await walkColumns(agent, bases, { maxRepetitions: 5 });
    expect([...again.columns.keys()]).toEqual([COLS[0]]);
    expect(again.columns.get(COLS[0]!)).toEqual(first.columns.get(COLS[0]!));
    expect(again.columns.get(COLS[0]!)).not.toBe(first.columns.get(COLS[0]!)); // a reading of its own
    bases[1] = COLS[1]!;
    const changed = await walkColumns(agent, bases, { maxRepetitions: 5 });
    expect([...changed.columns.keys()]).toEqual(COLS);
    expect(changed.columns.get(COLS[1]!)?.length).toBe(ROWS);
  });

  it('halves the repetitions when a reply is dropped, and reports what worked', async () => {
    const agent = new DroppingAgent(8); // 2 columns x 4 repetitions fit
    const r = await walkColumns(agent, COLS, { maxRepetitions: 25 });
    expect(agent.requests.slice(0, 4)).toEqual([25, 12, 6, 3]);
    expect(r.fallbacks).toBe(3);
    expect(r.repetitions).toBe(3);
    expect(r.columns.get(COLS[1]!)?.length).toBe(ROWS);
  });

  it('non-repeaters ride in the first request only; their varbinds are the scalars', async () => {
    const seen: { oids: readonly string[]; nr: number; attempts: number | undefined }[] = [];
    const agent: BulkRequester = {
      getBulk: (oids, nr, reps, opts) => {
        seen.push({ oids, nr, attempts: opts?.attempts });
        return Promise.resolve(
          oids.map((start, i) => {
            if (i < nr) return [{ oid: `${start}.0`, type: 'TimeTicks' as const, value: 77 }];
            const after = MIB.filter((vb) => compareOids(vb.oid, start) > 0).slice(0, reps);
            while (after.length < reps) after.push({ oid: start, type: 'endOfMibView', value: null });
            return after;
          }),
        );
      },
    };
    const r = await walkColumns(agent, COLS, {
      maxRepetitions: 5,
      nonRepeaters: ['1.3.6.1.2.1.1.3'],
      firstAttempts: 2,
    });
    expect(r.scalars).toEqual([{ oid: '1.3.6.1.2.1.1.3.0', type: 'TimeTicks', value: 77 }]);
    expect(r.columns.get(COLS[0]!)?.length).toBe(ROWS);
    expect(r.columns.get(COLS[1]!)?.length).toBe(ROWS);
    expect(seen[0]).toEqual({ oids: ['1.3.6.1.2.1.1.3', ...COLS], nr: 1, attempts: 2 });
    expect(seen.slice(1).every((s) => s.nr === 0 && !s.oids.includes('1.3.6.1.2.1.1.3'))).toBe(true);
    expect(r.requests).toBe(seen.length);
  });

  it('a first request with non-repeaters that is lost is thrown, not halved', async () => {
    const agent = new DroppingAgent(0);
    await expect(
      walkColumns(agent, COLS, { maxRepetitions: 8, nonRepeaters: ['1.3.6.1.2.1.1.3'] }),
    ).rejects.toMatchObject({ code: 'timeout' });
    expect(agent.requests).toEqual([8]);
  });

  it('a dead agent fails with the timeout after the fallback reaches one repetition', async () => {
    const agent = new DroppingAgent(0);
    await expect(walkColumns(agent, COLS, { maxRepetitions: 4 })).rejects.toMatchObject({ code: 'timeout' });
    expect(agent.requests).toEqual([4, 2, 1]);
  });

  it('an agent returning non-increasing OIDs is an error, not an endless walk', async () => {
    const looping: BulkRequester = {
      getBulk: (oids) =>
        Promise.resolve(
          oids.map((o) => [
            { oid: o.split('.').length > 10 ? o : `${o}.1`, type: 'Counter32' as const, value: 1 },
          ]),
        ),
    };
    await expect(walkColumns(looping, ['1.3.6.1.2.1.2.2.1.10'], { maxRepetitions: 5 })).rejects.toMatchObject(
      { code: 'agent_error' },
    );
  });
});

describe('compareOids (allocation-free, arc by arc)', () => {
  // [a, b, sign of compareOids(a, b)]: the numeric order of arcs, not the order of strings.
  const table: [string, string, -1 | 0 | 1][] = [
    ['1.3.6.1', '1.3.6.1', 0],
    ['.1.3.6.1', '1.3.6.1', 0],
    ['1.3.6.1', '.1.3.6.1', 0],
    ['1.3.6.1.2', '1.3.6.1.10', -1], // as strings "2" > "10"
    ['1.3.6.1.10', '1.3.6.1.2', 1],
    ['1.3.6.1', '1.3.6.1.0', -1], // a prefix comes first
    ['1.3.6.1.0', '1.3.6.1', 1],
    ['1.3.6.19', '1.3.6.2.1', 1],
    ['1.3.6.2.1', '1.3.6.19', -1],
    ['1.3.6.1.2.1.2.2.1.10.9', '1.3.6.1.2.1.2.2.1.10.10', -1],
    ['1.3.6.1.2.1.2.2.1.10.100', '1.3.6.1.2.1.2.2.1.10.99', 1],
    ['1.3.6.1.4294967295', '1.3.6.1.4294967294', 1], // arcs up to 2^32 - 1 (RFC 2578 section 3.5)
    ['2', '10', -1],
    ['', '', 0],
    ['', '1', -1],
    ['1', '', 1],
    ['0.0', '0', 1],
  ];
  it.each(table)('compareOids(%j, %j) is %i, and the reverse is its negation', (a, b, want) => {
    expect(compareOids(a, b)).toBe(want);
    expect(compareOids(b, a)).toBe(-want || 0);
  });

  it('sorts like comparing the parsed arcs, on random OIDs', () => {
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const oids = Array.from({ length: 400 }, () =>
      Array.from({ length: 1 + rnd(6) }, () => rnd(rnd(2) === 0 ? 3 : 1000)).join('.'),
    );
    const byArcs = (a: string, b: string): number => {
      const x = parseOid(a);
      const y = parseOid(b);
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const d = (x[i] ?? 0) - (y[i] ?? 0);
        if (d !== 0) return Math.sign(d);
      }
      return Math.sign(x.length - y.length);
    };
    for (let i = 0; i + 1 < oids.length; i++) {
      const a = oids[i] ?? '';
      const b = oids[i + 1] ?? '';
      expect([a, b, compareOids(a, b)]).toEqual([a, b, byArcs(a, b)]);
    }
  });
});

describe('inSubtree and oidSuffix', () => {
  const base = '1.3.6.1.2.1.2.2.1.2';
  const table: [string, boolean, string][] = [
    [`${base}.7`, true, '7'],
    [`${base}.7.1`, true, '7.1'],
    [base, false, ''], // the base itself is not under it
    [`${base}.`, false, ''], // no index arc
    ['1.3.6.1.2.1.2.2.1.20.7', false, ''], // a longer arc with the same digits
    ['1.3.6.1.2.1.2.2.1.3.7', false, ''],
    ['1.3.6.1.2.1.2.2.1', false, ''],
    ['', false, ''],
  ];
  it.each(table)('%j: under the base %s, suffix %j', (oid, under, suffix) => {
    expect(inSubtree(base, oid)).toBe(under);
    expect(oidSuffix(base, oid)).toBe(suffix);
  });
});
