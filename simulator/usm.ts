/**
 * SNMPv3 User-based Security Model crypto, agent side: password-to-key and key localisation
 * (RFC 3414 §A.2), HMAC authentication (RFC 3414 §6-7 for MD5/SHA-1, RFC 7860 for SHA-2), AES-CFB privacy
 * (RFC 3826; the 256-bit variants with the Blumenthal and Reeder key extensions that net-snmp and Cisco
 * use). DES (RFC 3414 §8) is not offered: Node 20's OpenSSL 3 has no DES-CBC without the legacy provider.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { SnmpAuthProtocol, SnmpPrivProtocol } from '../collector/core/types.ts';

interface AuthAlgorithm {
  readonly hash: string;
  readonly keyLength: number;
  /** Truncated HMAC length carried in msgAuthenticationParameters. */
  readonly macLength: number;
}

const AUTH: Readonly<Record<SnmpAuthProtocol, AuthAlgorithm>> = {
  md5: { hash: 'md5', keyLength: 16, macLength: 12 },
  sha: { hash: 'sha1', keyLength: 20, macLength: 12 },
  sha224: { hash: 'sha224', keyLength: 28, macLength: 16 },
  sha256: { hash: 'sha256', keyLength: 32, macLength: 24 },
  sha384: { hash: 'sha384', keyLength: 48, macLength: 32 },
  sha512: { hash: 'sha512', keyLength: 64, macLength: 48 },
};

interface PrivAlgorithm {
  readonly cipher: string;
  readonly keyLength: number;
  readonly extension: 'none' | 'blumenthal' | 'reeder';
}

const PRIV: Readonly<Partial<Record<SnmpPrivProtocol, PrivAlgorithm>>> = {
  aes: { cipher: 'aes-128-cfb', keyLength: 16, extension: 'none' },
  aes256b: { cipher: 'aes-256-cfb', keyLength: 32, extension: 'blumenthal' },
  aes256r: { cipher: 'aes-256-cfb', keyLength: 32, extension: 'reeder' },
};

export function macLength(proto: SnmpAuthProtocol): number {
  return AUTH[proto].macLength;
}

export function privSupported(proto: SnmpPrivProtocol): boolean {
  return PRIV[proto] !== undefined;
}

/** Ku, the engine-independent key: the hash of the password repeated to 1 MiB (RFC 3414 §A.2.1). */
const kuCache = new Map<string, Buffer>();
function passwordKey(proto: SnmpAuthProtocol, password: Buffer): Buffer {
  const cacheKey = `${proto}\0${password.toString('base64')}`;
  const hit = kuCache.get(cacheKey);
  if (hit) return hit;
  if (password.length === 0) throw new RangeError('empty SNMPv3 password');
  const ku = createHash(AUTH[proto].hash)
    .update(Buffer.alloc(1024 * 1024, password))
    .digest();
  kuCache.set(cacheKey, ku);
  return ku;
}

/** Kul = H(Ku || engineID || Ku) (RFC 3414 §2.6). */
export function localizedKey(proto: SnmpAuthProtocol, password: string | Buffer, engineId: Buffer): Buffer {
  const ku = passwordKey(proto, typeof password === 'string' ? Buffer.from(password, 'utf8') : password);
  return createHash(AUTH[proto].hash).update(ku).update(engineId).update(ku).digest();
}

export function computeMac(proto: SnmpAuthProtocol, key: Buffer, message: Buffer): Buffer {
  return createHmac(AUTH[proto].hash, key).update(message).digest().subarray(0, AUTH[proto].macLength);
}

/**
 * Check the HMAC of an incoming datagram: the digest field is zeroed for the computation (RFC 3414 §6.3.2).
 * The datagram buffer is restored afterwards.
 */
export function verifyMac(
  proto: SnmpAuthProtocol,
  key: Buffer,
  datagram: Buffer,
  offset: number,
  mac: Buffer,
): boolean {
  const want = AUTH[proto].macLength;
  if (mac.length !== want) return false;
  const saved = Buffer.from(mac);
  datagram.fill(0, offset, offset + want);
  const got = computeMac(proto, key, datagram);
  saved.copy(datagram, offset);
  return timingSafeEqual(got, saved);
}

/** Write the HMAC into a finished outgoing datagram whose digest field is zero-filled. */
export function signInPlace(proto: SnmpAuthProtocol, key: Buffer, datagram: Buffer, offset: number): void {
  computeMac(proto, key, datagram).copy(datagram, offset);
}

/** The encryption key for a user at an engine, extended to the cipher's length where needed. */
export function privacyKey(
  authProto: SnmpAuthProtocol,
  privProto: SnmpPrivProtocol,
  privPassword: string,
  engineId: Buffer,
): Buffer {
  const alg = PRIV[privProto];
  if (!alg) throw new RangeError(`privacy protocol ${privProto} is not supported`);
  let key = localizedKey(authProto, privPassword, engineId);
  if (alg.extension === 'blumenthal') {
    // draft-blumenthal-aes-usm-04 §3.1.2.1: Kul' = Kul || H(Kul) || ...
    while (key.length < alg.keyLength) {
      key = Buffer.concat([key, createHash(AUTH[authProto].hash).update(key).digest()]);
    }
  } else if (alg.extension === 'reeder') {
    // draft-reeder-snmpv3-usm-3desede-00 §2.1: the next block is the localised key of the previous one.
    let next = key;
    while (key.length < alg.keyLength) {
      next = localizedKey(authProto, next, engineId);
      key = Buffer.concat([key, next]);
    }
  }
  return key.subarray(0, alg.keyLength);
}

function aesIv(engineBoots: number, engineTime: number, salt: Buffer): Buffer {
  // RFC 3826 §3.1.2.1: IV = engineBoots (4) || engineTime (4) || salt (8)
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(engineBoots >>> 0, 0);
  iv.writeUInt32BE(engineTime >>> 0, 4);
  salt.copy(iv, 8, 0, 8);
  return iv;
}

type AesArgs = [
  privProto: SnmpPrivProtocol,
  key: Buffer,
  engineBoots: number,
  engineTime: number,
  salt: Buffer,
  data: Buffer,
];

/** AES-CFB (RFC 3826) one way or the other, with the key and IV of the engine's boots and time. */
function aesCfb(
  direction: 'encrypt' | 'decrypt',
  ...[privProto, key, boots, time, salt, data]: AesArgs
): Buffer {
  const alg = PRIV[privProto];
  if (!alg) throw new RangeError(`privacy protocol ${privProto} is not supported`);
  const iv = aesIv(boots, time, salt);
  const c =
    direction === 'decrypt' ? createDecipheriv(alg.cipher, key, iv) : createCipheriv(alg.cipher, key, iv);
  return Buffer.concat([c.update(data), c.final()]);
}

export function decrypt(...args: AesArgs): Buffer {
  const [privProto, , , , salt] = args;
  if (PRIV[privProto] && salt.length !== 8) throw new RangeError('AES privacy parameters must be 8 bytes');
  return aesCfb('decrypt', ...args);
}

export function encrypt(...args: AesArgs): Buffer {
  return aesCfb('encrypt', ...args);
}
