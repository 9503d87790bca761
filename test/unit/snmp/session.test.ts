/** The transport adapter's mappings: net-snmp values → VarBind, net-snmp errors → typed SnmpRequestError. */
import { describe, expect, it } from 'vitest';
import { bufferToBigInt, fromNetSnmp, toSnmpError } from '../../../collector/sources/snmp/session.ts';

describe('transport mapping', () => {
  it('Counter64 arrives as big-endian bytes (up to 9 with a sign byte)', () => {
    expect(bufferToBigInt(Buffer.from([0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBe(
      2n ** 64n - 1n,
    );
    expect(fromNetSnmp({ oid: '1.2', type: 70, value: Buffer.from([1, 0]) })).toEqual({
      oid: '1.2',
      type: 'Counter64',
      value: 256n,
    });
    expect(fromNetSnmp({ oid: '1.2', type: 67, value: 5 })).toEqual({
      oid: '1.2',
      type: 'TimeTicks',
      value: 5,
    });
  });

  const named = (name: string, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(`${name} happened`), { name }, extra);
  it.each([
    [named('RequestTimedOutError'), 'timeout', true],
    [named('ResponseInvalidError', { code: 5 }), 'auth', false], // EAuthFailure
    [named('ResponseInvalidError', { code: 14 }), 'auth', false], // ENotInTimeWindow
    [named('ResponseInvalidError', { code: 2 }), 'decode', false], // EUnknownObjectType
    [named('RequestFailedError', { status: 1 }), 'agent_error', false],
    [Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 'refused', false],
    [new Error('something else'), 'internal', false],
  ])('%s → %s', (err, code, retryable) => {
    const e = toSnmpError(err, 'r1 (192.0.2.1:161)');
    expect({ code: e.code, reason: e.reason, retryable: e.retryable }).toEqual({
      code,
      reason: code,
      retryable,
    });
    expect(e.message).toMatch(/^r1 \(192\.0\.2\.1:161\)/);
  });

  it('an agent error keeps its RFC 3416 status name', () => {
    expect(toSnmpError(named('RequestFailedError', { status: 1 }), 'x').status).toBe('TooBig');
  });
});
