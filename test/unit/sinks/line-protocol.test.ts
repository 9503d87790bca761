import { describe, expect, it } from 'vitest';
import type { Sample } from '../../../collector/core/types.ts';
import {
  encodeBatch,
  encodeBatchPieces,
  PIECE_CHARS,
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

describe('tag order and memoised escaping', () => {
  const line = (tags: Record<string, string>): string =>
    encodeSample({ measurement: 'wifi', tags, fields: { clients: 3 }, timeMs: 5 });
  const want = 'wifi,device=ap\\ 1,index=2,site=s1,site_name=Pantai\\ Kuta\\,\\ Badung clients=3i 5';

  it.each([
    ['sorted', { device: 'ap 1', index: '2', site: 's1', site_name: 'Pantai Kuta, Badung' }],
    ['reversed', { site_name: 'Pantai Kuta, Badung', site: 's1', index: '2', device: 'ap 1' }],
    ['one out of place', { device: 'ap 1', site: 's1', index: '2', site_name: 'Pantai Kuta, Badung' }],
    [
      'with an empty tag',
      { device: 'ap 1', index: '2', radio: '', site: 's1', site_name: 'Pantai Kuta, Badung' },
    ],
  ])('%s tags give the same sorted line', (_, tags) => {
    expect(line(tags)).toBe(want);
  });

  it('keys that look like numbers are sorted as strings, like Array.prototype.sort', () => {
    // Objects list integer-like keys first, in numeric order: "9" before "10"; sort() puts "10" first.
    const tags = { 9: 'a', 10: 'b', x: 'c' } as unknown as Record<string, string>;
    expect(encodeSample({ measurement: 'm', tags, fields: { f: 1 }, timeMs: 1 })).toBe(
      'm,10=b,9=a,x=c f=1 1',
    );
  });

  it('inherited properties are not tags', () => {
    const tags = Object.create({ inherited: 'no' }) as Record<string, string>;
    tags.site = 's1';
    expect(encodeSample({ measurement: 'm', tags, fields: { f: 1 }, timeMs: 1 })).toBe('m,site=s1 f=1 1');
  });

  it('the same value escapes the same way every time, past the memo bound too', () => {
    const values = Array.from({ length: 120_000 }, (_, i) => `Banjar ${i}, Desa=${i % 7}`);
    for (const pass of [1, 2]) {
      for (const v of values.slice(0, 3)) {
        expect(escapeKey(v), `pass ${pass}`).toBe(v.replace(/([,= ])/g, '\\$1'));
      }
    }
    // Fill the memo past its bound, then check every value still comes out right.
    for (const v of values) expect(escapeKey(v)).toBe(v.replace(/([,= ])/g, '\\$1'));
    expect(escapeKey('Banjar 0, Desa=0')).toBe('Banjar\\ 0\\,\\ Desa\\=0');
    expect(escapeMeasurement('a b,c')).toBe('a\\ b\\,c');
    expect(escapeMeasurement('a b,c')).toBe('a\\ b\\,c');
  });

  it('a batch is the same string whatever its text and values (the byte writer and the string path)', () => {
    const site = { site: 'bdg-001', site_name: 'Pura Ulun Danu, Bedugul = 1', kecamatan: 'Kuta Selatan' };
    const odd: Sample[] = [
      {
        measurement: 'device',
        tags: site,
        fields: { reachable: 1, uptime_s: 12.34, poll_ms: 0.5 },
        timeMs: 1,
      },
      // Tags not in sorted order, an empty tag value, a backslash, quotes.
      {
        measurement: 'interface',
        tags: { ifName: 'ge-0/0/1 "wan"', device: 'C:\\r1', desa: '', ifIndex: '7' },
        fields: { in_bps: 8000.000001, out_bps: -0, speed_bps: 1e21, oper_status: 1 },
        timeMs: 1_733_300_000_123,
      },
      // Integer fields given fractions, negative and large numbers; floats near the safe-integer limit.
      {
        measurement: 'device',
        tags: { device: 'x' },
        fields: { reachable: 3.7, poll_ms: -12, uptime_s: 2 ** 53 + 2, rebooted: -0.25 },
        timeMs: 0,
      },
      { measurement: 'device', tags: {}, fields: { failure: 'say "hi" \\ back', reachable: 0 }, timeMs: 9 },
      { measurement: 'm e,x', tags: { 'k=1': 'v 1' }, fields: { f: true, g: false, h: 'x' }, timeMs: 3 },
      { measurement: 'wifi', tags: { ssid: 'Kafe', index: '1.2' }, fields: { clients: 12 }, timeMs: 5 },
    ];
    const nonAscii: Sample[] = [
      {
        measurement: 'wifi',
        tags: { ssid: 'Warung Bu Komang ᬩᬮᬶ', site_name: 'Café' },
        fields: { clients: 1 },
        timeMs: 2,
      },
      { measurement: 'wifi', tags: { ssid: 'lone \ud800 surrogate' }, fields: { clients: 1 }, timeMs: 2 },
      { measurement: 'device', tags: { device: 'ok' }, fields: { failure: 'Zeitüberschreitung' }, timeMs: 2 },
    ];
    for (const batch of [odd, ...nonAscii.map((s) => [...odd, s])]) {
      expect(encodeBatch(batch)).toBe(batch.map(encodeSample).join('\n'));
    }
    expect(encodeBatch(odd).split('\n')[2]).toBe(
      'device,device=x reachable=3i,poll_ms=-12,uptime_s=9007199254740994,rebooted=0i 0',
    );
    // A batch larger than the writer's buffer, after one with text it leaves to the string path.
    const many: Sample[] = Array.from({ length: 3000 }, (_, i) => ({
      measurement: 'interface',
      tags: { ...site, device: `d${i}`, ifIndex: String(i) },
      fields: { in_bps: i / 3, out_bps: i * 1000, oper_status: (i % 7) + 1 },
      timeMs: 1_733_300_000_000 + i,
    }));
    expect(encodeBatch(many)).toBe(many.map(encodeSample).join('\n'));
    expect(encodeBatch(many).length).toBeGreaterThan(64 * 1024);
    // In pieces (what the InfluxDB 1.x write sends): the same body, none of them longer than PIECE_CHARS.
    for (const batch of [many, odd, ...nonAscii.map((s) => [...odd, s]), []]) {
      const pieces = encodeBatchPieces(batch);
      expect(pieces.join('')).toBe(encodeBatch(batch));
      if (batch === many) expect(pieces.length).toBeGreaterThan(2);
      const longest = Math.max(0, ...pieces.map((p) => p.length));
      if (batch === many || batch === odd) expect(longest).toBeLessThanOrEqual(PIECE_CHARS);
    }
  });

  it('a batch of many samples is their lines joined by newlines', () => {
    const samples: Sample[] = Array.from({ length: 50 }, (_, i) => ({
      measurement: 'device',
      tags: { site: `s${i}`, site_name: 'Nusa Dua' },
      fields: { reachable: 1 },
      timeMs: i,
    }));
    const body = encodeBatch(samples);
    expect(body.split('\n')).toEqual(samples.map(encodeSample));
    expect(body.split('\n')[7]).toBe('device,site=s7,site_name=Nusa\\ Dua reachable=1i 7');
    expect(body.endsWith('\n')).toBe(false);
  });
});
