/**
 * The domain vocabulary shared by every module. Data flows one way:
 *
 *   inventory ─► scheduler ─► sources (snmp | mqtt) ─► DeviceReading ─► normalise ─► Sample[] ─► sinks
 *                                      │
 *                                      └─► ProbeResult ─► health ─► Transition ─► alerting ─► notify
 *
 * Types only: no behaviour lives here.
 */
import type { Secret } from './secret.ts';

/** Site categories of the Kominfo Badung rollout (../shared/reference/badung.md). */
export const CATEGORIES = [
  'kantor_camat',
  'kantor_desa',
  'kantor_lurah',
  'banjar',
  'lingkungan',
  'sd',
  'smp',
  'puskesmas',
  'pustu',
  'obyek_wisata',
] as const;
export type Category = (typeof CATEGORIES)[number];

export const CRITICALITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Criticality = (typeof CRITICALITIES)[number];

/** router and ap are polled over SNMP; a sensor (or gateway) only speaks MQTT. */
export const DEVICE_ROLES = ['router', 'ap', 'sensor'] as const;
export type DeviceRole = (typeof DEVICE_ROLES)[number];

export interface Site {
  readonly id: string;
  readonly name: string;
  readonly category: Category;
  readonly kecamatan: string;
  /** The desa or kelurahan the site belongs to. */
  readonly desa: string;
  readonly lat: number;
  readonly lon: number;
  readonly criticality: Criticality;
  /** Site id this site reaches the internet through (backhaul), if not its own uplink. */
  readonly upstream?: string | undefined;
}

export type SnmpAuthProtocol = 'md5' | 'sha' | 'sha224' | 'sha256' | 'sha384' | 'sha512';
export type SnmpPrivProtocol = 'des' | 'aes' | 'aes256b' | 'aes256r';

export type SnmpCredentials =
  | { readonly version: '2c'; readonly community: Secret }
  | {
      readonly version: '3';
      readonly user: string;
      readonly level: 'noAuthNoPriv' | 'authNoPriv' | 'authPriv';
      readonly authProtocol?: SnmpAuthProtocol | undefined;
      readonly authKey?: Secret | undefined;
      readonly privProtocol?: SnmpPrivProtocol | undefined;
      readonly privKey?: Secret | undefined;
    };

export interface Device {
  readonly id: string;
  readonly siteId: string;
  readonly role: DeviceRole;
  /** Management address: an IP or host name, and the SNMP port. */
  readonly host: string;
  readonly port: number;
  /** Name of an SNMP profile (config/profiles): what to read and how to decode it. */
  readonly profile: string;
  readonly snmp?: SnmpCredentials | undefined;
  /** Device id of the router this device reaches the monitor through (an AP's site router). */
  readonly parent?: string | undefined;
  /** Present when the device also (or only) speaks MQTT to the broker. */
  readonly mqtt?: MqttIdentity | undefined;
  /**
   * ICMP (collector/sources/ping/): absent, pinged beside its SNMP polls when ping is enabled; 'only', it
   * has no SNMP agent and ping alone tells its state (an ISP's router, a cheap AP); 'off', never pinged.
   */
  readonly ping?: 'only' | 'off' | undefined;
}

/**
 * A device's MQTT account. The password is stored only as a hash:
 * `scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>` (broker/accounts.ts).
 */
export interface MqttIdentity {
  readonly username: string;
  readonly passwordHash: string;
  /** The keepalive the device is configured with, in seconds (liveness grace is derived from it). */
  readonly keepaliveS?: number | undefined;
}

export interface Inventory {
  readonly sites: readonly Site[];
  readonly devices: readonly Device[];
}

/** An Influx-style point: the unit that flows from normalise to the sinks. Field types: see sinks/schema.ts. */
export interface Sample {
  readonly measurement: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly fields: Readonly<Record<string, number | boolean | string>>;
  /** Unix epoch milliseconds. */
  readonly timeMs: number;
}

/** One interface row as a device reported it, before any rate maths. Counters are raw. */
export interface InterfaceReading {
  readonly ifIndex: number;
  readonly name: string;
  readonly descr?: string | undefined;
  readonly alias?: string | undefined;
  readonly type?: number | undefined;
  /** IF-MIB ifOperStatus: 1 up, 2 down, ... */
  readonly operStatus?: number | undefined;
  readonly adminStatus?: number | undefined;
  readonly speedBps?: number | undefined;
  /** Width of the octet counters that were read: 64 from ifXTable (HC), else 32 from ifTable. */
  readonly counterBits: 32 | 64;
  readonly inOctets?: bigint | undefined;
  readonly outOctets?: bigint | undefined;
  readonly inUcastPkts?: bigint | undefined;
  readonly outUcastPkts?: bigint | undefined;
  readonly inErrors?: bigint | undefined;
  readonly outErrors?: bigint | undefined;
  readonly inDiscards?: bigint | undefined;
  readonly outDiscards?: bigint | undefined;
}

/** Wi-Fi clients associated to one radio / VAP / WLAN, as the vendor MIB reports them. */
export interface WifiReading {
  /** The row index in the vendor table. */
  readonly index: string;
  readonly ssid?: string | undefined;
  readonly radio?: string | undefined;
  readonly clients: number;
}

/** Everything one poll of a device returned. */
export interface DeviceReading {
  readonly deviceId: string;
  readonly timeMs: number;
  /** SNMPv2-MIB sysUpTime in hundredths of a second; a decrease means the agent restarted. */
  readonly sysUpTimeCs?: number | undefined;
  readonly interfaces: readonly InterfaceReading[];
  readonly wifi: readonly WifiReading[];
}

export type ProbeFailureReason = 'timeout' | 'refused' | 'auth' | 'decode' | 'agent_error' | 'internal';

/** The outcome of one attempt to reach a device: the input of the health state machine. */
export interface ProbeResult {
  readonly deviceId: string;
  readonly timeMs: number;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly source: 'snmp' | 'mqtt' | 'ping';
  readonly failure?: { readonly reason: ProbeFailureReason; readonly message: string } | undefined;
}

export const DEVICE_STATES = ['unknown', 'up', 'suspect', 'down', 'unreachable'] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

/** A device changed state. Alerting and the state measurement are fed from these. */
export interface Transition {
  readonly deviceId: string;
  readonly siteId: string;
  readonly from: DeviceState;
  readonly to: DeviceState;
  readonly timeMs: number;
  /** Why: the last failure, or the parent that made it unreachable. */
  readonly cause?: string | undefined;
}
