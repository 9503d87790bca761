/**
 * The incident lifecycle: one module from a device transition to a closed incident.
 *
 *   Transition ─► AlertBook (open, flap, settle, resolve; durable in the IncidentStore)
 *                   ├─► `incident` point (opened, flapping, clock_breached, resolved)
 *                   ├─► notice ─► the suppression pipeline (collector/alerting/pipeline.ts)
 *                   └─► recovering: a recovery settling, told to the machine-read feeds at once
 *   operator ─► acknowledge, resolve by hand (its recovery notice goes out as for a device that came back)
 *   clock    ─► an open, unacknowledged incident past its clock escalates to the next contact of its route
 *
 * Everything is in the store, so a restart neither forgets nor repeats a page or an escalation.
 */
import type { Alert, FlapPolicy } from '../alerting/alert.ts';
import { AlertBook } from '../alerting/alert.ts';
import { escalationText } from '../alerting/messages.ts';
import {
  channelsUpTo,
  escalationChain,
  readClock,
  severityOf,
  type OnCallPolicy,
} from '../alerting/oncall.ts';
import type { AlertPipeline } from '../alerting/pipeline.ts';
import { routeOf } from '../alerting/stages/routing.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { Criticality, Transition } from '../core/types.ts';
import type { Topology } from '../health/topology.ts';
import type { Dispatcher } from '../notify/dispatcher.ts';
import { buildNotification, type Notification } from '../notify/notification.ts';
import type { Notifier } from '../notify/notifier.ts';
import type { SampleWriterLike } from '../pipeline.ts';
import { siteTags } from '../sinks/schema.ts';
import type { Incident, IncidentStoreLike } from '../store/store.ts';

export type IncidentActionResult =
  | { readonly outcome: 'ok'; readonly incident: Incident }
  | { readonly outcome: 'not_found' }
  | { readonly outcome: 'conflict'; readonly incident: Incident; readonly why: string };

export interface IncidentLifecycleDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly topology: Topology;
  readonly store?: IncidentStoreLike | undefined;
  readonly writer: SampleWriterLike;
  readonly pipeline: AlertPipeline;
  readonly dispatcher: Dispatcher;
  /** The channels (to find the machine-read feeds that hear of a recovery settling). */
  readonly notifiers: readonly Notifier[];
  readonly oncall: OnCallPolicy;
  readonly flapping?: FlapPolicy | undefined;
  readonly linkBase?: string | undefined;
  /** A site's state may have changed without a device transition (a recovery confirmed). */
  readonly sitesChanged: (siteIds: Iterable<string>, timeMs: number) => void;
}

export class IncidentLifecycle {
  readonly #deps: IncidentLifecycleDeps;
  readonly #book: AlertBook;
  #settleTimer: TimerHandle | undefined;
  #running = false;

  constructor(deps: IncidentLifecycleDeps) {
    this.#deps = deps;
    this.#book = new AlertBook(
      deps.topology,
      deps.store,
      (site) => severityOf(deps.oncall, site),
      deps.flapping,
    );
  }

  start(): void {
    this.#running = true;
  }

  stop(): void {
    this.#running = false;
    if (this.#settleTimer) this.#deps.clock.clearTimeout(this.#settleTimer);
    this.#settleTimer = undefined;
  }

  /** The open alerts (device outages). */
  open(): Alert[] {
    return this.#book.open();
  }

  recoveryOf(deviceId: string): { sinceMs: number; confirmAtMs: number } | undefined {
    return this.#book.recoveryOf(deviceId);
  }

  /** An open alert with its recovery (if one is settling): what the surfaces show of it. */
  withRecovery(alert: Alert): Alert {
    const recovery = alert.status === 'firing' ? this.#book.recoveryOf(alert.deviceId) : undefined;
    return recovery ? { ...alert, recovery } : alert;
  }

  /** Whether the device has gone down again before its recovery settled, often enough to be flapping. */
  isFlapping(deviceId: string): boolean {
    // One lookup, not a scan of every open alert: site states ask this for every device of the fleet.
    return (this.#book.openOf(deviceId)?.flaps ?? 0) > 0;
  }

  /** A device changed state: the alert event it causes (if any), already offered to the pipeline. */
  onTransition(t: Transition): Alert | undefined {
    // A recovery due by now settles first, even if its timer is late: a new outage is then a new incident.
    this.#settleDue(t.timeMs);
    const alert = this.#book.onTransition(t);
    if (alert) {
      const event =
        alert.status === 'resolved' ? 'resolved' : alert.flaps !== undefined ? 'flapping' : 'opened';
      this.#incidentPoint(alert, event, t.timeMs);
      this.#deps.pipeline.offer({ kind: 'page', alert, timeMs: t.timeMs });
    } else if (t.to === 'up') this.#recovering(t);
    this.#armSettle();
    return alert;
  }

  /** Outcome of an operator's acknowledgement. */
  acknowledge(id: string, by: string, note: string | undefined): IncidentActionResult {
    return this.#act(id, (store, inc) => {
      if (inc.status === 'acknowledged')
        return {
          outcome: 'conflict',
          incident: inc,
          why: `acknowledged by ${inc.acknowledgedBy ?? '?'} already`,
        };
      const done = store.acknowledge(id, by, this.#deps.clock.now(), note) ?? inc;
      this.#deps.log.info('incident acknowledged', { incident: id, by, note });
      return { outcome: 'ok', incident: done };
    });
  }

  /** An operator closes an incident: its recovery notice goes out as for a device that came back. */
  resolveByHand(id: string, by: string, note: string | undefined): IncidentActionResult {
    return this.#act(id, (store, inc) => {
      const now = this.#deps.clock.now();
      const done = store.resolve(id, now, by, note) ?? inc;
      const alert = this.#book.closeByHand(id, now);
      if (alert) {
        this.#incidentPoint(alert, 'resolved', now);
        // Closed by a person: no stage holds it back; it goes where the outage went.
        this.#deps.pipeline.resume({ kind: 'page', alert, timeMs: now }, 'routing');
      }
      this.#deps.log.info('incident resolved by hand', { incident: id, by, note });
      return { outcome: 'ok', incident: done };
    });
  }

  /** An operator's action on a stored incident that is not resolved yet. */
  #act(
    id: string,
    action: (store: IncidentStoreLike, inc: Incident) => IncidentActionResult,
  ): IncidentActionResult {
    const store = this.#deps.store;
    const inc = store?.get(id);
    if (!store || !inc) return { outcome: 'not_found' };
    if (inc.status === 'resolved')
      return { outcome: 'conflict', incident: inc, why: 'it is already resolved' };
    return action(store, inc);
  }

  /**
   * Read every open incident's clock: one that ran out unacknowledged has breached it (recorded once, for
   * the reports) and goes to the next contact of its route, one contact further per clock period.
   * `held` says which incidents a window or silence holds back: nobody was paged, so nobody is late.
   */
  checkClocks(held: (incidentId: string) => boolean): void {
    const { store, clock, oncall, topology, log } = this.#deps;
    if (!store) return;
    const now = clock.now();
    for (const inc of store.unresolved()) {
      if (inc.status !== 'open' || inc.kind !== 'device_down') continue;
      if (held(inc.id)) continue;
      const severity = inc.severity as Criticality;
      const reading = readClock(oncall, { severity, openedAt: inc.openedAt }, now);
      if (!reading.breached) continue;
      const clockMs = oncall.clocksMs[severity];
      // One lookup by device, not a copy and scan of every open alert per incident (O(open²) per check).
      const own = inc.deviceId === undefined ? undefined : this.#book.openOf(inc.deviceId);
      const alert = own?.id === inc.id ? own : undefined;
      if (store.markClockBreached(inc.id, reading.deadlineMs, `clock ${Math.round(clockMs / 60_000)} min`)) {
        log.warn('incident clock breached', { incident: inc.id, severity, site: inc.siteId });
        if (alert) this.#incidentPoint(alert, 'clock_breached', reading.deadlineMs);
      }
      const device = alert && topology.device(alert.deviceId);
      const site = alert && topology.site(alert.siteId);
      if (!alert || !device || !site) continue;
      const chain = escalationChain(oncall, routeOf(alert.kind, severity, site)) ?? [];
      const level = Math.min(reading.level, chain.length - 1);
      const contact = chain[level];
      if (!contact || level <= inc.escalationLevel) continue;
      if (!store.escalate(inc.id, level, now, contact.name)) continue;
      log.warn('incident escalated', { incident: inc.id, level, contact: contact.name });
      const base = buildNotification(alert, site, device, this.#deps.linkBase);
      this.#deps.dispatcher.dispatch(
        {
          ...base,
          escalation: { level, contact: contact.name, deadline: new Date(reading.deadlineMs).toISOString() },
          text: escalationText(base.text, { level, contact: contact.name, clockMs, openedAt: inc.openedAt }),
        },
        contact.channels,
      );
    }
  }

  /**
   * The notifications the emergency feeds show of device outages: every open one (with its recovery, if
   * settling) and those resolved since `resolvedSinceMs` (their all-clear).
   */
  feedNotifications(resolvedSinceMs: number): { current: Notification[]; recent: Notification[] } {
    const { topology, store, linkBase } = this.#deps;
    const toNotification = (a: Alert): Notification[] => {
      const device = topology.device(a.deviceId);
      const site = topology.site(a.siteId);
      return device && site ? [buildNotification(a, site, device, linkBase)] : [];
    };
    const current = this.#book
      .open()
      .map((a) => this.withRecovery(a))
      .flatMap(toNotification);
    const recent = (store?.list({ status: ['resolved'], limit: 1000 }) ?? [])
      .filter((inc) => inc.kind === 'device_down' && (inc.resolvedAt ?? 0) >= resolvedSinceMs)
      .flatMap((inc) => {
        const a = inc.data.alert as Alert | undefined;
        return a ? toNotification({ ...a, id: inc.id, status: 'resolved', resolvedAt: inc.resolvedAt }) : [];
      });
    return { current, recent };
  }

  /**
   * The device of an open incident answers again and its recovery settles: machine-read feeds (CAP push,
   * and the log) hear that it is recovering and when that is confirmed; people are told once it is.
   */
  #recovering(t: Transition): void {
    const { topology, store, notifiers, dispatcher, log, pipeline } = this.#deps;
    const recovery = this.#book.recoveryOf(t.deviceId);
    const open = this.#book.openOf(t.deviceId);
    if (!recovery || !open || recovery.sinceMs !== t.timeMs || pipeline.maintenance.suppression(open.id))
      return;
    const device = topology.device(open.deviceId);
    const site = topology.site(open.siteId);
    if (!device || !site) return;
    const level = store?.get(open.id)?.escalationLevel ?? 0;
    const routedTo = channelsUpTo(this.#deps.oncall, routeOf(open.kind, open.severity, site), level);
    const feeds = notifiers
      .filter((x) => x.statusUpdates && (!routedTo || routedTo.includes(x.name)))
      .map((x) => x.name);
    const n = buildNotification({ ...open, recovery }, site, device, this.#deps.linkBase);
    // The log (an `always` channel) hears it with the feeds; without a feed, it is told here.
    if (feeds.length > 0) dispatcher.dispatch(n, feeds);
    else
      log.info('RECOVERING', {
        alert: n.id,
        device: device.id,
        site: site.id,
        confirmAt: n.recovery?.confirmAt,
        text_en: n.text.en,
      });
  }

  /** Recoveries settle after flapping.settleMs up: one timer for the next one due. */
  #armSettle(): void {
    const at = this.#book.nextSettleAt();
    const { clock } = this.#deps;
    if (at === undefined || !this.#running) return;
    if (this.#settleTimer) clock.clearTimeout(this.#settleTimer);
    this.#settleTimer = clock.setTimeout(
      () => {
        this.#settleTimer = undefined;
        this.#settleDue(clock.now());
        this.#armSettle();
      },
      Math.max(1, at - clock.now()),
    );
  }

  /** Send the recoveries that have settled by `nowMs`. */
  #settleDue(nowMs: number): void {
    const sites = new Set<string>();
    for (const alert of this.#book.settle(nowMs)) {
      this.#incidentPoint(alert, 'resolved', alert.resolvedAt ?? nowMs);
      this.#deps.pipeline.offer({ kind: 'page', alert, timeMs: nowMs });
      sites.add(alert.siteId);
    }
    this.#deps.sitesChanged(sites, nowMs);
  }

  /** An `incident` point (opened, flapping, clock breached, resolved): annotations and SLA panels. */
  #incidentPoint(alert: Alert, event: string, timeMs: number): void {
    const site = this.#deps.topology.site(alert.siteId);
    const device = this.#deps.topology.device(alert.deviceId);
    if (!site || !device) return;
    const duration = alert.resolvedAt !== undefined ? (alert.resolvedAt - alert.startedAt) / 1000 : undefined;
    this.#deps.writer.push([
      {
        measurement: 'incident',
        tags: { ...siteTags(site), device: device.id, severity: alert.severity, kind: alert.kind, event },
        fields: {
          id: alert.id,
          text: `${event}: ${device.id} (${site.name})`,
          ...(duration === undefined ? {} : { duration_s: duration }),
        },
        timeMs,
      },
    ]);
  }
}
