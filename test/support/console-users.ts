/** Console accounts for tests: appended to a users file as scripts/make-user.ts writes them (0600). */
import { appendFileSync, chmodSync } from 'node:fs';
import { hashPassword } from '../../collector/http/accounts.ts';
import type { Role } from '../../collector/http/auth.ts';

/** A fast scrypt cost: tests make several accounts; the hash format and the checks are the real ones. */
const TEST_SCRYPT_N = 1024;

export async function addConsoleUser(
  file: string,
  name: string,
  role: Role,
  password: string,
): Promise<void> {
  const passwordHash = await hashPassword(password, { N: TEST_SCRYPT_N });
  appendFileSync(file, `- { name: ${name}, role: ${role}, passwordHash: '${passwordHash}' }\n`, {
    mode: 0o600,
  });
  chmodSync(file, 0o600);
}
