/** SNMP profiles (config/profiles.ts): validated completely at load, errors naming the file and line. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../collector/core/errors.ts';
import { PROFILE_NAMES, loadProfiles, parseProfiles } from '../../../config/profiles.ts';

const GENERIC = {
  file: 'profiles/generic.yaml',
  text: 'scalars:\n  sysUpTime: 1.3.6.1.2.1.1.3.0\ninterfaces:\n  descr: 1.3.6.1.2.1.2.2.1.2\n  alias: 1.3.6.1.2.1.31.1.1.1.18\n',
};

function parseError(sources: { file: string; text: string }[]): ConfigError {
  try {
    parseProfiles(sources);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('parsed without error');
}

describe('profiles', () => {
  it('the shipped profiles load, each standard one present, vendor ones extend IF-MIB', () => {
    const set = loadProfiles();
    for (const name of PROFILE_NAMES) expect(set.has(name), name).toBe(true);
    for (const name of ['mikrotik-routeros', 'unifi-ap', 'airmax', 'cisco-wlc']) {
      expect(set.get(name)?.interfaces).toEqual(set.get('generic')?.interfaces);
      expect(set.get(name)?.wifi?.clients).toMatch(/^1\.3\.6\.1\.4\.1\.\d+\./);
    }
    expect(set.get('generic')?.wifi).toBeUndefined();
  });

  it('extends inherits, overrides, and null removes a column', () => {
    const set = parseProfiles([
      GENERIC,
      {
        file: 'profiles/quiet.yaml',
        text: 'extends: generic\ninterfaces:\n  alias: null\n  descr: .1.3.6.1.2.1.2.2.1.99\n',
      },
    ]);
    expect(set.get('quiet')?.interfaces).toEqual({ descr: '1.3.6.1.2.1.2.2.1.99' });
    expect(set.get('quiet')?.scalars).toEqual({ sysUpTime: '1.3.6.1.2.1.1.3.0' });
  });

  it.each([
    [
      'an unknown key, with the allowed ones',
      'interfaces:\n  descr: 1.3.6.1.2.1.2.2.1.2\n  inOctet: 1.3.6.1.2.1.2.2.1.10\n',
      /^profiles\/bad\.yaml:3: interfaces\.inOctet: .*allowed here: descr, name/,
    ],
    [
      'a MIB name instead of a numeric OID',
      'wifi:\n  clients: MIKROTIK-MIB::mtxrWlApClientCount\n',
      /^profiles\/bad\.yaml:2: wifi\.clients: must be a numeric OID/,
    ],
    ['invalid YAML', 'interfaces: [\n', /profiles\/bad\.yaml:\d+: invalid YAML/],
    ['an unknown parent', 'extends: genric\n', /extends: unknown profile "genric" \(known: bad, generic\)/],
  ])('%s is an error naming the file and line', (_what, text, re) => {
    expect(parseError([GENERIC, { file: 'profiles/bad.yaml', text }]).message).toMatch(re);
  });

  it('several mistakes in one file are all reported, each with its line', () => {
    const err = parseError([
      { file: 'p/two.yaml', text: 'descripton: x\nscalars:\n  sysUpTime: sysUpTime.0\n' },
    ]);
    expect(err.where).toBe('p/two.yaml');
    expect(err.message).toMatch(/line 1: descripton: .*; line 3: scalars\.sysUpTime: must be a numeric OID/);
  });

  it('an extends cycle is an error that shows the cycle', () => {
    const err = parseError([
      { file: 'a.yaml', text: 'extends: b\n' },
      { file: 'b.yaml', text: 'extends: a\n' },
    ]);
    expect(err.message).toMatch(/cycle: a → b → a/);
  });

  it('a directory without a standard profile is refused, naming the one to add', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netmon-profiles-'));
    try {
      writeFileSync(join(dir, 'generic.yaml'), GENERIC.text);
      expect(() => loadProfiles(dir)).toThrow(
        /missing standard profile\(s\): mikrotik-routeros, .*add mikrotik-routeros\.yaml/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
