/**
 * The chat parts of the `channels:` config (config/channels.ts): Telegram operators and how presses arrive,
 * the two WhatsApp channel types; `${VAR}` secrets, errors naming file:line and the fix, secrets never
 * printed; createNotifier builds each with its name as contacts name it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../../../collector/core/errors.ts';
import { createNotifier } from '../../../collector/notify/create-notifier.ts';
import { channelsSchema, type ChannelConfig } from '../../../config/channels.ts';
import { parseYamlSource, validate } from '../../../config/yaml-source.ts';

const doc = z.strictObject({ alerts: z.strictObject({ channels: channelsSchema }) });
const FILE = 'netmon.yaml';
const TOKEN = '7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const TOKEN2 = '7012345679:BBHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const ENV = {
  TG_TOKEN: TOKEN,
  TG_TOKEN2: TOKEN2,
  TG_HOOK: 'hook-secret-0123456789abcdef',
  WA_TOKEN: 'EAAG-wa-Token-5521',
  FONNTE: 'fonnte-Tok-7731',
};

const parse = (yaml: string): readonly ChannelConfig[] =>
  validate(parseYamlSource(yaml, FILE, ENV), doc, 'config').alerts.channels;
const errorsOf = (yaml: string): string => {
  try {
    parse(yaml);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};
const one = (line: string): string => `alerts:\n  channels:\n    - ${line}\n`;

const CHAT = `alerts:
  channels:
    - name: noc-telegram
      type: telegram
      botToken: \${TG_TOKEN}
      chatId: "-1001234567890"
      operators: { "123456789": Wayan Sudarma, "987654321": made }
    - name: noc-hook-telegram
      type: telegram
      botToken: \${TG_TOKEN2}
      chatId: "-1009876543210"
      operators: { "123456789": wayan }
      updates: webhook
      webhook: { url: "https://netmon.badungkab.go.id/hooks/telegram/noc-hook-telegram", secretToken: "\${TG_HOOK}" }
      silence: 30m
      stateFile: state/tg.json
    - name: noc-wa
      type: whatsapp-cloud
      accessToken: \${WA_TOKEN}
      phoneNumberId: 106540352242922
      to: ["0812-3456-7890", "+62 857 3700 0111", 6281999888777]
      templates: { firing: netmon_gangguan, resolved: netmon_pulih }
    - name: noc-fonnte
      type: whatsapp-gateway
      url: https://api.fonnte.com/send
      headers: { Authorization: "\${FONNTE}" }
      to: ["081234567890", "120363043123456789@g.us"]
      fields: { countryCode: 62 }
`;

describe('chat channels config', () => {
  it('reads Telegram operators (polling by default, or a webhook) and both WhatsApp types with their defaults', () => {
    const [tg, hook, wa, gw] = parse(CHAT);
    expect(tg).toMatchObject({
      type: 'telegram',
      operators: { '123456789': 'Wayan Sudarma', '987654321': 'made' },
      updates: { kind: 'polling', pollTimeoutS: 30 },
      silenceMs: 3600_000,
    });
    expect(hook).toMatchObject({
      updates: { kind: 'webhook', url: 'https://netmon.badungkab.go.id/hooks/telegram/noc-hook-telegram' },
      silenceMs: 30 * 60_000,
      stateFile: 'state/tg.json',
    });
    expect(
      hook?.type === 'telegram' && hook.updates?.kind === 'webhook' && hook.updates.secretToken.reveal(),
    ).toBe('hook-secret-0123456789abcdef');
    expect(wa).toMatchObject({
      type: 'whatsapp-cloud',
      phoneNumberId: '106540352242922',
      to: ['6281234567890', '6285737000111', '6281999888777'],
      templates: { firing: 'netmon_gangguan', resolved: 'netmon_pulih' },
      language: 'id',
      parameters: ['text_id', 'text_en'],
      baseUrl: 'https://graph.facebook.com',
      apiVersion: 'v21.0',
      timeoutMs: 10_000,
    });
    expect(wa?.type === 'whatsapp-cloud' && wa.accessToken.reveal()).toBe('EAAG-wa-Token-5521');
    expect(gw).toMatchObject({
      type: 'whatsapp-gateway',
      to: ['6281234567890', '120363043123456789@g.us'],
      targetField: 'target',
      messageField: 'message',
      fields: { countryCode: '62' },
      maxChars: 4096,
      timeoutMs: 15_000,
    });
    expect(gw?.type === 'whatsapp-gateway' && gw.headers.Authorization?.reveal()).toBe('fonnte-Tok-7731');
  });

  it('a plain Telegram channel has no operators: no buttons, no receiver', () => {
    const [tg] = parse(one('{ name: t, type: telegram, botToken: "${TG_TOKEN}", chatId: "-100123" }'));
    expect(tg).toMatchObject({ operators: {} });
    expect(createNotifier(tg!).updates).toBeUndefined();
  });

  it('secrets never print', () => {
    const printed = [JSON.stringify(parse(CHAT)), inspect(parse(CHAT), { depth: 10 })].join('\n');
    for (const s of Object.values(ENV)) expect(printed).not.toContain(s);
  });

  it('createNotifier: names as contacts name them; a Telegram channel with operators has its receiver', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netmon-chatcfg-'));
    try {
      const made = parse(CHAT).map((c) => createNotifier(c, { stateDir: dir }));
      expect(made.map((n) => n.name)).toEqual([
        'telegram:noc-telegram',
        'telegram:noc-hook-telegram',
        'whatsapp-cloud:noc-wa',
        'whatsapp-gateway:noc-fonnte',
      ]);
      expect(made[0]?.updates?.hook).toBeUndefined();
      expect(made[1]?.updates?.hook?.path).toBe('/hooks/telegram/noc-hook-telegram');
      expect(made[2]?.updates).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [
      'an operator key that is no Telegram user id',
      '{ name: t, type: telegram, botToken: "${TG_TOKEN}", chatId: "-100123", operators: { wayan: Wayan } }',
      /alerts\.channels\[0\]\.operators\.wayan: 'wayan' is not a Telegram user id: digits, quoted/,
    ],
    [
      'a webhook without its settings',
      '{ name: t, type: telegram, botToken: "${TG_TOKEN}", chatId: "-100123", operators: { "1": w }, updates: webhook }',
      /alerts\.channels\[0\]\.webhook: updates: webhook needs webhook: \{ url: https:\/\/…\/hooks\/telegram\/<name>/,
    ],
    [
      'a webhook secret Telegram would refuse',
      '{ name: t, type: telegram, botToken: "${TG_TOKEN}", chatId: "-100123", operators: { "1": w }, updates: webhook, webhook: { url: "https://x.id/h", secretToken: "short" } }',
      /alerts\.channels\[0\]\.webhook\.secretToken: the webhook secret: 16-256 of A-Z a-z 0-9 _ -/,
    ],
    [
      'a webhook without operators',
      '{ name: t, type: telegram, botToken: "${TG_TOKEN}", chatId: "-100123", updates: webhook, webhook: { url: "https://x.id/h", secretToken: "${TG_HOOK}" } }',
      /alerts\.channels\[0\]\.operators: presses are only received with operators/,
    ],
    [
      'a long-polling timeout Telegram would not hold',
      '{ name: t, type: telegram, botToken: "${TG_TOKEN}", chatId: "-100123", operators: { "1": w }, pollTimeout: 5m }',
      /alerts\.channels\[0\]\.pollTimeout: a long-polling timeout between 1s and 50s/,
    ],
    [
      'a WhatsApp number without a country code',
      '{ name: w, type: whatsapp-cloud, accessToken: "${WA_TOKEN}", phoneNumberId: "1065403", to: ["12345"], templates: { firing: a, resolved: b } }',
      /alerts\.channels\[0\]\.to\[0\]: expected a WhatsApp number with country code, e\.g\. '6281234567890'/,
    ],
    [
      'templates missing',
      '{ name: w, type: whatsapp-cloud, accessToken: "${WA_TOKEN}", phoneNumberId: "1065403", to: "6281234567890" }',
      /alerts\.channels\[0\]\.templates: expected templates: \{ firing: <template name>, resolved: <template name> \}/,
    ],
    [
      'an unknown template parameter',
      '{ name: w, type: whatsapp-cloud, accessToken: "${WA_TOKEN}", phoneNumberId: "1065403", to: "6281234567890", templates: { firing: a, resolved: b }, parameters: [text_id, weather] }',
      /alerts\.channels\[0\]\.parameters\[1\]: one of text_id, text_en, /,
    ],
    [
      'a gateway token in the URL',
      '{ name: g, type: whatsapp-gateway, url: "https://wablas.example/api/send-message?token=abc", to: "6281234567890" }',
      /alerts\.channels\[0\]\.url: no credentials in the URL \(it is logged\)/,
    ],
  ])('%s: an error naming the place and the fix', (_name, line, want) => {
    const msg = errorsOf(one(line));
    expect(msg).toMatch(/netmon\.yaml:3:\d+: alerts\.channels\[0\]/);
    expect(msg).toMatch(want);
    for (const s of Object.values(ENV)) expect(msg).not.toContain(s);
  });

  it('two channels with operators on one bot: refused (one bot, one receiver of presses)', () => {
    const msg = errorsOf(
      `alerts:\n  channels:\n` +
        `    - { name: a, type: telegram, botToken: "\${TG_TOKEN}", chatId: "-100123", operators: { "1": w } }\n` +
        `    - { name: b, type: telegram, botToken: "\${TG_TOKEN}", chatId: "-100456", operators: { "1": w } }\n`,
    );
    expect(msg).toMatch(/alerts\.channels\[1\]\.operators: channel \[0\] has operators with the same bot/);
    expect(msg).not.toContain(TOKEN);
    // The same bot for a second chat without buttons is fine.
    expect(
      parse(
        `alerts:\n  channels:\n` +
          `    - { name: a, type: telegram, botToken: "\${TG_TOKEN}", chatId: "-100123", operators: { "1": w } }\n` +
          `    - { name: b, type: telegram, botToken: "\${TG_TOKEN}", chatId: "-100456" }\n`,
      ),
    ).toHaveLength(2);
  });
});
