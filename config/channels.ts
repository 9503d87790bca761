/**
 * The `channels:` section (under `alerts:` in the monitor config): named notification channels of six types,
 * validated once at load into ready-to-use values (durations in ms, secrets wrapped). Secrets follow the rest
 * of the config: a `${VAR}` reference in the value (expanded by config/yaml-source.ts before validation; an
 * unset variable is an error naming its place), wrapped in Secret here so they never reach a log.
 *
 *   channels:
 *     - { name: oncall-telegram, type: telegram, botToken: '${NETMON_TELEGRAM_TOKEN}', chatId: '-1001234567890' }
 *     - name: noc-mail
 *       type: email
 *       host: smtp.badungkab.go.id
 *       username: netmon@badungkab.go.id
 *       password: '${NETMON_SMTP_PASSWORD}'
 *       from: 'Badung NetMon <netmon@badungkab.go.id>'
 *       to: [noc@badungkab.go.id]
 *
 *     - name: noc-telegram            # buttons on pages: acknowledge, resolve, silence 1 h
 *       type: telegram
 *       botToken: '${NETMON_TELEGRAM_TOKEN}'
 *       chatId: '-1001234567890'
 *       operators: { '123456789': wayan, '987654321': made }   # Telegram user id → operator
 *     - name: noc-wa
 *       type: whatsapp-cloud
 *       accessToken: '${NETMON_WA_TOKEN}'
 *       phoneNumberId: '106540352242922'
 *       to: ['081234567890']
 *       templates: { firing: netmon_gangguan, resolved: netmon_pulih }
 *     - name: noc-fonnte
 *       type: whatsapp-gateway
 *       url: https://api.fonnte.com/send
 *       headers: { Authorization: '${NETMON_FONNTE_TOKEN}' }
 *       to: ['081234567890']
 *
 * Paths (`caFile`, `stateFile`) are kept as written; createNotifier resolves them against the config file's
 * directory.
 * collector/notify/create-notifier.ts turns one ChannelConfig into a Notifier.
 */
import { z } from 'zod';
import { Secret } from '../collector/core/secret.ts';
import { DEFAULT_ALERT_TOPIC, topicTemplateProblem } from '../collector/notify/mqtt-notifier.ts';
import { TELEGRAM_API_BASE } from '../collector/notify/telegram.ts';
import { WHATSAPP_API_VERSION, WHATSAPP_GRAPH_BASE } from '../collector/notify/whatsapp-cloud.ts';
import { TEMPLATE_FIELDS } from '../collector/notify/whatsapp-text.ts';
import { withMs, type Loose, type Omittable } from './transforms.ts';
import { parseDuration } from './yaml-source.ts';

export const CHANNEL_TYPES = [
  'webhook',
  'telegram',
  'email',
  'mqtt',
  'whatsapp-cloud',
  'whatsapp-gateway',
] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** zod 4 `error` param: one message for a missing key, another for a wrong value. */
const says = (what: string) => ({
  error: (iss: { input?: unknown }) => (iss.input === undefined ? `missing: ${what}` : `expected ${what}`),
});

const duration = (def: string) =>
  z
    .union([z.string(), z.number()], says('a duration like 500ms, 10s, 2m'))
    .default(def)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined || ms <= 0) {
        ctx.addIssue({ code: 'custom', message: `'${v}' is not a duration; write e.g. 500ms, 10s, 2m` });
        return z.NEVER;
      }
      return ms;
    });

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });
const name = z
  .string(says('a channel name (lower-case letters, digits and dashes)'))
  .regex(/^[a-z0-9][a-z0-9-]*$/, { message: 'lower-case letters, digits and dashes, e.g. oncall-telegram' });
/** A secret's value is never echoed in an error: the message says what is wrong, not what was written. */
const secret = (what: string) =>
  z
    .string(says(what))
    .min(1, { message: `empty: ${what}` })
    .transform((v) => new Secret(v));
/** HTTP headers (tokens, mostly): every value a secret. */
const secretHeaders = z
  .record(
    z.string(),
    z.string().transform((v) => new Secret(v)),
  )
  .default({});
const PORT = 'expected a port number 1..65535';
const port = z.number(says(PORT)).int(PORT).min(1, PORT).max(65535, PORT);

const ADDRESS = /^[^\s@<>,;]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;
const mailbox = z
  .string(says('an e-mail address like noc@badungkab.go.id'))
  .regex(ADDRESS, { message: 'expected an e-mail address like noc@badungkab.go.id (one per list entry)' });
const from = z
  .string(says("a sender like 'Badung NetMon <netmon@badungkab.go.id>' or netmon@badungkab.go.id"))
  .refine((v) => ADDRESS.test(v) || /^[^<>]*<[^\s@<>]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+>$/.test(v.trim()), {
    message: "expected netmon@badungkab.go.id or 'Badung NetMon <netmon@badungkab.go.id>'",
  });

const webhook = z
  .strictObject({
    type: z.literal('webhook'),
    name,
    url: httpUrl,
    headers: secretHeaders,
    timeout: duration('10s'),
  })
  .transform((c) => withMs(c, 'timeout'));

const telegram = z
  .strictObject({
    type: z.literal('telegram'),
    name,
    botToken: z
      .string(says("the bot token from @BotFather, as a reference: botToken: '${NETMON_TELEGRAM_TOKEN}'"))
      .regex(/^\d+:[A-Za-z0-9_-]{20,}$/, {
        message:
          "not a Telegram bot token (digits, ':', then 35 letters, as @BotFather gives it); check the variable botToken refers to",
      })
      .transform((v) => new Secret(v)),
    chatId: z
      .union([z.string(), z.number().int()], says("a chat id like '-1001234567890' or '@channelname'"))
      .transform((v) => String(v))
      .pipe(
        z.string().regex(/^(-?\d+|@[A-Za-z][A-Za-z0-9_]{3,})$/, {
          message:
            "expected a numeric chat id (a group or channel: '-100…', quoted) or '@channelname'; ask @userinfobot or getUpdates for the id",
        }),
      ),
    messageThreadId: z.number().int().positive().optional(),
    apiBase: httpUrl.default(TELEGRAM_API_BASE),
    disableLinkPreview: z.boolean().default(true),
    timeout: duration('10s'),
    operators: z
      .record(
        z.string(),
        z
          .string(says('an operator name'))
          .regex(/^[^\s<>&"][^<>&"]{0,63}$/, { message: 'an operator name: 1-64 characters, no < > & "' }),
        { error: "expected operators: { '<telegram user id>': <operator name> }" },
      )
      .default({}),
    updates: z
      .enum(['polling', 'webhook'], { error: 'expected polling (default, no public URL needed) or webhook' })
      .default('polling'),
    webhook: z
      .strictObject({
        url: z.url({ protocol: /^https?$/, error: 'expected the public URL Telegram posts to (https://…)' }),
        secretToken: z
          .string(says("a secret, as a reference: secretToken: '${NETMON_TELEGRAM_WEBHOOK_SECRET}'"))
          .regex(/^[A-Za-z0-9_-]{16,256}$/, {
            message: 'the webhook secret: 16-256 of A-Z a-z 0-9 _ - (Telegram allows only these)',
          })
          .transform((v) => new Secret(v)),
      })
      .optional(),
    pollTimeout: duration('30s').refine((ms) => ms >= 1000 && ms <= 50_000, {
      message: 'a long-polling timeout between 1s and 50s',
    }),
    silence: duration('1h'),
    stateFile: z.string().min(1).optional(),
  })
  .superRefine((c, ctx) => {
    for (const id of Object.keys(c.operators))
      if (!/^\d{1,20}$/.test(id))
        ctx.addIssue({
          code: 'custom',
          path: ['operators', id],
          message: `'${id}' is not a Telegram user id: digits, quoted ('123456789'); a refused press logs the id`,
        });
    const buttons = Object.keys(c.operators).length > 0;
    if (c.updates === 'webhook' && !c.webhook)
      ctx.addIssue({
        code: 'custom',
        path: ['webhook'],
        message:
          "updates: webhook needs webhook: { url: https://…/hooks/telegram/<name>, secretToken: '${VAR}' }",
      });
    if (c.webhook && c.updates !== 'webhook')
      ctx.addIssue({
        code: 'custom',
        path: ['updates'],
        message: 'a webhook is given: set updates: webhook',
      });
    if (!buttons && (c.updates === 'webhook' || c.webhook))
      ctx.addIssue({
        code: 'custom',
        path: ['operators'],
        message: 'presses are only received with operators: { ... } (who may press the buttons)',
      });
  })
  .transform(({ updates, webhook, pollTimeout, ...c }) => ({
    ...withMs(c, 'timeout', 'silence'),
    /** How presses arrive: long polling (default) or a webhook. */
    updates: (updates === 'webhook' && webhook
      ? { kind: 'webhook', url: webhook.url, secretToken: webhook.secretToken }
      : { kind: 'polling', pollTimeoutS: Math.round(pollTimeout / 1000) }) as TelegramUpdatesConfig,
  }));

/**
 * A WhatsApp number: digits with the country code. Written as staff write them: '0812-3456-7890' and
 * '+62 812 3456 7890' both become 6281234567890 (a leading 0 is Indonesia's trunk prefix).
 */
const phone = z
  .union([z.string(), z.number().int()], says("a WhatsApp number like '6281234567890'"))
  .transform((v) => String(v).replace(/[\s().-]/g, ''))
  .transform((v) => v.replace(/^\+/, '').replace(/^0(?=8)/, '62'))
  .pipe(
    z.string().regex(/^[1-9]\d{7,14}$/, {
      message: "expected a WhatsApp number with country code, e.g. '6281234567890' or '0812-3456-7890'",
    }),
  );
const phones = z
  .union([phone, z.array(phone)], says('a list of WhatsApp numbers'))
  .transform((v) => (typeof v === 'string' ? [v] : v))
  .pipe(z.array(z.string()).min(1, { message: 'at least one number' }));

const templateName = z
  .string(says('the name of an approved message template, e.g. netmon_gangguan'))
  .regex(/^[a-z0-9_]{1,512}$/, { message: 'a template name: lower-case letters, digits and _' });

const whatsappCloud = z
  .strictObject({
    type: z.literal('whatsapp-cloud'),
    name,
    accessToken: secret("the Cloud API access token, as a reference: accessToken: '${NETMON_WA_TOKEN}'"),
    phoneNumberId: z
      .union([z.string(), z.number().int()], says("the sender's phone number id from WhatsApp Manager"))
      .transform((v) => String(v))
      .pipe(
        z.string().regex(/^\d{5,20}$/, { message: "expected the phone number id (digits, quoted: '1065…')" }),
      ),
    to: phones,
    templates: z.strictObject(
      { firing: templateName, resolved: templateName },
      { error: 'expected templates: { firing: <template name>, resolved: <template name> }' },
    ),
    language: z
      .string()
      .regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, { message: 'a template language code like id, en or en_US' })
      .default('id'),
    parameters: z
      .array(z.enum(TEMPLATE_FIELDS, { error: `one of ${TEMPLATE_FIELDS.join(', ')}` }))
      .max(10)
      .default(['text_id', 'text_en']),
    baseUrl: httpUrl.default(WHATSAPP_GRAPH_BASE),
    apiVersion: z
      .string()
      .regex(/^v\d+\.\d+$/, { message: 'a Graph API version like v21.0' })
      .default(WHATSAPP_API_VERSION),
    timeout: duration('10s'),
  })
  .transform((c) => withMs(c, 'timeout'));

/** A gateway's target: a number, or a group id as the gateway names it (Fonnte: 120363…@g.us). */
const gatewayTarget = z.union([z.string().regex(/^\d{10,30}@g\.us$/), phone]);
const fieldName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.[\]-]{0,63}$/, { message: 'a form field name' });

const whatsappGateway = z
  .strictObject({
    type: z.literal('whatsapp-gateway'),
    name,
    url: httpUrl.refine((u) => !/[?&](token|key|apikey|api_key|secret)=/i.test(u), {
      message:
        'no credentials in the URL (it is logged): put the token in headers: { Authorization: ${VAR} }',
    }),
    headers: secretHeaders,
    to: z
      .union([gatewayTarget, z.array(gatewayTarget)], says('a list of WhatsApp numbers or group ids'))
      .transform((v) => (typeof v === 'string' ? [v] : v))
      .pipe(z.array(z.string()).min(1, { message: 'at least one number' })),
    targetField: fieldName.default('target'),
    messageField: fieldName.default('message'),
    fields: z.record(fieldName, z.union([z.string(), z.number()]).transform(String)).default({}),
    maxChars: z.number().int().min(200).max(65536).default(4096),
    timeout: duration('15s'),
  })
  .transform((c) => withMs(c, 'timeout'));

const email = z
  .strictObject({
    type: z.literal('email'),
    name,
    host: z.string(says('the SMTP server, e.g. smtp.badungkab.go.id')).min(1, 'the SMTP server'),
    port: port.optional(),
    tls: z
      .enum(['implicit', 'starttls', 'opportunistic', 'none'], {
        error:
          'expected implicit (TLS from the start, port 465), starttls (required upgrade, port 587), opportunistic or none',
      })
      .default('starttls'),
    caFile: z.string().min(1).optional(),
    username: z.string().min(1).optional(),
    password: secret("the SMTP password, as a reference: password: '${NETMON_SMTP_PASSWORD}'").optional(),
    from,
    to: z
      .union([mailbox, z.array(mailbox)], says('a list of e-mail addresses'))
      .transform((v) => (typeof v === 'string' ? [v] : v))
      .pipe(z.array(z.string()).min(1, { message: 'at least one recipient' })),
    timeout: duration('30s'),
  })
  .superRefine((c, ctx) => {
    if (c.password !== undefined && c.username === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['username'],
        message: 'a password needs a username (the SMTP login)',
      });
    if (c.username !== undefined && c.password === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['password'],
        message: "a username needs a password: password: '${NETMON_SMTP_PASSWORD}'",
      });
  })
  .transform(({ port, ...c }) => ({
    ...withMs(c, 'timeout'),
    port: port ?? (c.tls === 'implicit' ? 465 : c.tls === 'starttls' ? 587 : 25),
  }));

const mqttChannel = z
  .strictObject({
    type: z.literal('mqtt'),
    name,
    url: z
      .string(says('the broker, e.g. mqtt://127.0.0.1:1883 or mqtts://broker.badungkab.go.id:8883'))
      .regex(/^mqtts?:\/\/[^/\s]+$/, { message: 'expected mqtt://host:port or mqtts://host:port' })
      .refine((v) => !/^mqtts?:\/\/[^/]*@/.test(v), {
        message: 'no credentials in the URL (it is logged): use username and password',
      }),
    username: z.string().min(1).optional(),
    password: secret(
      "the broker password, as a reference: password: '${NETMON_ALERTS_MQTT_PASSWORD}'",
    ).optional(),
    clientId: z.string().min(1).max(23).optional(),
    protocolVersion: z
      .union([z.literal(4), z.literal(5)], { error: 'expected 4 (MQTT 3.1.1) or 5 (MQTT 5)' })
      .default(4),
    caFile: z.string().min(1).optional(),
    topic: z
      .string()
      .default(DEFAULT_ALERT_TOPIC)
      .superRefine((t, ctx) => {
        const problem = topicTemplateProblem(t);
        if (problem)
          ctx.addIssue({
            code: 'custom',
            message: `${problem}; e.g. ${DEFAULT_ALERT_TOPIC} or ${DEFAULT_ALERT_TOPIC}/{severity}/{kecamatan}`,
          });
      }),
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)], { error: 'expected QoS 0, 1 or 2' }).default(1),
    retain: z.boolean().default(false),
    timeout: duration('10s'),
  })
  .superRefine((c, ctx) => {
    if (c.password !== undefined && c.username === undefined)
      ctx.addIssue({ code: 'custom', path: ['username'], message: 'a password needs a username' });
  })
  .transform((c) => withMs(c, 'timeout'));

/** One channel. */
export const channelSchema = z.discriminatedUnion(
  'type',
  [webhook, telegram, email, mqttChannel, whatsappCloud, whatsappGateway],
  {
    error: `type must be one of ${CHANNEL_TYPES.join(', ')}`,
  },
);

/** The list (absent: no channels besides the log); names must be unique, they key the sent-ledger. */
export const channelsSchema = z
  .array(channelSchema, { error: 'expected a list of channels (- name: …, type: …)' })
  .default([])
  .superRefine((list, ctx) => {
    const first = new Map<string, number>();
    list.forEach((c, i) => {
      const j = first.get(c.name);
      if (j === undefined) first.set(c.name, i);
      else
        ctx.addIssue({
          code: 'custom',
          path: [i, 'name'],
          message: `'${c.name}' is also the name of channel [${j}]; give each channel its own name`,
        });
    });
    // One bot's presses can be fetched by one receiver only (Telegram answers a second getUpdates 409).
    const withButtons = new Map<string, number>();
    list.forEach((c, i) => {
      if (c.type !== 'telegram' || Object.keys(c.operators ?? {}).length === 0) return;
      const token = c.botToken.reveal();
      const j = withButtons.get(token);
      if (j === undefined) withButtons.set(token, i);
      else
        ctx.addIssue({
          code: 'custom',
          path: [i, 'operators'],
          message: `channel [${j}] has operators with the same bot: one bot's button presses reach one channel; use a bot per channel or operators on one`,
        });
    });
  });

// ---- the types: the schemas' output ----------------------------------------------------------------------

export type TelegramUpdatesConfig =
  | { readonly kind: 'polling'; readonly pollTimeoutS: number }
  | { readonly kind: 'webhook'; readonly url: string; readonly secretToken: Secret };

/** Keys whose value may be undefined may be absent in a channel built in code (tests). */
export type WebhookChannelConfig = Loose<z.output<typeof webhook>>;
/** Telegram user id → operator name (non-empty: pages carry buttons), updates and silence have defaults. */
export type TelegramChannelConfig = Omittable<
  Loose<z.output<typeof telegram>>,
  'operators' | 'updates' | 'silenceMs'
>;
export type WhatsAppCloudChannelConfig = Loose<z.output<typeof whatsappCloud>>;
export type WhatsAppGatewayChannelConfig = Loose<z.output<typeof whatsappGateway>>;
export type EmailChannelConfig = Loose<z.output<typeof email>>;
export type MqttChannelConfig = Loose<z.output<typeof mqttChannel>>;
export type ChannelConfig =
  | WebhookChannelConfig
  | TelegramChannelConfig
  | EmailChannelConfig
  | MqttChannelConfig
  | WhatsAppCloudChannelConfig
  | WhatsAppGatewayChannelConfig;
export type ChannelsConfig = readonly ChannelConfig[];
