import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { allowedKeys, editDistance, nearestKey, typeHint } from '../../../config/hints.ts';
import { parseInventory } from '../../../config/inventory.ts';
import { loadConfig, parseConfig } from '../../../config/monitor.ts';

describe('editDistance (optimal string alignment)', () => {
  it.each([
    ['interval', 'interval', 0],
    ['intervall', 'interval', 1],
    ['inetrval', 'interval', 1], // one transposition
    ['timeout', 'timout', 1],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
  ])('%s ~ %s = %i', (a, b, want) => {
    expect(editDistance(a, b)).toBe(want);
    expect(editDistance(b, a)).toBe(want);
  });
});

describe('nearestKey', () => {
  const snmp = ['interval', 'jitter', 'timeout', 'retries', 'concurrency', 'maxRepetitions'];
  it.each([
    ['intervall', 'interval'],
    ['Interval', 'interval'],
    ['retry', undefined], // two edits on five letters: too far to be a typo
    ['retires', 'retries'],
    ['maxrepetitions', 'maxRepetitions'],
    ['concurency', 'concurrency'],
    ['colour', undefined],
  ])('%s -> %s', (key, want) => {
    expect(nearestKey(key, snmp)).toBe(want);
  });
});

describe('allowedKeys', () => {
  const schema = z.strictObject({
    snmp: z
      .strictObject({ interval: z.string().default('60s'), jitter: z.string().default('10s') })
      .prefault({}),
    influx: z.discriminatedUnion('api', [
      z.strictObject({ api: z.literal('v1'), url: z.string(), database: z.string() }),
      z.strictObject({ api: z.literal('v2'), url: z.string(), org: z.string(), bucket: z.string() }),
    ]),
    hooks: z.array(z.strictObject({ name: z.string(), url: z.string() })).default([]),
  });
  it('walks objects, defaults, arrays and the union option the data names', () => {
    expect(allowedKeys(schema, [], {})).toEqual(['snmp', 'influx', 'hooks']);
    expect(allowedKeys(schema, ['snmp'], {})).toEqual(['interval', 'jitter']);
    expect(allowedKeys(schema, ['hooks', 3], {})).toEqual(['name', 'url']);
    expect(allowedKeys(schema, ['influx'], { influx: { api: 'v2' } })).toEqual([
      'api',
      'url',
      'org',
      'bucket',
    ]);
    // No discriminator in the data: every option's keys.
    expect(allowedKeys(schema, ['influx'], { influx: {} })).toEqual([
      'api',
      'url',
      'database',
      'org',
      'bucket',
    ]);
    expect(allowedKeys(schema, ['snmp', 'interval'], {})).toBeUndefined();
  });
});

describe('typeHint', () => {
  it.each([
    ['number', 'retries', '1', 'write it without quotes: retries: 1'],
    ['number', 'port', ' 8080 ', 'write it without quotes: port: 8080'],
    ['number', 'lat', 'south', "write a number, without quotes (not 'south')"],
    ['boolean', 'feedsPublic', 'yes', 'write true or false without quotes: feedsPublic: true'],
    ['boolean', 'manage', 'off', 'write true or false without quotes: manage: false'],
    ['string', 'chatId', -1001234567890, 'put it in quotes: chatId: "-1001234567890"'],
    ['array', 'to', 'a@x.id, b@x.id', 'write a list: to: [a@x.id, b@x.id]'],
    ['object', 'snmp', null, 'write its keys below it, indented, or snmp: {} for none'],
    ['string', 'url', undefined, 'add it: url: ...'],
  ])('expected %s at %s, found %j', (expected, key, value, want) => {
    expect(typeHint(expected, key, value)).toBe(want);
  });
});

describe('config errors carry the hints', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'netmon-hints-'));
    writeFileSync(
      join(dir, 'inv.yaml'),
      `sites:\n  - { id: s1, name: S1, category: sd, kecamatan: Kuta, desa: Kuta, lat: -8.72, lon: 115.17, devices: [{ id: s1-r, role: router, host: 127.0.0.1, credentials: c }] }\ncredentials: { c: { version: 2c, community: public } }\n`,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const base = (extra: string) =>
    `inventory: inv.yaml\ninflux: { api: v1, url: "http://127.0.0.1:8086", database: netmon }\n${extra}`;
  const errorOf = (text: string): string => {
    try {
      parseConfig(text, join(dir, 'netmon.yaml'), {});
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('the config was accepted');
  };

  it('an unknown key names the nearest allowed one at that place', () => {
    const msg = errorOf(base('snmp:\n  intervall: 30s\n'));
    expect(msg).toMatch(
      /netmon\.yaml:4:3: snmp\.intervall: unknown key 'intervall' \(check the spelling\): did you mean 'interval'\?/,
    );
    expect(msg).toMatch(/Allowed here: interval, jitter, timeout, retries, concurrency, maxRepetitions/);
  });

  it('a key of the other influx API is suggested from the option the file chose', () => {
    const msg = errorOf(
      'inventory: inv.yaml\ninflux: { api: v2, url: "http://127.0.0.1:8086", org: o, buckett: b }\n',
    );
    expect(msg).toMatch(
      /influx\.buckett: unknown key 'buckett' \(check the spelling\): did you mean 'bucket'\?/,
    );
  });

  it('two unknown keys are two lines, each with its own place', () => {
    const msg = errorOf(base('snmp:\n  intervall: 30s\n  jiter: 2s\n'));
    expect(msg).toMatch(/:4:3: snmp\.intervall: .*did you mean 'interval'/);
    expect(msg).toMatch(/:5:3: snmp\.jiter: .*did you mean 'jitter'/);
  });

  it('a top-level typo, and one nothing is near', () => {
    expect(errorOf(base('snmpp: {}\n'))).toMatch(/snmpp: unknown key 'snmpp' .*did you mean 'snmp'\?/);
    const far = errorOf(base('colour: red\n'));
    expect(far).toMatch(/colour: unknown key 'colour' \(check the spelling\); allowed here: inventory, /);
    expect(far).not.toMatch(/did you mean/);
  });

  it('a quoted number says to write it without quotes', () => {
    expect(errorOf(base('snmp: { retries: "1" }\n'))).toMatch(
      /netmon\.yaml:3:\d+: snmp\.retries: .*expected number, received string; write it without quotes: retries: 1/,
    );
  });

  it('a quoted boolean says to write true or false', () => {
    expect(errorOf(base('api: { feedsPublic: "yes" }\n'))).toMatch(
      /api\.feedsPublic: .*; write true or false without quotes: feedsPublic: true/,
    );
  });

  it('the inventory: a misspelt site or device key names the right one', () => {
    const text = `credentials: { c: { version: 2c, community: public } }\nsites:\n  - id: s1\n    name: S1\n    category: sd\n    kecamatan: Kuta\n    desa: Kuta\n    lat: -8.72\n    lon: 115.17\n    lattitude: -8.72\n    devices:\n      - { id: s1-r, role: router, host: 127.0.0.1, credentials: c, profil: mikrotik-routeros }\n`;
    let msg = '';
    try {
      parseInventory(text, 'inv.yaml', {});
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toMatch(
      /inv\.yaml:10:5: sites\[0\]\.lattitude: unknown key 'lattitude' .*did you mean 'lat'\?/,
    );
    expect(msg).toMatch(/sites\[0\]\.devices\[0\]\.profil: unknown key 'profil' .*did you mean 'profile'\?/);
  });

  it('loadConfig reports the same through the file', async () => {
    writeFileSync(join(dir, 'bad.yaml'), base('writer:\n  flushIntervall: 1s\n'));
    await expect(loadConfig(join(dir, 'bad.yaml'), {})).rejects.toThrow(
      /bad\.yaml:4:3: writer\.flushIntervall: .*did you mean 'flushInterval'\?/,
    );
  });
});
