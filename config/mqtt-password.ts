/**
 * MQTT device passwords, stored only as scrypt hashes: `scrypt$N$r$p$saltB64$hashB64` (the format of
 * `devices[].mqtt.passwordHash` in the inventory). Verification is constant-time, and a hash whose cost
 * parameters would make verification a memory or CPU bomb is rejected as malformed, not computed.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/** Default cost for real device accounts: N=16384, r=8, p=1 (16 MiB, ~50 ms). */
export const DEFAULT_SCRYPT_N = 16384;
const MAX_N = 1 << 20;
const B64 = '[A-Za-z0-9+/]+={0,2}';
export const MQTT_HASH_RE = new RegExp(`^scrypt\\$(\\d+)\\$(\\d+)\\$(\\d+)\\$(${B64})\\$(${B64})$`);
export const MQTT_HASH_FORMAT =
  'scrypt$N$r$p$saltBase64$hashBase64 (N a power of two 2..1048576, r 1..32, p 1..16)';

/** Parse a stored hash; undefined when it is not of the expected shape or has unsafe parameters. */
export function parseMqttPasswordHash(stored: string): ScryptParams | undefined {
  const m = MQTT_HASH_RE.exec(stored);
  if (!m) return undefined;
  const N = Number(m[1]);
  const r = Number(m[2]);
  const p = Number(m[3]);
  if (N < 2 || N > MAX_N || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  const salt = Buffer.from(m[4] ?? '', 'base64');
  const hash = Buffer.from(m[5] ?? '', 'base64');
  if (salt.length < 8 || hash.length < 16 || hash.length > 64) return undefined;
  return { N, r, p, salt, hash };
}

export function hashMqttPassword(password: string, opts: { salt?: Buffer; N?: number } = {}): string {
  const N = opts.N ?? DEFAULT_SCRYPT_N;
  const salt = opts.salt ?? randomBytes(16);
  const hash = scryptSync(password, salt, 32, { N, r: 8, p: 1, maxmem: maxmem(N, 8) });
  return `scrypt$${N}$8$1$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** True when `password` matches `stored`; false for a wrong password or a malformed hash. */
export function verifyMqttPassword(password: string, stored: string): boolean {
  const h = parseMqttPasswordHash(stored);
  if (!h) return false;
  const got = scryptSync(password, h.salt, h.hash.length, {
    N: h.N,
    r: h.r,
    p: h.p,
    maxmem: maxmem(h.N, h.r),
  });
  return timingSafeEqual(got, h.hash);
}

function maxmem(N: number, r: number): number {
  return 128 * N * r * 2 + 1024 * 1024;
}
