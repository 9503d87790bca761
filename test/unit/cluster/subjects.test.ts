/**
 * The cluster's names and codecs (collector/cluster/subjects.ts): what is encoded decodes to the same,
 * and a payload that is not what its subject carries gives an error in words, never a throw.
 */
import { describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../../collector/core/types.ts';
import {
  collectorOfResultSubject,
  decodeLeader,
  decodeMember,
  decodeProbeRequest,
  decodeResult,
  deviceOfProbeSubject,
  domainApi,
  edgeResultSubject,
  edgeStream,
  edgeSubjects,
  encodeLeader,
  encodeMember,
  encodeProbeRequest,
  encodeResult,
  probeSubject,
  resultMsgId,
  resultSubject,
  type ResultMessage,
} from '../../../collector/cluster/subjects.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const ok: ProbeResult = {
  deviceId: 'pkm-kuta-1-rtr',
  timeMs: 1_764_000_000_000,
  ok: true,
  durationMs: 12,
  source: 'snmp',
};
const failed: ProbeResult = {
  deviceId: 'sd.1-ap1',
  timeMs: 1_764_000_000_500,
  ok: false,
  durationMs: 300,
  source: 'snmp',
  failure: { reason: 'timeout', message: 'no answer in 300 ms' },
};

describe('subjects', () => {
  it("names an edge's stream, subjects and API: outside netmon.results.>, so the hub gets them only by sourcing", () => {
    expect(edgeStream('edge-kuta-selatan')).toBe('NETMON_EDGE_EDGE_KUTA_SELATAN');
    expect(edgeStream('Edge_2')).toBe('NETMON_EDGE_EDGE_2');
    expect(edgeSubjects('edge-ks')).toBe('netmon.edge.edge-ks.>');
    expect(edgeResultSubject('edge-ks', 'edge-ks-1')).toBe('netmon.edge.edge-ks.edge-ks-1');
    expect(edgeResultSubject('edge-ks', 'edge-ks-1').startsWith('netmon.results.')).toBe(false);
    expect(domainApi('edge-ks')).toBe('$JS.edge-ks.API');
  });

  it('names result and probe subjects; a device id with dots is the whole rest of the subject', () => {
    expect(resultSubject('col-1')).toBe('netmon.results.col-1');
    expect(collectorOfResultSubject('netmon.results.col-1')).toBe('col-1');
    expect(collectorOfResultSubject('netmon.results.')).toBeUndefined();
    expect(collectorOfResultSubject('netmon.probe.x')).toBeUndefined();
    expect(probeSubject('sd.1-ap1')).toBe('netmon.probe.sd.1-ap1');
    expect(deviceOfProbeSubject('netmon.probe.sd.1-ap1')).toBe('sd.1-ap1');
    expect(deviceOfProbeSubject('netmon.probe.')).toBeUndefined();
    expect(deviceOfProbeSubject('netmon.results.col-1')).toBeUndefined();
  });

  it('one poll is one message id: device, time and source', () => {
    expect(resultMsgId(ok)).toBe('pkm-kuta-1-rtr:1764000000000:snmp');
    expect(resultMsgId({ ...ok, source: 'ping' })).not.toBe(resultMsgId(ok));
  });
});

describe('codecs', () => {
  it('round-trips results, members, leader records and probe requests', () => {
    const r: ResultMessage = {
      v: 1,
      collector: 'col-1',
      seq: 7,
      startedAtMs: 1_764_000_000_000,
      probe: failed,
    };
    expect(decodeResult(encodeResult(r))).toEqual({ ok: true, value: r });
    const older = { v: 1 as const, collector: 'col-2', seq: 1, probe: ok };
    expect(decodeResult(encodeResult(older))).toEqual({ ok: true, value: older });
    const m = { v: 1 as const, id: 'col-1', roles: ['collector'], pins: ['Kuta Selatan'], startedAtMs: 5 };
    expect(decodeMember(encodeMember(m))).toEqual({ ok: true, value: m });
    const l = { v: 1 as const, holder: 'alert-1', term: 3, renewedAtMs: 9 };
    expect(decodeLeader(encodeLeader(l))).toEqual({ ok: true, value: l });
    expect(decodeProbeRequest(encodeProbeRequest({ delayMs: 300 }))).toEqual({
      ok: true,
      value: { delayMs: 300 },
    });
    expect(decodeProbeRequest(encodeProbeRequest({ delayMs: 0, kind: 'ping' }))).toEqual({
      ok: true,
      value: { delayMs: 0, kind: 'ping' },
    });
  });

  const badResults: [string, Uint8Array, RegExp][] = [
    ['empty', bytes(''), /probe result: not JSON \(0 bytes\)/],
    ['not JSON', bytes('{"v":1,'), /probe result: not JSON/],
    ['not UTF-8', new Uint8Array([0xff, 0xfe, 0x7b]), /probe result: not UTF-8/],
    ['a JSON array', bytes('[1,2]'), /probe result: \(top level\)/],
    ['version 2', bytes(JSON.stringify({ v: 2, collector: 'c', seq: 1, probe: ok })), /probe result: v:/],
    ['seq 0', bytes(JSON.stringify({ v: 1, collector: 'c', seq: 0, probe: ok })), /probe result: seq:/],
    [
      'seq not a number',
      bytes(JSON.stringify({ v: 1, collector: 'c', seq: '1', probe: ok })),
      /probe result: seq:/,
    ],
    ['no collector', bytes(JSON.stringify({ v: 1, seq: 1, probe: ok })), /probe result: collector:/],
    ['no probe', bytes(JSON.stringify({ v: 1, collector: 'c', seq: 1 })), /probe result: probe:/],
    [
      'an unknown source',
      bytes(JSON.stringify({ v: 1, collector: 'c', seq: 1, probe: { ...ok, source: 'carrier-pigeon' } })),
      /probe result: probe\.source:/,
    ],
    [
      'an unknown failure reason',
      bytes(
        JSON.stringify({
          v: 1,
          collector: 'c',
          seq: 1,
          probe: { ...failed, failure: { reason: 'gremlins', message: '' } },
        }),
      ),
      /probe result: probe\.failure\.reason:/,
    ],
    [
      'a negative time',
      bytes(JSON.stringify({ v: 1, collector: 'c', seq: 1, probe: { ...ok, timeMs: -1 } })),
      /probe\.timeMs/,
    ],
    [
      'an extra key',
      bytes(JSON.stringify({ v: 1, collector: 'c', seq: 1, probe: ok, extra: 1 })),
      /probe result:/,
    ],
  ];
  it.each(badResults)('a result that is %s is an error in words, not a throw', (_what, payload, want) => {
    const d = decodeResult(payload);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.error).toMatch(want);
  });

  it('refuses bad members, leader records and probe requests the same way', () => {
    const errorOf = (d: { ok: boolean; error?: string }) => (d.ok ? 'accepted' : d.error);
    expect(
      errorOf(decodeMember(bytes('{"v":1,"id":"c","roles":"collector","pins":[],"startedAtMs":1}'))),
    ).toMatch(/^member record: roles:/);
    expect(errorOf(decodeLeader(bytes('{"v":1,"holder":"a","term":0,"renewedAtMs":1}')))).toMatch(
      /^leader record: term:/,
    );
    expect(errorOf(decodeProbeRequest(bytes('{"delayMs":-5}')))).toMatch(/^probe request: delayMs:/);
    expect(errorOf(decodeProbeRequest(bytes('now please')))).toBe('probe request: not JSON (10 bytes)');
    expect(errorOf(decodeProbeRequest(bytes('{"delayMs":0,"kind":"trace"}')))).toMatch(
      /^probe request: kind:/,
    );
  });
});
