/**
 * One configured channel (config/channels.ts) → its Notifier. Constructing touches no network: the MQTT
 * client connects on the first send, SMTP connections open per message (pooled). Each notifier comes with a
 * `close()` for shutdown, to be called after Dispatcher.stop() has drained what is in flight.
 *
 * A Telegram channel with operators also comes with its `updates` receiver (button presses), sharing the
 * channel's state (telegram-state.ts); the runtime starts it with the monitor's actions and stops it first.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { systemClock, type Clock } from '../core/clock.ts';
import { memoryLogger } from '../core/log.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ChannelConfig } from '../../config/channels.ts';
import { EmailNotifier } from './email.ts';
import { MqttNotifier, type MqttPublish } from './mqtt-notifier.ts';
import type { Notifier } from './notifier.ts';
import { TelegramNotifier } from './telegram.ts';
import { BotApi } from './telegram-bot-api.ts';
import { TelegramState } from './telegram-state.ts';
import { TelegramUpdates } from './telegram-updates.ts';
import { WebhookNotifier } from './webhook.ts';
import { WhatsAppCloudNotifier } from './whatsapp-cloud.ts';
import { WhatsAppGatewayNotifier } from './whatsapp-gateway.ts';

export interface ChannelNotifier extends Notifier {
  close(): Promise<void>;
  /** A Telegram channel with operators: its receiver of button presses (not started). */
  readonly updates?: TelegramUpdates | undefined;
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
  /**
   * Where a Telegram channel with buttons keeps its state (`telegram-<name>.json`) unless its config names
   * a `stateFile`; absent: in memory (lost on restart).
   */
  readonly stateDir?: string | undefined;
  readonly clock?: Clock | undefined;
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
      const name = `telegram:${ch.name}`;
      const api = new BotApi({ name, botToken: ch.botToken, apiBase: ch.apiBase, timeoutMs: ch.timeoutMs });
      const operators = ch.operators ?? {};
      const clock = deps.clock ?? systemClock;
      const log = deps.log ?? memoryLogger('error');
      const silenceMs = ch.silenceMs ?? 3600_000;
      let state: TelegramState | undefined;
      if (Object.keys(operators).length > 0) {
        const file =
          ch.stateFile !== undefined
            ? resolve(deps.baseDir ?? process.cwd(), ch.stateFile)
            : deps.stateDir !== undefined
              ? join(deps.stateDir, `telegram-${ch.name}.json`)
              : undefined;
        state = new TelegramState(file);
      }
      const n = new TelegramNotifier(
        {
          name: ch.name,
          botToken: ch.botToken,
          chatId: ch.chatId,
          messageThreadId: ch.messageThreadId,
          apiBase: ch.apiBase,
          disableLinkPreview: ch.disableLinkPreview,
          timeoutMs: ch.timeoutMs,
          buttons: state && { state, silenceMs, clock, log },
        },
        api,
      );
      const updates =
        state &&
        new TelegramUpdates({
          name,
          channel: ch.name,
          api,
          state,
          operators,
          silenceMs,
          mode: ch.updates ?? { kind: 'polling', pollTimeoutS: 30 },
          clock,
          log,
        });
      return { ...withClose(n, async () => updates?.stop()), updates };
    }
    case 'whatsapp-cloud': {
      const n = new WhatsAppCloudNotifier({
        name: ch.name,
        accessToken: ch.accessToken,
        phoneNumberId: ch.phoneNumberId,
        to: ch.to,
        templates: ch.templates,
        language: ch.language,
        parameters: ch.parameters,
        baseUrl: ch.baseUrl,
        apiVersion: ch.apiVersion,
        timeoutMs: ch.timeoutMs,
      });
      return withClose(n, noClose);
    }
    case 'whatsapp-gateway': {
      const n = new WhatsAppGatewayNotifier({
        name: ch.name,
        url: ch.url,
        headers: ch.headers,
        to: ch.to,
        targetField: ch.targetField,
        messageField: ch.messageField,
        fields: ch.fields,
        maxChars: ch.maxChars,
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
