import { describe, expect, it } from 'vitest';
import type { Sample } from '../../../collector/core/types.ts';
import {
  encodeBatch,
  encodeFieldValue,
  encodeSample,
  escapeKey,
  escapeMeasurement,
  quoteString,
} from '../../../collector/sinks/line-protocol.ts';

describe('line protocol escaping', () => {
  it.each([
    ['plain', 'plain'],
    ['a b', 'a\\ b'],
    ['a,b', 'a\\,b'],
    ['a=b', 'a=b'], // an equals sign needs no escape in a measurement
    ['a\\b', 'a\\b'], // a backslash is literal: influxd keeps "\\\\" as two
  ])('measurement %j → %j', (input, want) => {
    expect(escapeMeasurement(input)).toBe(want);
  });

  it.each([
    ['Banjar Tegal', 'Banjar\\ Tegal'],
    ['a,b', 'a\\,b'],
    ['k=v', 'k\\=v'],
    ['C:\\path', 'C:\\path'],
    ['"quoted"', '"quoted"'], // quotes are literal in keys and tag values
    ['Pura Ulun Danu, Bedugul = 1', 'Pura\\ Ulun\\ Danu\\,\\ Bedugul\\ \\=\\ 1'],
  ])('tag key/value %j → %j', (input, want) => {
    expect(escapeKey(input)).toBe(want);
  });

  it.each([
    ['timeout', '"timeout"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['back\\slash', '"back\\\\slash"'],
    ['a, b = c', '"a, b = c"'], // commas, spaces, equals are literal inside quotes
  ])('string field %j → %j', (input, want) => {
    expect(quoteString(input)).toBe(want);
  });
});

describe('field values are typed by the schema', () => {
  it.each([
    [5, 'integer', '5i'],
    [-1, 'integer', '-1i'],
    [5, 'float', '5'],
    [0.25, 'float', '0.25'],
    [1e21, 'float', '1e+21'],
    [true, 'boolean', 'true'],
    [false, 'boolean', 'false'],
    ['x', 'string', '"x"'],
    [3.5, undefined, '3.5'],
    ['y', undefined, '"y"'],
    [true, undefined, 'true'],
  ] as const)('%j as %s → %s', (value, type, want) => {
    expect(encodeFieldValue(value, type)).toBe(want);
  });
});

describe('encodeSample', () => {
  const sample: Sample = {
    measurement: 'device',
    tags: { site: 'bdg-001', site_name: 'Banjar Tegal, Kuta', device: 'r1', kecamatan: '' },
    fields: { reachable: 1, poll_ms: 12.5, failure: 'timeout "x"' },
    timeMs: 1_764_000_000_000,
  };

  it('sorts tags, leaves out empty ones, types fields by SCHEMA, timestamps in ms', () => {
    expect(encodeSample(sample)).toBe(
      'device,device=r1,site=bdg-001,site_name=Banjar\\ Tegal\\,\\ Kuta ' +
        'reachable=1i,poll_ms=12.5,failure="timeout \\"x\\"" 1764000000000',
    );
  });

  it('a whole number in a float field stays a float (no i suffix)', () => {
    const line = encodeSample({ measurement: 'interface', tags: {}, fields: { in_bps: 8000 }, timeMs: 1 });
    expect(line).toBe('interface in_bps=8000 1');
  });

  it('a batch is one line per sample', () => {
    expect(encodeBatch([sample, { ...sample, timeMs: 2 }]).split('\n')).toHaveLength(2);
    expect(encodeBatch([])).toBe('');
  });
});
