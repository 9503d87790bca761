/**
 * config/yaml-source.ts reads YAML with one parser (`yaml`): syntax faults name file, line and column;
 * duplicate keys, unknown tags and several documents are errors; the YAML 1.2 core schema decides types.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../collector/core/errors.ts';
import { parseYamlSource } from '../../../config/yaml-source.ts';

const FILE = 'netmon.yaml';

function fault(text: string): string {
  try {
    parseYamlSource(text, FILE, {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`no error for ${JSON.stringify(text)}`);
}

describe('parseYamlSource', () => {
  it.each([
    ['a: 1\nb: [1, 2\nc: 3\n', `${FILE}:3:1`, /Flow sequence/],
    ['a: 1\na: 2\n', `${FILE}:2:1`, /Map keys must be unique/],
    ['a: !foo 1\n', `${FILE}:1:4`, /Unresolved tag: !foo/],
    ['a: 1\n---\nb: 2\n', `${FILE}:2:1`, /multiple documents/],
    ['a: &x [1]\nb: *y\n', `${FILE}:2:4`, /Unresolved alias/],
    ['a:\n  - b: 1\n   c: 2\n', `${FILE}:3:1`, /invalid YAML/],
    ['x: "unterminated\n', `${FILE}:2:1`, /Missing closing "quote/],
    ['a: 1\n\tb: 2\n', `${FILE}:2:1`, /Tabs are not allowed/],
  ])('%j: the error names the place', (text, place, what) => {
    const msg = fault(text);
    expect(msg).toContain(`${place}`);
    expect(msg).toContain('invalid YAML');
    expect(msg).toMatch(what);
  });

  it('refuses an alias bomb instead of expanding it', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++) {
      const p = String.fromCharCode(96 + i);
      const c = String.fromCharCode(97 + i);
      lines.push(`${c}: &${c} [${Array.from({ length: 10 }, () => `*${p}`).join(', ')}]`);
    }
    expect(fault(lines.join('\n'))).toMatch(/invalid YAML: Excessive alias count/);
  });

  it('reads the YAML 1.2 core schema: no yes/no booleans, no sexagesimals, no dates', () => {
    const src = parseYamlSource(
      'a: yes\nb: true\nc: 0x1f\nd: 0o17\ne: .inf\nf: ~\ng: 1:30\nh: 2026-12-03\ni: "08"\nj: 012\n',
      FILE,
      {},
    );
    expect(src.data).toEqual({
      a: 'yes',
      b: true,
      c: 31,
      d: 15,
      e: Number.POSITIVE_INFINITY,
      f: null,
      g: '1:30',
      h: '2026-12-03',
      i: '08',
      j: 12,
    });
  });

  it('an empty file is null data; locate finds keys and values of the one parse', () => {
    expect(parseYamlSource('', FILE, {}).data).toBeNull();
    const src = parseYamlSource('sites:\n  - id: s1\n    devices:\n      - host: 127.0.0.1\n', FILE, {});
    expect(src.locate(['sites', 0, 'devices', 0, 'host'])).toBe(`${FILE}:4:15`);
    expect(src.locate(['sites', 0, 'devices'], { key: true })).toBe(`${FILE}:3:5`);
    // A path that goes deeper than the document: the deepest node that exists.
    expect(src.locate(['sites', 0, 'nope', 'deeper'])).toBe(`${FILE}:2:5`);
  });

  it('expands ${VAR} and ${VAR:-default} in values, and names the place of a missing one', () => {
    const src = parseYamlSource('a: ${A}\nb: x${B:-dflt}y\n', FILE, { A: 'one' });
    expect(src.data).toEqual({ a: 'one', b: 'xdflty' });
    expect(fault('a: 1\nb: ${MISSING}\n')).toContain(`${FILE}:2:4: b: \${MISSING} is not set`);
  });
});
