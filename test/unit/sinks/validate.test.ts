import { describe, expect, it } from 'vitest';
import type { Sample } from '../../../collector/core/types.ts';
import { partitionSamples, validateSample } from '../../../collector/sinks/validate.ts';

const good: Sample = {
  measurement: 'device',
  tags: { site: 'bdg-001', device: 'r1' },
  fields: { reachable: 1, poll_ms: 12.5, failure: 'timeout' },
  timeMs: 1_764_000_000_000,
};

const variant = (over: Partial<Sample>): Sample => ({ ...good, ...over });

describe('validateSample', () => {
  it('accepts a sample that matches SCHEMA', () => {
    expect(validateSample(good)).toEqual({ ok: true });
    expect(validateSample(variant({ timeMs: 9_223_372_036_854 }))).toEqual({ ok: true }); // InfluxDB's last ms
    expect(validateSample(variant({ tags: { site_name: 'C:\\netmon\\x, a = b' } }))).toEqual({ ok: true });
    expect(
      validateSample({
        measurement: 'wifi',
        tags: { ssid: 'Badung Free WiFi' },
        fields: { clients: 0 },
        timeMs: 0,
      }),
    ).toEqual({ ok: true });
  });

  it.each<[string, Sample, string]>([
    ['unknown measurement', variant({ measurement: 'cpu' }), "unknown measurement 'cpu'"],
    ['inherited name', variant({ measurement: 'toString' }), "unknown measurement 'toString'"],
    ['fractional time', variant({ timeMs: 1.5 }), 'device: timeMs must be a non-negative integer'],
    ['negative time', variant({ timeMs: -1 }), 'timeMs must be a non-negative integer'],
    ['NaN time', variant({ timeMs: NaN }), 'got NaN'],
    // A safe integer, yet past InfluxDB's int64 nanoseconds: it used to fail the whole batch there.
    [
      'time past 2262',
      variant({ timeMs: 9e15 }),
      'device: timeMs 9000000000000000 is after 2262-04-11T23:47:16.854Z',
    ],
    ['one ms past the last', variant({ timeMs: 9_223_372_036_855 }), 'the last time InfluxDB can store'],
    ['unknown tag', variant({ tags: { site: 'a', colour: 'red' } }), "device: unknown tag 'colour'"],
    ['newline in tag', variant({ tags: { site: 'a\nb' } }), "device: tag 'site' contains a newline"],
    [
      'trailing backslash in tag',
      variant({ tags: { site_name: 'Kantor\\' } }),
      "tag 'site_name' has a backslash",
    ],
    ['backslash before a comma', variant({ tags: { site_name: 'a\\,b' } }), 'InfluxDB cannot store it'],
    ['backslash before a space', variant({ tags: { site_name: 'a\\ b' } }), 'InfluxDB cannot store it'],
    ['non-string tag', variant({ tags: { site: 5 as unknown as string } }), "tag 'site' is not a string"],
    ['no fields', variant({ fields: {} }), 'device: no fields'],
    ['unknown field', variant({ fields: { temperature: 3 } }), "device: unknown field 'temperature'"],
    [
      'float in integer field',
      variant({ fields: { reachable: 0.5 } }),
      'device.reachable: expected a safe integer',
    ],
    [
      'string in integer field',
      variant({ fields: { reachable: '1' } }),
      'device.reachable: expected integer, got string',
    ],
    [
      'NaN in float field',
      variant({ fields: { poll_ms: NaN } }),
      'device.poll_ms: expected a finite float, got NaN',
    ],
    ['Infinity', variant({ fields: { poll_ms: Infinity } }), 'expected a finite float, got Infinity'],
    [
      'number in string field',
      variant({ fields: { failure: 3 } }),
      'device.failure: expected string, got number',
    ],
    ['huge integer', variant({ fields: { reachable: 2 ** 60 } }), 'expected a safe integer'],
  ])('rejects %s with a reason naming it', (_name, sample, reason) => {
    const v = validateSample(sample);
    expect(v.ok).toBe(false);
    expect(v.ok ? '' : v.reason).toContain(reason);
  });

  it('checks a shared frozen tag set once per measurement, and a tag set that can change every time', () => {
    // A frozen set that passed for 'interface' is not thereby good for 'device' (no ifIndex tag there).
    const ifTags = Object.freeze({ device: 'r1', ifIndex: '3', ifName: 'ether3' });
    const ifSample: Sample = { measurement: 'interface', tags: ifTags, fields: { in_bps: 1 }, timeMs: 0 };
    expect(validateSample(ifSample)).toEqual({ ok: true });
    expect(validateSample(ifSample)).toEqual({ ok: true });
    const asDevice = validateSample({ ...ifSample, measurement: 'device', fields: { reachable: 1 } });
    expect(asDevice.ok ? '' : asDevice.reason).toBe("device: unknown tag 'ifIndex'");
    // The fields are still checked on every sample of a known tag set.
    const badField = validateSample({ ...ifSample, fields: { in_bps: Number.NaN } });
    expect(badField.ok ? '' : badField.reason).toContain('interface.in_bps: expected a finite float');

    // Not frozen: changed after it passed, it is checked again.
    const tags: Record<string, string> = { site: 'bdg-001' };
    const sample: Sample = { measurement: 'device', tags, fields: { reachable: 1 }, timeMs: 0 };
    expect(validateSample(sample)).toEqual({ ok: true });
    tags.site = 'line\nbreak';
    const after = validateSample(sample);
    expect(after.ok ? '' : after.reason).toBe("device: tag 'site' contains a newline");
  });
});

describe('partitionSamples', () => {
  it('keeps the valid samples in order and gives each invalid one its reason', () => {
    const bad = variant({ fields: { reachable: 'yes' } });
    const later = variant({ timeMs: good.timeMs + 1 });
    const { valid, invalid } = partitionSamples([good, bad, later]);
    expect(valid).toEqual([good, later]);
    expect(invalid).toHaveLength(1);
    expect(invalid[0]?.sample).toBe(bad);
    expect(invalid[0]?.reason).toMatch(/device\.reachable: expected integer/);
  });
});
