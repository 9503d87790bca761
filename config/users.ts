/**
 * Console accounts as the users file writes them (`console.usersFile`, made by scripts/make-user.ts):
 * the name rule, the stored hash format and the account record. Data shared by the config (config/console.ts
 * validates the file) and the HTTP layer (collector/http/accounts.ts signs people in), so that the config
 * imports no HTTP code. The hash is the scrypt format of config/mqtt-password.ts.
 */
import type { Role } from '../collector/core/api-tokens.ts';
import { parseMqttPasswordHash } from './mqtt-password.ts';

export const USER_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const USER_NAME_RULE =
  'lower-case letters, digits, dots, dashes and underscores, at most 64 (e.g. wayan, ops.kuta)';
export const PASSWORD_HASH_FORMAT = 'scrypt$N$r$p$saltBase64$hashBase64 (as scripts/make-user.ts writes it)';

export interface UserAccount {
  readonly name: string;
  readonly role: Role;
  readonly passwordHash: string;
}

/** True when `stored` is a hash collector/http/accounts.ts can check. */
export function isPasswordHash(stored: string): boolean {
  return parseMqttPasswordHash(stored) !== undefined;
}
