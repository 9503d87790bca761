/** `snmp.workers` (collection worker threads, collector/collection/worker-collection.ts): what the config accepts. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../config/monitor.ts';
import { ConfigError } from '../../../collector/core/errors.ts';

const yaml = (workers: string | undefined) =>
  `inventory: inv.yaml\ninflux: { api: v1, url: "http://127.0.0.1:8086", database: netmon }\n` +
  (workers === undefined ? '' : `snmp: { workers: ${workers} }\n`);

function parse(workers: string | undefined) {
  return parseConfig(yaml(workers), '/etc/netmon/netmon.yaml', {});
}

describe('snmp.workers', () => {
  it.each([
    [undefined, undefined],
    ['1', 1],
    ['2', 2],
    ['64', 64],
    ['auto', 'auto'],
  ] as const)('%s is read as %s', (text, want) => {
    expect(parse(text).snmp.workers).toBe(want);
  });

  it.each(['0', '65', '1.5', 'many', '"2"', '-1'])('%s is refused, naming the key and the fix', (text) => {
    let err: unknown;
    try {
      parse(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(String((err as Error).message)).toMatch(/snmp\.workers/);
  });
});
