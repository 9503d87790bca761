/**
 * One configured channel (config/channels.ts) → its Notifier. Constructing touches no network: the MQTT
 * client connects on the first send, SMTP connections open per message (pooled). Each notifier comes with a
 * `close()` for shutdown, to be called after Dispatcher.stop() has drained what is in flight.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ChannelConfig } from '../../config/channels.ts';
import { EmailNotifier } from './email.ts';
import { MqttNotifier, type MqttPublish } from './mqtt-notifier.ts';
import type { Notifier } from './notifier.ts';
import { TelegramNotifier } from './telegram.ts';
import { WebhookNotifier } from './webhook.ts';

export interface ChannelNotifier extends Notifier {
  close(): Promise<void>;
}

export interface NotifierDeps {
  /** For what a channel reports besides its result (e-mail recipients refused while others accepted). */
  readonly log?: Logger | undefined;
  /** Relative `caFile`s are resolved against this (the config file's directory); default: the cwd. */
  readonly baseDir?: string | undefined;
  /**
   * Publish over a connection the runtime already has (the collector's own MQTT client) instead of a
   * client of the channel's own; used for every mqtt channel when given.
   */
  readonly mqttPublish?: MqttPublish | undefined;
}

export function createNotifier(ch: ChannelConfig, deps: NotifierDeps = {}): ChannelNotifier {
  const noClose = async (): Promise<void> => undefined;
  switch (ch.type) {
    case 'webhook': {
      const n = new WebhookNotifier({
        name: ch.name,
        url: ch.url,
        headers: ch.headers,
        timeoutMs: ch.timeoutMs,
      });
      return withClose(n, noClose);
    }
    case 'telegram': {
      const n = new TelegramNotifier({
        name: ch.name,
        botToken: ch.botToken,
        chatId: ch.chatId,
        messageThreadId: ch.messageThreadId,
        apiBase: ch.apiBase,
        disableLinkPreview: ch.disableLinkPreview,
        timeoutMs: ch.timeoutMs,
      });
      return withClose(n, noClose);
    }
    case 'email': {
      const n = new EmailNotifier({
        name: ch.name,
        host: ch.host,
        port: ch.port,
        tls: ch.tls,
        ca: ch.caFile === undefined ? undefined : readCa(ch.name, ch.caFile, deps.baseDir),
        auth:
          ch.username !== undefined && ch.password !== undefined
            ? { user: ch.username, password: ch.password }
            : undefined,
        from: ch.from,
        to: ch.to,
        timeoutMs: ch.timeoutMs,
        log: deps.log,
      });
      return withClose(n, () => n.close());
    }
    case 'mqtt': {
      const common = {
        name: ch.name,
        topic: ch.topic,
        qos: ch.qos,
        retain: ch.retain,
        publishTimeoutMs: ch.timeoutMs,
      };
      const n = deps.mqttPublish
        ? new MqttNotifier({ ...common, publish: deps.mqttPublish })
        : new MqttNotifier({
            ...common,
            connection: {
              url: ch.url,
              username: ch.username,
              password: ch.password,
              clientId: ch.clientId,
              protocolVersion: ch.protocolVersion,
              ca: ch.caFile === undefined ? undefined : readCa(ch.name, ch.caFile, deps.baseDir),
            },
          });
      return withClose(n, () => n.close());
    }
  }
}

function withClose(n: Notifier, close: () => Promise<void>): ChannelNotifier {
  return { name: n.name, send: (x) => n.send(x), close };
}

function readCa(channel: string, file: string, baseDir: string | undefined): Buffer {
  const path = resolve(baseDir ?? process.cwd(), file);
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(
      path,
      `channel '${channel}': cannot read caFile (${(err as NodeJS.ErrnoException).code ?? 'error'}); give the PEM file of the server's CA, relative to the config file`,
      { cause: err },
    );
  }
}
