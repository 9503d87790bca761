/**
 * The embedded MQTT broker (aedes; the only file that imports it): TCP on loopback, TLS when a certificate
 * is configured. Every client must log in with an account from broker/accounts.ts (anonymous clients are
 * refused unless allowed), may publish only where broker/topics.ts allows, and every refusal is logged with
 * its reason and counted.
 *
 * Liveness comes from the broker's own view of each device's connections (`onDeviceLiveness`): connected
 * when its first client is ready; when its last client goes, clean_disconnect after a DISCONNECT packet,
 * keepalive_lapsed after aedes' keepalive timeout (1.5 x keepalive, MQTT 3.1.1 §3.1.2.10), will otherwise
 * (the socket dropped: aedes publishes the Last Will). With an external broker (Mosquitto) the collector reads
 * the same news from the status topic and the Will (collector/sources/mqtt).
 *
 * Client ids are bound to accounts (issue #10): MQTT lets a new connection with a client id in use take it
 * over, disconnecting the old one (MQTT-3.1.4-2) and firing its Will. A device logged in with its own
 * account but another device's client id made that device flap up -> suspect 12 times in 25 s. So the first
 * account to log in with a client id owns it for the broker's lifetime; a login with that id by another
 * account is refused (CONNACK 2, identifier rejected), logged as `mqtt client id takeover refused` and
 * counted, and the holder stays connected. The owner itself may still take its id over (a device
 * reconnecting before the broker noticed its old socket die).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { systemClock, type Clock } from '../collector/core/clock.ts';
import { errorMessage } from '../collector/core/errors.ts';
import type { Logger } from '../collector/core/log.ts';
import type { LivenessEvent } from '../collector/liveness/mqtt-liveness.ts';
import type { Account, Accounts } from './accounts.ts';
import { publishDenied, subscribeDenied } from './topics.ts';

export interface EmbeddedBrokerOptions {
  readonly host: string;
  readonly port: number;
  readonly accounts: Accounts;
  readonly log: Logger;
  readonly allowAnonymous?: boolean | undefined;
  readonly tls?: { readonly certFile: string; readonly keyFile: string } | undefined;
  /**
   * Larger publishes are dropped (counted, logged) instead of passed on: aedes itself has no packet size
   * limit. The collector's own limit for telemetry is smaller (broker/payloads.ts); this one protects the
   * other subscribers and retained storage. Default 64 KiB.
   */
  readonly maxPayloadBytes?: number | undefined;
  /** Time of liveness events; the system clock when absent. */
  readonly clock?: Clock | undefined;
}

export interface BrokerStats {
  connected: number;
  refusedConnections: number;
  /** Logins refused because their client id belongs to another account (also in refusedConnections). */
  refusedTakeovers: number;
  deniedPublishes: number;
  deniedSubscribes: number;
}

export interface RunningBroker {
  readonly url: string;
  stats(): BrokerStats;
  /**
   * Devices connecting and going (see the header), starting with a `connected` for each device connected
   * now; returns the unsubscribe. Listeners must not throw.
   */
  onDeviceLiveness(listener: (ev: LivenessEvent) => void): () => void;
  close(): Promise<void>;
}

const accountOf = new WeakMap<Client, Account>();
const DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024;
/** Who owns a client id: an account's username, or this for anonymous clients (when allowed). */
const ANONYMOUS = '(anonymous)';
/** Bindings kept at most; past it, those of ids not connected now are forgotten, oldest first. */
const MAX_BINDINGS = 100_000;

/**
 * Client id -> the account that owns it (the first to log in with it). Pure bookkeeping; the broker asks it
 * before letting a login through.
 */
export class ClientIdBindings {
  readonly #owner = new Map<string, string>();
  readonly #max: number;

  constructor(max = MAX_BINDINGS) {
    this.#max = max;
  }

  /** The account that owns `clientId`, when it is not `who`; binds it to `who` when nobody owns it yet. */
  claim(clientId: string, who: string, connectedNow: (id: string) => boolean): string | undefined {
    const owner = this.#owner.get(clientId);
    if (owner !== undefined) return owner === who ? undefined : owner;
    this.#owner.set(clientId, who);
    if (this.#owner.size > this.#max) {
      for (const id of this.#owner.keys()) {
        if (this.#owner.size <= this.#max) break;
        if (id !== clientId && !connectedNow(id)) this.#owner.delete(id);
      }
    }
    return undefined;
  }

  get size(): number {
    return this.#owner.size;
  }
}

/**
 * aedes sets `_disconnected` only when the client sent DISCONNECT (lib/handlers/index.js, MQTT-3.14.4-3);
 * that is also what makes it skip the Will. There is no public flag for it.
 */
const saidGoodbye = (client: Client): boolean =>
  (client as unknown as { _disconnected?: boolean })._disconnected === true;

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<RunningBroker> {
  const { log } = opts;
  const maxPayload = opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const stats: BrokerStats = {
    connected: 0,
    refusedConnections: 0,
    refusedTakeovers: 0,
    deniedPublishes: 0,
    deniedSubscribes: 0,
  };
  const refuse = (
    client: Client,
    reason: string,
    username?: string,
    returnCode?: number,
  ): AuthenticateError => {
    stats.refusedConnections++;
    log.warn('mqtt connection refused', { client: client.id, username, reason });
    const err: AuthenticateError = Object.assign(new Error(reason), {
      // CONNACK 5 not authorized, 4 bad username or password, 2 identifier rejected (aedes' AuthErrorCode is
      // an ambient const enum).
      returnCode: returnCode ?? (reason.startsWith('anonymous') ? 5 : 4),
    });
    return err;
  };
  const bindings = new ClientIdBindings();
  // aedes' table of the clients connected now (public, though not in its types).
  const connectedNow = (id: string): boolean =>
    (broker as unknown as { clients: Record<string, Client | undefined> }).clients[id] !== undefined;
  /** Null when `who` may use the client's id; the refusal otherwise (logged and counted). */
  const takeover = (client: Client, who: string): AuthenticateError | null => {
    const owner = bindings.claim(client.id, who, connectedNow);
    if (owner === undefined) return null;
    stats.refusedTakeovers++;
    const held = connectedNow(client.id);
    log.warn('mqtt client id takeover refused', {
      client: client.id,
      username: who,
      owner,
      ownerConnected: held,
    });
    return refuse(
      client,
      `client id '${client.id}' belongs to account '${owner}'${held ? ', connected now' : ''}; use a client id of your own`,
      who,
      2,
    );
  };
  const broker = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      if (!username) {
        if (!opts.allowAnonymous) return done(refuse(client, 'anonymous clients are not allowed'), false);
        const taken = takeover(client, ANONYMOUS);
        return taken ? done(taken, false) : done(null, true);
      }
      opts.accounts.check(username, password).then(
        (account) => {
          if (!account) return done(refuse(client, 'wrong username or password', username), false);
          // Only after the password: a stranger learns nothing about which ids are taken.
          const taken = takeover(client, account.username);
          if (taken) return done(taken, false);
          accountOf.set(client, account);
          done(null, true);
        },
        (err: unknown) =>
          done(refuse(client, `password check failed: ${errorMessage(err)}`, username), false),
      );
    },
    authorizePublish: (client, packet, done) => {
      if (!client) return done(null); // the broker's own messages
      const account = accountOf.get(client);
      const size = Buffer.byteLength(packet.payload);
      const why = !account
        ? 'not logged in'
        : size > maxPayload
          ? `payload of ${size} bytes exceeds the broker's limit of ${maxPayload}`
          : publishDenied(account, packet.topic);
      if (why) {
        stats.deniedPublishes++;
        log.warn('mqtt publish refused', {
          client: client.id,
          username: account?.username,
          topic: packet.topic,
          reason: why,
        });
        // Dropped, but the client stays connected (as with Mosquitto's ACLs): an error here would make aedes
        // disconnect it, and its good telemetry would stop too. '$'-topics match no wildcard subscription.
        packet.topic = '$netmon/denied';
        packet.retain = false;
      }
      done(null);
    },
    authorizeSubscribe: (client, sub, done) => {
      const account = accountOf.get(client);
      const why = account ? subscribeDenied(account, sub.topic) : 'not logged in';
      if (why) {
        stats.deniedSubscribes++;
        log.warn('mqtt subscribe refused', {
          client: client.id,
          username: account?.username,
          topic: sub.topic,
          reason: why,
        });
        // A refused subscription (SUBACK 0x80), the client stays connected.
        return done(null, null);
      }
      done(null, sub);
    },
  });
  // Device → its clients that are connected now (a device may hold more than one, or be taken over).
  const online = new Map<string, Set<Client>>();
  const lapsed = new WeakSet<Client>();
  const listeners = new Set<(ev: LivenessEvent) => void>();
  const clock = opts.clock ?? systemClock;
  const emit = (deviceId: string, kind: LivenessEvent['kind']): void => {
    const ev: LivenessEvent = { deviceId, kind, timeMs: clock.now() };
    for (const l of listeners) {
      try {
        l(ev);
      } catch (err) {
        log.error('mqtt liveness listener failed', { device: deviceId, error: errorMessage(err) });
      }
    }
  };
  broker.on('clientReady', (client) => {
    stats.connected++;
    const deviceId = accountOf.get(client)?.deviceId;
    if (!deviceId) return;
    const clients = online.get(deviceId) ?? new Set<Client>();
    online.set(deviceId, clients);
    clients.add(client);
    if (clients.size === 1) emit(deviceId, 'connected');
  });
  broker.on('keepaliveTimeout', (client) => {
    lapsed.add(client);
    log.info('mqtt keepalive lapsed', { client: client.id, username: accountOf.get(client)?.username });
  });
  broker.on('clientDisconnect', (client) => {
    stats.connected--;
    const deviceId = accountOf.get(client)?.deviceId;
    const clients = deviceId ? online.get(deviceId) : undefined;
    if (!deviceId || !clients?.delete(client) || clients.size > 0) return;
    online.delete(deviceId);
    emit(
      deviceId,
      saidGoodbye(client) ? 'clean_disconnect' : lapsed.has(client) ? 'keepalive_lapsed' : 'will',
    );
  });
  broker.on('clientError', (client, err) =>
    log.debug('mqtt client error', { client: client.id, error: err.message }),
  );

  const server: Server = opts.tls
    ? createTlsServer(
        { cert: readFileSync(opts.tls.certFile), key: readFileSync(opts.tls.keyFile) },
        broker.handle,
      )
    : createServer(broker.handle);
  // Every socket, from its accept on: one that has not finished its CONNECT (a device still being
  // authenticated, or one that never sends it) is no aedes client yet, so aedes' close leaves it open, and
  // the server's close would wait for it for as long as its peer keeps it (measured: for ever).
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const url = `${opts.tls ? 'mqtts' : 'mqtt'}://${opts.host}:${port}`;
  log.info('mqtt broker listening', { url });
  return {
    url,
    stats: () => ({ ...stats }),
    onDeviceLiveness: (listener) => {
      listeners.add(listener);
      // Devices that connected before this listener came are connected now: say so, or it would never know.
      for (const deviceId of online.keys()) listener({ deviceId, kind: 'connected', timeMs: clock.now() });
      return () => listeners.delete(listener);
    },
    close: async () => {
      listeners.clear();
      await new Promise<void>((r) => broker.close(() => r()));
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
