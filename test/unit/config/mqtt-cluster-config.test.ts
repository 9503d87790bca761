/**
 * Issue #15: in a cluster, `mqtt:` must name an external broker. Each member running its own embedded aedes
 * would see only the devices that happened to connect to it; the config refuses that at load, naming the
 * key and the fix. Outside a cluster the embedded broker stays the default.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../collector/core/errors.ts';
import { parseConfig } from '../../../config/monitor.ts';

const FILE = join('/tmp', 'netmon.yaml');
const BASE = `inventory: inv.yaml\ninflux: { api: v1, url: "http://127.0.0.1:8086", database: netmon }\n`;
const CLUSTER = [
  'cluster:',
  '  node: col-1',
  '  roles: [collector]',
  '  nats: { servers: [nats://127.0.0.1:4222] }',
  '',
].join('\n');

const errorOf = (text: string): string => {
  try {
    parseConfig(text, FILE, {});
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('accepted');
};

describe('mqtt: in a cluster member', () => {
  it('refuses the embedded broker (the default) with the key and the fix', () => {
    const msg = errorOf(`${BASE}${CLUSTER}mqtt: { password: collector-secret }\n`);
    expect(msg).toContain('mqtt.broker');
    expect(msg).toContain('cannot run the embedded broker');
    expect(msg).toContain('mqtt.broker: external');
    expect(errorOf(`${BASE}${CLUSTER}mqtt: { broker: embedded, password: collector-secret }\n`)).toContain(
      'cannot run the embedded broker',
    );
  });

  it('takes an external broker', () => {
    const c = parseConfig(
      `${BASE}${CLUSTER}mqtt: { broker: external, url: "mqtt://127.0.0.1:1883", password: collector-secret }\n`,
      FILE,
      {},
    );
    expect(c.mqtt?.broker).toEqual({ kind: 'external', url: 'mqtt://127.0.0.1:1883' });
    expect(c.cluster?.node).toBe('col-1');
  });

  it('keeps the embedded broker as the default of one process', () => {
    const c = parseConfig(`${BASE}mqtt: { password: collector-secret }\n`, FILE, {});
    expect(c.mqtt?.broker.kind).toBe('embedded');
  });

  it('an external broker still needs its url, in a cluster too', () => {
    expect(errorOf(`${BASE}${CLUSTER}mqtt: { broker: external, password: collector-secret }\n`)).toContain(
      'mqtt.url is required',
    );
  });
});
