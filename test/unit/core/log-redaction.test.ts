/**
 * Issue #10: secrets that arrive as plain text (a token in a query string, a password in a URL) never
 * reach a log line whole, whatever field carries them. Pure: redactText, and the logger that applies it.
 */
import { describe, expect, it } from 'vitest';
import { createLogger, redactText, type LogRecord } from '../../../collector/core/log.ts';
import { Secret } from '../../../collector/core/secret.ts';

const TOKEN = 'bnm_abcdefgh23_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1u';

describe('redactText', () => {
  it.each([
    [`/api/v1/incidents?token=${TOKEN}`, '/api/v1/incidents?token=[redacted]'],
    ['/feeds/cap.xml?key=s3cr3t', '/feeds/cap.xml?key=[redacted]'],
    ['/x?limit=5&access_token=abc&status=open', '/x?limit=5&access_token=[redacted]&status=open'],
    [
      '/x?Password=p&SECRET=s&sig=00ff&signature=aa',
      '/x?Password=[redacted]&SECRET=[redacted]&sig=[redacted]&signature=[redacted]',
    ],
    ['/x?api_key=1&apikey=2&passwd=3', '/x?api_key=[redacted]&apikey=[redacted]&passwd=[redacted]'],
    // A %-encoded parameter name is still recognised.
    ['/x?%74oken=abc', '/x?%74oken=[redacted]'],
    // A token anywhere keeps its public id only; other bnm_ strings go whole.
    [`/api/v1/sites/${TOKEN}`, '/api/v1/sites/bnm_abcdefgh23_[redacted]'],
    [`refused: Bearer ${TOKEN}.`, 'refused: Bearer bnm_abcdefgh23_[redacted].'],
    ['bnm_short', 'bnm_[redacted]'],
    // User info in a URL.
    [
      'POST to https://hook:pa55@example.org/in failed',
      'POST to https://hook:[redacted]@example.org/in failed',
    ],
    ['mqtt://netmon:pw@127.0.0.1:1883', 'mqtt://netmon:[redacted]@127.0.0.1:1883'],
  ])('%s', (input, want) => {
    expect(redactText(input)).toBe(want);
  });

  it.each([
    '/api/v1/incidents?status=open&limit=5&since=24h',
    '/api/v1/incidents/inc-1/ack',
    'device:pkm-petang-i-rtr',
    'keyword=1 and a = b', // no query separator before the name
    '/x?tokenId=abcdefgh23&monkey=banana', // names that merely contain a secret's name
    'mqtt://127.0.0.1:1883',
    'user@example.org',
  ])('leaves %s alone', (input) => {
    expect(redactText(input)).toBe(input);
  });
});

describe('the logger', () => {
  it('redacts the line and the record: message, nested fields, arrays, errors, secret-named fields', () => {
    const lines: string[] = [];
    const records: LogRecord[] = [];
    const log = createLogger({ write: (l, r) => (lines.push(l), records.push(r)), now: () => 0 });
    log.child({ url: `http://127.0.0.1/feeds?key=k1` }).warn(`token ${TOKEN} refused`, {
      path: `/api/v1/incidents?token=${TOKEN}`,
      nested: { list: [`?access_token=a1`, 3], deeper: { password: 'pw1' } },
      error: new Error(`GET https://u:pw2@host/x?sig=s1 failed`),
      token: 'raw-token-1',
      authorization: `Bearer ${TOKEN}`,
      tokenId: 'abcdefgh23',
      secret: new Secret('kept-secret'),
      count: 7,
    });
    const line = lines[0] ?? '';
    for (const leaked of ['Zm9vYmFy', 'k1', 'a1', 'pw1', 'pw2', 's1', 'raw-token-1', 'kept-secret'])
      expect(line, leaked).not.toMatch(new RegExp(`[=:"/ ]${leaked}\\b`));
    expect(JSON.parse(line)).toMatchObject({
      msg: 'token bnm_abcdefgh23_[redacted] refused',
      url: 'http://127.0.0.1/feeds?key=[redacted]',
      path: '/api/v1/incidents?token=[redacted]',
      nested: { list: ['?access_token=[redacted]', 3], deeper: { password: '[redacted]' } },
      error: { name: 'Error', message: 'GET https://u:[redacted]@host/x?sig=[redacted] failed' },
      token: '[redacted]',
      authorization: '[redacted]',
      tokenId: 'abcdefgh23',
      secret: '[secret]',
      count: 7,
    });
    // The record handed to write (what memoryLogger keeps) is redacted too; an Error stays an Error.
    expect(records[0]).toMatchObject({ path: '/api/v1/incidents?token=[redacted]', token: '[redacted]' });
    expect(records[0]?.error).toBeInstanceOf(Error);
  });
});
