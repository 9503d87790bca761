/**
 * The one HTTP failure classifier (sinks and notifiers): statuses, Retry-After in both forms, and
 * failures without an answer. Pure, so tables.
 */
import { describe, expect, it } from 'vitest';
import {
  classifyHttpStatus,
  classifyNetworkError,
  isRetryableStatus,
  parseRetryAfter,
} from '../../../collector/core/http-failure.ts';

const NOW = Date.UTC(2026, 9, 21, 7, 28, 0);

describe('classifyHttpStatus', () => {
  it.each<[number, string | undefined, boolean, number | undefined]>([
    [500, undefined, true, undefined],
    [502, undefined, true, undefined],
    [503, '7', true, 7_000],
    [503, 'Wed, 21 Oct 2026 07:28:10 GMT', true, 10_000],
    [504, undefined, true, undefined],
    [429, '120', true, 120_000],
    [429, 'Wed, 21 Oct 2026 07:29:00 GMT', true, 60_000],
    [408, undefined, true, undefined],
    [408, '1', true, 1_000],
    [400, '7', false, undefined], // a Retry-After on a refusal does not make it retryable
    [401, undefined, false, undefined],
    [403, undefined, false, undefined],
    [404, undefined, false, undefined],
    [409, undefined, false, undefined],
    [413, undefined, false, undefined],
    [422, undefined, false, undefined],
    [301, undefined, false, undefined],
  ])('HTTP %i with Retry-After %s: retryable %s after %s ms', (status, header, retryable, after) => {
    expect(classifyHttpStatus(status, header, NOW)).toEqual({ retryable, retryAfterMs: after });
    expect(isRetryableStatus(status)).toBe(retryable);
  });
});

describe('parseRetryAfter (RFC 9110 §10.2.3)', () => {
  it.each<[string | null | undefined, number | undefined]>([
    ['120', 120_000],
    ['0', 0],
    [' 5 ', 5_000],
    ['0.5', 500], // not in the RFC, but servers send it
    ['Wed, 21 Oct 2026 07:28:10 GMT', 10_000],
    ['Wed, 21 Oct 2026 07:27:00 GMT', 0], // a date in the past: now
    ['-5', undefined],
    ['soon', undefined],
    ['', undefined],
    [null, undefined],
    [undefined, undefined],
  ])('%j → %s ms', (header, ms) => {
    expect(parseRetryAfter(header, NOW)).toBe(ms);
  });
});

describe('classifyNetworkError', () => {
  const withCode = (code: string, message = code): Error => Object.assign(new Error(message), { code });
  it.each<[string, unknown, string, boolean]>([
    ['node:http refused', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9'), 'econnrefused', true],
    ['reset', withCode('ECONNRESET'), 'econnreset', true],
    ['DNS not answering', withCode('EAI_AGAIN'), 'eai_again', true],
    ['unknown host', withCode('ENOTFOUND'), 'enotfound', true],
    [
      'fetch: code on the cause',
      new TypeError('fetch failed', { cause: withCode('ECONNREFUSED') }),
      'econnrefused',
      true,
    ],
    ['fetch failed without a code', new TypeError('fetch failed'), 'failed', true],
    [
      'AbortSignal.timeout',
      new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
      'timeout',
      true,
    ],
    [
      'aborted request',
      Object.assign(new Error('aborted'), { name: 'AbortError', code: 'ABORT_ERR' }),
      'timeout',
      true,
    ],
    ['a TLS certificate refused', withCode('CERT_HAS_EXPIRED'), 'cert_has_expired', false],
    ['a plain bug', new RangeError('x'), 'failed', false],
    ['not an Error', 'weird', 'failed', false],
  ])('%s → %s, retryable %s', (_what, err, code, retryable) => {
    expect(classifyNetworkError(err)).toMatchObject({ code, retryable });
  });

  it('says what went wrong from the innermost message', () => {
    const err = new TypeError('fetch failed', {
      cause: withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9'),
    });
    expect(classifyNetworkError(err).message).toBe('connect ECONNREFUSED 127.0.0.1:9');
  });
});
