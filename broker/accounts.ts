/**
 * MQTT accounts: who may connect, and as which device. Passwords are stored only as scrypt hashes
 * (`scrypt$N$r$p$saltB64$hashB64`), compared in constant time. Devices come from the inventory
 * (`devices[].mqtt`); service accounts (the collector itself, other regency systems) from the config.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
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

export function hashPassword(password: string, opts: { N?: number; salt?: Buffer } = {}): string {
  const N = opts.N ?? 16384;
  const salt = opts.salt ?? randomBytes(16);
  const hash = scryptSync(password, salt, 32, { N, r: 8, p: 1 });
  return `scrypt$${N}$8$1$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function verifyPassword(password: string, stored: string): boolean {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!m) return false;
  const [, n, r, p, salt, hash] = m;
  const want = Buffer.from(hash ?? '', 'base64');
  const got = scryptSync(password, Buffer.from(salt ?? '', 'base64'), want.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 256 * Number(n) * Number(r) + 1024 * 1024,
  });
  return got.length === want.length && timingSafeEqual(got, want);
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
  check(username: string | undefined, password: Buffer | undefined): Account | undefined {
    if (!username || !password) return undefined;
    const a = this.#byName.get(username);
    return a && verifyPassword(password.toString('utf8'), a.passwordHash) ? a : undefined;
  }
}
