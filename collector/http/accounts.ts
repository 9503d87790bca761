/**
 * Console user accounts: people who sign in with a name and a password (machines use API tokens,
 * auth.ts). Passwords are kept only as scrypt hashes, `scrypt$N$r$p$saltB64$hashB64` with a per-user
 * salt and the cost parameters in the string (the format of config/mqtt-password.ts, so a hash whose
 * parameters would make checking it a memory or CPU bomb is refused as malformed, not computed).
 *
 * Unlike a token, a password is chosen by a person and may be weak: the slow hash (N=16384, r=8: 16 MiB,
 * ~50 ms) makes offline guessing from a stolen users file expensive, and throttle.ts slows guessing online.
 * Hashing runs on libuv's thread pool (async scrypt), so a sign-in never stalls the event loop that polls.
 *
 * The users file (`console.usersFile`, a YAML list written by scripts/make-user.ts) is read by
 * config/console.ts; the UserDirectory here re-reads it when it changes, so a user made or removed while
 * the monitor runs counts at the next request without a restart.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { DEFAULT_SCRYPT_N, parseMqttPasswordHash } from '../../config/mqtt-password.ts';
import type { Clock } from '../core/clock.ts';
import type { UserAccount } from '../../config/users.ts';
import type { Role } from './auth.ts';

// The account format is the users file's (config/users.ts): re-exported for the HTTP layer's callers.
export {
  isPasswordHash,
  PASSWORD_HASH_FORMAT,
  USER_NAME_RE,
  USER_NAME_RULE,
  type UserAccount,
} from '../../config/users.ts';
/** Shorter passwords are refused by make-user: the throttle slows guessing, it does not stop it. */
export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 1024;

/** Who is signed in: what the API and the console see of an account (never its hash). */
export interface ConsoleUser {
  readonly name: string;
  readonly role: Role;
}

function scryptAsync(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

const maxmem = (N: number, r: number): number => 128 * N * r * 2 + 1024 * 1024;

/** A stored hash of `password`. `N` lower than the default is for tests only. */
export async function hashPassword(
  password: string,
  opts: { N?: number; salt?: Buffer } = {},
): Promise<string> {
  const N = opts.N ?? DEFAULT_SCRYPT_N;
  const salt = opts.salt ?? randomBytes(16);
  const hash = await scryptAsync(password, salt, 32, { N, r: 8, p: 1, maxmem: maxmem(N, 8) });
  return `scrypt$${N}$8$1$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** True when `password` matches `stored`; false for a wrong password or a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const h = parseMqttPasswordHash(stored);
  if (!h || password.length > MAX_PASSWORD_LENGTH) return false;
  const got = await scryptAsync(password, h.salt, h.hash.length, {
    N: h.N,
    r: h.r,
    p: h.p,
    maxmem: maxmem(h.N, h.r),
  });
  return timingSafeEqual(got, h.hash);
}

/** A password for a person to type: 20 characters of base64url (120 random bits). */
export function generatePassword(random: (n: number) => Buffer = randomBytes): string {
  return random(15).toString('base64url');
}

/** Checked against when the name is unknown, so a miss costs what a wrong password costs. */
const DUMMY_HASH = `scrypt$${DEFAULT_SCRYPT_N}$8$1$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(32).toString('base64')}`;

export interface UserDirectoryOptions {
  readonly file: string;
  /** Reads and validates the file (config/console.ts loadUsersFile); throws ConfigError naming the line. */
  readonly load: (file: string) => Promise<readonly UserAccount[]>;
  readonly clock: Clock;
  /** A changed file is noticed at most this late. Default 2 s. */
  readonly recheckMs?: number | undefined;
  /** A file that became invalid is reported here; the accounts read before it stay in force. */
  readonly onReloadError?: ((err: unknown) => void) | undefined;
}

/**
 * The accounts of the users file, re-read when its modification time or size changes (checked at most
 * every `recheckMs`). A missing file means no accounts. The first load throws on a bad file (the monitor
 * refuses to start with it); a later bad edit is reported and the previous accounts stay.
 */
export class UserDirectory {
  readonly #opts: UserDirectoryOptions;
  #byName = new Map<string, UserAccount>();
  #stamp = '';
  #checkedAt = -Infinity;
  #reloading: Promise<void> | undefined;

  private constructor(opts: UserDirectoryOptions) {
    this.#opts = opts;
  }

  static async open(opts: UserDirectoryOptions): Promise<UserDirectory> {
    const d = new UserDirectory(opts);
    await d.#reload(true);
    return d;
  }

  /** An account by name, as the file says now (at most `recheckMs` old). */
  async get(name: string): Promise<UserAccount | undefined> {
    await this.refresh();
    return this.#byName.get(name);
  }

  /** The account without checking the file again (for hot paths between refreshes). */
  cached(name: string): UserAccount | undefined {
    return this.#byName.get(name);
  }

  get size(): number {
    return this.#byName.size;
  }

  /** The account if `password` is its password. Costs one scrypt whether or not the name exists. */
  async authenticate(name: string, password: string): Promise<ConsoleUser | undefined> {
    const account = await this.get(name);
    const ok = await verifyPassword(password, account?.passwordHash ?? DUMMY_HASH);
    return account && ok ? { name: account.name, role: account.role } : undefined;
  }

  /** Re-read the file if it changed and the last check is older than `recheckMs`. */
  async refresh(): Promise<void> {
    const now = this.#opts.clock.now();
    if (now - this.#checkedAt < (this.#opts.recheckMs ?? 2000)) return;
    this.#checkedAt = now;
    this.#reloading ??= this.#reload(false).finally(() => (this.#reloading = undefined));
    await this.#reloading;
  }

  async #reload(first: boolean): Promise<void> {
    const { file } = this.#opts;
    let stamp: string;
    try {
      const s = await stat(file);
      stamp = `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      stamp = 'missing';
    }
    if (!first && stamp === this.#stamp) return;
    try {
      const accounts = stamp === 'missing' ? [] : await this.#opts.load(file);
      this.#byName = new Map(accounts.map((a) => [a.name, a]));
      this.#stamp = stamp;
    } catch (err) {
      if (first) throw err;
      this.#stamp = stamp; // report a bad edit once, not at every request
      this.#opts.onReloadError?.(err);
    }
  }
}
