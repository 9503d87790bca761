/**
 * The monitor's configuration (config/netmon.example.yaml is the documented example), validated once at
 * load into a MonitorConfig whose values are ready to use: durations in ms, sizes in bytes, paths
 * absolute, secrets wrapped, the inventory loaded. Nothing downstream re-checks it.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../collector/core/errors.ts';
import { Secret } from '../collector/core/secret.ts';
import type { OnCallPolicy } from '../collector/alerting/oncall.ts';
import type { FlapPolicy } from '../collector/alerting/alert.ts';
import type { MaintenanceWindow } from '../collector/alerting/scope.ts';
import { maintenanceBody } from '../collector/http/bodies.ts';
import { apiSchema, tokenListSchema, type ApiConfig } from './api.ts';
import { feedKeysSchema } from './feed-keys.ts';
import type { FeedKeyConfig } from '../collector/feeds/keys.ts';
import { parseTokenHash } from '../collector/http/auth.ts';
import { channelsSchema, type ChannelConfig } from './channels.ts';
import { consoleSchema, consoleSettings, type ConsoleConfig } from './console.ts';
import { CATEGORIES, CRITICALITIES, type Category, type Inventory } from '../collector/core/types.ts';
import { defaultTargets } from '../collector/reports/report.ts';
import { loadInventory } from './inventory.ts';
import { pingSchema, type PingConfig } from './ping.ts';
import { trapsSchema, type TrapsConfig } from './traps.ts';
import { keysOf } from './hints.ts';
import { formatIssues, parseDuration, parseSize, parseYamlSource, validate } from './yaml-source.ts';

export type InfluxConfig =
  | {
      readonly api: 'v1';
      readonly url: string;
      readonly database: string;
      readonly username?: string | undefined;
      readonly password?: Secret | undefined;
      readonly retentionPolicy?: string | undefined;
      readonly timeoutMs: number;
      /** Set up the raw and rollup policies and the rollup CQs at start; absent: left to the admin. */
      readonly retention?: { readonly rawDuration: string; readonly rollupDuration: string } | undefined;
    }
  | {
      readonly api: 'v2';
      readonly url: string;
      readonly org: string;
      readonly bucket: string;
      readonly token?: Secret | undefined;
      readonly timeoutMs: number;
    };

export interface MonitorConfig {
  readonly inventoryFile: string;
  readonly inventory: Inventory;
  readonly influx: InfluxConfig;
  readonly writer: {
    readonly batchSize: number;
    readonly flushIntervalMs: number;
    readonly bufferDir: string;
    readonly maxBufferBytes: number;
  };
  readonly snmp: {
    readonly intervalMs: number;
    readonly jitterMs: number;
    readonly timeoutMs: number;
    readonly retries: number;
    readonly concurrency: number;
    readonly maxRepetitions: number;
  };
  readonly health: { readonly downAfterFailures: number; readonly recheckMs: number };
  /** Durable incidents (SQLite): survives restarts, never pages twice. */
  readonly incidents: { readonly file: string };
  readonly alerts: {
    readonly webhooks: readonly {
      readonly name: string;
      readonly url: string;
      readonly headers: Readonly<Record<string, Secret>>;
    }[];
    readonly linkBase?: string | undefined;
    /** Notification channels besides the webhooks (config/channels.ts); paths are absolute. */
    readonly channels?: readonly ChannelConfig[] | undefined;
    /** Severity overrides, clocks, contacts and routes (collector/alerting/oncall.ts). */
    readonly oncall?: OnCallPolicy | undefined;
    readonly clockCheckMs?: number | undefined;
    /** Mass-outage correlation per kecamatan (collector/alerting/area.ts). */
    readonly area?:
      { readonly windowMs: number; readonly minSites: number; readonly groupWaitMs: number } | undefined;
    /** Recovery settling and flap detection (collector/alerting/alert.ts); absent: recoveries at once. */
    readonly flapping?: FlapPolicy | undefined;
  };
  /** Maintenance windows declared in the config (read-only over the API; more can be added there). */
  readonly maintenance?: readonly MaintenanceWindow[] | undefined;
  readonly http: { readonly listen: { readonly host: string; readonly port: number } };
  /** Tokens of the HTTP API and how the feeds are published; absent: no tokens, /api/v1 refuses all. */
  readonly api?: ApiConfig | undefined;
  /** The web console's sign-in, sessions and live events (config/console.ts); absent: tokens only. */
  readonly console?: ConsoleConfig | undefined;
  /** Availability targets per category, percent (collector/reports/report.ts). */
  readonly reports?: { readonly targets: Readonly<Record<Category, number>> } | undefined;
  /** The CAP and GeoJSON feeds for BPBD (collector/feeds/); absent: defaults below. */
  readonly feeds?: FeedsConfig | undefined;
  /** The public status page (/status, /status.json; collector/status/); absent: on, with defaults. */
  readonly status?: StatusPageConfig | undefined;
  readonly log: { readonly level: 'debug' | 'info' | 'warn' | 'error' };
  /** MQTT telemetry and liveness; absent: SNMP only. */
  readonly mqtt?: MqttConfig | undefined;
  /** ICMP through fping (config/ping.ts); absent: no ping. */
  readonly ping?: PingConfig | undefined;
  /** The SNMP trap receiver (config/traps.ts); absent: no traps. */
  readonly traps?: TrapsConfig | undefined;
}

export interface FeedsConfig {
  /** CAP `<sender>`: globally unique, no spaces (e.g. netmon@kominfo.badungkab.go.id). */
  readonly sender: string;
  readonly senderName: string;
  /** How long a resolved outage keeps its all-clear in the CAP feed. */
  readonly recentMs: number;
  /** Feed keys accepted as `?key=` on /feeds (config/feed-keys.ts); only their hashes. */
  readonly keys?: readonly FeedKeyConfig[] | undefined;
  /** CAP receivers each notification is POSTed to (BPBD's integrated picture). */
  readonly push: readonly {
    readonly name: string;
    readonly url: string;
    readonly headers: Readonly<Record<string, Secret>>;
  }[];
}

export interface StatusPageConfig {
  /** Serve /status and /status.json, without a token. */
  readonly enabled: boolean;
  /** How often the page is rebuilt from the monitor's state (and soon after each state change). */
  readonly rebuildMs: number;
  /** How often the 30- and 90-day availability is recomputed from InfluxDB (1.x API only). */
  readonly availabilityRefreshMs: number;
}

export interface MqttConfig {
  /** embedded: the monitor runs the aedes broker; external: it connects to one (e.g. Mosquitto). */
  readonly broker:
    | {
        readonly kind: 'embedded';
        readonly host: string;
        readonly port: number;
        readonly allowAnonymous: boolean;
        readonly tls?: { readonly certFile: string; readonly keyFile: string } | undefined;
      }
    | { readonly kind: 'external'; readonly url: string };
  /** The collector's own account on the broker. */
  readonly username: string;
  readonly password: Secret;
  readonly graceMs: number;
  /** Per-device message budget (collector/sources/mqtt/rate-limit.ts); absent: 10/s, bursts of 50. */
  readonly rateLimit?: { readonly perSecond: number; readonly burst: number } | undefined;
  /** How far a telemetry `ts` may be from the receive time (broker/payloads.ts); absent: 30 d, 5 min. */
  readonly timestampWindow?: { readonly maxAgeMs: number; readonly maxAheadMs: number } | undefined;
}

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
/** Named HTTP endpoints with secret headers: alerts.webhooks and feeds.push. */
const httpTargets = z
  .array(
    z.strictObject({
      name: z.string().regex(/^[a-z0-9-]+$/, { message: 'lower-case letters, digits and dashes' }),
      url,
      headers: z.record(z.string(), z.string()).default({}),
    }),
  )
  .default([]);
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

const influxSchema = z.discriminatedUnion(
  'api',
  [
    z.strictObject({
      api: z.literal('v1'),
      url,
      database: z.string().min(1),
      username: z.string().optional(),
      password: z.string().optional(),
      retentionPolicy: z.string().optional(),
      timeout: duration('10s'),
      /** Raw samples for a month, hourly rollups for years (collector/sinks/retention.ts). */
      retention: z
        .strictObject({
          manage: z.boolean().default(true),
          raw: influxDuration('30d'),
          rollup: influxDuration('1825d'),
        })
        .prefault({}),
    }),
    z.strictObject({
      api: z.literal('v2'),
      url,
      org: z.string().min(1),
      bucket: z.string().min(1),
      token: z.string().optional(),
      timeout: duration('10s'),
    }),
  ],
  { message: "influx.api must be 'v1' (InfluxDB 1.x API, the default) or 'v2' (/api/v2/write)" },
);

const configSchema = z.strictObject({
  inventory: z.string().min(1, { message: 'path of the inventory YAML' }),
  influx: influxSchema,
  writer: z
    .strictObject({
      batchSize: int(1, 100_000, 5000),
      flushInterval: duration('1s'),
      bufferDir: z.string().default('var/buffer'),
      maxBufferSize: size('256MiB'),
    })
    .prefault({}),
  snmp: z
    .strictObject({
      interval: duration('60s'),
      jitter: duration('10s'),
      timeout: duration('2s'),
      retries: int(0, 10, 1),
      concurrency: int(1, 10_000, 256),
      maxRepetitions: int(1, 200, 25),
    })
    .prefault({}),
  health: z.strictObject({ downAfterFailures: int(1, 100, 2), recheck: duration('10s') }).prefault({}),
  incidents: z.strictObject({ file: z.string().min(1).default('var/incidents.db') }).prefault({}),
  alerts: z
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
      contacts: z
        .array(
          z.strictObject({
            name: z.string().regex(/^[a-z0-9-]+$/, { message: 'lower-case letters, digits and dashes' }),
            channels: z.array(z.string().min(1)).min(1, { message: 'a contact needs at least one channel' }),
          }),
        )
        .default([]),
      routes: z
        .array(
          z.strictObject({
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
          }),
        )
        .default([]),
      area: z
        .strictObject({
          window: duration('60s'),
          minSites: int(2, 10_000, 30),
          groupWait: duration('20s'),
        })
        .prefault({}),
      /** A recovery counts once stable for `settle`; `flaps` re-downs before that make it flapping. */
      flapping: z.strictObject({ settle: duration('2m'), flaps: int(1, 100, 2) }).prefault({}),
    })
    .prefault({}),
  maintenance: z.array(maintenanceBody).default([]),
  reports: z
    .strictObject({
      /** Per category, e.g. { puskesmas: 99.9 }; the rest by criticality (99.5 critical ... 98 low). */
      targets: z
        .partialRecord(
          z.enum(CATEGORIES),
          z.number().min(0, { message: 'a percentage 0..100' }).max(100, { message: 'a percentage 0..100' }),
        )
        .default({}),
    })
    .prefault({}),
  api: apiSchema.prefault({}),
  console: consoleSchema.prefault({}),
  feeds: z
    .strictObject({
      sender: z
        .string()
        .regex(/^[^\s,<&]+$/, { message: 'no spaces, commas, < or & (CAP 1.2 sender)' })
        .default('netmon@kominfo.badungkab.go.id'),
      senderName: z.string().min(1).default('Diskominfo Kabupaten Badung / Badung Communications Office'),
      recent: duration('24h'),
      push: httpTargets,
      keys: feedKeysSchema.default([]),
    })
    .prefault({}),
  status: z
    .strictObject({
      enabled: z.boolean().default(true),
      rebuild: duration('5s').refine((ms) => ms >= 500, {
        message: 'at least 500ms (the page is served from a cache; rebuilding more often only costs CPU)',
      }),
      availabilityRefresh: duration('10m').refine((ms) => ms >= 10_000, {
        message: 'at least 10s (each refresh reads 90 days from InfluxDB)',
      }),
    })
    .prefault({}),
  http: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: listenPort(8080),
      allowNonLoopback: z.boolean().default(false),
    })
    .prefault({}),
  log: z.strictObject({ level: z.enum(['debug', 'info', 'warn', 'error']).default('info') }).prefault({}),
  mqtt: z
    .strictObject({
      broker: z.enum(['embedded', 'external']).default('embedded'),
      host: z.string().default('127.0.0.1'),
      port: listenPort(1883),
      url: z
        .string()
        .regex(/^mqtts?:\/\//, { message: 'expected mqtt://host:port or mqtts://host:port' })
        .optional(),
      allowAnonymous: z.boolean().default(false),
      tls: z.strictObject({ cert: z.string(), key: z.string() }).optional(),
      username: z.string().min(1).default('netmon-collector'),
      password: z.string().min(8, { message: 'at least 8 characters' }),
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
    .optional(),
  ping: pingSchema.optional(),
  traps: trapsSchema.optional(),
});

/** A MonitorConfig before the inventory it names is loaded: what parseConfig returns. */
export type MonitorSettings = Omit<MonitorConfig, 'inventory'>;

/**
 * Validate a config document. Pure: no file is read (loadConfig then loads the inventory); `source` names
 * the file in errors and relative paths are resolved against its directory.
 */
export function parseConfig(
  text: string,
  source: string,
  env: NodeJS.ProcessEnv = process.env,
): MonitorSettings {
  const src = parseYamlSource(text, source, env);
  const r = configSchema.safeParse(src.data ?? {});
  if (!r.success) {
    throw new ConfigError(
      source,
      `invalid config:\n  ${formatIssues(src, r.error.issues, keysOf(configSchema)).join('\n  ')}`,
    );
  }
  const c = r.data;
  const errors: string[] = [];
  if (!c.http.allowNonLoopback && !LOOPBACK.test(c.http.host)) {
    errors.push(
      `${src.locate(['http', 'host'])}: http.host: ${c.http.host} is not a loopback address; serve the API through a TLS proxy (tokens travel in headers): keep it on 127.0.0.1 or set http.allowNonLoopback: true behind one`,
    );
  }
  if (c.snmp.jitter >= c.snmp.interval) {
    errors.push(`${src.locate(['snmp', 'jitter'])}: snmp.jitter must be smaller than snmp.interval`);
  }
  if (c.mqtt?.broker === 'external' && !c.mqtt.url) {
    errors.push(
      `${src.locate(['mqtt', 'broker'])}: mqtt.url is required with broker: external (e.g. mqtt://127.0.0.1:1883)`,
    );
  }
  const names = c.alerts.webhooks.map((w) => w.name);
  names.forEach((name, i) => {
    if (names.indexOf(name) !== i)
      errors.push(
        `${src.locate(['alerts', 'webhooks', i, 'name'])}: alerts.webhooks[${i}].name: '${name}' is also the name of alerts.webhooks[${names.indexOf(name)}]; give each webhook its own name`,
      );
  });
  errors.push(...checkOnCall(c.alerts, (path) => src.locate(path)));
  const windowNames = c.maintenance.map((w) => w.name);
  windowNames.forEach((name, i) => {
    if (windowNames.indexOf(name) !== i)
      errors.push(
        `${src.locate(['maintenance', i, 'name'])}: maintenance[${i}].name: '${name}' is also the name of maintenance[${windowNames.indexOf(name)}]; give each window its own name`,
      );
  });
  if (errors.length > 0) throw new ConfigError(source, `invalid config:\n  ${errors.join('\n  ')}`);

  const base = dirname(resolve(source));
  const inventoryFile = resolve(base, env.NETMON_INVENTORY || c.inventory);
  const influx: InfluxConfig =
    c.influx.api === 'v1'
      ? {
          api: 'v1',
          url: c.influx.url,
          database: c.influx.database,
          username: c.influx.username,
          password: c.influx.password === undefined ? undefined : new Secret(c.influx.password),
          retentionPolicy: c.influx.retentionPolicy,
          timeoutMs: c.influx.timeout,
          retention: c.influx.retention.manage
            ? { rawDuration: c.influx.retention.raw, rollupDuration: c.influx.retention.rollup }
            : undefined,
        }
      : {
          api: 'v2',
          url: c.influx.url,
          org: c.influx.org,
          bucket: c.influx.bucket,
          token: c.influx.token === undefined ? undefined : new Secret(c.influx.token),
          timeoutMs: c.influx.timeout,
        };
  return {
    inventoryFile,
    influx,
    writer: {
      batchSize: c.writer.batchSize,
      flushIntervalMs: c.writer.flushInterval,
      bufferDir: resolve(base, c.writer.bufferDir),
      maxBufferBytes: c.writer.maxBufferSize,
    },
    snmp: {
      intervalMs: c.snmp.interval,
      jitterMs: c.snmp.jitter,
      timeoutMs: c.snmp.timeout,
      retries: c.snmp.retries,
      concurrency: c.snmp.concurrency,
      maxRepetitions: c.snmp.maxRepetitions,
    },
    health: { downAfterFailures: c.health.downAfterFailures, recheckMs: c.health.recheck },
    incidents: { file: resolve(base, c.incidents.file) },
    alerts: {
      webhooks: c.alerts.webhooks.map(withSecretHeaders),
      linkBase: c.alerts.linkBase,
      channels: c.alerts.channels.map((ch) =>
        (ch.type === 'email' || ch.type === 'mqtt') && ch.caFile
          ? { ...ch, caFile: resolve(base, ch.caFile) }
          : ch.type === 'telegram' && ch.stateFile
            ? { ...ch, stateFile: resolve(base, ch.stateFile) }
            : ch,
      ),
      oncall: {
        severityByCategory: c.alerts.severity,
        clocksMs: c.alerts.clocks,
        contacts: c.alerts.contacts.map((k) => ({
          name: k.name,
          channels: k.channels.map((ch) => channelNotifierName(c.alerts, ch)),
        })),
        routes: c.alerts.routes,
      },
      clockCheckMs: c.alerts.clockCheck,
      area: {
        windowMs: c.alerts.area.window,
        minSites: c.alerts.area.minSites,
        groupWaitMs: c.alerts.area.groupWait,
      },
      flapping: { settleMs: c.alerts.flapping.settle, flapThreshold: c.alerts.flapping.flaps },
    },
    reports: { targets: { ...defaultTargets(), ...c.reports.targets } },
    maintenance: c.maintenance.map((w, i): MaintenanceWindow => ({
      ...w,
      id: `config-${i + 1}`,
      source: 'config',
    })),
    http: { listen: { host: c.http.host, port: c.http.port } },
    api: { ...c.api, tokensFile: c.api.tokensFile && resolve(base, c.api.tokensFile) },
    console: consoleSettings(c.console, base),
    feeds: {
      sender: c.feeds.sender,
      senderName: c.feeds.senderName,
      recentMs: c.feeds.recent,
      push: c.feeds.push.map(withSecretHeaders),
      keys: c.feeds.keys,
    },
    status: {
      enabled: c.status.enabled,
      rebuildMs: c.status.rebuild,
      availabilityRefreshMs: c.status.availabilityRefresh,
    },
    log: { level: c.log.level },
    mqtt: c.mqtt && {
      broker:
        c.mqtt.broker === 'external'
          ? { kind: 'external', url: c.mqtt.url ?? '' }
          : {
              kind: 'embedded',
              host: c.mqtt.host,
              port: c.mqtt.port,
              allowAnonymous: c.mqtt.allowAnonymous,
              tls: c.mqtt.tls && {
                certFile: resolve(base, c.mqtt.tls.cert),
                keyFile: resolve(base, c.mqtt.tls.key),
              },
            },
      username: c.mqtt.username,
      password: new Secret(c.mqtt.password),
      graceMs: c.mqtt.grace,
      rateLimit: c.mqtt.rateLimit,
      timestampWindow: { maxAgeMs: c.mqtt.maxTelemetryAge, maxAheadMs: c.mqtt.maxClockAhead },
    },
    ping: c.ping,
    traps: c.traps,
  };
}

type AlertsSection = z.infer<typeof configSchema>['alerts'];

function withSecretHeaders(t: z.output<typeof httpTargets>[number]) {
  const headers = Object.fromEntries(Object.entries(t.headers).map(([k, v]) => [k, new Secret(v)]));
  return { name: t.name, url: t.url, headers };
}

/** The notifier a contact's channel name stands for: `<type>:<name>` (alerts.webhooks: `webhook:<name>`). */
function channelNotifierName(a: AlertsSection, name: string): string {
  const ch = a.channels.find((c) => c.name === name);
  if (ch) return `${ch.type}:${name}`;
  return a.webhooks.some((w) => w.name === name) ? `webhook:${name}` : name;
}

/** Contacts name configured channels, routes name contacts, names are unique. */
function checkOnCall(a: AlertsSection, locate: (path: (string | number)[]) => string): string[] {
  const errors: string[] = [];
  const channels = new Set([...a.webhooks.map((w) => w.name), ...a.channels.map((c) => c.name)]);
  a.channels.forEach((c, i) => {
    if (a.webhooks.some((w) => w.name === c.name))
      errors.push(
        `${locate(['alerts', 'channels', i, 'name'])}: alerts.channels[${i}].name: '${c.name}' is also the name of a webhook in alerts.webhooks; give each channel its own name`,
      );
  });
  const contacts = a.contacts.map((k) => k.name);
  a.contacts.forEach((k, i) => {
    if (contacts.indexOf(k.name) !== i)
      errors.push(
        `${locate(['alerts', 'contacts', i, 'name'])}: alerts.contacts[${i}].name: '${k.name}' is used twice`,
      );
    k.channels.forEach((ch, j) => {
      if (!channels.has(ch))
        errors.push(
          `${locate(['alerts', 'contacts', i, 'channels', j])}: alerts.contacts[${i}].channels[${j}]: no channel named '${ch}' (configured: ${[...channels].join(', ') || 'none'})`,
        );
    });
  });
  a.routes.forEach((r, i) => {
    r.escalation.forEach((name, j) => {
      if (!contacts.includes(name))
        errors.push(
          `${locate(['alerts', 'routes', i, 'escalation', j])}: alerts.routes[${i}].escalation[${j}]: no contact named '${name}' (contacts: ${contacts.join(', ') || 'none'})`,
        );
    });
  });
  if (a.routes.length > 0 && a.contacts.length === 0)
    errors.push(`${locate(['alerts', 'routes'])}: alerts.routes need alerts.contacts to route to`);
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
  const settings = parseConfig(text, file, env);
  const api = settings.api && (await withTokensFile(settings.api, file, env));
  return { ...settings, api, inventory: await loadInventory(settings.inventoryFile, env) };
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
