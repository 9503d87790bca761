/**
 * A cluster member with the collector role: it polls the devices it owns and shares what it saw.
 *
 *   membership (KV heartbeats, live view) ─► ownership (rendezvous, pins) ─► add / remove ─┐
 *   Collection: aligned Scheduler ─► SNMP poller ─► normalise ─► SampleWriter ─► InfluxDB  │ (own disk buffer)
 *              └─► every ProbeResult ─► ResultPublisher ─► JetStream NETMON_RESULTS ◄───────┘
 *   Ping (with `ping:`): Pinger (fping) over the owned devices ─► ping samples ─► SampleWriter
 *              └─► every ping ProbeResult ─► the same ResultPublisher (same seq)
 *   netmon.probe.<device> (from alerting) ─► requestProbe (kind poll) or an immediate ping (kind ping),
 *              for the devices it owns
 *
 * Handover rules (README: Cluster):
 * - Turns are aligned to the wall clock (scheduler.ts `aligned`): every collector would poll a device at
 *   the same slot, so a device acquired after a membership change is polled at its next slot, never at
 *   once, and a device released stops at once: two collectors never poll it in one interval.
 * - A member that joins waits one heartbeat before it takes any device, so the others have seen it (and
 *   released theirs) first; a member that dies is dropped by the others `timeout` after its last heartbeat
 *   and its devices polled at their next slots: the worst takeover delay is timeout + one interval.
 * - Ping targets follow ownership too (Pinger.setTargets): a device taken over is pinged at once (a ping
 *   twice in one interval harms nothing), one handed back is pinged no more.
 * - Ping-only devices (`ping: only`, no SNMP) are owned like the others, by the same rendezvous, when the
 *   members have `ping:`: their owner pings them and never polls them; a probe request for one, of either
 *   kind, is a ping. Without `ping:` nobody watches them, and every member says so at start.
 * - A clean stop stops polling first, then deletes the member's key: the others take over at once.
 */
import type { ClusterConfig } from '../../config/cluster.ts';
import type { PingConfig } from '../../config/ping.ts';
import { Collection } from '../collection/collection.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Device, Inventory, Sample } from '../core/types.ts';
import { Topology } from '../health/topology.ts';
import { hasSnmp } from '../liveness/mqtt-liveness.ts';
import type { DevicePoller, SampleWriterLike } from '../pipeline.ts';
import { createPinger, isPinged, pingTargets } from '../sources/ping/attach.ts';
import type { PingBatch } from '../sources/ping/fping.ts';
import type { Pinger, PingTarget } from '../sources/ping/pinger.ts';
import { Membership, type MembersStore } from './membership.ts';
import { handover, ownedBy, type PlacedDevice, type StrictPins } from './ownership.ts';
import { ResultPublisher, type PublisherStats, type StreamPublish } from './result-bus.ts';
import { decodeProbeRequest, deviceOfProbeSubject, type MemberRecord } from './subjects.ts';

/** What the node needs of the bus (collector/cluster/nats.ts's Bus has it). */
export interface CollectorBus {
  readonly publisher: StreamPublish;
  /** Where this member's results go (an edge: its leaf's stream); absent: `netmon.results.<node>`. */
  readonly resultSubject?: string | undefined;
  members(): Promise<MembersStore>;
  subscribeProbes(onRequest: (subject: string, data: Uint8Array) => void): { stop(): void };
}

export interface CollectorNodeDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly inventory: Inventory;
  readonly poller: DevicePoller;
  readonly writer: SampleWriterLike;
  readonly bus: CollectorBus;
  /** Tests may run another PingBatch; default fping. */
  readonly pingBatch?: PingBatch | undefined;
  /** The event loop's utilisation, for back-pressure (collection.ts); absent: not measured. */
  readonly loopUtilisation?: (() => number) | undefined;
}

export interface CollectorNodeSettings {
  readonly cluster: Pick<ClusterConfig, 'node' | 'roles' | 'membership' | 'pin'> &
    Partial<Pick<ClusterConfig, 'edges'>>;
  readonly intervalMs: number;
  readonly concurrency: number;
  readonly selfMetricsMs: number;
  /** The config's `ping:` section: ping the devices this member owns. */
  readonly ping?: PingConfig | undefined;
  /** How long stop() waits for NATS to ack the last results. Default 5 s. */
  readonly flushTimeoutMs?: number | undefined;
}

export interface CollectorNodeStats {
  readonly members: readonly string[];
  readonly owned: number;
  readonly handovers: number;
  readonly publisher: PublisherStats;
  readonly badProbeRequests: number;
  /** Devices this member pings now (owned and pinged; 0 without `ping:`). */
  readonly pinged: number;
}

export class CollectorNode {
  readonly #deps: CollectorNodeDeps;
  readonly #settings: CollectorNodeSettings;
  readonly #devices: PlacedDevice[];
  /** The placed devices polled over SNMP (the others are ping-only). */
  readonly #snmp: ReadonlySet<string>;
  /** Ping-only devices nobody watches (this member has no `ping:`). */
  readonly #unwatched: readonly string[];
  /** The edges' kecamatan: only members pinned to them poll their devices (ownership.ts, strict pins). */
  readonly #strict: StrictPins;
  readonly #collection: Collection;
  /** With `ping:`: every pinged device's target; the Pinger gets the owned ones. */
  readonly #pingTargets: readonly PingTarget[];
  readonly #pinger: Pinger | undefined;
  #publisher: ResultPublisher | undefined;
  #membership: Membership | undefined;
  #probes: { stop(): void } | undefined;
  #owned = new Set<string>();
  #members: readonly string[] = [];
  #settled = false;
  /** This member is in its own live view (its heartbeats come back). */
  #selfLive = true;
  /** Set while it waits one heartbeat before taking devices again after a cut. */
  #rejoin: TimerHandle | undefined;
  #handovers = 0;
  #badProbeRequests = 0;
  #stopping = false;

  constructor(deps: CollectorNodeDeps, settings: CollectorNodeSettings) {
    this.#deps = deps;
    this.#settings = settings;
    const topology = new Topology(deps.inventory);
    const kecamatan = new Map(deps.inventory.sites.map((s) => [s.id, s.kecamatan]));
    // Placed by ownership: the SNMP devices, and with `ping:` the ping-only ones (pinged, never polled).
    const pingOnly = (d: Device): boolean => d.ping === 'only' && isPinged(d);
    this.#snmp = new Set(deps.inventory.devices.filter(hasSnmp).map((d) => d.id));
    this.#devices = deps.inventory.devices
      .filter((d) => this.#snmp.has(d.id) || (settings.ping !== undefined && pingOnly(d)))
      .map((d) => ({ id: d.id, kecamatan: kecamatan.get(d.siteId) ?? '' }));
    this.#unwatched = settings.ping ? [] : deps.inventory.devices.filter(pingOnly).map((d) => d.id);
    this.#strict = new Set((settings.cluster.edges ?? []).flatMap((e) => e.kecamatan));
    this.#collection = new Collection(
      {
        clock: deps.clock,
        log: deps.log,
        topology,
        poller: deps.poller,
        writer: deps.writer,
        onProbe: (probe) => this.#publisher?.publish(probe),
        extraMetrics: () => [this.#metrics()],
        loopUtilisation: deps.loopUtilisation,
      },
      {
        intervalMs: settings.intervalMs,
        jitterMs: 0,
        concurrency: settings.concurrency,
        selfMetricsMs: settings.selfMetricsMs,
        aligned: true,
        metricTags: { node: settings.cluster.node },
      },
    );
    this.#pingTargets = settings.ping ? pingTargets(deps.inventory, settings.ping) : [];
    this.#pinger =
      settings.ping &&
      createPinger(settings.ping, {
        clock: deps.clock,
        log: deps.log.child({ component: 'ping' }),
        batch: deps.pingBatch,
        targets: [],
        observe: (probe) => this.#publisher?.publish(probe),
        push: (samples) => deps.writer.push(samples),
      });
  }

  /** Join: writer, publisher, membership (one heartbeat to settle), then the devices this member owns. */
  async start(): Promise<void> {
    const { clock, log, bus, writer } = this.#deps;
    const { cluster } = this.#settings;
    const startedAtMs = clock.now();
    await writer.start();
    this.#publisher = new ResultPublisher({
      bus: bus.publisher,
      clock,
      log: log.child({ component: 'results' }),
      collector: cluster.node,
      startedAtMs,
      subject: bus.resultSubject,
    });
    this.#collection.start([]);
    this.#pinger?.start();
    if (this.#unwatched.length > 0)
      log.warn('ping-only devices are not watched: this member has no ping: section', {
        devices: this.#unwatched.length,
        first: this.#unwatched.slice(0, 5),
      });
    const self: MemberRecord = {
      v: 1,
      id: cluster.node,
      roles: [...cluster.roles],
      pins: [...(cluster.pin?.kecamatan ?? [])],
      startedAtMs,
    };
    const membership = new Membership({
      store: await bus.members(),
      clock,
      log: log.child({ component: 'membership' }),
      self,
      heartbeatMs: cluster.membership.heartbeatMs,
      timeoutMs: cluster.membership.timeoutMs,
    });
    this.#membership = membership;
    membership.onChange((live) => this.#apply(live));
    await membership.start();
    this.#probes = bus.subscribeProbes((subject, data) => this.#onProbeRequest(subject, data));
    // One heartbeat for the others to see this member (and release what it takes) before it takes anything.
    await new Promise<void>((resolve) => clock.setTimeout(resolve, cluster.membership.heartbeatMs));
    this.#settled = true;
    if (!this.#stopping) this.#apply(membership.live());
    log.info('collector joined the cluster', {
      node: cluster.node,
      members: this.#members,
      owned: this.#owned.size,
      devices: this.#devices.length,
    });
  }

  /** The devices this member polls now. */
  owned(): string[] {
    return [...this.#owned];
  }

  stats(): CollectorNodeStats {
    return {
      members: this.#members,
      owned: this.#owned.size,
      handovers: this.#handovers,
      publisher: this.#publisher?.stats() ?? {
        seq: 0,
        acked: 0,
        duplicates: 0,
        queued: 0,
        dropped: 0,
        retries: 0,
      },
      badProbeRequests: this.#badProbeRequests,
      pinged: this.#pinger?.deviceIds().length ?? 0,
    };
  }

  /** Stop polling (polls in flight finish), leave (the others take over at once), flush results and samples. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#rejoin) this.#deps.clock.clearTimeout(this.#rejoin);
    this.#rejoin = undefined;
    await Promise.all([this.#collection.stop(), this.#pinger?.stop()]);
    this.#probes?.stop();
    await this.#membership?.stop();
    this.#collection.writeSelfMetrics();
    await this.#publisher?.close(this.#settings.flushTimeoutMs ?? 5000);
    await this.#deps.writer.stop();
    this.#deps.poller.close();
  }

  /** The live members changed: poll what this member owns in the new view, from each device's next slot. */
  #apply(live: readonly MemberRecord[]): void {
    const collectors = live.filter((m) => m.roles.includes('collector'));
    this.#members = collectors.map((m) => m.id);
    if (!this.#settled || this.#stopping) return;
    const self = this.#settings.cluster.node;
    const selfLive = collectors.some((m) => m.id === self);
    if (selfLive && !this.#selfLive) {
      // Back after a cut (its own heartbeats failed): like a join, one heartbeat before taking anything,
      // so the others have seen it again (and released what it takes) first.
      this.#selfLive = true;
      const { clock } = this.#deps;
      if (this.#rejoin) clock.clearTimeout(this.#rejoin);
      this.#rejoin = clock.setTimeout(() => {
        this.#rejoin = undefined;
        if (this.#membership && !this.#stopping) this.#apply(this.#membership.live());
      }, this.#settings.cluster.membership.heartbeatMs);
      return;
    }
    if (this.#rejoin) return;
    this.#selfLive = selfLive;
    const next = new Set(ownedBy(self, this.#devices, collectors, this.#strict));
    const { acquired, released } = handover(this.#owned, next);
    if (acquired.length === 0 && released.length === 0) return;
    for (const id of released) if (this.#snmp.has(id)) this.#collection.remove(id);
    for (const id of acquired) if (this.#snmp.has(id)) this.#collection.add(id);
    this.#owned = next;
    this.#pinger?.setTargets(this.#pingTargets.filter((t) => next.has(t.deviceId)));
    this.#handovers++;
    this.#deps.log.info('devices handed over', {
      members: this.#members,
      owned: next.size,
      acquired: acquired.length,
      released: released.length,
    });
  }

  #onProbeRequest(subject: string, data: Uint8Array): void {
    const id = deviceOfProbeSubject(subject);
    if (id === undefined || !this.#owned.has(id)) return;
    const req = decodeProbeRequest(data);
    if (!req.ok) {
      this.#badProbeRequests++;
      if (this.#badProbeRequests <= 5 || this.#badProbeRequests % 100 === 0)
        this.#deps.log.warn('bad probe request skipped', { subject, error: req.error });
      return;
    }
    try {
      if (req.value.kind === 'ping' || !this.#snmp.has(id)) this.#pinger?.request(id);
      else this.#collection.requestProbe(id, req.value.delayMs);
    } catch (err) {
      this.#deps.log.error('probe request failed', { device: id, error: errorMessage(err) });
    }
  }

  /** The member's own point (component cluster), written with collection's. */
  #metrics(): Sample {
    const p = this.#publisher?.stats();
    return {
      measurement: 'monitor',
      tags: { component: 'cluster', node: this.#settings.cluster.node },
      fields: {
        members: this.#members.length,
        owned_devices: this.#owned.size,
        results_acked: p?.acked ?? 0,
        results_queued: p?.queued ?? 0,
        results_dropped: p?.dropped ?? 0,
        heartbeat_failures: this.#membership?.stats().heartbeatFailures ?? 0,
      },
      timeMs: this.#deps.clock.now(),
    };
  }
}
