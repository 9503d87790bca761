/**
 * The value model of one simulated device: which interfaces and Wi-Fi rows it has (by profile and site),
 * and what every counter, rate and client count is at a given time. Everything here is pure: a model is
 * built from (seed, device, site), values are a function of (model, control state, time). Tests use
 * deviceValuesAt() and meanRateBps() as ground truth for the collector's rate maths.
 *
 * Counters are exact integrals of the rate since the device's boot: rate = peak x (activity + jitter),
 * activity piecewise linear (activity.ts) and jitter two small sines, both integrable in closed form.
 */
import type { Category, Device, Site } from '../collector/core/types.ts';
import { activityIntegral, activityLevel } from './activity.ts';
import { between, unit } from '../collector/core/hash.ts';

export const PROFILES = ['mikrotik-routeros', 'unifi-ap', 'airmax', 'cisco-wlc', 'generic'] as const;
export type ProfileName = (typeof PROFILES)[number];

export const SSID_PUBLIC = 'Badung-Free-WiFi';
export const SSID_STAFF = 'Badung-Pegawai';

const TWO_32 = 4294967296;
const DAY_S = 86_400;

/** IANAifType values used here (IANAifType-MIB). */
export const IfType = { ethernetCsmacd: 6, softwareLoopback: 24, ieee80211: 71, bridge: 209 } as const;

/** What an interface carries; sets its share of the device's peak traffic in each direction. */
export type IfRole =
  'wan' | 'lan' | 'uplink' | 'wlan24' | 'wlan5' | 'radio' | 'vap24' | 'vap5' | 'bridge' | 'lo' | 'unused';

const SHARE: Readonly<Record<IfRole, { in: number; out: number }>> = {
  wan: { in: 1, out: 0.25 },
  uplink: { in: 1, out: 0.25 },
  lan: { in: 0.15, out: 0.6 },
  wlan24: { in: 0.08, out: 0.3 },
  wlan5: { in: 0.12, out: 0.5 },
  radio: { in: 0.25, out: 0.9 },
  vap24: { in: 0.1, out: 0.35 },
  vap5: { in: 0.15, out: 0.55 },
  bridge: { in: 0.3, out: 1 },
  lo: { in: 0.0005, out: 0.0005 },
  unused: { in: 0, out: 0 },
};

/** Peak site traffic (Mbit/s at activity 1) and peak associated clients, by category. */
const SITE_PEAK: Readonly<Record<Category, { mbps: number; clients: number }>> = {
  kantor_camat: { mbps: 15, clients: 30 },
  kantor_desa: { mbps: 10, clients: 20 },
  kantor_lurah: { mbps: 10, clients: 20 },
  banjar: { mbps: 10, clients: 35 },
  lingkungan: { mbps: 8, clients: 20 },
  sd: { mbps: 12, clients: 40 },
  smp: { mbps: 20, clients: 60 },
  puskesmas: { mbps: 15, clients: 35 },
  pustu: { mbps: 6, clients: 10 },
  obyek_wisata: { mbps: 25, clients: 80 },
};

const OFFICES: ReadonlySet<Category> = new Set(['kantor_camat', 'kantor_desa', 'kantor_lurah', 'puskesmas']);

interface Jitter {
  readonly a1: number;
  readonly w1: number;
  readonly p1: number;
  readonly a2: number;
  readonly w2: number;
  readonly p2: number;
}

export interface InterfaceModel {
  readonly ifIndex: number;
  readonly name: string;
  readonly descr: string;
  readonly alias: string;
  readonly type: number;
  readonly speedBps: number;
  readonly adminStatus: 1 | 2;
  readonly operStatus: 1 | 2;
  readonly role: IfRole;
  /** Octets per second at activity level 1. */
  readonly inPeakBytesPerS: number;
  readonly outPeakBytesPerS: number;
  readonly inPacketBytes: number;
  readonly outPacketBytes: number;
  readonly errorsPerPacket: number;
  readonly discardsPerPacket: number;
  readonly jitter: Jitter;
}

export interface WifiModel {
  /** Row index in the vendor table (MikroTik: the wlan ifIndex; UniFi: VAP row; Cisco: WLAN id). */
  readonly index: number;
  readonly ssid: string;
  /** UniFi radio name: "ng" (2.4 GHz) or "na" (5 GHz). */
  readonly radio: 'ng' | 'na';
  readonly peakClients: number;
}

export interface DeviceModel {
  readonly id: string;
  readonly siteId: string;
  readonly category: Category;
  /** The profile served; an unknown inventory profile is served as "generic". */
  readonly profile: ProfileName;
  /** No ifXTable HC counters: pollers must use the 32-bit ifTable octets. */
  readonly legacy: boolean;
  readonly sysDescr: string;
  readonly sysObjectId: readonly number[];
  readonly sysName: string;
  readonly sysLocation: string;
  /** Devices also reboot by themselves now and then: every bootPeriodS, offset by bootPhaseS. */
  readonly bootPeriodS: number;
  readonly bootPhaseS: number;
  readonly interfaces: readonly InterfaceModel[];
  readonly wifi: readonly WifiModel[];
  /** Hash key for time-varying randomness (client-count noise). */
  readonly key: string;
}

/** What the control API changed on a device; part of the input of deviceValuesAt(). */
export interface DeviceControl {
  /** The last commanded reboot (rebootDevice), epoch ms. */
  readonly rebootAtMs?: number | undefined;
  /** Offsets added to the 32-bit octet counters from setAtMs until the next boot (wrapCounters32). */
  readonly wrap32?:
    | {
        readonly setAtMs: number;
        readonly bootAtMs: number;
        readonly offsets: ReadonlyMap<number, { readonly in: number; readonly out: number }>;
      }
    | undefined;
}

export interface InterfaceValues {
  readonly ifIndex: number;
  /** Octets since boot: the ifXTable HC counters (RFC 2863: Counter64). */
  readonly inOctets: bigint;
  readonly outOctets: bigint;
  /** The ifTable Counter32 octets: mod 2^32, plus any wrap32 offset. */
  readonly inOctets32: number;
  readonly outOctets32: number;
  readonly inUcastPkts: bigint;
  readonly outUcastPkts: bigint;
  readonly inErrors: number;
  readonly outErrors: number;
  readonly inDiscards: number;
  readonly outDiscards: number;
  /** Instantaneous rates, bits per second. */
  readonly inRateBps: number;
  readonly outRateBps: number;
}

export interface WifiValues {
  readonly index: number;
  readonly ssid: string;
  readonly radio: 'ng' | 'na';
  readonly clients: number;
}

export interface DeviceValues {
  readonly timeMs: number;
  readonly bootAtMs: number;
  /** SNMPv2-MIB sysUpTime: hundredths of a second since boot, TimeTicks wrap at 2^32. */
  readonly sysUpTimeCs: number;
  readonly interfaces: readonly InterfaceValues[];
  readonly wifi: readonly WifiValues[];
}

export interface ModelContext {
  readonly seed: number;
  /** Access points at the device's site (splits the site's traffic and clients). */
  readonly apsAtSite: number;
}

function asProfile(p: string): ProfileName {
  return (PROFILES as readonly string[]).includes(p) ? (p as ProfileName) : 'generic';
}

export function isLegacy(seed: number, deviceId: string): boolean {
  return unit(seed, deviceId, 'legacy') < 0.1;
}

export function buildDeviceModel(device: Device, site: Site, ctx: ModelContext): DeviceModel {
  const { seed } = ctx;
  const key = `${seed}/${device.id}`;
  const profile = asProfile(device.profile);
  const peak = SITE_PEAK[site.category];
  const siteMbps = peak.mbps * between(0.6, 1.4, key, 'site-mbps', site.id);
  const siteClients = peak.clients * between(0.6, 1.4, seed, 'site-clients', site.id);
  const aps = Math.max(0, ctx.apsAtSite);
  const isRouter = device.role === 'router';
  const share = isRouter ? 1 : (0.8 / Math.max(1, aps)) * between(0.7, 1.3, key, 'ap-share');
  const deviceBytesPerS = (siteMbps * share * 1_000_000) / 8;
  // Clients: a router's own radios take a fifth when APs share the site, all of them otherwise.
  const clientShare = isRouter ? (aps > 0 ? 0.2 : 1) : 0.8 / Math.max(1, aps);
  const deviceClients = siteClients * clientShare;
  const office = OFFICES.has(site.category);

  const ifs: InterfaceModel[] = [];
  const addIf = (
    name: string,
    role: IfRole,
    type: number,
    speedBps: number,
    alias = '',
    descr = name,
  ): number => {
    const ifIndex = ifs.length + 1;
    const s = SHARE[role];
    const r = (n: string): number => between(0.85, 1.15, key, name, n);
    ifs.push({
      ifIndex,
      name,
      descr,
      alias,
      type,
      speedBps,
      adminStatus: 1,
      operStatus: role === 'unused' ? 2 : 1,
      role,
      inPeakBytesPerS: deviceBytesPerS * s.in * r('in'),
      outPeakBytesPerS: deviceBytesPerS * s.out * r('out'),
      inPacketBytes: Math.round(between(700, 1100, key, name, 'pin')),
      outPacketBytes: Math.round(between(400, 800, key, name, 'pout')),
      errorsPerPacket: type === IfType.ieee80211 ? 2e-5 : 1e-7,
      discardsPerPacket: 5e-6,
      jitter: {
        a1: between(0.01, 0.02, key, name, 'a1'),
        w1: (2 * Math.PI) / between(240, 900, key, name, 't1'),
        p1: between(0, 2 * Math.PI, key, name, 'p1'),
        a2: between(0.005, 0.015, key, name, 'a2'),
        w2: (2 * Math.PI) / between(60, 240, key, name, 't2'),
        p2: between(0, 2 * Math.PI, key, name, 'p2'),
      },
    });
    return ifIndex;
  };
  const wifi: WifiModel[] = [];
  const addWifi = (index: number, ssid: string, radio: 'ng' | 'na', fraction: number): void => {
    wifi.push({ index, ssid, radio, peakClients: deviceClients * fraction });
  };
  const M100 = 100_000_000;
  const G1 = 1_000_000_000;
  const staff = office ? 0.15 : 0;

  let sysDescr: string;
  let sysObjectId: number[];
  switch (profile) {
    case 'mikrotik-routeros': {
      const models = isRouter ? ['RB951Ui-2HnD', 'hAP ac lite', 'RB2011UiAS-2HnD'] : ['cAP ac', 'wAP ac'];
      sysDescr = `RouterOS ${models[Math.floor(unit(key, 'model') * models.length)] ?? 'RB951Ui-2HnD'}`;
      sysObjectId = [1, 3, 6, 1, 4, 1, 14988, 1];
      if (isRouter) {
        addIf('ether1', 'wan', IfType.ethernetCsmacd, M100, 'WAN uplink');
        addIf(
          'ether2',
          aps > 0 ? 'lan' : 'unused',
          IfType.ethernetCsmacd,
          G1,
          aps > 0 ? 'LAN access points' : '',
        );
        addIf('ether3', 'unused', IfType.ethernetCsmacd, G1);
      } else {
        addIf('ether1', 'uplink', IfType.ethernetCsmacd, G1, 'uplink');
      }
      const w1 = addIf('wlan1', 'wlan24', IfType.ieee80211, 144_400_000);
      const w2 = addIf('wlan2', 'wlan5', IfType.ieee80211, 866_700_000);
      addWifi(w1, SSID_PUBLIC, 'ng', 0.45 - staff / 2);
      addWifi(w2, SSID_PUBLIC, 'na', 0.55 - staff / 2);
      if (office)
        addWifi(addIf('wlan3', 'vap24', IfType.ieee80211, 144_400_000, 'staff'), SSID_STAFF, 'ng', staff);
      addIf('bridge1', 'bridge', IfType.bridge, 0);
      break;
    }
    case 'unifi-ap': {
      sysDescr = 'UAP-AC-Lite 6.5.62.14788';
      sysObjectId = [1, 3, 6, 1, 4, 1, 8072, 3, 2, 10];
      addIf('lo', 'lo', IfType.softwareLoopback, 0);
      addIf('eth0', isRouter ? 'wan' : 'uplink', IfType.ethernetCsmacd, G1);
      addIf('wifi0', 'radio', IfType.ieee80211, 300_000_000);
      addIf('wifi1', 'radio', IfType.ieee80211, 867_000_000);
      addIf('ath0', 'vap24', IfType.ieee80211, 300_000_000);
      addIf('ath1', 'vap5', IfType.ieee80211, 867_000_000);
      addWifi(1, SSID_PUBLIC, 'ng', 0.45 - staff / 2);
      addWifi(2, SSID_PUBLIC, 'na', 0.55 - staff / 2);
      if (office) {
        addIf('ath2', 'vap24', IfType.ieee80211, 300_000_000, 'staff');
        addWifi(3, SSID_STAFF, 'ng', staff / 2);
        addWifi(4, SSID_STAFF, 'na', staff / 2);
      }
      addIf('br0', 'bridge', IfType.bridge, 0);
      break;
    }
    case 'airmax': {
      sysDescr = 'Linux 2.6.32.68 #1 Thu Aug 22 16:38:44 EEST 2019 mips';
      sysObjectId = [1, 3, 6, 1, 4, 1, 10002, 1];
      addIf('lo', 'lo', IfType.softwareLoopback, 0);
      addIf('eth0', isRouter ? 'wan' : 'uplink', IfType.ethernetCsmacd, M100);
      addIf('wifi0', 'radio', IfType.ieee80211, 300_000_000);
      addIf('ath0', 'vap5', IfType.ieee80211, 300_000_000);
      addIf('br0', 'bridge', IfType.bridge, 0);
      addWifi(1, SSID_PUBLIC, 'na', 1);
      break;
    }
    case 'cisco-wlc': {
      sysDescr = 'Cisco Business Wireless';
      sysObjectId = [1, 3, 6, 1, 4, 1, 9, 6, 1, 37, 240, 1];
      addIf('GigabitEthernet0', isRouter ? 'wan' : 'uplink', IfType.ethernetCsmacd, G1);
      addIf('Radio0-2.4GHz', 'wlan24', IfType.ieee80211, 144_400_000);
      addIf('Radio1-5GHz', 'wlan5', IfType.ieee80211, 866_700_000);
      addIf('BVI1', 'bridge', IfType.bridge, 0);
      addWifi(1, SSID_PUBLIC, 'na', 0.85);
      addWifi(2, SSID_STAFF, 'na', 0.15);
      break;
    }
    case 'generic': {
      sysDescr = `Linux ${device.id} 5.15.0-105-generic #115-Ubuntu SMP x86_64`;
      sysObjectId = [1, 3, 6, 1, 4, 1, 8072, 3, 2, 10];
      addIf('lo', 'lo', IfType.softwareLoopback, 10_000_000);
      addIf('eth0', isRouter ? 'wan' : 'uplink', IfType.ethernetCsmacd, G1);
      if (isRouter) addIf('eth1', aps > 0 ? 'lan' : 'unused', IfType.ethernetCsmacd, G1);
      break;
    }
  }

  const bootPeriodS = between(60, 180, key, 'boot-period') * DAY_S;
  return {
    id: device.id,
    siteId: device.siteId,
    category: site.category,
    profile,
    legacy: isLegacy(seed, device.id),
    sysDescr,
    sysObjectId,
    sysName: device.id,
    sysLocation: site.name,
    bootPeriodS,
    bootPhaseS: unit(key, 'boot-phase') * bootPeriodS,
    interfaces: ifs,
    wifi,
    key,
  };
}

/** When the device last booted at or before `tMs`: its own periodic reboots or a commanded one. */
export function bootAtMs(model: DeviceModel, control: DeviceControl, tMs: number): number {
  const tS = tMs / 1000;
  const naturalS =
    Math.floor((tS - model.bootPhaseS) / model.bootPeriodS) * model.bootPeriodS + model.bootPhaseS;
  const natural = Math.ceil(naturalS * 1000);
  const r = control.rebootAtMs;
  return r !== undefined && r <= tMs && r > natural ? r : natural;
}

/** Integral of (activity + jitter) over [t0S, t1S]: the level-seconds a counter grows by. */
function levelIntegral(category: Category, j: Jitter, t0S: number, t1S: number): number {
  return activityIntegral(category, t0S, t1S) + jitterIntegral(j, t1S) - jitterIntegralAtBoot(j, t0S);
}

/** The jitter antiderivative at the last boot time asked, per interface: the same until the next boot. */
const atBoot = new WeakMap<Jitter, { t: number; v: number }>();

function jitterIntegralAtBoot(j: Jitter, t: number): number {
  const known = atBoot.get(j);
  if (known !== undefined && known.t === t) return known.v;
  const v = jitterIntegral(j, t);
  atBoot.set(j, { t, v });
  return v;
}

/**
 * An antiderivative of the two jitter sines. A function of its own, not a closure made per call: the
 * simulator runs under tsx, whose keepNames wraps every named closure in a defineProperty call, and this
 * runs twice per interface per answer (it was a fifth of the simulator's CPU).
 */
function jitterIntegral(j: Jitter, t: number): number {
  return -(j.a1 / j.w1) * Math.cos(j.w1 * t + j.p1) - (j.a2 / j.w2) * Math.cos(j.w2 * t + j.p2);
}

function level(category: Category, j: Jitter, tS: number): number {
  // a1 + a2 < MIN_LEVEL (activity.ts), so the level, and every rate, stays positive.
  return activityLevel(category, tS) + j.a1 * Math.sin(j.w1 * tS + j.p1) + j.a2 * Math.sin(j.w2 * tS + j.p2);
}

/** Octets an interface moved in one direction over [t0Ms, t1Ms] (not floored). */
export function octetsBetween(
  model: DeviceModel,
  ifc: InterfaceModel,
  dir: 'in' | 'out',
  t0Ms: number,
  t1Ms: number,
): number {
  const peak = dir === 'in' ? ifc.inPeakBytesPerS : ifc.outPeakBytesPerS;
  if (peak === 0 || t1Ms <= t0Ms) return 0;
  return peak * levelIntegral(model.category, ifc.jitter, t0Ms / 1000, t1Ms / 1000);
}

/**
 * The mean rate (bits/s) a correct poller computes from two polls at t0 and t1 with no reboot between:
 * exactly what the counters moved, floors included.
 */
export function meanRateBps(
  model: DeviceModel,
  control: DeviceControl,
  ifIndex: number,
  dir: 'in' | 'out',
  t0Ms: number,
  t1Ms: number,
): number {
  const a = deviceValuesAt(model, control, t0Ms).interfaces.find((i) => i.ifIndex === ifIndex);
  const b = deviceValuesAt(model, control, t1Ms).interfaces.find((i) => i.ifIndex === ifIndex);
  if (!a || !b) throw new RangeError(`${model.id} has no ifIndex ${ifIndex}`);
  const d = dir === 'in' ? b.inOctets - a.inOctets : b.outOctets - a.outOctets;
  return (Number(d) * 8 * 1000) / (t1Ms - t0Ms);
}

export function wifiClientsAt(model: DeviceModel, w: WifiModel, tMs: number): number {
  // Piecewise constant over 5-minute buckets, like an AP's association table seen by a 5-minute poller.
  const bucket = Math.floor(tMs / 300_000);
  const noise = 0.85 + 0.3 * unit(model.key, 'clients', w.index, bucket);
  return Math.max(0, Math.round(w.peakClients * activityLevel(model.category, bucket * 300) * noise));
}

export function deviceValuesAt(model: DeviceModel, control: DeviceControl, tMs: number): DeviceValues {
  const boot = bootAtMs(model, control, tMs);
  const w = control.wrap32;
  const wrapActive = w !== undefined && w.bootAtMs === boot && tMs >= w.setAtMs;
  const tS = tMs / 1000;
  const interfaces = model.interfaces.map((ifc): InterfaceValues => {
    const inO = Math.floor(octetsBetween(model, ifc, 'in', boot, tMs));
    const outO = Math.floor(octetsBetween(model, ifc, 'out', boot, tMs));
    const off = wrapActive ? w.offsets.get(ifc.ifIndex) : undefined;
    const inP = Math.floor(inO / ifc.inPacketBytes);
    const outP = Math.floor(outO / ifc.outPacketBytes);
    const lv =
      ifc.inPeakBytesPerS === 0 && ifc.outPeakBytesPerS === 0 ? 0 : level(model.category, ifc.jitter, tS);
    return {
      ifIndex: ifc.ifIndex,
      inOctets: BigInt(inO),
      outOctets: BigInt(outO),
      inOctets32: (inO + (off?.in ?? 0)) % TWO_32,
      outOctets32: (outO + (off?.out ?? 0)) % TWO_32,
      inUcastPkts: BigInt(inP),
      outUcastPkts: BigInt(outP),
      inErrors: Math.floor(inP * ifc.errorsPerPacket) % TWO_32,
      outErrors: Math.floor(outP * ifc.errorsPerPacket) % TWO_32,
      inDiscards: Math.floor(inP * ifc.discardsPerPacket) % TWO_32,
      outDiscards: Math.floor(outP * ifc.discardsPerPacket) % TWO_32,
      inRateBps: ifc.inPeakBytesPerS * lv * 8,
      outRateBps: ifc.outPeakBytesPerS * lv * 8,
    };
  });
  return {
    timeMs: tMs,
    bootAtMs: boot,
    sysUpTimeCs: Math.floor((tMs - boot) / 10) % TWO_32,
    interfaces,
    wifi: model.wifi.map((wm) => ({
      index: wm.index,
      ssid: wm.ssid,
      radio: wm.radio,
      clients: wifiClientsAt(model, wm, tMs),
    })),
  };
}

/**
 * Offsets for wrapCounters32: chosen so each 32-bit octet counter reaches 2^32 about halfway through
 * the next `withinS` seconds at the current rate. The rate itself is unchanged.
 */
export function wrapOffsets(
  model: DeviceModel,
  control: DeviceControl,
  tMs: number,
  withinS: number,
): Map<number, { in: number; out: number }> {
  const v = deviceValuesAt(model, { ...control, wrap32: undefined }, tMs);
  const out = new Map<number, { in: number; out: number }>();
  for (const ifc of model.interfaces) {
    const iv = v.interfaces.find((i) => i.ifIndex === ifc.ifIndex);
    if (!iv) continue;
    const target = (rateBps: number): number =>
      TWO_32 - Math.max(1, Math.floor(((rateBps / 8) * withinS) / 2));
    const offset = (current: number, rateBps: number): number =>
      (((target(rateBps) - current) % TWO_32) + TWO_32) % TWO_32;
    out.set(ifc.ifIndex, {
      in: offset(iv.inOctets32, iv.inRateBps),
      out: offset(iv.outOctets32, iv.outRateBps),
    });
  }
  return out;
}
