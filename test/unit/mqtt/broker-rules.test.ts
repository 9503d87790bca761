import { describe, expect, it } from 'vitest';
import {
  Accounts,
  hashPassword,
  verifyPassword,
  verifyPasswordAsync,
  type Account,
} from '../../../broker/accounts.ts';
import { parsePayload, statusSchema, telemetrySchema } from '../../../broker/payloads.ts';
import { parseDeviceTopic, publishDenied, subscribeDenied } from '../../../broker/topics.ts';

const device: Account = {
  username: 'gw-1',
  passwordHash: '',
  role: 'device',
  deviceId: 'gw-1',
  siteId: 'site-1',
};
const collector: Account = { username: 'netmon-collector', passwordHash: '', role: 'collector' };
const subscriber: Account = { username: 'bpbd', passwordHash: '', role: 'subscriber' };

describe('passwords', () => {
  it('are stored as scrypt hashes and verified', () => {
    const h = hashPassword('s3cret-pass', { N: 1024 });
    expect(h).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(h).not.toContain('s3cret-pass');
    expect(verifyPassword('s3cret-pass', h)).toBe(true);
    expect(verifyPassword('s3cret-pasS', h)).toBe(false);
    expect(verifyPassword('s3cret-pass', 'plain')).toBe(false);
  });

  it('accounts check username and password together, off the event loop', async () => {
    const a = new Accounts([
      { ...device, passwordHash: hashPassword('pw', { N: 1024 }) },
      { ...collector, passwordHash: 'scrypt$1073741824$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==' },
    ]);
    expect((await a.check('gw-1', Buffer.from('pw')))?.deviceId).toBe('gw-1');
    expect(await a.check('gw-1', Buffer.from('nope'))).toBeUndefined();
    expect(await a.check(undefined, undefined)).toBeUndefined();
    expect(await a.check('someone', Buffer.from('pw'))).toBeUndefined();
    // A hash whose cost would be a memory bomb is refused, not computed.
    expect(await a.check('netmon-collector', Buffer.from('pw'))).toBeUndefined();
  });

  it('verifies hashes made by the config tooling, synchronously and asynchronously alike', async () => {
    const h = hashPassword('kata-sandi', { N: 2048 });
    expect(verifyPassword('kata-sandi', h)).toBe(true);
    expect(await verifyPasswordAsync('kata-sandi', h)).toBe(true);
    expect(await verifyPasswordAsync('kata-sandI', h)).toBe(false);
    expect(await verifyPasswordAsync('kata-sandi', 'scrypt$16384$8$1$!!$??')).toBe(false);
  });
});

describe('topic rules', () => {
  it.each([
    [device, 'netmon/v1/site-1/gw-1/telemetry', undefined],
    [device, 'netmon/v1/site-1/gw-1/status', undefined],
    [device, 'netmon/v1/site-1/gw-2/telemetry', /may publish only under netmon\/v1\/site-1\/gw-1\//],
    [device, 'netmon/v1/site-2/gw-1/telemetry', /may publish only under/],
    [device, 'netmon/v1/state/site/site-1', /not a device topic/],
    [device, 'netmon/v1/site-1/gw-1/firmware', /not a device topic/],
    [collector, 'netmon/v1/state/device/gw-1', undefined],
    [collector, 'netmon/v1/site-1/gw-1/telemetry', /only state and alert/],
    [subscriber, 'netmon/v1/alerts', /may not publish/],
  ] as const)('%o publishing %s', (who, topic, denied) => {
    const why = publishDenied(who, topic);
    if (denied === undefined) expect(why).toBeUndefined();
    else expect(why).toMatch(denied);
  });

  it('subscriptions by role', () => {
    expect(subscribeDenied(device, 'netmon/v1/#')).toMatch(/devices may not subscribe/);
    expect(subscribeDenied(collector, 'netmon/v1/+/+/telemetry')).toBeUndefined();
    expect(subscribeDenied(subscriber, 'netmon/v1/state/#')).toBeUndefined();
    expect(subscribeDenied(subscriber, 'netmon/v1/+/+/telemetry')).toMatch(/only state and alert/);
  });

  it('parses device topics only', () => {
    expect(parseDeviceTopic('netmon/v1/s/d/telemetry')).toEqual({
      kind: 'telemetry',
      site: 's',
      device: 'd',
    });
    expect(parseDeviceTopic('netmon/v1/state/site/x')).toBeUndefined();
    expect(parseDeviceTopic('netmon/v2/s/d/telemetry')).toBeUndefined();
    expect(parseDeviceTopic('netmon/v1/s/d/telemetry/extra')).toBeUndefined();
  });
});

describe('payloads', () => {
  it.each([
    ['{bad', /not JSON/],
    ['{"cpu_pct":"high"}', /cpu_pct: .*number/i],
    ['{"cpu_pct":101}', /cpu_pct/],
    [JSON.stringify({ cpu_pct: 1, fw: 'x'.repeat(5000) }), /exceeds 4096/],
  ])('rejects %s with the reason', (text, reason) => {
    const r = parsePayload(telemetrySchema, Buffer.from(text));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });

  it('accepts telemetry and status; unknown telemetry fields are ignored', () => {
    expect(parsePayload(telemetrySchema, Buffer.from('{"cpu_pct":1,"fw":"OpenWrt"}'))).toEqual({
      ok: true,
      value: { cpu_pct: 1 },
    });
    expect(parsePayload(telemetrySchema, Buffer.from('{"cpu_pct":12.5,"clients":4}'))).toEqual({
      ok: true,
      value: { cpu_pct: 12.5, clients: 4 },
    });
    expect(parsePayload(statusSchema, Buffer.from('{"state":"offline","clean":true}'))).toEqual({
      ok: true,
      value: { state: 'offline', clean: true },
    });
  });
});
