/**
 * The monitor's configuration (config/netmon.example.yaml is the documented example), validated once at
 * load into a MonitorConfig whose values are ready to use: durations in ms, sizes in bytes, paths
 * absolute, secrets wrapped, the inventory loaded and every name the config gives for an inventory thing
 * checked against it (config/cross-check.ts). Nothing downstream re-checks it.
 *
 * Declared once: each section is a zod schema whose transform gives the values the code reads, and the
 * exported types (MonitorConfig, InfluxConfig, ...) are the schema's output. A new section (config/ping.ts,
 * config/traps.ts) is a schema of its own file and one line in monitorSchema below.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { clusterSchema } from './cluster.ts';
import { pingSchema } from './ping.ts';
import { trapsSchema } from './traps.ts';
import { ConfigError } from '../collector/core/errors.ts';
import { Secret } from '../collector/core/secret.ts';
import type { OnCallPolicy } from '../collector/alerting/oncall.ts';
import type { FlapPolicy } from '../collector/alerting/alert.ts';
import type { MaintenanceWindow } from '../collector/alerting/scope.ts';
import { parseTokenHash } from '../collector/core/api-tokens.ts';
import { CATEGORIES, CRITICALITIES, type Category, type Inventory } from '../collector/core/types.ts';
import { defaultTargets } from '../collector/reports/report.ts';
import { apiSchema, tokenListSchema, type ApiConfig } from './api.ts';
import { channelsSchema, type ChannelsConfig } from './channels.ts';
import { consoleSchema, type ConsoleConfig } from './console.ts';
import { crossCheck, didYouMean } from './cross-check.ts';
import { pathIn, withMs, type Loose, type Omittable } from './transforms.ts';
import { feedKeysSchema } from './feed-keys.ts';
import { keysOf } from './hints.ts';
import { loadInventory } from './inventory.ts';
import { maintenanceSchema } from './maintenance.ts';
import {
  dotted,
  formatIssues,
  parseDuration,
  parseSize,
  parseYamlSource,
  validate,
  type YamlSource,
} from './yaml-source.ts';

// ---- value schemas ---------------------------------------------------------------------------------------

const duration = (def: string) =>
  z
    .union([z.string(), z.number()])
    .default(def)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `'${v}' is not a duration; write e.g. 500ms, 30s, 2m` });
        return z.NEVER;
      }
      return ms;
    });
const size = (def: string) =>
  z
    .union([z.string(), z.number()])
    .default(def)
    .transform((v, ctx) => {
      const b = parseSize(v);
      if (b === undefined) {
        ctx.addIssue({ code: 'custom', message: `'${v}' is not a size; write e.g. 64MiB, 512KiB, 1GiB` });
        return z.NEVER;
      }
      return b;
    });
const url = z.url({ protocol: /^https?$/, message: 'expected an http:// or https:// URL' });
const int = (min: number, max: number, def: number) => z.number().int().min(min).max(max).default(def);

const PORT_MSG = { message: 'expected a port number 0..65535 (0: any free port)' };
const listenPort = (def: number) =>
  z.coerce.number(PORT_MSG).int(PORT_MSG).min(0, PORT_MSG).max(65535, PORT_MSG).default(def);

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** An InfluxQL duration literal, as a retention policy takes it. */
const influxDuration = (def: string) =>
  z
    .string()
    .regex(/^[1-9]\d*(h|d|w)$/, {
      message: 'expected an InfluxQL duration in hours, days or weeks: 720h, 30d, 4w',
    })
    .default(def);

// ---- sections --------------------------------------------------------------------------------------------

/** A string read as a secret: never printed, never in an API response (collector/core/secret.ts). */
const secret = z.string().transform((s) => new Secret(s));
/** Named HTTP endpoints with secret headers: alerts.webhooks and feeds.push. */
const httpTargets = z
  .array(
    z.strictObject({
      name: z.string().regex(/^[a-z0-9-]+$/, { message: 'lower-case letters, digits and dashes' }),
      url,
      headers: z.record(z.string(), secret).default({}),
    }),
  )
  .default([]);

const influxSchema = z
  .discriminatedUnion(
    'api',
    [
      z.strictObject({
        api: z.literal('v1'),
        url,
        database: z.string().min(1),
        username: z.string().optional(),
        password: secret.optional(),
        retentionPolicy: z.string().optional(),
        timeout: duration('10s'),
        /** Raw samples for a month, hourly rollups for years (collector/sinks/retention.ts). */
        retention: z
          .strictObject({
            manage: z.boolean().default(true),
            raw: influxDuration('30d'),
            rollup: influxDuration('1825d'),
          })
          .prefault({})
          // Absent: the policies and rollup queries are left to the admin.
          .transform((r) => (r.manage ? { rawDuration: r.raw, rollupDuration: r.rollup } : undefined)),
      }),
      z.strictObject({
        api: z.literal('v2'),
        url,
        org: z.string().min(1),
        bucket: z.string().min(1),
        token: secret.optional(),
        timeout: duration('10s'),
      }),
    ],
    { message: "influx.api must be 'v1' (InfluxDB 1.x API, the default) or 'v2' (/api/v2/write)" },
  )
  .transform((i) => withMs(i, 'timeout'));

const WORKERS_MSG = { message: "snmp.workers must be 'auto' or a whole number of threads from 1 to 64" };

const snmpSchema = z
  .strictObject({
    interval: duration('60s'),
    jitter: duration('10s'),
    timeout: duration('2s'),
    retries: int(0, 10, 1),
    concurrency: int(1, 10_000, 256),
    maxRepetitions: int(1, 200, 25),
    // Collection threads (collector/collection/worker-collection.ts): absent or 1, the main thread polls
    // (one event loop); N, N worker threads share the fleet; auto, one per core.
    workers: z
      .union(
        [z.literal('auto'), z.number().int(WORKERS_MSG).min(1, WORKERS_MSG).max(64, WORKERS_MSG)],
        WORKERS_MSG,
      )
      .optional(),
  })
  .superRefine((s, ctx) => {
    if (s.jitter >= s.interval)
      ctx.addIssue({
        code: 'custom',
        path: ['jitter'],
        message: 'snmp.jitter must be smaller than snmp.interval',
      });
  })
  .transform((s) => withMs(s, 'interval', 'jitter', 'timeout'));

const contactSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]+$/, { message: 'lower-case letters, digits and dashes' }),
  channels: z.array(z.string().min(1)).min(1, { message: 'a contact needs at least one channel' }),
});

const routeSchema = z.strictObject({
  match: z
    .strictObject({
      severities: z.array(z.enum(CRITICALITIES)).min(1).optional(),
      categories: z.array(z.enum(CATEGORIES)).min(1).optional(),
      kecamatan: z.array(z.string().min(1)).min(1).optional(),
      kinds: z
        .array(z.enum(['device_down', 'area_outage', 'flapping']))
        .min(1)
        .optional(),
    })
    .prefault({}),
  escalation: z.array(z.string().min(1)).min(1, { message: 'name at least one contact' }),
});

const alertsSchema = (base: string) =>
  z
    .strictObject({
      webhooks: httpTargets,
      linkBase: url.optional(),
      /** Where notifications go: webhook, telegram, email, mqtt (config/channels.ts). */
      channels: channelsSchema,
      /** Per-category severity overrides (default: the sites' criticality, by category). */
      severity: z.partialRecord(z.enum(CATEGORIES), z.enum(CRITICALITIES)).default({}),
      /** Time to acknowledge, per severity. */
      clocks: z
        .strictObject({
          critical: duration('2h'),
          high: duration('24h'),
          medium: duration('24h'),
          low: duration('24h'),
        })
        .prefault({}),
      clockCheck: duration('15s'),
      contacts: z.array(contactSchema).default([]),
      routes: z.array(routeSchema).default([]),
      /** Mass-outage correlation per kecamatan (collector/alerting/area.ts). */
      area: z
        .strictObject({
          window: duration('60s'),
          minSites: int(2, 10_000, 30),
          groupWait: duration('20s'),
        })
        .prefault({})
        .transform((a) => withMs(a, 'window', 'groupWait')),
      /** A recovery counts once stable for `settle`; `flaps` re-downs before that make it flapping. */
      flapping: z
        .strictObject({ settle: duration('2m'), flaps: int(1, 100, 2) })
        .prefault({})
        .transform((f): FlapPolicy => ({ settleMs: f.settle, flapThreshold: f.flaps })),
    })
    .superRefine((a, ctx) => {
      for (const e of checkOnCall(a)) ctx.addIssue({ code: 'custom', ...e });
    })
    .transform(({ severity, clocks, contacts, routes, clockCheck, channels, ...rest }) => {
      /** Severity overrides, clocks, contacts and routes (collector/alerting/oncall.ts). */
      const oncall: OnCallPolicy = {
        severityByCategory: severity,
        clocksMs: clocks,
        contacts: contacts.map((k) => ({
          name: k.name,
          channels: k.channels.map((name) => channelNotifierName(rest.webhooks, channels, name)),
        })),
        routes,
      };
      return {
        ...rest,
        /** Notification channels besides the webhooks (config/channels.ts); paths are absolute. */
        channels: channels.map((ch) =>
          (ch.type === 'email' || ch.type === 'mqtt') && ch.caFile
            ? { ...ch, caFile: resolve(base, ch.caFile) }
            : ch.type === 'telegram' && ch.stateFile
              ? { ...ch, stateFile: resolve(base, ch.stateFile) }
              : ch,
        ),
        oncall,
        clockCheckMs: clockCheck,
      };
    });

const feedsSchema = z
  .strictObject({
    /** CAP `<sender>`: globally unique, no spaces (e.g. netmon@kominfo.badungkab.go.id). */
    sender: z
      .string()
      .regex(/^[^\s,<&]+$/, { message: 'no spaces, commas, < or & (CAP 1.2 sender)' })
      .default('netmon@kominfo.badungkab.go.id'),
    senderName: z.string().min(1).default('Diskominfo Kabupaten Badung / Badung Communications Office'),
    /** How long a resolved outage keeps its all-clear in the CAP feed. */
    recent: duration('24h'),
    /** CAP receivers each notification is POSTed to (BPBD's integrated picture). */
    push: httpTargets,
    /** Feed keys accepted as `?key=` on /feeds (config/feed-keys.ts); only their hashes. */
    keys: feedKeysSchema.default([]),
  })
  .prefault({})
  .transform((f) => withMs(f, 'recent'));

/** The public status page (/status, /status.json; collector/status/). */
const statusSchema = z
  .strictObject({
    /** Serve /status and /status.json, without a token. */
    enabled: z.boolean().default(true),
    /**
     * How often the page is rebuilt from the monitor's state (and soon after each state change). Its times
     * are to the minute and browsers reload it every minute: more often only costs CPU (issue #14: every
     * 5 s, the rebuilds were 4 % of the collector's main thread at the Badung load).
     */
    rebuild: duration('15s').refine((ms) => ms >= 500, {
      message: 'at least 500ms (the page is served from a cache; rebuilding more often only costs CPU)',
    }),
    /** How often the 30- and 90-day availability is recomputed from InfluxDB (1.x API only). */
    availabilityRefresh: duration('10m').refine((ms) => ms >= 10_000, {
      message: 'at least 10s (each refresh reads 90 days from InfluxDB)',
    }),
  })
  .prefault({})
  .transform((s) => withMs(s, 'rebuild', 'availabilityRefresh'));

const httpSchema = z
  .strictObject({
    host: z.string().default('127.0.0.1'),
    port: listenPort(8080),
    allowNonLoopback: z.boolean().default(false),
  })
  .prefault({})
  .superRefine((h, ctx) => {
    if (!h.allowNonLoopback && !LOOPBACK.test(h.host))
      ctx.addIssue({
        code: 'custom',
        path: ['host'],
        message: `${h.host} is not a loopback address; serve the API through a TLS proxy (tokens travel in headers): keep it on 127.0.0.1 or set http.allowNonLoopback: true behind one`,
      });
  })
  .transform((h) => ({ listen: { host: h.host, port: h.port } }));

/** MQTT telemetry and liveness; absent: SNMP only. */
const mqttSchema = (base: string) =>
  z
    .strictObject({
      /** embedded: the monitor runs the aedes broker; external: it connects to one (e.g. Mosquitto). */
      broker: z.enum(['embedded', 'external']).default('embedded'),
      host: z.string().default('127.0.0.1'),
      port: listenPort(1883),
      url: z
        .string()
        .regex(/^mqtts?:\/\//, { message: 'expected mqtt://host:port or mqtts://host:port' })
        .optional(),
      allowAnonymous: z.boolean().default(false),
      tls: z.strictObject({ cert: pathIn(base), key: pathIn(base) }).optional(),
      /** The collector's own account on the broker. */
      username: z.string().min(1).default('netmon-collector'),
      password: z
        .string()
        .min(8, { message: 'at least 8 characters' })
        .transform((s) => new Secret(s)),
      grace: duration('10s'),
      /** Per device: messages a second on average, and at once; more are dropped and counted. */
      rateLimit: z
        .strictObject({
          perSecond: z.number().positive({ message: 'messages a second, more than 0' }).default(10),
          burst: z.number().int().min(1, { message: 'messages at once, at least 1' }).default(50),
        })
        .prefault({}),
      /** A telemetry `ts` older than this before the receive time is dropped (keep it <= raw retention). */
      maxTelemetryAge: duration('30d'),
      /** A telemetry `ts` more than this after the receive time is dropped (device clock ahead). */
      maxClockAhead: duration('5m'),
    })
    .superRefine((m, ctx) => {
      if (m.broker === 'external' && !m.url)
        ctx.addIssue({
          code: 'custom',
          path: ['broker'],
          message: 'mqtt.url is required with broker: external (e.g. mqtt://127.0.0.1:1883)',
        });
    })
    .transform((m) => ({
      broker:
        m.broker === 'external'
          ? { kind: 'external' as const, url: m.url ?? '' }
          : {
              kind: 'embedded' as const,
              host: m.host,
              port: m.port,
              allowAnonymous: m.allowAnonymous,
              tls: m.tls && { certFile: m.tls.cert, keyFile: m.tls.key },
            },
      username: m.username,
      password: m.password,
      graceMs: m.grace,
      rateLimit: m.rateLimit,
      /** How far a telemetry `ts` may be from the receive time (broker/payloads.ts). */
      timestampWindow: { maxAgeMs: m.maxTelemetryAge, maxAheadMs: m.maxClockAhead },
    }));

/**
 * The whole document. `base` is the config file's directory (relative paths are resolved against it);
 * `inventoryOverride` (NETMON_INVENTORY) replaces `inventory:`. Each section is declared once here, and
 * its transform gives what the code reads: the types below are this schema's output.
 */
function monitorSchema(base: string, inventoryOverride: string | undefined) {
  const path = pathIn(base);
  return z
    .strictObject({
      inventory: z
        .string()
        .min(1, { message: 'path of the inventory YAML' })
        .transform((p) => resolve(base, inventoryOverride || p)),
      influx: influxSchema,
      writer: z
        .strictObject({
          batchSize: int(1, 100_000, 5000),
          flushInterval: duration('1s'),
          bufferDir: path.prefault('var/buffer'),
          maxBufferSize: size('256MiB'),
        })
        .prefault({})
        .transform(({ maxBufferSize, ...w }) => ({
          ...withMs(w, 'flushInterval'),
          maxBufferBytes: maxBufferSize,
        })),
      snmp: snmpSchema.prefault({}),
      health: z
        .strictObject({ downAfterFailures: int(1, 100, 2), recheck: duration('10s') })
        .prefault({})
        .transform((h) => withMs(h, 'recheck')),
      /** Durable incidents (SQLite): survives restarts, never pages twice. */
      incidents: z.strictObject({ file: path.prefault('var/incidents.db') }).prefault({}),
      alerts: alertsSchema(base).prefault({}),
      /** Maintenance windows declared in the config (read-only over the API; more can be added there). */
      maintenance: z
        .array(maintenanceSchema)
        .superRefine((windows, ctx) => {
          const names = windows.map((w) => w.name);
          names.forEach((name, i) => {
            const first = names.indexOf(name);
            if (first !== i)
              ctx.addIssue({
                code: 'custom',
                path: [i, 'name'],
                message: `'${name}' is also the name of maintenance[${first}]; give each window its own name`,
              });
          });
        })
        .transform((windows) =>
          windows.map((w, i): MaintenanceWindow => ({ ...w, id: `config-${i + 1}`, source: 'config' })),
        )
        .default([]),
      /** Availability targets per category, percent (collector/reports/report.ts). */
      reports: z
        .strictObject({
          /** Per category, e.g. { puskesmas: 99.9 }; the rest by criticality (99.5 critical ... 98 low). */
          targets: z
            .partialRecord(
              z.enum(CATEGORIES),
              z
                .number()
                .min(0, { message: 'a percentage 0..100' })
                .max(100, { message: 'a percentage 0..100' }),
            )
            .default({})
            .transform((t): Readonly<Record<Category, number>> => ({ ...defaultTargets(), ...t })),
        })
        .prefault({}),
      /** Tokens of the HTTP API and how the feeds are published; no tokens: /api/v1 refuses all. */
      api: apiSchema
        .prefault({})
        .transform((a) => ({ ...a, tokensFile: a.tokensFile && resolve(base, a.tokensFile) })),
      /** The web console's sign-in, sessions and live events (config/console.ts). */
      console: consoleSchema(base).prefault({}),
      /** The CAP and GeoJSON feeds for BPBD (collector/feeds/). */
      feeds: feedsSchema,
      status: statusSchema,
      http: httpSchema,
      log: z.strictObject({ level: z.enum(['debug', 'info', 'warn', 'error']).default('info') }).prefault({}),
      mqtt: mqttSchema(base).optional(),
      /** ICMP through fping (config/ping.ts); absent: no ping. */
      ping: pingSchema.optional(),
      /** The SNMP trap receiver (config/traps.ts); absent: no traps. */
      traps: trapsSchema.optional(),
      /** One member of a cluster over NATS JetStream (config/cluster.ts); absent: one process, as before. */
      cluster: clusterSchema.optional(),
    })
    .superRefine((c, ctx) => {
      // Issue #15: every member would run its own aedes, each seeing a share of the devices; devices and
      // collectors must meet on one broker (collector/sources/mqtt/mqtt-source.ts, README: MQTT in the cluster).
      if (c.cluster && c.mqtt?.broker.kind === 'embedded')
        ctx.addIssue({
          code: 'custom',
          path: ['mqtt', 'broker'],
          message:
            'a cluster member cannot run the embedded broker: set mqtt.broker: external and mqtt.url to the broker every member and device uses (Mosquitto 2, MQTT 5 shared subscriptions), e.g. mqtt://10.0.0.5:1883',
        });
    })
    .transform(({ inventory, ...rest }) => ({ ...rest, inventoryFile: inventory }));
}

// ---- the types: the schema's output ----------------------------------------------------------------------

type Parsed = z.output<ReturnType<typeof monitorSchema>>;

export type InfluxConfig = Loose<Parsed['influx']>;
export type FeedsConfig = Omittable<Parsed['feeds'], 'keys'>;
export type StatusPageConfig = Parsed['status'];
type ParsedMqtt = NonNullable<Parsed['mqtt']>;
export type MqttConfig = Omittable<Omit<ParsedMqtt, 'broker'>, 'rateLimit' | 'timestampWindow'> & {
  readonly broker: Loose<ParsedMqtt['broker']>;
};
export type AlertsConfig = Omittable<
  Omit<Parsed['alerts'], 'channels'>,
  'linkBase' | 'oncall' | 'clockCheckMs' | 'area' | 'flapping'
> & {
  /** Notification channels besides the webhooks (config/channels.ts); paths are absolute. */
  readonly channels?: ChannelsConfig | undefined;
};

/** A MonitorConfig before the inventory it names is loaded: what parseConfig returns. */
export type MonitorSettings = Readonly<
  Omittable<
    Omit<Parsed, 'influx' | 'alerts' | 'feeds' | 'api' | 'mqtt' | 'console'>,
    'maintenance' | 'reports' | 'status' | 'ping' | 'traps' | 'cluster'
  > & {
    console?: ConsoleConfig | undefined;
    influx: InfluxConfig;
    alerts: AlertsConfig;
    feeds?: FeedsConfig | undefined;
    api?: Loose<Parsed['api']> | undefined;
    mqtt?: MqttConfig | undefined;
  }
>;

/** The validated config with its inventory loaded: what loadConfig returns. */
export type MonitorConfig = MonitorSettings & { readonly inventory: Inventory };

/**
 * Validate a config document. Pure: no file is read (loadConfig then loads the inventory); `source` names
 * the file in errors and relative paths are resolved against its directory.
 */
export function parseConfig(
  text: string,
  source: string,
  env: NodeJS.ProcessEnv = process.env,
): MonitorSettings {
  return parseSettings(text, source, env).settings;
}

function parseSettings(
  text: string,
  source: string,
  env: NodeJS.ProcessEnv,
): { settings: Parsed; src: YamlSource } {
  const src = parseYamlSource(text, source, env);
  const schema = monitorSchema(dirname(resolve(source)), env.NETMON_INVENTORY);
  const r = schema.safeParse(src.data ?? {});
  if (!r.success) {
    throw new ConfigError(
      source,
      `invalid config:\n  ${formatIssues(src, r.error.issues, keysOf(schema)).join('\n  ')}`,
    );
  }
  return { settings: r.data, src };
}

type Webhooks = z.output<typeof httpTargets>;
type Channels = z.output<typeof channelsSchema>;

/** The notifier a contact's channel name stands for: `<type>:<name>` (alerts.webhooks: `webhook:<name>`). */
function channelNotifierName(webhooks: Webhooks, channels: Channels, name: string): string {
  const ch = channels.find((c) => c.name === name);
  if (ch) return `${ch.type}:${name}`;
  return webhooks.some((w) => w.name === name) ? `webhook:${name}` : name;
}

interface PathIssue {
  readonly path: (string | number)[];
  readonly message: string;
}

/**
 * Webhooks and channels have distinct names, contacts name configured channels, routes name contacts
 * (paths relative to `alerts`).
 */
function checkOnCall(a: {
  readonly webhooks: Webhooks;
  readonly channels: Channels;
  readonly contacts: readonly z.output<typeof contactSchema>[];
  readonly routes: readonly z.output<typeof routeSchema>[];
}): PathIssue[] {
  const errors: PathIssue[] = [];
  const hooks = a.webhooks.map((w) => w.name);
  hooks.forEach((name, i) => {
    const first = hooks.indexOf(name);
    if (first !== i)
      errors.push({
        path: ['webhooks', i, 'name'],
        message: `'${name}' is also the name of alerts.webhooks[${first}]; give each webhook its own name`,
      });
  });
  const channels = [...hooks, ...a.channels.map((c) => c.name)];
  a.channels.forEach((c, i) => {
    if (hooks.includes(c.name))
      errors.push({
        path: ['channels', i, 'name'],
        message: `'${c.name}' is also the name of a webhook in alerts.webhooks; give each channel its own name`,
      });
  });
  const contacts = a.contacts.map((k) => k.name);
  a.contacts.forEach((k, i) => {
    if (contacts.indexOf(k.name) !== i)
      errors.push({ path: ['contacts', i, 'name'], message: `'${k.name}' is used twice` });
    k.channels.forEach((ch, j) => {
      if (!channels.includes(ch))
        errors.push({
          path: ['contacts', i, 'channels', j],
          message: `no channel named '${ch}' (configured: ${[...new Set(channels)].join(', ') || 'none'})${didYouMean(ch, channels)}`,
        });
    });
  });
  a.routes.forEach((r, i) => {
    r.escalation.forEach((name, j) => {
      if (!contacts.includes(name))
        errors.push({
          path: ['routes', i, 'escalation', j],
          message: `no contact named '${name}' (contacts: ${contacts.join(', ') || 'none'})${didYouMean(name, contacts)}`,
        });
    });
  });
  if (a.routes.length > 0 && a.contacts.length === 0)
    errors.push({ path: ['routes'], message: 'alerts.routes need alerts.contacts to route to' });
  return errors;
}

export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<MonitorConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      file,
      `cannot read the config (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        cause: err,
      },
    );
  }
  const { settings, src } = parseSettings(text, file, env);
  const api = await withTokensFile(settings.api, file, env);
  const inventory = await loadInventory(settings.inventoryFile, env);
  const issues = crossCheck(settings, inventory);
  if (issues.length > 0) {
    const lines = issues.map((i) => `${src.locate(i.path)}: ${dotted(i.path)}: ${i.message}`);
    const shown = lines.length > 20 ? [...lines.slice(0, 20), `... and ${lines.length - 20} more`] : lines;
    throw new ConfigError(
      file,
      `invalid config: it names what the inventory (${settings.inventoryFile}) does not have:\n  ${shown.join('\n  ')}`,
    );
  }
  return { ...settings, api, inventory };
}

/** `api.tokens` plus those of `api.tokensFile` (when it exists), names and ids unique across both. */
async function withTokensFile(
  api: ApiConfig,
  configFile: string,
  env: NodeJS.ProcessEnv,
): Promise<ApiConfig> {
  if (!api.tokensFile) return api;
  let text: string;
  try {
    text = await readFile(api.tokensFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return api;
    throw new ConfigError(api.tokensFile, `cannot read api.tokensFile of ${configFile}`, { cause: err });
  }
  const src = parseYamlSource(text, api.tokensFile, env);
  const listed =
    src.data === null || src.data === undefined ? [] : validate(src, tokenListSchema, 'API tokens');
  const errors: string[] = [];
  const seen = new Map<string, string>(api.tokens.map((t) => [t.name, 'api.tokens']));
  const ids = new Set(api.tokens.map((t) => parseTokenHash(t.tokenHash)?.id));
  listed.forEach((t, i) => {
    if (seen.has(t.name))
      errors.push(
        `${src.locate([i, 'name'])}: [${i}].name: '${t.name}' is also a token name in ${seen.get(t.name)}`,
      );
    seen.set(t.name, api.tokensFile ?? '');
    const id = parseTokenHash(t.tokenHash)?.id;
    if (ids.has(id))
      errors.push(`${src.locate([i, 'tokenHash'])}: [${i}].tokenHash: token id ${id} is listed twice`);
    ids.add(id);
  });
  if (errors.length > 0)
    throw new ConfigError(api.tokensFile, `invalid API tokens:\n  ${errors.join('\n  ')}`);
  return { ...api, tokens: [...api.tokens, ...listed] };
}
