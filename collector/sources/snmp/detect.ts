/**
 * Vendor detection for `profile: auto`: what a device is, from SNMPv2-MIB's sysObjectID.0 and sysDescr.0
 * (RFC 3418) and, where several products share those, one GETNEXT under a vendor OID, matched against the
 * detection table (config/detect.yaml, kept as data). An unknown device is polled with the generic
 * profile, and says so (`fallback`).
 *
 *   matchRules()        pure: the rules a device's sysObjectID and sysDescr satisfy, in the order tried
 *   detectWith()        the first of those whose `has` OID the agent answers (the probe is passed in)
 *   detectDevice()      the two above over an SnmpClient: one GET, and a GETNEXT per `has` rule tried
 *   AutoProfilePoller   a DevicePoller around SnmpPoller: detects an `auto` device before its first poll,
 *                       and again after it reboots (sysUpTime went back: its firmware may have changed) or
 *                       once its profile stops matching (a poll that reads nothing at all)
 */
import type { Logger } from '../../core/log.ts';
import type { Device, DeviceReading } from '../../core/types.ts';
import type { DevicePoller } from '../../pipeline.ts';
import type { DetectionRule, DetectionTable } from '../../../config/detection.ts';
import { AUTO_PROFILE } from '../../../config/profiles.ts';
import type { SnmpClient, SnmpClientOptions, VarBind } from './session.ts';
import { openSnmpClient } from './session.ts';

export const SYS_DESCR = '1.3.6.1.2.1.1.1.0';
export const SYS_OBJECT_ID = '1.3.6.1.2.1.1.2.0';
export const SYS_UPTIME = '1.3.6.1.2.1.1.3.0';
export const FALLBACK_PROFILE = 'generic';

/** What the agent says it is (SNMPv2-MIB system group). */
export interface SystemFacts {
  readonly sysObjectID?: string | undefined;
  readonly sysDescr?: string | undefined;
  readonly sysUpTimeCs?: number | undefined;
}

export interface Detection extends SystemFacts {
  readonly vendor: string;
  readonly profile: string;
  /** No rule matched: polled with the generic profile (interfaces only). */
  readonly fallback: boolean;
  /** The rule that matched (its line in the table), for scripts/detect.ts. */
  readonly rule?: DetectionRule | undefined;
}

/** `prefix` is `oid` or an ancestor of it, on whole sub-identifiers. */
export function oidUnder(prefix: string, oid: string): boolean {
  return oid === prefix || oid.startsWith(`${prefix}.`);
}

/** The rules whose sysObjectID prefix and sysDescr pattern the facts satisfy, in the table's order. */
export function matchRules(table: DetectionTable, facts: SystemFacts): DetectionRule[] {
  return table.filter(
    (r) =>
      (r.sysObjectID === undefined ||
        (facts.sysObjectID !== undefined && oidUnder(r.sysObjectID, facts.sysObjectID))) &&
      (r.sysDescr === undefined || (facts.sysDescr !== undefined && r.sysDescr.test(facts.sysDescr))),
  );
}

/** The first matching rule whose `has` OID (if any) the agent answers; the generic fallback otherwise. */
export async function detectWith(
  table: DetectionTable,
  facts: SystemFacts,
  has: (oid: string) => Promise<boolean>,
): Promise<Detection> {
  const answered = new Map<string, boolean>();
  for (const rule of matchRules(table, facts)) {
    if (rule.has !== undefined) {
      let yes = answered.get(rule.has);
      if (yes === undefined) answered.set(rule.has, (yes = await has(rule.has)));
      if (!yes) continue;
    }
    return { ...facts, vendor: rule.vendor, profile: rule.profile, fallback: false, rule };
  }
  return { ...facts, vendor: 'unknown', profile: FALLBACK_PROFILE, fallback: true };
}

function present(vb: VarBind | undefined): vb is VarBind {
  return (
    vb !== undefined &&
    vb.type !== 'noSuchObject' &&
    vb.type !== 'noSuchInstance' &&
    vb.type !== 'endOfMibView'
  );
}

/** sysObjectID, sysDescr and sysUpTime in one GET. Throws SnmpError when the device does not answer. */
export async function readSystem(client: SnmpClient): Promise<SystemFacts> {
  const vbs = await client.get([SYS_OBJECT_ID, SYS_DESCR, SYS_UPTIME]);
  const by = new Map(vbs.map((vb) => [vb.oid, vb]));
  const id = by.get(SYS_OBJECT_ID);
  const descr = by.get(SYS_DESCR);
  const up = by.get(SYS_UPTIME);
  return {
    sysObjectID: present(id) && typeof id.value === 'string' ? id.value.replace(/^\./, '') : undefined,
    sysDescr: present(descr)
      ? Buffer.isBuffer(descr.value)
        ? descr.value.toString('utf8').replace(/\0+$/, '').trim()
        : String(descr.value)
      : undefined,
    sysUpTimeCs: present(up) && typeof up.value === 'number' ? up.value : undefined,
  };
}

/** Does the agent have anything under `oid`? One GETNEXT (a GETBULK of one repetition). */
export async function answersUnder(client: SnmpClient, oid: string): Promise<boolean> {
  const [column] = await client.getBulk([oid], 0, 1);
  const next = column?.[0];
  return present(next) && oidUnder(oid, next.oid) && next.oid !== oid;
}

export async function detectDevice(client: SnmpClient, table: DetectionTable): Promise<Detection> {
  const facts = await readSystem(client);
  return detectWith(table, facts, (oid) => answersUnder(client, oid));
}

export interface AutoProfilePollerOptions {
  readonly table: DetectionTable;
  /** For the detection requests (the poller's own sessions are its business). */
  readonly client: SnmpClientOptions;
  readonly log?: Logger | undefined;
  /** Tests pass a fake transport. */
  readonly openClient?: ((device: Device, opts: SnmpClientOptions) => SnmpClient) | undefined;
}

interface AutoState {
  readonly detection: Detection;
  /** The device's object when detected: an inventory reload (new object) detects again. */
  readonly device: Device;
  lastUptimeCs: number | undefined;
  redetect: boolean;
}

/**
 * Polls devices whose profile is `auto` with the profile detected for them; others go straight through.
 * Detection costs one GET (plus a GETNEXT per `has` rule tried) before the first poll and after each
 * reboot, on a short-lived session of its own.
 */
export class AutoProfilePoller implements DevicePoller {
  readonly #inner: DevicePoller;
  readonly #opts: AutoProfilePollerOptions;
  readonly #state = new Map<string, AutoState>();

  constructor(inner: DevicePoller, opts: AutoProfilePollerOptions) {
    this.#inner = inner;
    this.#opts = opts;
  }

  /** What an `auto` device was detected as (undefined: not detected yet, or not `auto`). */
  detected(deviceId: string): Detection | undefined {
    return this.#state.get(deviceId)?.detection;
  }

  async poll(device: Device): Promise<DeviceReading> {
    if (device.profile !== AUTO_PROFILE) return this.#inner.poll(device);
    let state = this.#state.get(device.id);
    if (!state || state.redetect || state.device !== device) state = await this.#detect(device, state);
    const reading = await this.#inner.poll({ ...device, profile: state.detection.profile });
    const up = reading.sysUpTimeCs;
    if (up !== undefined && state.lastUptimeCs !== undefined && up < state.lastUptimeCs) {
      state.redetect = true; // RFC 3418: sysUpTime went back, the agent restarted (maybe a new firmware)
    } else if (reading.interfaces.length === 0 && reading.wifi.length === 0) {
      state.redetect = true; // the profile reads nothing from this device any more
    }
    state.lastUptimeCs = up;
    return reading;
  }

  close(): void {
    this.#inner.close();
  }

  async #detect(device: Device, before: AutoState | undefined): Promise<AutoState> {
    const open = this.#opts.openClient ?? openSnmpClient;
    const client = open(device, this.#opts.client);
    let detection: Detection;
    try {
      detection = await detectDevice(client, this.#opts.table);
    } finally {
      client.close();
    }
    const fields = {
      device: device.id,
      vendor: detection.vendor,
      profile: detection.profile,
      sysObjectID: detection.sysObjectID,
      sysDescr: detection.sysDescr?.slice(0, 120),
    };
    const log = this.#opts.log;
    if (detection.fallback) {
      log?.warn(
        'unknown device: polled with the generic profile (interfaces only); add a rule to config/detect.yaml',
        fields,
      );
    } else if (before?.detection.profile !== detection.profile) {
      log?.info(before ? 'device detected again with another profile' : 'device detected', fields);
    }
    const state: AutoState = { detection, device, lastUptimeCs: detection.sysUpTimeCs, redetect: false };
    this.#state.set(device.id, state);
    return state;
  }
}
