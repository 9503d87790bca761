/**
 * Who is told, and when the clock runs out. Pure functions of (policy, incident, time):
 *
 *   severity   the site's criticality (by category: puskesmas and kantor camat critical, banjar and
 *              lingkungan lowest), overridable per category
 *   route      the first rule matching (severity, category, kecamatan, kind) gives an escalation chain of
 *              contacts; each contact has channels
 *   clock      per severity (2 h critical, 24 h the rest): an incident not acknowledged when its clock runs
 *              out has breached it (recorded once), and goes to the next contact of its chain; every further
 *              clock period without acknowledgement goes one contact further, until the chain ends
 *
 * Without routes, every notification goes to every channel (the behaviour of a monitor with one pager).
 */
import type { Category, Criticality } from '../core/types.ts';

export interface RouteMatch {
  readonly severities?: readonly Criticality[] | undefined;
  readonly categories?: readonly Category[] | undefined;
  readonly kecamatan?: readonly string[] | undefined;
  readonly kinds?: readonly string[] | undefined;
}

export interface Route {
  readonly match: RouteMatch;
  /** Contact names: the first is paged at once, the next ones on each missed clock. */
  readonly escalation: readonly string[];
}

export interface Contact {
  readonly name: string;
  /** Channel names (config `channels`, or `webhook:<name>` of `alerts.webhooks`). */
  readonly channels: readonly string[];
}

export interface OnCallPolicy {
  /** Overrides the sites' criticality (inventory, default by category in core/categories.ts) per category. */
  readonly severityByCategory: Readonly<Partial<Record<Category, Criticality>>>;
  readonly clocksMs: Readonly<Record<Criticality, number>>;
  readonly contacts: readonly Contact[];
  readonly routes: readonly Route[];
}

const HOUR = 3600_000;
/** The two clocks of ../shared/reference/badung.md ("Service standards to build on"). */
export const DEFAULT_CLOCKS: Readonly<Record<Criticality, number>> = {
  critical: 2 * HOUR,
  high: 24 * HOUR,
  medium: 24 * HOUR,
  low: 24 * HOUR,
};

export const DEFAULT_ONCALL: OnCallPolicy = {
  severityByCategory: {},
  clocksMs: DEFAULT_CLOCKS,
  contacts: [],
  routes: [],
};

/** What routing looks at. */
export interface RoutedIncident {
  readonly kind: string;
  readonly severity: Criticality;
  readonly category?: Category | undefined;
  readonly kecamatan?: string | undefined;
}

function matches(m: RouteMatch, i: RoutedIncident): boolean {
  if (m.severities && !m.severities.includes(i.severity)) return false;
  if (m.kinds && !m.kinds.includes(i.kind)) return false;
  // A rule naming categories or kecamatan does not match an incident that has none (e.g. an area).
  if (m.categories && (i.category === undefined || !m.categories.includes(i.category))) return false;
  if (m.kecamatan && (i.kecamatan === undefined || !m.kecamatan.includes(i.kecamatan))) return false;
  return true;
}

/** The escalation chain of the first matching route; undefined when no routes are configured. */
export function escalationChain(p: OnCallPolicy, i: RoutedIncident): readonly Contact[] | undefined {
  if (p.routes.length === 0) return undefined;
  const route = p.routes.find((r) => matches(r.match, i));
  if (!route) return [];
  return route.escalation.flatMap((name) => p.contacts.filter((c) => c.name === name));
}

/**
 * The channels that hear of an incident that reached escalation `level` (0: the first page): every contact
 * of its chain up to that level. Undefined: no routing configured, every channel.
 */
export function channelsUpTo(
  p: OnCallPolicy,
  i: RoutedIncident,
  level: number,
): readonly string[] | undefined {
  const chain = escalationChain(p, i);
  if (!chain) return undefined;
  return [...new Set(chain.slice(0, level + 1).flatMap((c) => c.channels))];
}

/** What the clock of one unacknowledged, unresolved incident says now. */
export interface ClockReading {
  /** When its clock ran out (openedAt + clock), whether or not that is past. */
  readonly deadlineMs: number;
  readonly breached: boolean;
  /** The escalation level due now: 0 before the deadline, 1 after it, 2 after two clock periods, ... */
  readonly level: number;
  /** The next time the reading changes. */
  readonly nextMs: number;
}

export function readClock(
  p: OnCallPolicy,
  inc: { readonly severity: Criticality; readonly openedAt: number },
  nowMs: number,
): ClockReading {
  const clock = p.clocksMs[inc.severity];
  const deadlineMs = inc.openedAt + clock;
  const level = nowMs < deadlineMs ? 0 : 1 + Math.floor((nowMs - deadlineMs) / clock);
  return { deadlineMs, breached: nowMs >= deadlineMs, level, nextMs: deadlineMs + level * clock };
}

/** An incident's severity: the per-category override, else the site's own criticality. */
export function severityOf(
  p: OnCallPolicy,
  site: { readonly category: Category; readonly criticality: Criticality },
): Criticality {
  return p.severityByCategory[site.category] ?? site.criticality;
}
