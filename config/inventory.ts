/**
 * The inventory: sites and their devices, from one YAML file, validated completely at load.
 *
 *   credentials:                 # named SNMP credential sets; secrets may come from the environment
 *     public-v2: { version: 2c, community: "${NETMON_COMMUNITY:-public}" }
 *     ops-v3: { version: 3, user: netmon, level: authPriv, authProtocol: sha, authKey: "${NETMON_V3_AUTH}",
 *               privProtocol: aes, privKey: "${NETMON_V3_PRIV}" }
 *   defaults: { port: 161, credentials: public-v2, profile: auto }   # auto: detected (the default)
 *   sites:
 *     - id: pkm-petang-1            # lower-case letters, digits, dashes
 *       name: Puskesmas Petang I
 *       category: puskesmas         # kantor_camat kantor_desa kantor_lurah banjar lingkungan sd smp puskesmas pustu obyek_wisata
 *       kecamatan: Petang
 *       desa: Petang                # desa or kelurahan
 *       lat: -8.33
 *       lon: 115.23
 *       criticality: critical       # optional; default by category (collector/core/categories.ts)
 *       upstream: kd-petang         # optional: the site this one reaches the internet through
 *       devices:
 *         - { id: pkm-petang-1-rtr, role: router, host: 127.20.0.1, port: 1161, profile: mikrotik-routeros, credentials: ops-v3 }
 *         - { id: pkm-petang-1-ap1, role: ap, host: 127.20.0.2, profile: unifi-ap }   # parent: the site's router
 *         - { id: pkm-petang-1-env, role: sensor, mqtt: { username: pkm-petang-1-env, passwordHash: "scrypt$..." } }
 *         - { id: pkm-petang-1-isp, role: router, host: 127.20.0.9, ping: only }   # no SNMP: ping alone
 *
 * Every error names file:line:column, the path and the fix; all errors of a file are reported at once.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { CATEGORY_INFO } from '../collector/core/categories.ts';
import { ConfigError } from '../collector/core/errors.ts';
import { Secret } from '../collector/core/secret.ts';
import {
  CATEGORIES,
  CRITICALITIES,
  DEVICE_ROLES,
  type Device,
  type Inventory,
  type Site,
  type SnmpCredentials,
} from '../collector/core/types.ts';
import { MQTT_HASH_FORMAT, parseMqttPasswordHash } from './mqtt-password.ts';
import { AUTO_PROFILE, INVENTORY_PROFILES } from './profiles.ts';
import { allowedKeys, type KeysAt } from './hints.ts';
import { dotted, formatIssues, parseDuration, parseYamlSource, type YamlSource } from './yaml-source.ts';

/** Errors listed in one ConfigError; the rest are counted. */
const MAX_ERRORS = 20;

/** Bali, generously: catches swapped or sign-flipped coordinates. */
export const BOUNDS = { latMin: -9.0, latMax: -8.0, lonMin: 114.4, lonMax: 115.8 } as const;

const ID_RE = /^[a-z0-9][a-z0-9._-]*$/;
const id = z
  .string()
  .regex(ID_RE, { message: 'use lower-case letters, digits, dots, dashes or underscores' });
const secret = z.string().min(1);
const PORT_MSG = { message: 'expected a port number 1..65535' };
const port = z.number(PORT_MSG).int(PORT_MSG).min(1, PORT_MSG).max(65535, PORT_MSG);

const v2c = z.strictObject({ version: z.union([z.literal('2c'), z.literal('2')]), community: secret });
const v3 = z.strictObject({
  version: z.union([z.literal(3), z.literal('3')]),
  user: z.string().min(1),
  level: z.enum(['noAuthNoPriv', 'authNoPriv', 'authPriv']),
  authProtocol: z.enum(['md5', 'sha', 'sha224', 'sha256', 'sha384', 'sha512']).optional(),
  authKey: secret.min(8, { message: 'SNMPv3 keys must be at least 8 characters' }).optional(),
  privProtocol: z.enum(['des', 'aes', 'aes256b', 'aes256r']).optional(),
  privKey: secret.min(8, { message: 'SNMPv3 keys must be at least 8 characters' }).optional(),
});
const credentialsSchema = z.union([v2c, v3], {
  message: 'expected { version: 2c, community } or { version: 3, user, level, ... }',
});

const mqttSchema = z.strictObject({
  username: z.string().min(1).max(128),
  passwordHash: z.string().refine((h) => parseMqttPasswordHash(h) !== undefined, {
    message: `expected ${MQTT_HASH_FORMAT}; make one with hashMqttPassword() from config/mqtt-password.ts`,
  }),
  keepalive: z.union([z.string(), z.number()]).optional(),
});

const deviceSchema = z.strictObject({
  id,
  role: z.enum(DEVICE_ROLES),
  host: z.string().min(1).optional(),
  port: port.optional(),
  profile: z
    .enum(INVENTORY_PROFILES, { message: `expected one of ${INVENTORY_PROFILES.join(', ')}` })
    .optional(),
  credentials: z.string().optional(),
  parent: z.string().optional(),
  mqtt: mqttSchema.optional(),
  /** only: no SNMP agent, watched by ping alone; false: never pinged; absent/true: pinged beside SNMP. */
  ping: z
    .union([z.boolean(), z.literal('only')], { message: 'expected true, false or only (no SNMP agent)' })
    .optional(),
});

const siteSchema = z.strictObject({
  id,
  name: z.string().min(1),
  category: z.enum(CATEGORIES, { message: `expected one of ${CATEGORIES.join(', ')}` }),
  kecamatan: z.string().min(1),
  desa: z.string().min(1),
  lat: z
    .number()
    .min(BOUNDS.latMin, {
      message: `latitude must be ${BOUNDS.latMin}..${BOUNDS.latMax} (Bali; south is negative)`,
    })
    .max(BOUNDS.latMax, {
      message: `latitude must be ${BOUNDS.latMin}..${BOUNDS.latMax} (Bali; south is negative)`,
    }),
  lon: z
    .number()
    .min(BOUNDS.lonMin, { message: `longitude must be ${BOUNDS.lonMin}..${BOUNDS.lonMax} (Bali)` })
    .max(BOUNDS.lonMax, { message: `longitude must be ${BOUNDS.lonMin}..${BOUNDS.lonMax} (Bali)` }),
  criticality: z.enum(CRITICALITIES).optional(),
  upstream: z.string().optional(),
  // Validated one by one (deviceSchema), so one bad device hides no error of its neighbours.
  devices: z.array(z.unknown(), { message: 'expected a list of devices' }).default([]),
});

/** The top level; credentials and sites are validated one by one, so one bad site hides no other error. */
const inventorySchema = z.strictObject({
  credentials: z.record(z.string(), z.unknown()).default({}),
  defaults: z
    .strictObject({
      port: port.optional(),
      credentials: z.string().optional(),
      profile: z
        .enum(INVENTORY_PROFILES, { message: `expected one of ${INVENTORY_PROFILES.join(', ')}` })
        .optional(),
    })
    .default({}),
  sites: z.array(z.unknown()).min(1, { message: 'an inventory needs at least one site' }),
});

/** The keys allowed at a path of the file, through the pieces it is validated in (for "did you mean"). */
const inventoryKeys: KeysAt = (path, data) => {
  const [top, i, sub, j, ...rest] = path;
  if (top === 'sites' && i !== undefined) {
    if (sub === 'devices' && j !== undefined) return allowedKeys(deviceSchema, rest, data);
    return allowedKeys(siteSchema, path.slice(2), data);
  }
  if (top === 'credentials' && i !== undefined) return allowedKeys(credentialsSchema, path.slice(2), data);
  return allowedKeys(inventorySchema, path, data);
};

type RawSite = Omit<z.infer<typeof siteSchema>, 'devices'> & {
  readonly devices: z.infer<typeof deviceSchema>[];
  /** devices[k] is devices[deviceAt[k]] of the file. */
  readonly deviceAt: number[];
  /** False when some device of the site failed validation (checks that need all siblings are skipped). */
  readonly allDevices: boolean;
};

interface RawInventory {
  readonly credentials: Record<string, z.infer<typeof credentialsSchema>>;
  readonly defaults: z.infer<typeof inventorySchema>['defaults'];
  readonly sites: RawSite[];
  /** sites[k] is sites[at[k]] of the file (sites that failed validation are left out). */
  readonly at: number[];
  /** Names present in the file, valid or not: a reference to an invalid one is not reported twice. */
  readonly credentialNames: ReadonlySet<string>;
  readonly siteIds: ReadonlySet<string>;
  readonly deviceIds: ReadonlySet<string>;
}

const idOf = (v: unknown): string | undefined =>
  v !== null && typeof v === 'object' && typeof (v as { id?: unknown }).id === 'string'
    ? (v as { id: string }).id
    : undefined;

function toCredentials(c: z.infer<typeof credentialsSchema>): SnmpCredentials {
  if ('community' in c) return { version: '2c', community: new Secret(c.community) };
  return {
    version: '3',
    user: c.user,
    level: c.level,
    authProtocol: c.authProtocol,
    authKey: c.authKey === undefined ? undefined : new Secret(c.authKey),
    privProtocol: c.privProtocol,
    privKey: c.privKey === undefined ? undefined : new Secret(c.privKey),
  };
}

/** Parse and validate an inventory document. Pure: `source` names the file in errors. */
export function parseInventory(
  text: string,
  source: string,
  env: NodeJS.ProcessEnv = process.env,
): Inventory {
  if (text.length >= CHUNKED_FROM_BYTES) {
    const fast = parseInventoryChunked(text, source, env);
    if (fast) return fast;
  }
  return parseInventoryWhole(text, source, env);
}

/** The whole file as one YAML document with positions: every error names file:line:column. */
export function parseInventoryWhole(
  text: string,
  source: string,
  env: NodeJS.ProcessEnv = process.env,
): Inventory {
  return inventoryFrom(parseYamlSource(text, source, env));
}

/** Files this big are read site by site first (parseInventoryChunked): about 2,000 devices. */
export const CHUNKED_FROM_BYTES = 256 * 1024;
/** Sites parsed together in one YAML document on the chunked path. */
const SITES_PER_CHUNK = 64;

/** The chunked path met something only the whole-document path can judge (or word): it takes over. */
class WholeDocumentNeeded extends Error {}

/**
 * A large inventory read as its head (credentials, defaults) and its `sites:` items in chunks of
 * SITES_PER_CHUNK sites, each chunk a small YAML document of its own. The whole file as one YAML document
 * (the `yaml` CST and node tree, with positions) holds about 12 KB per device until it is read (1.2 GB
 * for 100,000 devices: issue #14); a chunk is garbage as soon as its sites are read, so the parse needs
 * a few MB beyond the data. The result is the same; only a valid file takes this path to the end:
 * anything it cannot split for sure (anchors, aliases, block scalars, tabs, directives, a flow `sites:`),
 * any YAML or schema error, or a chunk that does not read back as the items it was cut into, returns
 * undefined and the whole document is parsed as before, so every error keeps its file:line:column.
 * Exported for the test that compares both paths.
 */
export function parseInventoryChunked(
  text: string,
  source: string,
  env: NodeJS.ProcessEnv = process.env,
): Inventory | undefined {
  const split = splitSites(text);
  if (!split) return undefined;
  try {
    const head = parseYamlSource(split.head, source, env).data ?? {};
    if (typeof head !== 'object' || Array.isArray(head) || 'sites' in head) return undefined;
    const sites: unknown[] = [];
    for (let i = 0; i < split.items.length; i += SITES_PER_CHUNK) {
      const from = split.items[i] ?? 0;
      const to = split.items[i + SITES_PER_CHUNK] ?? split.end;
      const chunk = parseYamlSource(text.slice(from, to), source, env).data;
      const want = Math.min(SITES_PER_CHUNK, split.items.length - i);
      if (!Array.isArray(chunk) || chunk.length !== want) return undefined;
      for (const site of chunk) sites.push(site);
    }
    const whole: YamlSource = {
      file: source,
      data: { ...head, sites },
      locate: () => {
        throw new WholeDocumentNeeded();
      },
    };
    return inventoryFrom(whole);
  } catch (err) {
    if (err instanceof WholeDocumentNeeded || err instanceof ConfigError) return undefined;
    throw err;
  }
}

/**
 * Where the items of a top-level block `sites:` sequence start (offsets of their `- ` lines), where the
 * sequence ends, and the rest of the file without it; undefined when the file is not plainly of that
 * shape (see parseInventoryChunked).
 */
function splitSites(text: string): { head: string; items: number[]; end: number } | undefined {
  if (
    text.includes('\t') ||
    /(^|[\s[{,])[&*][^\s,\]}]/.test(text) ||
    /^(%|---|\.\.\.)/m.test(text) ||
    /[|>][+-]?[0-9]?[ ]*(#.*)?$/m.test(text)
  )
    return undefined;
  const key = /^sites:[ ]*(#.*)?$/m.exec(text);
  if (!key) return undefined;
  let pos = key.index + key[0].length + 1;
  const items: number[] = [];
  let indent = -1;
  let end = text.length;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const lineEnd = nl < 0 ? text.length : nl;
    let i = pos;
    while (i < lineEnd && text.charCodeAt(i) === 0x20) i++;
    const blank = i === lineEnd || text[i] === '#' || text[i] === '\r';
    if (!blank) {
      const col = i - pos;
      const dash = text[i] === '-' && (i + 1 === lineEnd || text[i + 1] === ' ' || text[i + 1] === '\r');
      if (indent < 0) {
        if (!dash) return undefined;
        indent = col;
      }
      if (dash && col === indent) items.push(pos);
      else if (col <= indent) {
        end = pos;
        break;
      }
    }
    pos = lineEnd + 1;
  }
  if (items.length === 0) return undefined;
  return { head: text.slice(0, key.index) + text.slice(end), items, end };
}

/** Validate the data of an inventory document (and resolve its references). */
function inventoryFrom(src: YamlSource): Inventory {
  const source = src.file;
  const r = inventorySchema.safeParse(src.data ?? {});
  if (!r.success)
    throw new ConfigError(
      source,
      `invalid inventory:\n  ${formatIssues(src, r.error.issues, inventoryKeys).join('\n  ')}`,
    );
  const issues: z.core.$ZodIssue[] = [];
  const prefixed = (prefix: PropertyKey[], list: readonly z.core.$ZodIssue[]) => {
    for (const issue of list) issues.push({ ...issue, path: [...prefix, ...issue.path] });
  };
  const credentials: RawInventory['credentials'] = {};
  for (const [name, c] of Object.entries(r.data.credentials)) {
    const cr = credentialsSchema.safeParse(c);
    if (cr.success) credentials[name] = cr.data;
    else prefixed(['credentials', name], cr.error.issues);
  }
  const sites: RawInventory['sites'] = [];
  const at: number[] = [];
  const siteIds = new Set<string>();
  const deviceIds = new Set<string>();
  // Duplicate ids are found over the whole file, valid entries or not.
  const firstSite = new Map<string, number>();
  const firstDevice = new Map<string, string>();
  const duplicate = (path: PropertyKey[], message: string): void => {
    issues.push({ code: 'custom', path, message, input: undefined });
  };
  r.data.sites.forEach((raw, i) => {
    const id = idOf(raw);
    if (id !== undefined) {
      siteIds.add(id);
      const first = firstSite.get(id);
      if (first !== undefined)
        duplicate(
          ['sites', i, 'id'],
          `duplicate site id '${id}' (also sites[${first}]); every site needs its own id`,
        );
      else firstSite.set(id, i);
    }
    const sr = siteSchema.safeParse(raw);
    if (!sr.success) prefixed(['sites', i], sr.error.issues);
    const rawDevices = (raw as { devices?: unknown } | null)?.devices;
    const devices: z.infer<typeof deviceSchema>[] = [];
    const deviceAt: number[] = [];
    let allDevices = true;
    if (Array.isArray(rawDevices))
      rawDevices.forEach((d: unknown, j) => {
        const did = idOf(d);
        if (did !== undefined) {
          deviceIds.add(did);
          const first = firstDevice.get(did);
          if (first !== undefined)
            duplicate(
              ['sites', i, 'devices', j, 'id'],
              `duplicate device id '${did}' (also ${first}); every device needs its own id`,
            );
          else firstDevice.set(did, `sites[${i}].devices[${j}]`);
        }
        const dr = deviceSchema.safeParse(d);
        if (dr.success) {
          devices.push(dr.data);
          deviceAt.push(j);
        } else {
          allDevices = false;
          prefixed(['sites', i, 'devices', j], dr.error.issues);
        }
      });
    if (sr.success) {
      sites.push({ ...sr.data, devices, deviceAt, allDevices });
      at.push(i);
    }
  });
  return resolve(
    {
      credentials,
      defaults: r.data.defaults,
      sites,
      at,
      credentialNames: new Set(Object.keys(r.data.credentials)),
      siteIds,
      deviceIds,
    },
    src,
    formatIssues(src, issues, inventoryKeys),
  );
}

export async function loadInventory(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      file,
      `cannot read the inventory (${(err as NodeJS.ErrnoException).code ?? 'error'}); generate one with: npx tsx scripts/generate-inventory.ts --out ${file}`,
      { cause: err },
    );
  }
  return parseInventory(text, file, env);
}

function resolve(raw: RawInventory, src: YamlSource, schemaErrors: readonly string[]): Inventory {
  const errors: string[] = [...schemaErrors];
  let more = 0;
  const err = (path: PropertyKey[], msg: string): void => {
    if (errors.length < MAX_ERRORS) errors.push(`${src.locate(path)}: ${dotted(path)}: ${msg}`);
    else more++;
  };
  const creds = new Map(Object.entries(raw.credentials).map(([k, v]) => [k, toCredentials(v)]));
  for (const [name, c] of Object.entries(raw.credentials)) {
    if (!('community' in c)) {
      if (c.level !== 'noAuthNoPriv' && (!c.authProtocol || !c.authKey))
        err(['credentials', name], `level ${c.level} needs authProtocol and authKey`);
      if (c.level === 'authPriv' && (!c.privProtocol || !c.privKey))
        err(['credentials', name], 'level authPriv needs privProtocol and privKey');
    }
  }
  const credName = (p: PropertyKey[], name: string | undefined): SnmpCredentials | undefined => {
    if (name === undefined) return undefined;
    const c = creds.get(name);
    if (!c && !raw.credentialNames.has(name))
      err(
        p,
        `unknown credentials '${name}' (defined: ${[...creds.keys()].join(', ') || 'none'}; add it under credentials:)`,
      );
    return c;
  };
  const defaultCreds = credName(['defaults', 'credentials'], raw.defaults.credentials);

  // Duplicates were reported over the whole file (parseInventory); the first of an id is the one used.
  const siteIds = new Map<string, number>();
  raw.sites.forEach((s, i) => {
    if (!siteIds.has(s.id)) siteIds.set(s.id, i);
  });
  const mqttUsers = new Map<string, string>();
  const endpoints = new Map<string, string>();
  const sites: Site[] = [];
  const devices: Device[] = [];

  raw.sites.forEach((s, i) => {
    if (s.upstream !== undefined) {
      if (!siteIds.has(s.upstream)) {
        if (!raw.siteIds.has(s.upstream))
          err(
            ['sites', raw.at[i] ?? i, 'upstream'],
            `unknown site '${s.upstream}'; expected the id of a site in this file`,
          );
      } else if (s.upstream === s.id)
        err(['sites', raw.at[i] ?? i, 'upstream'], 'a site cannot be its own upstream; remove upstream:');
    }
    sites.push({
      id: s.id,
      name: s.name,
      category: s.category,
      kecamatan: s.kecamatan,
      desa: s.desa,
      lat: s.lat,
      lon: s.lon,
      criticality: s.criticality ?? CATEGORY_INFO[s.category].criticality,
      upstream: s.upstream,
    });
    const routers = s.devices.filter((d) => d.role === 'router');
    const siteRouter = routers[0]?.id;
    s.devices.forEach((d, k) => {
      const p = ['sites', raw.at[i] ?? i, 'devices', s.deviceAt[k] ?? k];
      let keepaliveS: number | undefined;
      if (d.mqtt) {
        if (mqttUsers.has(d.mqtt.username))
          err(
            [...p, 'mqtt', 'username'],
            `MQTT username '${d.mqtt.username}' is also used by ${mqttUsers.get(d.mqtt.username)}`,
          );
        mqttUsers.set(d.mqtt.username, d.id);
        if (d.mqtt.keepalive !== undefined) {
          const ms = parseDuration(d.mqtt.keepalive);
          if (ms === undefined || ms < 1000)
            err([...p, 'mqtt', 'keepalive'], "expected a duration of 1s or more, e.g. '30s'");
          else keepaliveS = Math.round(ms / 1000);
        }
      }
      const pingOnly = d.ping === 'only';
      if (d.role === 'sensor') {
        if (!d.mqtt) err(p, 'a sensor speaks only MQTT: give it mqtt: { username, passwordHash }');
        if (d.credentials) err([...p, 'credentials'], 'a sensor is not polled over SNMP: remove credentials');
        if (d.ping !== undefined) err([...p, 'ping'], 'a sensor has no address to ping: remove ping:');
      } else if (!d.host) {
        err(p, `a ${d.role} needs host: (its management address)`);
      }
      if (pingOnly && d.credentials)
        err(
          [...p, 'credentials'],
          'a ping-only device has no SNMP agent: remove credentials (or ping: only)',
        );
      const snmp =
        d.role === 'sensor' || pingOnly
          ? undefined
          : (credName([...p, 'credentials'], d.credentials) ?? defaultCreds);
      if (
        d.role !== 'sensor' &&
        !pingOnly &&
        !snmp &&
        !d.credentials &&
        raw.defaults.credentials === undefined
      )
        err(
          p,
          'no SNMP credentials: set credentials: here or defaults.credentials (ping: only for a device without SNMP)',
        );
      const parent = d.parent ?? (d.role === 'router' ? undefined : siteRouter);
      if (d.role === 'ap' && parent === undefined && s.allDevices)
        err(p, 'an ap needs a router: add the site router to devices: or set parent: <router id>');
      const host = d.host ?? '';
      const devPort = d.role === 'sensor' && !d.host ? 0 : (d.port ?? raw.defaults.port ?? 161);
      if (host) {
        const ep = `${host}:${devPort}`;
        if (endpoints.has(ep))
          err(
            [...p, 'host'],
            `${ep} is also the address of ${endpoints.get(ep)}; give each device its own host or port`,
          );
        endpoints.set(ep, d.id);
      }
      devices.push({
        id: d.id,
        siteId: s.id,
        role: d.role,
        host,
        port: devPort,
        // `auto` (the default): detected from sysObjectID/sysDescr (collector/sources/snmp/detect.ts).
        profile: d.profile ?? raw.defaults.profile ?? AUTO_PROFILE,
        snmp,
        parent,
        mqtt: d.mqtt
          ? { username: d.mqtt.username, passwordHash: d.mqtt.passwordHash, keepaliveS }
          : undefined,
        ...(pingOnly ? { ping: 'only' as const } : d.ping === false ? { ping: 'off' as const } : {}),
      });
    });
  });

  // Parents: must exist and be routers; no loops.
  const byId = new Map(devices.map((d) => [d.id, d]));
  raw.sites.forEach((s, i) =>
    s.devices.forEach((d, k) => {
      const j = s.deviceAt[k] ?? k;
      if (d.parent === undefined) return;
      const parent = byId.get(d.parent);
      if (!parent) {
        if (!raw.deviceIds.has(d.parent))
          err(
            ['sites', raw.at[i] ?? i, 'devices', j, 'parent'],
            `unknown device '${d.parent}'; expected the id of a router`,
          );
      } else if (parent.role !== 'router')
        err(
          ['sites', raw.at[i] ?? i, 'devices', j, 'parent'],
          `'${d.parent}' is ${parent.role === 'ap' ? 'an' : 'a'} ${parent.role}; a parent must be a router`,
        );
      else if (parent.id === d.id)
        err(
          ['sites', raw.at[i] ?? i, 'devices', j, 'parent'],
          'a device cannot be its own parent; name its router',
        );
    }),
  );
  // Upstream chains must end. A cycle is reported once, at its first site in the file; a site that merely
  // leads into a cycle is not on it and gets no error of its own (a self-upstream was reported above).
  const upstreamOf = new Map(sites.map((s) => [s.id, s.upstream]));
  const inReportedCycle = new Set<string>();
  sites.forEach((s, i) => {
    const seen = [s.id];
    let next = s.upstream;
    while (next !== undefined && upstreamOf.has(next) && !seen.includes(next)) {
      seen.push(next);
      next = upstreamOf.get(next);
    }
    if (next !== s.id || seen.length < 2 || inReportedCycle.has(s.id)) return;
    for (const id of seen) inReportedCycle.add(id);
    err(
      ['sites', raw.at[i] ?? i, 'upstream'],
      `upstream cycle: ${[...seen, s.id].join(' → ')}; one of these sites must have its own uplink (no upstream:)`,
    );
  });
  if (more > 0) errors.push(`... and ${more} more`);
  if (errors.length > 0) throw new ConfigError(src.file, `invalid inventory:\n  ${errors.join('\n  ')}`);
  return { sites, devices };
}
