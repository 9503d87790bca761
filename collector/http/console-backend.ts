/**
 * The console's back end, assembled for the runtime (collector/runtime.ts) from its parts:
 *
 *   users file ─► UserDirectory ─┐
 *   sessions.db ─► SessionStore ─┴► SessionManager ─► session-http.ts (sign-in, cookie, CSRF) ─┐
 *   LoginThrottle ──────────────────────────────────────────────────────────────────────────────┤
 *   Monitor transitions, incident changes ─► LiveFeed ─► EventHub ─► GET /api/v1/events        ├► server.ts
 *   InfluxDB ─► site history ─► GET /api/v1/sites/:id/history                                   │
 *   inventory ─► POST /api/v1/scope/preview ────────────────────────────────────────────────────┘
 *
 * start: read the users file (a bad one stops the monitor's start with its line) and open the sessions
 * database; attach: once the Monitor runs, subscribe to it; close: end the event streams, close the
 * database.
 */
import type { ConsoleConfig } from '../../config/console.ts';
import { loadUsersFile } from '../../config/console.ts';
import type { Clock } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { UserDirectory } from './accounts.ts';
import { SessionManager } from './session.ts';
import type { SessionHttpOptions } from './session-http.ts';
import { SessionStore } from './session-store.ts';
import { LoginThrottle } from './throttle.ts';

export interface ConsoleBackend {
  readonly users: UserDirectory;
  readonly session: SessionHttpOptions;
  close(): Promise<void>;
}

export async function startConsoleBackend(
  config: ConsoleConfig,
  deps: { clock: Clock; log: Logger },
): Promise<ConsoleBackend> {
  const { clock, log } = deps;
  const users = await UserDirectory.open({
    file: config.usersFile,
    load: loadUsersFile,
    clock,
    onReloadError: (err) =>
      log.error('users file not reloaded; the accounts read before stay in force', {
        error: errorMessage(err),
      }),
  });
  if (users.size === 0)
    log.warn('no console accounts: nobody can sign in (make one: npx tsx scripts/make-user.ts)', {
      usersFile: config.usersFile,
    });
  const store = new SessionStore(config.sessionsFile);
  const sessions = new SessionManager(
    store,
    users,
    { idleMs: config.sessionIdleMs, maxMs: config.sessionMaxMs },
    clock,
  );
  const session: SessionHttpOptions = {
    sessions,
    throttle: new LoginThrottle(),
    secureCookies: config.secureCookies,
    clock,
    log,
  };
  return {
    users,
    session,
    close: async () => {
      store.close();
      await Promise.resolve();
    },
  };
}
