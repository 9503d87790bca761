/**
 * FleetSimulator: one SNMP agent per inventory device, each at its own loopback address, serving the
 * value model of device-model.ts, plus the faults a demo or a test needs (cut a site or a device, reboot,
 * slow replies, 32-bit counter wraps).
 *
 * Lifecycle: the constructor validates the inventory and builds every device model without the network;
 * start() binds the sockets (all or none); stop() closes them and drops replies still waiting.
 *
 * Reachability follows the topology: a cut device is silent, and so is every device whose parent chain
 * (an AP's site router) contains a cut device, as on a real network where the monitor reaches the APs
 * through the router.
 *
 * One device model, one count: the fleet holds every inventory device, the MQTT-only ones (sensors) too,
 * so `status().devices` is the number the monitor counts, and `deviceStatus`, cut and restore answer for
 * every device. A sensor has no SNMP agent: its MQTT connection lives in simulator/mqtt/mqtt-fleet.ts.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { systemClock } from '../collector/core/clock.ts';
import type { Clock } from '../collector/core/clock.ts';
import { errorMessage } from '../collector/core/errors.ts';
import { Secret } from '../collector/core/secret.ts';
import type { Device, Inventory, SnmpCredentials } from '../collector/core/types.ts';
import { buildDeviceModel, deviceValuesAt, wrapOffsets } from './device-model.ts';
import type { DeviceControl, DeviceModel, DeviceValues } from './device-model.ts';
import { SimulatorControlError, SimulatorStartError } from './errors.ts';
import { answerPdu, mibViewFor, planFor, writePlan } from './mib-view.ts';
import type { MibView } from './mib-view.ts';
import { SnmpAgent, emptyStats } from './snmp-agent.ts';
import type { AgentStats } from './snmp-agent.ts';
import type { V3TrapSecurity } from './traps.ts';

export interface FleetSimulatorOptions {
  readonly inventory: Inventory;
  /** Seed of every simulated value (default 1). */
  readonly seed?: number | undefined;
  /** The time the values follow (default: the system clock). */
  readonly clock?: Clock | undefined;
  /** Schedules slowDevice's late replies (default: the system clock; real time even when `clock` is fake). */
  readonly timer?: Clock | undefined;
  /** Credentials for devices the inventory gives none (default: SNMPv2c community "public"). */
  readonly defaultCredentials?: SnmpCredentials | undefined;
}

export interface DeviceStatus {
  readonly id: string;
  readonly siteId: string;
  readonly role: Device['role'];
  /** What it speaks: SNMP (an agent here), MQTT (an account: simulator/mqtt/), or both. */
  readonly protocols: readonly ('snmp' | 'mqtt')[];
  /** Its SNMP agent's address; null for an MQTT-only device. */
  readonly endpoint: string | null;
  readonly profile: string;
  readonly legacy: boolean;
  /** "up", "cut" (itself or its site), or "unreachable" (a parent is cut). */
  readonly state: 'up' | 'cut' | 'unreachable';
  /** "stopped": its SNMP agent was stopped (snmp-stop) while the device itself is up and answers ping. */
  readonly snmp: 'answering' | 'stopped' | 'none';
  readonly delayMs: number;
}

export interface FleetStatus {
  readonly listening: boolean;
  readonly seed: number;
  readonly timeMs: number;
  readonly sites: number;
  /** Every inventory device, as the monitor counts them: snmpDevices + mqttOnlyDevices. */
  readonly devices: number;
  /** Devices with an SNMP agent here. */
  readonly snmpDevices: number;
  /** Devices that speak only MQTT (sensors): no SNMP agent. */
  readonly mqttOnlyDevices: number;
  readonly cutSites: readonly string[];
  readonly cutDevices: readonly string[];
  /** Devices whose SNMP agent is stopped while they are up (they still answer ping). */
  readonly snmpStopped: readonly string[];
  /** Devices not answering right now because they or their path are cut (MQTT-only ones included). */
  readonly silentDevices: number;
  readonly slowDevices: Readonly<Record<string, number>>;
  readonly wrapped32: readonly string[];
  readonly stats: Readonly<AgentStats>;
}

interface SimDevice {
  readonly device: Device;
  readonly model: DeviceModel;
  readonly view: MibView;
  control: DeviceControl;
  delayMs: number;
  agent: SnmpAgent;
}

const MAX_DELAY_MS = 600_000;
const BIND_BATCH = 256;

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** A stable SNMP engine ID per device (RFC 3411 SnmpEngineID: enterprise 8072, format 5 = octets). */
export function engineIdFor(seed: number, deviceId: string): Buffer {
  const h = createHash('sha1').update(`${seed}/${deviceId}`).digest().subarray(0, 12);
  return Buffer.concat([Buffer.from([0x80, 0x00, 0x1f, 0x88, 0x05]), h]);
}

export class FleetSimulator {
  readonly seed: number;
  readonly #clock: Clock;
  readonly #timer: Clock;
  readonly #devices = new Map<string, SimDevice>();
  /** Devices that speak only MQTT (sensors): in the model and the counts, without an SNMP agent. */
  readonly #mqttOnly = new Map<string, Device>();
  readonly #sites = new Map<string, string[]>();
  /** Site → the site it reaches the internet through (inventory `upstream`). */
  readonly #upstreamOf = new Map<string, string>();
  /** Site → its router (where the upstream path continues). */
  readonly #routerOf = new Map<string, string>();
  readonly #cutSites = new Set<string>();
  readonly #cutDevices = new Set<string>();
  /** Agents stopped while their device stays up: no SNMP answer, ping still answers, children unaffected. */
  readonly #snmpStopped = new Set<string>();
  readonly #fallback: SnmpCredentials;
  readonly #stats: AgentStats = emptyStats();
  #listening = false;

  constructor(opts: FleetSimulatorOptions) {
    this.seed = opts.seed ?? 1;
    this.#clock = opts.clock ?? systemClock;
    this.#timer = opts.timer ?? systemClock;
    const inv = opts.inventory;
    const sites = new Map(inv.sites.map((s) => [s.id, s]));
    for (const s of inv.sites) {
      this.#sites.set(s.id, []);
      if (s.upstream !== undefined) this.#upstreamOf.set(s.id, s.upstream);
    }
    for (const d of inv.devices) if (d.role === 'router') this.#routerOf.set(d.siteId, d.id);
    const aps = new Map<string, number>();
    for (const d of inv.devices) if (d.role === 'ap') aps.set(d.siteId, (aps.get(d.siteId) ?? 0) + 1);
    const endpoints = new Map<string, string>();
    const fallback: SnmpCredentials = opts.defaultCredentials ?? {
      version: '2c',
      community: new Secret('public'),
    };
    this.#fallback = fallback;

    for (const device of inv.devices) {
      const site = sites.get(device.siteId);
      if (!site) throw new SimulatorStartError(`device ${device.id}: unknown site ${device.siteId}`);
      if (this.#devices.has(device.id) || this.#mqttOnly.has(device.id))
        throw new SimulatorStartError(`duplicate device id ${device.id}`);
      // Sensors speak only MQTT (simulator/mqtt/): no SNMP agent for them, but part of the fleet.
      if (device.role === 'sensor') {
        this.#mqttOnly.set(device.id, device);
        this.#sites.get(site.id)?.push(device.id);
        continue;
      }
      if (!isLoopback(device.host)) {
        throw new SimulatorStartError(
          `device ${device.id}: ${device.host} is not a loopback address; the simulator only serves on 127.0.0.0/8 or ::1`,
        );
      }
      const endpoint = `${device.host}:${device.port}`;
      const other = endpoints.get(endpoint);
      if (other) throw new SimulatorStartError(`devices ${other} and ${device.id} share ${endpoint}`);
      endpoints.set(endpoint, device.id);
      const model = buildDeviceModel(device, site, { seed: this.seed, apsAtSite: aps.get(site.id) ?? 0 });
      const sim: SimDevice = {
        device,
        model,
        view: mibViewFor(model),
        control: {},
        delayMs: 0,
        agent: undefined as unknown as SnmpAgent,
      };
      sim.agent = new SnmpAgent({
        host: device.host,
        port: device.port,
        credentials: device.snmp ?? fallback,
        engineId: engineIdFor(this.seed, device.id),
        stats: this.#stats,
        timer: this.#timer,
        responder: {
          isSilent: () => this.#snmpStopped.has(device.id) || this.#isSilent(sim),
          replyDelayMs: () => sim.delayMs,
          answer: (pdu, budget) => {
            let values: DeviceValues | undefined;
            const now = this.#clock.now();
            return answerPdu(
              sim.view,
              sim.model,
              () => (values ??= deviceValuesAt(sim.model, sim.control, now)),
              pdu,
              budget,
            );
          },
          answerInto: (type, nonRepeaters, maxRepetitions, key, oids, out) => {
            const plan = planFor(sim.view, key, type, nonRepeaters, maxRepetitions, oids);
            if (plan === undefined) return undefined;
            let values: DeviceValues | undefined;
            const now = this.#clock.now();
            return writePlan(
              plan,
              sim.model,
              () => (values ??= deviceValuesAt(sim.model, sim.control, now)),
              out,
            );
          },
        },
      });
      this.#devices.set(device.id, sim);
      this.#sites.get(site.id)?.push(device.id);
    }
    for (const d of [...[...this.#devices.values()].map((s) => s.device), ...this.#mqttOnly.values()]) {
      const p = d.parent;
      if (p !== undefined && !this.#devices.has(p)) {
        throw new SimulatorStartError(`device ${d.id}: unknown parent ${p}`);
      }
    }
  }

  get listening(): boolean {
    return this.#listening;
  }

  /** Bind every device's socket. On any failure the ones already bound are closed again. */
  async start(): Promise<void> {
    if (this.#listening) return;
    const sims = [...this.#devices.values()];
    const started: SnmpAgent[] = [];
    try {
      for (let i = 0; i < sims.length; i += BIND_BATCH) {
        const batch = sims.slice(i, i + BIND_BATCH).map((s) => s.agent);
        const results = await Promise.allSettled(batch.map((a) => a.start()));
        results.forEach((r, j) => {
          const a = batch[j];
          if (r.status === 'fulfilled' && a) started.push(a);
        });
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      }
    } catch (err) {
      await Promise.all(started.map((a) => a.stop()));
      throw err instanceof SimulatorStartError
        ? err
        : new SimulatorStartError(`cannot start the simulator: ${errorMessage(err)}`, { cause: err });
    }
    this.#listening = true;
  }

  async stop(): Promise<void> {
    this.#listening = false;
    await Promise.all([...this.#devices.values()].map((s) => s.agent.stop()));
  }

  // ---- control ----

  cutSite(siteId: string): void {
    this.#site(siteId);
    this.#cutSites.add(siteId);
  }

  restoreSite(siteId: string): void {
    this.#site(siteId);
    this.#cutSites.delete(siteId);
  }

  /** Any device, MQTT-only ones too (their MQTT connection is mqtt-fleet.ts's to drop). */
  cutDevice(id: string): void {
    this.#anyDevice(id);
    this.#cutDevices.add(id);
  }

  restoreDevice(id: string): void {
    this.#anyDevice(id);
    this.#cutDevices.delete(id);
  }

  /**
   * Its SNMP agent stops answering while the device stays up: it still answers ping (its loopback address
   * is not touched) and the devices behind it are still reached, as when a router's agent dies.
   */
  stopSnmp(id: string): void {
    this.#device(id);
    this.#snmpStopped.add(id);
  }

  startSnmp(id: string): void {
    this.#device(id);
    this.#snmpStopped.delete(id);
  }

  /**
   * The addresses of every device with an agent that a cut silences now (cut itself, its site, or on its
   * path): what stops answering ping on a real network (simulator/blackhole.ts makes it so).
   */
  cutAddresses(): string[] {
    const out = new Set<string>();
    for (const sim of this.#devices.values()) if (this.#isSilent(sim)) out.add(sim.device.host);
    return [...out].sort();
  }

  /**
   * What a trap from this device carries: its SNMPv2c community, or its SNMPv3 user with the agent's own
   * engine (ID, boots, time), as simulator/traps.ts sends them.
   */
  trapSecurity(id: string): { community: string } | { v3: V3TrapSecurity } {
    const sim = this.#device(id);
    const c = sim.device.snmp ?? this.#fallback;
    if (c.version === '2c') return { community: c.community.reveal() };
    return {
      v3: {
        credentials: c,
        engineId: engineIdFor(this.seed, id),
        engineBoots: sim.agent.engineBoots,
        engineTime: sim.agent.engineTime(),
      },
    };
  }

  /** Whether the device speaks only MQTT (no SNMP agent, no SNMP values). Unknown ids are a 404. */
  isMqttOnly(id: string): boolean {
    return this.#anyDevice(id).mqttOnly;
  }

  /** The device restarts now: sysUpTime and every counter start again from 0, a new SNMPv3 engine boot. */
  rebootDevice(id: string): { bootAtMs: number } {
    const sim = this.#device(id);
    const now = this.#clock.now();
    sim.control = { rebootAtMs: now };
    sim.agent.restartEngine();
    return { bootAtMs: now };
  }

  /** Answer `delayMs` late (0 restores prompt replies). */
  slowDevice(id: string, delayMs: number): void {
    const sim = this.#device(id);
    if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > MAX_DELAY_MS) {
      throw new SimulatorControlError(400, `delayMs must be a number from 0 to ${MAX_DELAY_MS}`);
    }
    sim.delayMs = Math.round(delayMs);
  }

  /**
   * Set the 32-bit octet counters (ifInOctets/ifOutOctets) so they wrap within the next `withinS` seconds
   * at the current rate. The rate is unchanged, so a poller doing modular arithmetic sees no spike across
   * the wrap. The counters jump once, now, to their new values: take a fresh baseline after calling this.
   */
  wrapCounters32(id: string, withinS: number): { setAtMs: number; wrapsBeforeMs: number } {
    const sim = this.#device(id);
    if (!Number.isFinite(withinS) || withinS <= 0 || withinS > 86_400) {
      throw new SimulatorControlError(400, 'withinS must be a number of seconds from 1 to 86400');
    }
    const now = this.#clock.now();
    const values = deviceValuesAt(sim.model, sim.control, now);
    sim.control = {
      ...sim.control,
      wrap32: {
        setAtMs: now,
        bootAtMs: values.bootAtMs,
        offsets: wrapOffsets(sim.model, sim.control, now, withinS),
      },
    };
    return { setAtMs: now, wrapsBeforeMs: now + withinS * 1000 };
  }

  status(): FleetStatus {
    let silent = 0;
    const slow: Record<string, number> = {};
    const wrapped: string[] = [];
    for (const d of this.#mqttOnly.values()) if (this.#pathCut(d)) silent += 1;
    for (const sim of this.#devices.values()) {
      if (this.#isSilent(sim)) silent += 1;
      if (sim.delayMs > 0) slow[sim.device.id] = sim.delayMs;
      if (sim.control.wrap32) wrapped.push(sim.device.id);
    }
    return {
      listening: this.#listening,
      seed: this.seed,
      timeMs: this.#clock.now(),
      sites: this.#sites.size,
      devices: this.#devices.size + this.#mqttOnly.size,
      snmpDevices: this.#devices.size,
      mqttOnlyDevices: this.#mqttOnly.size,
      cutSites: [...this.#cutSites].sort(),
      cutDevices: [...this.#cutDevices].sort(),
      snmpStopped: [...this.#snmpStopped].sort(),
      silentDevices: silent,
      slowDevices: slow,
      wrapped32: wrapped.sort(),
      stats: { ...this.#stats },
    };
  }

  deviceStatus(id: string): DeviceStatus {
    const { device: d, sim } = this.#anyDevice(id);
    const own = this.#cutDevices.has(d.id) || this.#cutSites.has(d.siteId);
    const silent = sim ? this.#isSilent(sim) : this.#pathCut(d);
    return {
      id: d.id,
      siteId: d.siteId,
      role: d.role,
      protocols: sim ? (d.mqtt ? ['snmp', 'mqtt'] : ['snmp']) : ['mqtt'],
      endpoint: sim ? `${d.host}:${d.port}` : null,
      profile: sim ? sim.model.profile : d.profile,
      legacy: sim ? sim.model.legacy : false,
      state: own ? 'cut' : silent ? 'unreachable' : 'up',
      snmp: sim ? (this.#snmpStopped.has(d.id) ? 'stopped' : 'answering') : 'none',
      delayMs: sim?.delayMs ?? 0,
    };
  }

  /** The device's value model (for tests: pair with deviceValuesAt / meanRateBps). */
  model(id: string): DeviceModel {
    return this.#device(id).model;
  }

  /** The control state the values depend on (reboots, wraps). */
  control(id: string): DeviceControl {
    return this.#device(id).control;
  }

  /** What the device serves at `tMs` (default: now). */
  valuesAt(id: string, tMs: number = this.#clock.now()): DeviceValues {
    const sim = this.#device(id);
    return deviceValuesAt(sim.model, sim.control, tMs);
  }

  /**
   * What the device's agent answers to one request datagram, without a socket (undefined: it stays
   * silent). For benchmarks (scripts/bench/simulator-answers.ts) and tests; the faults apply as on the wire.
   */
  answerDatagram(id: string, datagram: Buffer): Buffer | undefined {
    const sim = this.#device(id);
    if (this.#snmpStopped.has(id) || this.#isSilent(sim)) return undefined;
    return sim.agent.handle(datagram);
  }

  /** The SNMPv3 engine ID of a device (clients may pin it). */
  engineId(id: string): Buffer {
    this.#device(id);
    return engineIdFor(this.seed, id);
  }

  #isSilent(sim: SimDevice): boolean {
    let cur: SimDevice | undefined = sim;
    for (let hops = 0; cur && hops < 16; hops++) {
      if (this.#cutDevices.has(cur.device.id) || this.#cutSites.has(cur.device.siteId)) return true;
      // Up the parent chain; past a site's router, on to the router of the site it reaches the internet
      // through, so a cut upstream silences every site behind it.
      let p: string | undefined = cur.device.parent;
      if (p === undefined && cur.device.role === 'router') {
        const up = this.#upstreamOf.get(cur.device.siteId);
        p = up === undefined ? undefined : this.#routerOf.get(up);
      }
      cur = p === undefined ? undefined : this.#devices.get(p);
    }
    return false;
  }

  /** An MQTT-only device is cut with itself, its site, or its parent's path. */
  #pathCut(d: Device): boolean {
    if (this.#cutDevices.has(d.id) || this.#cutSites.has(d.siteId)) return true;
    const parent = d.parent === undefined ? undefined : this.#devices.get(d.parent);
    return parent !== undefined && this.#isSilent(parent);
  }

  /** A device with an SNMP agent: the SNMP-only operations (reboot, slow, wrap32, values) need one. */
  #device(id: string): SimDevice {
    const sim = this.#devices.get(id);
    if (sim) return sim;
    if (this.#mqttOnly.has(id))
      throw new SimulatorControlError(
        409,
        `device ${id} speaks only MQTT: it has no SNMP agent to do that; use cut, restore, mqtt-drop, mqtt-disconnect or mqtt-restore`,
      );
    throw new SimulatorControlError(404, `unknown device ${id}`);
  }

  #anyDevice(id: string): { device: Device; sim: SimDevice | undefined; mqttOnly: boolean } {
    const sim = this.#devices.get(id);
    if (sim) return { device: sim.device, sim, mqttOnly: false };
    const d = this.#mqttOnly.get(id);
    if (d) return { device: d, sim: undefined, mqttOnly: true };
    throw new SimulatorControlError(404, `unknown device ${id}`);
  }

  #site(id: string): string[] {
    const s = this.#sites.get(id);
    if (!s) throw new SimulatorControlError(404, `unknown site ${id}`);
    return s;
  }
}
