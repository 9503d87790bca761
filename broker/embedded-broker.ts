/**
 * The embedded MQTT broker (aedes; the only file that imports it): TCP on loopback, TLS when a certificate
 * is configured. Every client must log in with an account from broker/accounts.ts (anonymous clients are
 * refused unless allowed), may publish only where broker/topics.ts allows, and every refusal is logged with
 * its reason and counted. Liveness is carried by the status topic and the devices' Last Will, which aedes
 * publishes on an abrupt drop or a lapsed keepalive; an external broker (Mosquitto) does the same.
 */
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from '../collector/core/log.ts';
import type { Account, Accounts } from './accounts.ts';
import { publishDenied, subscribeDenied } from './topics.ts';

export interface EmbeddedBrokerOptions {
  readonly host: string;
  readonly port: number;
  readonly accounts: Accounts;
  readonly log: Logger;
  readonly allowAnonymous?: boolean | undefined;
  readonly tls?: { readonly certFile: string; readonly keyFile: string } | undefined;
}

export interface BrokerStats {
  connected: number;
  refusedConnections: number;
  deniedPublishes: number;
  deniedSubscribes: number;
}

export interface RunningBroker {
  readonly url: string;
  stats(): BrokerStats;
  close(): Promise<void>;
}

const accountOf = new WeakMap<Client, Account>();

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<RunningBroker> {
  const { log } = opts;
  const stats: BrokerStats = { connected: 0, refusedConnections: 0, deniedPublishes: 0, deniedSubscribes: 0 };
  const refuse = (client: Client, reason: string, username?: string): AuthenticateError => {
    stats.refusedConnections++;
    log.warn('mqtt connection refused', { client: client.id, username, reason });
    const err: AuthenticateError = Object.assign(new Error(reason), {
      // CONNACK 5 not authorized, 4 bad username or password (aedes' AuthErrorCode is an ambient const enum).
      returnCode: reason.startsWith('anonymous') ? 5 : 4,
    });
    return err;
  };
  const broker = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      if (!username) {
        if (opts.allowAnonymous) return done(null, true);
        return done(refuse(client, 'anonymous clients are not allowed'), false);
      }
      const account = opts.accounts.check(username, password);
      if (!account) return done(refuse(client, 'wrong username or password', username), false);
      accountOf.set(client, account);
      done(null, true);
    },
    authorizePublish: (client, packet, done) => {
      if (!client) return done(null); // the broker's own messages
      const account = accountOf.get(client);
      const why = account ? publishDenied(account, packet.topic) : 'not logged in';
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
  broker.on('clientReady', () => stats.connected++);
  broker.on('clientDisconnect', () => stats.connected--);
  broker.on('clientError', (client, err) =>
    log.debug('mqtt client error', { client: client.id, error: err.message }),
  );

  const server: Server = opts.tls
    ? createTlsServer(
        { cert: readFileSync(opts.tls.certFile), key: readFileSync(opts.tls.keyFile) },
        broker.handle,
      )
    : createServer(broker.handle);
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
    close: async () => {
      await new Promise<void>((r) => broker.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
