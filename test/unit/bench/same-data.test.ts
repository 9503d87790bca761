/**
 * The benchmark's "same data" check: the exporter's text output and our varbinds, both as instance OIDs,
 * and the comparison that tells moved counters from real mismatches.
 */
import { describe, expect, it } from 'vitest';
import type { VarBind } from '../../../collector/sources/snmp/session.ts';
import type { ExporterModule } from '../../../scripts/bench/exporter-module.ts';
import {
  compareReads,
  exporterInstances,
  ourInstances,
  parseExposition,
  sameData,
} from '../../../scripts/bench/same-data.ts';

const DESCR = '1.3.6.1.2.1.2.2.1.2';
const OPER = '1.3.6.1.2.1.2.2.1.8';
const HC_IN = '1.3.6.1.2.1.31.1.1.1.6';
const UP = '1.3.6.1.2.1.1.3';
const MODULE: ExporterModule = {
  walk: [DESCR, OPER, HC_IN],
  get: [`${UP}.0`],
  metrics: [
    { name: 'sysUpTime', oid: UP, type: 'gauge', help: 'x' },
    {
      name: 'if_descr',
      oid: DESCR,
      type: 'DisplayString',
      help: 'x',
      indexes: [{ labelname: 'ifIndex', type: 'gauge' }],
    },
    {
      name: 'if_operStatus',
      oid: OPER,
      type: 'gauge',
      help: 'x',
      indexes: [{ labelname: 'ifIndex', type: 'gauge' }],
    },
    {
      name: 'if_hcInOctets',
      oid: HC_IN,
      type: 'counter',
      help: 'x',
      indexes: [{ labelname: 'ifIndex', type: 'gauge' }],
    },
  ],
  version: 2,
  max_repetitions: 25,
  retries: 0,
  timeout: '2000ms',
  auth: { community: 'bench' },
};

// As snmp_exporter 0.21 writes it (HELP/TYPE lines, a label with an escaped quote, float notation).
const EXPOSITION = `# HELP if_descr x
# TYPE if_descr gauge
if_descr{ifIndex="1",if_descr="lo"} 1
if_descr{ifIndex="4",if_descr="eth \\"0\\""} 1
# TYPE if_hcInOctets counter
if_hcInOctets{ifIndex="1"} 1.467116372e+09
if_hcInOctets{ifIndex="4"} 1.8446744073709552e+19
if_operStatus{ifIndex="1"} 1
if_operStatus{ifIndex="4"} 2
snmp_scrape_pdus_returned 7
snmp_scrape_packets_sent 4
sysUpTime 55
`;

const vb = (oid: string, type: VarBind['type'], value: VarBind['value']): VarBind => ({ oid, type, value });
const OURS: VarBind[] = [
  vb(`${UP}.0`, 'TimeTicks', 55),
  vb(`${DESCR}.1`, 'OctetString', Buffer.from('lo')),
  vb(`${DESCR}.4`, 'OctetString', Buffer.from('eth "0"')),
  vb(`${OPER}.1`, 'Integer', 1),
  vb(`${OPER}.4`, 'Integer', 2),
  vb(`${HC_IN}.1`, 'Counter64', 1467116372n),
  vb(`${HC_IN}.4`, 'Counter64', 2n ** 64n - 1n),
  // A GETBULK reply runs past its column: not part of the read.
  vb('1.3.6.1.2.1.31.1.1.1.7.1', 'Counter64', 0n),
  vb('1.3.6.1.2.1.99.0', 'endOfMibView', null),
];

describe('parseExposition', () => {
  it('reads names, labels (unescaped) and float values, skipping comments', () => {
    const s = parseExposition(EXPOSITION);
    expect(s).toHaveLength(9);
    expect(s[1]).toEqual({ name: 'if_descr', labels: { ifIndex: '4', if_descr: 'eth "0"' }, value: 1 });
    expect(s[2]?.value).toBe(1467116372);
    expect(s.at(-1)).toEqual({ name: 'sysUpTime', labels: {}, value: 55 });
  });

  it('names the line of a malformed sample', () => {
    expect(() => parseExposition('ok 1\nthis is not a sample\n')).toThrow(/line 2: not a sample/);
    expect(() => parseExposition('m{a="1",b=2} 1')).toThrow(/line 1: bad labels/);
  });
});

describe('same data', () => {
  const theirs = exporterInstances(MODULE, parseExposition(EXPOSITION));
  const ours = ourInstances(OURS, { gets: MODULE.get, columns: MODULE.walk });
  const opts = { volatileBases: [HC_IN, UP], rowColumn: DESCR };

  it('maps both sides onto the same instance OIDs, leaving out snmp_* metrics and overflow varbinds', () => {
    expect([...theirs.keys()].sort()).toEqual([...ours.keys()].sort());
    expect(theirs.get(`${DESCR}.4`)).toBe('eth "0"');
    expect(theirs.get(`${UP}.0`)).toBe(55);
    expect(ours.get(`${HC_IN}.4`)).toBe(Number(2n ** 64n - 1n)); // a double, like the exporter's
  });

  it('agrees when every value is equal', () => {
    const r = compareReads(ours, theirs, opts);
    expect(r).toMatchObject({
      ours: 7,
      exporter: 7,
      common: 7,
      equal: 7,
      moved: 0,
      interfaces: { ours: 2, exporter: 2 },
    });
    expect(sameData(r)).toBe(true);
  });

  it('counts a counter that moved between the reads as moved, not as a mismatch', () => {
    const later = new Map(theirs).set(`${HC_IN}.1`, 1467119999).set(`${UP}.0`, 60);
    const r = compareReads(ours, later, opts);
    expect(r).toMatchObject({ equal: 5, moved: 2, mismatched: [] });
    expect(sameData(r)).toBe(true);
  });

  it('reports a differing name or status, and an OID only one side read', () => {
    const other = new Map(theirs).set(`${OPER}.4`, 1).set(`${DESCR}.1`, 'LO');
    other.delete(`${HC_IN}.4`);
    other.set(`${OPER}.9`, 1);
    const r = compareReads(ours, other, opts);
    expect(r.mismatched).toEqual([`${DESCR}.1: "lo" ≠ "LO"`, `${OPER}.4: 2 ≠ 1`]);
    expect(r.onlyOurs).toEqual([`${HC_IN}.4`]);
    expect(r.onlyExporter).toEqual([`${OPER}.9`]);
    expect(sameData(r)).toBe(false);
  });

  it('is not "same data" when nothing was read', () => {
    expect(sameData(compareReads(new Map(), new Map(), opts))).toBe(false);
  });

  it('says which exporter sample lacks its index label', () => {
    expect(() => exporterInstances(MODULE, parseExposition('if_operStatus{foo="1"} 1'))).toThrow(
      /if_operStatus has no ifIndex label/,
    );
  });
});
