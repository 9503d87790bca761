import { describe, expect, it } from 'vitest';
import { DEMO_SCRYPT_N, demoPasswordHash, mqttPasswordFor } from '../../../config/badung/mqtt-identity.ts';
import {
  hashMqttPassword,
  parseMqttPasswordHash,
  verifyMqttPassword,
} from '../../../config/mqtt-password.ts';

describe('MQTT password hashes', () => {
  it('verifies the right password and rejects a wrong one', () => {
    const h = hashMqttPassword('s3cret-pass', { N: 1024 });
    expect(h).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    expect(verifyMqttPassword('s3cret-pass', h)).toBe(true);
    expect(verifyMqttPassword('s3cret-pasS', h)).toBe(false);
    expect(verifyMqttPassword('', h)).toBe(false);
  });

  it('uses the default cost N=16384 and a fresh salt each time', () => {
    const a = hashMqttPassword('pw');
    const b = hashMqttPassword('pw');
    expect(a.startsWith('scrypt$16384$8$1$')).toBe(true);
    expect(a).not.toBe(b);
    expect(verifyMqttPassword('pw', b)).toBe(true);
  });

  it.each([
    ['not scrypt', 'bcrypt$2b$10$abc'],
    [
      'N not a power of two',
      'scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
    ],
    [
      'a memory bomb N',
      'scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
    ],
    ['a short hash', 'scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA'],
    [
      'a missing field',
      'scrypt$1024$8$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
    ],
  ])('treats %s as malformed: no match, nothing computed', (_what, stored) => {
    expect(parseMqttPasswordHash(stored)).toBeUndefined();
    expect(verifyMqttPassword('pw', stored)).toBe(false);
  });

  it('demo accounts: the hash is deterministic and verifies with the derived password', () => {
    const h = demoPasswordHash('pkm-petang-i-rtr');
    expect(h).toBe(demoPasswordHash('pkm-petang-i-rtr'));
    expect(h.startsWith(`scrypt$${DEMO_SCRYPT_N}$`)).toBe(true);
    expect(verifyMqttPassword(mqttPasswordFor('pkm-petang-i-rtr'), h)).toBe(true);
    expect(verifyMqttPassword(mqttPasswordFor('pkm-petang-ii-rtr'), h)).toBe(false);
    // Another secret gives other passwords.
    expect(mqttPasswordFor('pkm-petang-i-rtr', 'other')).not.toBe(mqttPasswordFor('pkm-petang-i-rtr'));
    expect(verifyMqttPassword(mqttPasswordFor('x', 'other'), demoPasswordHash('x', 'other'))).toBe(true);
  });
});
