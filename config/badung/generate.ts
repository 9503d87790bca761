/**
 * The Badung inventory: exactly the 987 sites of ../shared/reference/badung.md by category, placed in the
 * real 6 kecamatan and 62 desa/kelurahan with plausible coordinates, each with a router and 1-4 APs;
 * except the ping-only sites: every 10th banjar hall and tourist site with an uplink of its own is served
 * by an ISP's Wi-Fi router without SNMP (`ping: only`, no AP of ours), which the monitor watches by ping
 * alone. Every device gets its own loopback address (127.20.X.Y, port 1161) so the fleet simulator can
 * answer for all of them on one machine. Deterministic for a seed.
 */
import { Document, isMap, isSeq } from 'yaml';
import type { Category, Inventory } from '../../collector/core/types.ts';
import { CATEGORY_INFO } from '../../collector/core/categories.ts';
import { parseInventory } from '../inventory.ts';
import { KECAMATAN, PUSKESMAS, TOURIST_SITES } from './areas.ts';
import { demoPasswordHash } from './mqtt-identity.ts';

export const BADUNG_COUNTS: Readonly<Record<Category, number>> = {
  kantor_camat: 6,
  kantor_desa: 46,
  kantor_lurah: 16,
  banjar: 379,
  lingkungan: 169,
  sd: 249,
  smp: 22,
  puskesmas: 13,
  pustu: 54,
  obyek_wisata: 33,
};

/** The regency's extent (badung.md): generated coordinates stay inside it. */
export const BADUNG_BOX = { latMin: -8.85, latMax: -8.23, lonMin: 115.05, lonMax: 115.3 } as const;

export interface GenerateOptions {
  readonly seed?: number | undefined;
  /** Second octet of the device addresses (default 20: 127.20.x.y). */
  readonly hostOctet?: number | undefined;
  /** SNMP port every simulated device answers on (default 1161). */
  readonly port?: number | undefined;
  /** Secret the demo MQTT passwords derive from (config/badung/mqtt-identity.ts). */
  readonly mqttSecret?: string | undefined;
  /**
   * Every Nth banjar and lingkungan site has a cheap AP without SNMP: its last AP is `ping: only`
   * (watched by ping alone; the monitor needs a `ping:` section to see it). Default 0: none, so a config
   * without ping still sees every device.
   */
  readonly pingOnlyEvery?: number | undefined;
  /**
   * Every Nth banjar and tourist site with its own uplink (no `upstream`) is a ping-only site: an ISP's
   * router without SNMP (`ping: only`, no credentials, no profile, no MQTT) and no AP of ours. Default 10
   * (about 40 sites); 0: none, for a monitor config without a `ping:` section (it could not see them).
   */
  readonly ispRouterEvery?: number | undefined;
}

interface Area {
  readonly kecamatan: string;
  readonly name: string;
  readonly kind: 'desa' | 'kelurahan';
  readonly lat: number;
  readonly lon: number;
}

interface RawDevice {
  id: string;
  role: 'router' | 'ap' | 'sensor';
  host?: string;
  port?: number;
  profile?: string;
  credentials?: string;
  mqtt?: { username: string; passwordHash: string; keepalive: string };
  ping?: 'only';
}

interface RawSite {
  id: string;
  name: string;
  category: Category;
  kecamatan: string;
  desa: string;
  lat: number;
  lon: number;
  upstream?: string;
  devices: RawDevice[];
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
const round5 = (v: number): number => Math.round(v * 1e5) / 1e5;

/** Desa/kelurahan centres spread around their kecamatan's centre (Petang stretches north-south). */
function areas(): Area[] {
  const out: Area[] = [];
  for (const k of KECAMATAN) {
    const names = [
      ...k.kelurahan.map((n) => ({ n, kind: 'kelurahan' as const })),
      ...k.desa.map((n) => ({ n, kind: 'desa' as const })),
    ];
    names.forEach(({ n, kind }, i) => {
      const angle = (2 * Math.PI * i) / names.length;
      const r = names.length === 1 ? 0 : 0.025 + (0.02 * ((i * 7) % 3)) / 2;
      const stretch = k.name === 'Petang' ? 2.6 : k.name === 'Kuta Selatan' ? 1.2 : 1;
      out.push({
        kecamatan: k.name,
        name: n,
        kind,
        lat: clamp(k.lat + r * stretch * Math.sin(angle), BADUNG_BOX.latMin + 0.02, BADUNG_BOX.latMax - 0.02),
        lon: clamp(k.lon + r * Math.cos(angle), BADUNG_BOX.lonMin + 0.02, BADUNG_BOX.lonMax - 0.02),
      });
    });
  }
  return out;
}

const BANJAR_PARTS = [
  'Kaja',
  'Kelod',
  'Kangin',
  'Kauh',
  'Tengah',
  'Anyar',
  'Pasek',
  'Dangin Pangkung',
  'Dauh Pangkung',
  'Gede',
  'Delod Peken',
  'Kawan',
  'Munduk',
  'Batan Nyuh',
  'Tegal',
  'Sari',
];
const AP_PROFILES = [
  'unifi-ap',
  'unifi-ap',
  'unifi-ap',
  'unifi-ap',
  'mikrotik-routeros',
  'mikrotik-routeros',
  'airmax',
  'cisco-wlc',
  'cisco-wlc',
  'airmax',
] as const;
/**
 * APs per site by category: schools, puskesmas and tourist sites cover more rooms and grounds. About 2.5
 * on average, so the fleet is ~3,500 devices (987 routers, ~2,450 APs, ~50 sensors).
 */
const AP_RANGE: Readonly<Record<Category, readonly [number, number]>> = {
  kantor_camat: [3, 4],
  kantor_desa: [2, 4],
  kantor_lurah: [2, 4],
  banjar: [1, 3],
  lingkungan: [1, 3],
  sd: [2, 4],
  smp: [3, 4],
  puskesmas: [3, 4],
  pustu: [1, 3],
  obyek_wisata: [2, 4],
};

/** Spread `n` items over `slots` as evenly as possible, deterministic: counts per slot. */
function spread(n: number, slots: number): number[] {
  return Array.from(
    { length: slots },
    (_, i) => Math.floor(((i + 1) * n) / slots) - Math.floor((i * n) / slots),
  );
}

export interface GeneratedInventory {
  readonly sites: readonly RawSite[];
  readonly devices: number;
  readonly yaml: string;
  /** The YAML as loadInventory reads it (variables at their defaults); parsed on first use (~100 ms). */
  readonly inventory: Inventory;
}

export function generateBadungInventory(opts: GenerateOptions = {}): GeneratedInventory {
  const rnd = mulberry32(opts.seed ?? 1);
  const octet = opts.hostOctet ?? 20;
  const port = opts.port ?? 1161;
  const all = areas();
  const desa = all.filter((a) => a.kind === 'desa');
  const kelurahan = all.filter((a) => a.kind === 'kelurahan');
  const sites: RawSite[] = [];
  const jitter = (a: { lat: number; lon: number }, r = 0.012) => ({
    lat: round5(clamp(a.lat + (rnd() - 0.5) * 2 * r, BADUNG_BOX.latMin, BADUNG_BOX.latMax)),
    lon: round5(clamp(a.lon + (rnd() - 0.5) * 2 * r, BADUNG_BOX.lonMin, BADUNG_BOX.lonMax)),
  });
  const add = (
    category: Category,
    id: string,
    name: string,
    area: Area | { kecamatan: string; name: string; lat: number; lon: number },
    upstream?: string,
  ) => {
    sites.push({
      id,
      name,
      category,
      kecamatan: area.kecamatan,
      desa: area.name,
      ...jitter(area),
      ...(upstream ? { upstream } : {}),
      devices: [],
    });
  };
  const areaOf = (name: string): Area => {
    const a = all.find((x) => x.name === name);
    if (!a) throw new Error(`unknown desa ${name}`);
    return a;
  };

  // Kantor camat: one per kecamatan, at the seat (Mengwi's at Puspem in Sempidi).
  for (const k of KECAMATAN) {
    const seat =
      k.name === 'Mengwi'
        ? areaOf('Sempidi')
        : k.name === 'Kuta Selatan'
          ? areaOf('Jimbaran')
          : areaOf(k.kelurahan[0] ?? k.desa[0] ?? '');
    add('kantor_camat', `kcm-${slug(k.name)}`, `Kantor Camat ${k.name}`, seat);
  }
  for (const a of desa) add('kantor_desa', `kds-${slug(a.name)}`, `Kantor Desa ${a.name}`, a);
  for (const a of kelurahan) add('kantor_lurah', `klr-${slug(a.name)}`, `Kantor Lurah ${a.name}`, a);
  // Puskesmas: in the kecamatan's areas in turn.
  const pkmIndex = new Map<string, number>();
  for (const p of PUSKESMAS) {
    const k = KECAMATAN.find((x) => x.name === p.kecamatan);
    const names = [...(k?.kelurahan ?? []), ...(k?.desa ?? [])];
    const i = pkmIndex.get(p.kecamatan) ?? 0;
    pkmIndex.set(p.kecamatan, i + 1);
    add(
      'puskesmas',
      `pkm-${slug(p.name)}`,
      `Puskesmas ${p.name}`,
      areaOf(names[(i * 3) % names.length] ?? ''),
    );
  }
  // Banjar belong to desa, lingkungan to kelurahan. Every 8th banjar reaches the internet through its kantor
  // desa and every 8th lingkungan through its kantor lurah (a wireless hop), for upstream correlation.
  spread(BADUNG_COUNTS.banjar, desa.length).forEach((n, i) => {
    const a = desa[i];
    if (!a) return;
    for (let j = 0; j < n; j++) {
      const part = BANJAR_PARTS[j % BANJAR_PARTS.length] ?? 'Tengah';
      const suffix = j >= BANJAR_PARTS.length ? ` ${Math.floor(j / BANJAR_PARTS.length) + 1}` : '';
      add(
        'banjar',
        `bjr-${slug(a.name)}-${j + 1}`,
        `Banjar Adat ${a.name} ${part}${suffix}`,
        a,
        j % 8 === 7 ? `kds-${slug(a.name)}` : undefined,
      );
    }
  });
  spread(BADUNG_COUNTS.lingkungan, kelurahan.length).forEach((n, i) => {
    const a = kelurahan[i];
    if (!a) return;
    for (let j = 0; j < n; j++) {
      const part = BANJAR_PARTS[(j + 3) % BANJAR_PARTS.length] ?? 'Tengah';
      const suffix = j >= BANJAR_PARTS.length ? ` ${Math.floor(j / BANJAR_PARTS.length) + 1}` : '';
      add(
        'lingkungan',
        `lkg-${slug(a.name)}-${j + 1}`,
        `Lingkungan ${a.name} ${part}${suffix}`,
        a,
        j % 8 === 7 ? `klr-${slug(a.name)}` : undefined,
      );
    }
  });
  // Schools: SD in every desa/kelurahan, numbered per kecamatan; SMP spread over the kecamatan.
  const sdNo = new Map<string, number>();
  spread(BADUNG_COUNTS.sd, all.length).forEach((n, i) => {
    const a = all[i];
    if (!a) return;
    for (let j = 0; j < n; j++) {
      const no = (sdNo.get(a.kecamatan) ?? 0) + 1;
      sdNo.set(a.kecamatan, no);
      add('sd', `sd-${slug(a.kecamatan)}-${no}`, `SD Negeri ${no} ${a.kecamatan}`, a);
    }
  });
  spread(BADUNG_COUNTS.smp, KECAMATAN.length).forEach((n, i) => {
    const k = KECAMATAN[i];
    if (!k) return;
    const names = [...k.kelurahan, ...k.desa];
    for (let j = 0; j < n; j++)
      add(
        'smp',
        `smp-${slug(k.name)}-${j + 1}`,
        `SMP Negeri ${j + 1} ${k.name}`,
        areaOf(names[(j * 2) % names.length] ?? ''),
      );
  });
  // Pustu: 54 of the 62 desa/kelurahan (all but every eighth area, starting with the fourth).
  const pustuAreas = all.filter((_, i) => i % 8 !== 3).slice(0, BADUNG_COUNTS.pustu);
  for (const a of pustuAreas) add('pustu', `pst-${slug(a.name)}`, `Puskesmas Pembantu ${a.name}`, a);
  // Tourist sites: the named ones, then village tourism (desa wisata) to the count.
  for (const t of TOURIST_SITES) add('obyek_wisata', `ow-${slug(t.name)}`, t.name, areaOf(t.desa));
  const extra = BADUNG_COUNTS.obyek_wisata - TOURIST_SITES.length;
  const dw = desa.filter((a) => !TOURIST_SITES.some((t) => t.name.endsWith(a.name)));
  for (let i = 0; i < extra; i++) {
    const a = dw[(i * 5) % dw.length];
    if (a) add('obyek_wisata', `ow-dw-${slug(a.name)}`, `Desa Wisata ${a.name}`, a);
  }

  // Devices: a MikroTik router per site and 1-4 APs behind it, each on its own loopback address.
  let n = 0;
  const host = (): string => {
    const h = `127.${octet}.${Math.floor(n / 250)}.${(n % 250) + 1}`;
    n++;
    return h;
  };
  const sensors: [RawSite, RawDevice][] = [];
  const pingOnlyEvery = opts.pingOnlyEvery ?? 0;
  const ispRouterEvery = opts.ispRouterEvery ?? 10;
  let smallSites = 0;
  let ispCandidates = 0;
  for (const s of sites) {
    const crit = CATEGORY_INFO[s.category].criticality;
    const isp =
      ispRouterEvery > 0 &&
      (s.category === 'banjar' || s.category === 'obyek_wisata') &&
      s.upstream === undefined &&
      ispCandidates++ % ispRouterEvery === ispRouterEvery - 1;
    const router: RawDevice = isp
      ? { id: `${s.id}-rtr`, role: 'router', host: host(), port, ping: 'only' }
      : { id: `${s.id}-rtr`, role: 'router', host: host(), port, profile: 'mikrotik-routeros' };
    if (!isp && (crit === 'critical' || crit === 'high')) router.credentials = 'ops-v3';
    // About 15 % of routers run an MQTT telemetry agent (OpenWrt-style); about 5 % of sites have an
    // MQTT-only environment sensor. The draws are made for an ISP's router too (it takes none), so the
    // other sites come out the same whatever ispRouterEvery is.
    const telemetry = rnd() < 0.15;
    if (telemetry && !isp)
      router.mqtt = {
        username: router.id,
        passwordHash: demoPasswordHash(router.id, opts.mqttSecret),
        keepalive: '30s',
      };
    s.devices.push(router);
    if (rnd() < 0.05) {
      const id = `${s.id}-env`;
      sensors.push([
        s,
        {
          id,
          role: 'sensor',
          mqtt: { username: id, passwordHash: demoPasswordHash(id, opts.mqttSecret), keepalive: '30s' },
        },
      ]);
    }
    const [lo, hi] = AP_RANGE[s.category];
    const aps = lo + Math.floor(rnd() * (hi - lo + 1));
    for (let j = 1; j <= aps; j++) {
      const profile = AP_PROFILES[Math.floor(rnd() * AP_PROFILES.length)] ?? 'unifi-ap';
      // The ISP's router is the site's Wi-Fi too: no AP of ours.
      if (!isp) s.devices.push({ id: `${s.id}-ap${j}`, role: 'ap', host: host(), port, profile });
    }
    if (s.category === 'banjar' || s.category === 'lingkungan') {
      const last = s.devices[s.devices.length - 1];
      if (pingOnlyEvery > 0 && smallSites++ % pingOnlyEvery === pingOnlyEvery - 1 && last?.role === 'ap') {
        delete last.profile;
        last.ping = 'only';
      }
    }
  }

  for (const [s, d] of sensors) s.devices.push(d);
  const doc = new Document({
    credentials: {
      'public-v2': { version: '2c', community: '${NETMON_COMMUNITY:-public}' },
      'ops-v3': {
        version: 3,
        user: 'netmon',
        level: 'authPriv',
        authProtocol: 'sha',
        authKey: '${NETMON_V3_AUTH:-badung-auth-demo}',
        privProtocol: 'aes',
        privKey: '${NETMON_V3_PRIV:-badung-priv-demo}',
      },
    },
    defaults: { port, credentials: 'public-v2' },
    sites,
  });
  const seq = doc.get('sites', true);
  if (isSeq(seq)) {
    for (const site of seq.items) {
      const devs = isMap(site) ? site.get('devices', true) : undefined;
      if (isSeq(devs)) for (const d of devs.items) if (isMap(d)) d.flow = true;
    }
  }
  doc.commentBefore =
    ' The Badung inventory: 987 sites by category in 6 kecamatan and 62 desa/kelurahan, each with a router\n' +
    ' and 1-4 access points, every device on its own loopback address for the fleet simulator.\n' +
    ` Generated by scripts/generate-inventory.ts (seed ${opts.seed ?? 1}); the format is documented in config/README.md.`;
  const yaml = doc.toString({ lineWidth: 0 });
  let inventory: Inventory | undefined;
  return {
    sites,
    devices: n,
    yaml,
    get inventory() {
      return (inventory ??= parseInventory(yaml, `generated Badung inventory (seed ${opts.seed ?? 1})`, {}));
    },
  };
}
