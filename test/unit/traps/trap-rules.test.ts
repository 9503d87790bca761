import { describe, expect, it } from 'vitest';
import { Secret } from '../../../collector/core/secret.ts';
import type { Device } from '../../../collector/core/types.ts';
import {
  judgeTrap,
  trapIfIndex,
  trapName,
  type TrapIn,
} from '../../../collector/sources/traps/trap-rules.ts';

const dev = (id: string, snmp: Device['snmp']): Device => ({
  id,
  siteId: 's',
  role: 'router',
  host: '127.0.0.9',
  port: 161,
  profile: 'generic',
  snmp,
});
const v2 = dev('r2', { version: '2c', community: new Secret('kominfo') });
const v3 = dev('r3', { version: '3', user: 'netmon', level: 'authPriv' });
const bySource = new Map([['127.0.0.9', [v2, v3]]]);

const trap = (over: Partial<TrapIn>): TrapIn => ({
  source: '127.0.0.9',
  version: '2c',
  community: 'kominfo',
  varbinds: [
    { oid: '1.3.6.1.2.1.1.3.0', value: 1234 },
    { oid: '1.3.6.1.6.3.1.1.4.1.0', value: '1.3.6.1.6.3.1.1.5.3' },
    { oid: '1.3.6.1.2.1.2.2.1.1.7', value: 7 },
  ],
  ...over,
});

describe('trap rules', () => {
  it.each([
    ['1.3.6.1.6.3.1.1.5.1', 'coldStart'],
    ['1.3.6.1.6.3.1.1.5.2', 'warmStart'],
    ['1.3.6.1.6.3.1.1.5.3', 'linkDown'],
    ['1.3.6.1.6.3.1.1.5.4', 'linkUp'],
    ['1.3.6.1.6.3.1.1.5.5', 'authenticationFailure'],
  ])('snmpTrapOID %s is %s', (oid, name) => {
    expect(trapName(trap({ varbinds: [{ oid: '1.3.6.1.6.3.1.1.4.1.0', value: oid }] }))).toEqual({
      name,
      standard: true,
    });
  });

  it('an enterprise trap keeps its OID and is not standard; SNMPv1 generic-trap numbers map too', () => {
    expect(
      trapName(trap({ varbinds: [{ oid: '1.3.6.1.6.3.1.1.4.1.0', value: '1.3.6.1.4.1.14988.1' }] })),
    ).toEqual({ name: '1.3.6.1.4.1.14988.1', standard: false });
    expect(trapName(trap({ version: '1', generic: 2, varbinds: [] }))).toEqual({
      name: 'linkDown',
      standard: true,
    });
    expect(trapName(trap({ version: '1', generic: 6, varbinds: [] })).standard).toBe(false);
  });

  it('reads the ifIndex of a linkDown', () => {
    expect(trapIfIndex(trap({}))).toBe(7);
  });

  it('accepts the right community from the device, and only that device', () => {
    expect(judgeTrap(trap({}), bySource)).toEqual({ kind: 'accept', devices: [v2] });
  });

  it('drops an unknown source, a wrong community, and a v3 user that is not the device', () => {
    expect(judgeTrap(trap({ source: '127.0.0.10' }), bySource)).toEqual({ kind: 'unknown_source' });
    expect(judgeTrap(trap({ community: 'public' }), bySource)).toMatchObject({ kind: 'auth' });
    expect(judgeTrap(trap({ version: '3', community: undefined, user: 'intruder' }), bySource)).toMatchObject(
      {
        kind: 'auth',
      },
    );
    expect(judgeTrap(trap({ version: '3', community: undefined, user: 'netmon' }), bySource)).toEqual({
      kind: 'accept',
      devices: [v3],
    });
    expect(judgeTrap(trap({ source: '::ffff:127.0.0.9' }), bySource).kind).toBe('accept');
  });
});
