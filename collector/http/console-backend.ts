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
import type { Router } from 'express';
import type { ConsoleConfig } from '../../config/console.ts';
import { loadUsersFile } from '../../config/console.ts';
import type { Clock } from '../core/clock.ts';
import type { Inventory } from '../core/types.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { InfluxSource } from '../reports/history.ts';
import { UserDirectory } from './accounts.ts';
import { EventHub, registerEventRoutes } from './events.ts';
import { HealthMeter } from './health-metrics.ts';
import { registerHistoryRoutes } from './history.ts';
import { LiveFeed, observeIncidentStore, type LiveMonitor, type ObservedIncidentStore } from './live-feed.ts';
import type { RouteKit } from './routes/kit.ts';
import { registerScopePreviewRoutes } from './scope-preview.ts';
import { parseNoQuery } from './bodies.ts';
import type { MonitorService } from './service.ts';
import { SessionManager } from './session.ts';
import { sessionSecretOf, type SessionHttpOptions } from './session-http.ts';
import { SessionStore } from './session-store.ts';
import { IncidentStore } from '../store/incident-store.ts';
import type { IncidentStoreLike, SessionStoreLike } from '../store/store.ts';
import { LoginThrottle } from './throttle.ts';
import { OpenDeviceIncidents } from './open-device-incidents.ts';

/** What the console needs of the running Monitor (collector/app.ts). */
export interface ConsoleMonitor extends LiveMonitor {
  status(): ReturnType<HealthMeterInputs['status']>;
  readonly health: NonNullable<LiveMonitor['health']> & {
    failureCauses(): Iterable<string>;
  };
  readonly topology: LiveMonitor['topology'] & {
    site(id: string): { readonly id: string } | undefined;
    devicesOfSite(id: string): readonly { readonly id: string; readonly role: string }[];
  };
}
type HealthMeterInputs = ConstructorParameters<typeof HealthMeter>[0];

export interface ConsoleAttachment {
  readonly monitor: ConsoleMonitor;
  readonly inventory: Inventory;
  /** InfluxDB to read site history from (1.x API); absent: the history route answers 503. */
  readonly influx?: InfluxSource | undefined;
  /** Devices connected to the embedded MQTT broker, when there is one. */
  readonly mqttClients?: (() => number | undefined) | undefined;
}

export interface ConsoleBackend {
  readonly users: UserDirectory;
  readonly session: SessionHttpOptions;
  /** The SQLite incident store, telling the live events of every change (use it as the monitor's store). */
  openIncidentStore(file: string): ObservedIncidentStore<IncidentStore>;
  /**
   * Any incident store (a cluster leader's PgIncidentStore), telling the live events of every change: use
   * what it returns as the monitor's store. One store per backend (the last one given is observed).
   */
  observeIncidentStore<S extends IncidentStoreLike>(store: S): ObservedIncidentStore<S>;
  /** Subscribe to the running monitor, before the HTTP server starts; later calls are ignored. */
  attach(a: ConsoleAttachment): void;
  /**
   * The console's /api/v1 routes (after attach), registered before the others: events, site history,
   * scope preview, GET /health with `metrics` added, and a watch on maintenance and silence writes that
   * re-reads every site's state once one is made.
   */
  readonly routes: ((router: Router, kit: RouteKit) => void)[];
  /**
   * The service as is. An earlier version decorated it here (health metrics, re-reads after
   * suppressions change); the routes above do that now. Kept so code written against it still builds.
   */
  wrap(service: MonitorService): MonitorService;
  readonly hub: EventHub | undefined;
  close(): Promise<void>;
}

export interface ConsoleBackendDeps {
  readonly clock: Clock;
  readonly log: Logger;
  /**
   * Where sessions live: absent, the SQLite file `console.sessionsFile` (one process), opened and closed
   * here; given (a cluster leader's PgSessionStore), its owner closes it.
   */
  readonly sessions?: SessionStoreLike | undefined;
  /** The accounts, when the caller already read them (a cluster reads them once, not every term). */
  readonly users?: UserDirectory | undefined;
  /** The incident store to tell the live events from, when the caller observed it already (a cluster term). */
  readonly incidents?: ObservedIncidentStore | undefined;
}

/** The users file as a directory that re-reads it when it changes (read once per process). */
export async function openUserDirectory(
  config: ConsoleConfig,
  log: Logger,
  clock: Clock,
): Promise<UserDirectory> {
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
  return users;
}

export async function startConsoleBackend(
  config: ConsoleConfig,
  deps: ConsoleBackendDeps,
): Promise<ConsoleBackend> {
  const { clock, log } = deps;
  const users = deps.users ?? (await openUserDirectory(config, log, clock));
  // Closed here only when opened here.
  let ownSessions: SessionStore | undefined;
  const sessionStore: SessionStoreLike =
    deps.sessions ?? (ownSessions = new SessionStore(config.sessionsFile));
  const sessions = new SessionManager(
    sessionStore,
    users,
    { idleMs: config.sessionIdleMs, maxMs: config.sessionMaxMs },
    clock,
  );
  const session: SessionHttpOptions = {
    sessions,
    throttle: new LoginThrottle(),
    secureCookies: config.secureCookies,
    trustProxy: config.trustProxy,
    clock,
    log,
  };

  let store: ObservedIncidentStore | undefined = deps.incidents;
  let feed: LiveFeed | undefined;
  let hub: EventHub | undefined;
  let meter: HealthMeter | undefined;
  let service: MonitorService | undefined;
  const routes: ((router: Router, kit: RouteKit) => void)[] = [];

  const backend: ConsoleBackend = {
    users,
    session,
    routes,
    get hub() {
      return hub;
    },
    openIncidentStore: (file) => {
      const observed = observeIncidentStore(new IncidentStore(file));
      store = observed;
      return observed;
    },
    observeIncidentStore: (inner) => {
      const observed = observeIncidentStore(inner);
      store = observed;
      return observed;
    },
    attach: (a) => {
      // Once: a second call (e.g. left by a merge) changes nothing.
      if (feed) return;
      /** GET /api/v1/health's body with the console's figures (the `health` event sends the same). */
      const health = () => {
        const base = service?.health() ?? { status: 'ok', details: {} };
        const metrics = meter?.read();
        return metrics ? { ...base, metrics } : base;
      };
      hub = new EventHub({
        clock,
        log: log.child({ component: 'events' }),
        maxClients: config.maxEventClients,
        snapshot: () => feed?.snapshot() ?? { sites: [] },
        health,
      });
      const h = hub;
      // A device's unresolved incident, from one map kept by the store's changes (not a query per
      // transition: issue #14).
      const openIncidents = store && new OpenDeviceIncidents(store);
      feed = new LiveFeed({
        monitor: a.monitor,
        publish: (t, d) => h.publish(t, d),
        clock,
        log,
        openIncidentOf: openIncidents && ((deviceId) => openIncidents.of(deviceId)),
      });
      const f = feed;
      store?.onChange((c) => {
        try {
          openIncidents?.changed(c.incident);
          f.incidentChanged(c);
        } catch (err) {
          log.error('incident event failed', { error: errorMessage(err) });
        }
      });
      meter = new HealthMeter(
        {
          status: () => a.monitor.status(),
          failing: () => a.monitor.health.failureCauses(),
          mqttClients: a.mqttClients,
          events: () => h.stats(),
        },
        clock,
      );
      feed.start();
      hub.start();
      const topo = a.monitor.topology;
      routes.push(
        (router, kit) => {
          service = kit.service;
          router.get('/health', kit.need('viewer'), (req, res) => {
            parseNoQuery(req.query);
            res.json(health());
          });
          // A window or silence made or removed may cover a site now: re-read every site's state.
          router.use(['/maintenance', '/silences'], (req, res, next) => {
            if (req.method !== 'GET')
              res.once('finish', () => {
                if (res.statusCode < 300) f.recheckAll(clock.now());
              });
            next();
          });
        },
        (router, kit) =>
          registerEventRoutes(router, kit, h, (req, res) => {
            const viaSession = (res.locals as { session?: unknown }).session !== undefined;
            const secret = sessionSecretOf(req);
            return viaSession ? async () => (await sessions.resolve(secret, false)) !== undefined : undefined;
          }),
        (router, kit) =>
          registerHistoryRoutes(router, kit, {
            source: a.influx,
            site: (id) => (topo.site(id) ? { id, devices: topo.devicesOfSite(id) } : undefined),
          }),
        (router, kit) => registerScopePreviewRoutes(router, kit, () => a.inventory),
      );
    },
    wrap: (s) => s,
    close: async () => {
      feed?.stop();
      hub?.stop();
      ownSessions?.close();
      await Promise.resolve();
    },
  };
  return backend;
}
