/**
 * The `channels:` config section (config/channels.ts), validated the way config/monitor.ts validates the
 * rest: `${VAR}` secrets, every error with file:line:col, path and fix, secrets never printed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../../../collector/core/errors.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { Secret } from '../../../collector/core/secret.ts';
import { channelsSchema, type ChannelConfig } from '../../../config/channels.ts';
import { createNotifier } from '../../../collector/notify/create-notifier.ts';
import { parseYamlSource, validate } from '../../../config/yaml-source.ts';

/** The section as the lead wires it: `alerts.channels`. */
const doc = z.strictObject({ alerts: z.strictObject({ channels: channelsSchema }) });
const FILE = 'netmon.yaml';
const TOKEN = '7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const ENV = { TG_TOKEN: TOKEN, SMTP_PW: 'smtp-Pw-9931', MQTT_PW: 'mqtt-Pw-4410', HOOK: 'hook-Tok-11' };

const parse = (yaml: string, env: NodeJS.ProcessEnv = ENV): readonly ChannelConfig[] =>
  validate(parseYamlSource(yaml, FILE, env), doc, 'config').alerts.channels;
const errorsOf = (yaml: string, env: NodeJS.ProcessEnv = ENV): string => {
  try {
    parse(yaml, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

const ALL = `alerts:
  channels:
    - name: ops-hook
      type: webhook
      url: https://hooks.badungkab.go.id/netmon
      headers: { Authorization: "Bearer \${HOOK}" }
    - name: oncall-telegram
      type: telegram
      botToken: \${TG_TOKEN}
      chatId: "-1001234567890"
    - name: noc-mail
      type: email
      host: smtp.badungkab.go.id
      username: netmon@badungkab.go.id
      password: \${SMTP_PW}
      from: Badung NetMon <netmon@badungkab.go.id>
      to: [noc@badungkab.go.id, kominfo-oncall@badungkab.go.id]
    - name: bpbd-mqtt
      type: mqtt
      url: mqtt://127.0.0.1:1883
      username: netmon-collector
      password: \${MQTT_PW}
      topic: netmon/v1/alerts/{severity}/{kecamatan}
`;

describe('channels config', () => {
  it('reads all four types with their defaults, secrets from the environment', () => {
    const [hook, tg, mail, mq] = parse(ALL);
    expect(hook).toMatchObject({ type: 'webhook', name: 'ops-hook', timeoutMs: 10_000 });
    expect(hook?.type === 'webhook' && hook.headers.Authorization?.reveal()).toBe('Bearer hook-Tok-11');
    expect(tg).toMatchObject({
      type: 'telegram',
      chatId: '-1001234567890',
      apiBase: 'https://api.telegram.org',
      disableLinkPreview: true,
      timeoutMs: 10_000,
    });
    expect(tg?.type === 'telegram' && tg.botToken.reveal()).toBe(TOKEN);
    expect(mail).toMatchObject({
      type: 'email',
      host: 'smtp.badungkab.go.id',
      port: 587,
      tls: 'starttls',
      from: 'Badung NetMon <netmon@badungkab.go.id>',
      to: ['noc@badungkab.go.id', 'kominfo-oncall@badungkab.go.id'],
      timeoutMs: 30_000,
    });
    expect(mail?.type === 'email' && mail.password?.reveal()).toBe('smtp-Pw-9931');
    expect(mq).toMatchObject({
      type: 'mqtt',
      qos: 1,
      retain: false,
      protocolVersion: 4,
      topic: 'netmon/v1/alerts/{severity}/{kecamatan}',
    });
  });

  it('secrets never print: JSON, util.inspect, String', () => {
    const channels = parse(ALL);
    const secrets = channels.flatMap((c) =>
      Object.values(c).flatMap((v: unknown) =>
        v instanceof Secret
          ? [v]
          : v && typeof v === 'object'
            ? Object.values(v).filter((x) => x instanceof Secret)
            : [],
      ),
    );
    expect(secrets).toHaveLength(4);
    const printed = [
      JSON.stringify(channels),
      inspect(channels, { depth: 10 }),
      secrets.map((x) => `${String(x)} ${x.toString()}`).join(' '),
    ].join('\n');
    for (const s of [TOKEN, 'smtp-Pw-9931', 'mqtt-Pw-4410', 'hook-Tok-11']) expect(printed).not.toContain(s);
    expect(printed).toContain('[secret]');
  });

  it('absent: no channels; defaults by TLS mode for the SMTP port', () => {
    expect(parse('alerts: {}\n')).toEqual([]);
    const ports = parse(
      `alerts:\n  channels:\n` +
        ['implicit', 'starttls', 'opportunistic', 'none']
          .map(
            (tls, i) =>
              `    - { name: m${i}, type: email, host: h, tls: ${tls}, from: a@b.id, to: c@b.id }\n`,
          )
          .join(''),
    ).map((c) => (c.type === 'email' ? c.port : 0));
    expect(ports).toEqual([465, 587, 25, 25]);
  });

  it('a numeric chat id in YAML is kept exactly; @channel names are fine', () => {
    const [a, b] = parse(
      `alerts:\n  channels:\n` +
        `    - { name: a, type: telegram, botToken: "\${TG_TOKEN}", chatId: -1001234567890 }\n` +
        `    - { name: b, type: telegram, botToken: "\${TG_TOKEN}", chatId: "@bpbd_badung" }\n`,
    );
    expect(a?.type === 'telegram' && a.chatId).toBe('-1001234567890');
    expect(b?.type === 'telegram' && b.chatId).toBe('@bpbd_badung');
  });

  it.each([
    [
      'an unknown type',
      '    - { name: sms, type: sms, to: "+62" }\n',
      /netmon\.yaml:3:\d+: alerts\.channels\[0\]\.type: type must be one of webhook, telegram, email, mqtt/,
    ],
    [
      'a misspelt key',
      '    - { name: t, type: telegram, botToken: "${TG_TOKEN}", chatID: "-100123" }\n',
      /alerts\.channels\[0\]\.chatID: unknown key 'chatID' \(check the spelling/,
    ],
    [
      'a missing chat id',
      '    - { name: t, type: telegram, botToken: "${TG_TOKEN}" }\n',
      /alerts\.channels\[0\]\.chatId: missing: a chat id like '-1001234567890' or '@channelname'/,
    ],
    [
      'a missing bot token',
      '    - { name: t, type: telegram, chatId: "-100123" }\n',
      /alerts\.channels\[0\]\.botToken: missing: the bot token from @BotFather, as a reference: botToken: '\$\{NETMON_TELEGRAM_TOKEN\}'/,
    ],
    [
      'a recipient that is no address',
      '    - { name: m, type: email, host: h, from: a@b.id, to: [noc@b.id, "oncall"] }\n',
      /alerts\.channels\[0\]\.to\[1\]: expected an e-mail address like noc@badungkab\.go\.id/,
    ],
    [
      'an SMTP username without a password',
      '    - { name: m, type: email, host: h, from: a@b.id, to: c@b.id, username: u }\n',
      /alerts\.channels\[0\]\.password: a username needs a password: password: '\$\{NETMON_SMTP_PASSWORD\}'/,
    ],
    [
      'a bad TLS mode',
      '    - { name: m, type: email, host: h, tls: ssl, from: a@b.id, to: c@b.id }\n',
      /alerts\.channels\[0\]\.tls: expected implicit \(TLS from the start, port 465\), starttls/,
    ],
    [
      'credentials in an MQTT URL',
      '    - { name: q, type: mqtt, url: "mqtt://u:p@127.0.0.1:1883" }\n',
      /alerts\.channels\[0\]\.url: no credentials in the URL \(it is logged\): use username and password/,
    ],
    [
      'a wildcard topic',
      '    - { name: q, type: mqtt, url: "mqtt://127.0.0.1:1883", topic: "netmon/v1/alerts/#" }\n',
      /alerts\.channels\[0\]\.topic: wildcards .* e\.g\. netmon\/v1\/alerts or netmon\/v1\/alerts\/\{severity\}\/\{kecamatan\}/,
    ],
    [
      'an unknown topic field',
      '    - { name: q, type: mqtt, url: "mqtt://127.0.0.1:1883", topic: "netmon/v1/alerts/{desa}" }\n',
      /alerts\.channels\[0\]\.topic: unknown field \{desa\}; use \{severity\}, \{status\}/,
    ],
    [
      'a QoS out of range',
      '    - { name: q, type: mqtt, url: "mqtt://127.0.0.1:1883", qos: 3 }\n',
      /alerts\.channels\[0\]\.qos: expected QoS 0, 1 or 2/,
    ],
    [
      'a bad duration',
      '    - { name: h, type: webhook, url: "https://x.id/h", timeout: soon }\n',
      /alerts\.channels\[0\]\.timeout: 'soon' is not a duration; write e\.g\. 500ms, 10s, 2m/,
    ],
    [
      'a bad name',
      '    - { name: On Call, type: webhook, url: "https://x.id/h" }\n',
      /alerts\.channels\[0\]\.name: lower-case letters, digits and dashes, e\.g\. oncall-telegram/,
    ],
  ])('%s: the place, the path and the fix', (_what, entry, want) => {
    expect(errorsOf(`alerts:\n  channels:\n${entry}`)).toMatch(want);
  });

  it('two channels of one name: the second is named, with the first', () => {
    const msg = errorsOf(
      'alerts:\n  channels:\n' +
        '    - { name: oncall, type: webhook, url: "https://x.id/a" }\n' +
        '    - { name: oncall, type: webhook, url: "https://x.id/b" }\n',
    );
    expect(msg).toMatch(
      /netmon\.yaml:4:\d+: alerts\.channels\[1\]\.name: 'oncall' is also the name of channel \[0\]; give each channel its own name/,
    );
  });

  it('a bad bot token is reported without its value', () => {
    const msg = errorsOf(
      'alerts:\n  channels:\n    - { name: t, type: telegram, botToken: "${TG_TOKEN}", chatId: "-1" }\n',
      {
        TG_TOKEN: 'not-a-token-but-Secret-987',
      },
    );
    expect(msg).toContain('alerts.channels[0].botToken: not a Telegram bot token');
    expect(msg).not.toContain('not-a-token-but-Secret-987');
  });

  it('an unset variable is named with its place (yaml-source), not validated as empty', () => {
    const msg = errorsOf(
      'alerts:\n  channels:\n    - { name: t, type: telegram, botToken: "${NETMON_TELEGRAM_TOKEN}", chatId: "-1" }\n',
      {},
    );
    expect(msg).toMatch(/alerts\.channels\[0\]\.botToken: \$\{NETMON_TELEGRAM_TOKEN\} is not set/);
  });
});

describe('createNotifier', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'netmon-channels-'));
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('one notifier per channel, named type:name, constructed without touching the network', async () => {
    const notifiers = parse(ALL).map((c) => createNotifier(c, { log: memoryLogger(), baseDir: dir }));
    expect(notifiers.map((n) => n.name)).toEqual([
      'webhook:ops-hook',
      'telegram:oncall-telegram',
      'email:noc-mail',
      'mqtt:bpbd-mqtt',
    ]);
    await Promise.all(notifiers.map((n) => n.close()));
  });

  it('resolves caFile against the config directory; a missing one is a ConfigError naming the channel', () => {
    const [ok, missing] = parse(
      'alerts:\n  channels:\n' +
        '    - { name: m, type: email, host: h, from: a@b.id, to: c@b.id, caFile: ca.pem }\n' +
        '    - { name: q, type: mqtt, url: "mqtts://127.0.0.1:8883", caFile: nope.pem }\n',
    );
    expect(() => createNotifier(ok!, { baseDir: dir })).not.toThrow();
    expect(() => createNotifier(missing!, { baseDir: dir })).toThrow(
      /nope\.pem: channel 'q': cannot read caFile \(ENOENT\)/,
    );
  });
});
