/**
 * MQTT accounts: who may connect, and as which device. Passwords are stored only as scrypt hashes
 * (`scrypt$N$r$p$saltB64$hashB64`, config/mqtt-password.ts), compared in constant time. Devices come from
 * the inventory (`devices[].mqtt`); service accounts (the collector itself, other regency systems) from the
 * config.
 *
 * Checking a login runs scrypt (N=16384: ~50 ms, 16 MiB) on libuv's thread pool, never on the event loop:
 * the embedded broker shares its process with the monitor, and after a broker restart the whole fleet
 * reconnects at once.
 */
import { scrypt, timingSafeEqual } from 'node:crypto';
import { hashMqttPassword, parseMqttPasswordHash, verifyMqttPassword } from '../config/mqtt-password.ts';
import type { Inventory } from '../collector/core/types.ts';

export type AccountRole = 'device' | 'collector' | 'subscriber';

export interface Account {
  readonly username: string;
  readonly passwordHash: string;
  readonly role: AccountRole;
  /** For devices: the device and its site (topics are scoped to them). */
  readonly deviceId?: string | undefined;
  readonly siteId?: string | undefined;
}

/** A stored hash for `password` (see config/mqtt-password.ts). */
export const hashPassword = hashMqttPassword;
/** Synchronous check, for tools and tests; the broker uses `verifyPasswordAsync`. */
export const verifyPassword = verifyMqttPassword;

/** True when `password` matches `stored`; false for a wrong password or a malformed or unsafe hash. */
export async function verifyPasswordAsync(password: string, stored: string): Promise<boolean> {
  const h = parseMqttPasswordHash(stored);
  if (!h) return false;
  const got = await new Promise<Buffer>((resolve, reject) =>
    scrypt(
      password,
      h.salt,
      h.hash.length,
      { N: h.N, r: h.r, p: h.p, maxmem: 256 * h.N * h.r + (1 << 20) },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
  return timingSafeEqual(got, h.hash);
}

export class Accounts {
  readonly #byName = new Map<string, Account>();

  constructor(accounts: Iterable<Account>) {
    for (const a of accounts) this.#byName.set(a.username, a);
  }

  static fromInventory(inv: Inventory, services: readonly Account[] = []): Accounts {
    const devices: Account[] = inv.devices.flatMap((d) =>
      d.mqtt
        ? [
            {
              username: d.mqtt.username,
              passwordHash: d.mqtt.passwordHash,
              role: 'device' as const,
              deviceId: d.id,
              siteId: d.siteId,
            },
          ]
        : [],
    );
    return new Accounts([...devices, ...services]);
  }

  get(username: string): Account | undefined {
    return this.#byName.get(username);
  }

  /** The account, when the password matches. */
  async check(username: string | undefined, password: Buffer | undefined): Promise<Account | undefined> {
    if (!username || !password) return undefined;
    const a = this.#byName.get(username);
    if (!a) return undefined;
    return (await verifyPasswordAsync(password.toString('utf8'), a.passwordHash)) ? a : undefined;
  }
}
