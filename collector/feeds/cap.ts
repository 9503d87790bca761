/**
 * CAP 1.2 messages (OASIS Common Alerting Protocol, urn:oasis:names:tc:emergency:cap:1.2) for BPBD
 * Badung's emergency picture: one message per notification, two `<info>` blocks (id-ID, en-US),
 * elements in the XSD's sequence. Pure: (Notification, options) → XML text.
 *
 * Message types. A new incident is an `Alert`. A change to an open incident is an `Update` that
 * references the original. A restoration is an `Update` with responseType `AllClear` and urgency `Past`,
 * not a `Cancel`: CAP 1.2 §3.2.1 defines Cancel as "cancels the earlier message(s)", which receivers
 * (and Google Public Alerts) take as "withdrawn, was not valid", while AllClear (§3.2.2, "the subject
 * event no longer poses a threat or concern") keeps the outage in the picture's history with its end.
 *
 * Scope. `Restricted` by default, with a `<restriction>` naming the audience: these are operational
 * messages for BPBD and the agencies of its Perisai picture, not warnings telling the public to act, and
 * they list which public facilities (health centres, district offices) cannot call out. A deployment
 * that wants them on public channels sets scope `Public`.
 *
 * Time. `<sent>` is written in WITA (+08:00, Bali's zone): CAP 1.2 §3.3.2 requires a numeric offset
 * ("Z" is not allowed; UTC would be "-00:00"). It defaults to the event's own time (the outage start for
 * the Alert, the restoration for the AllClear), so rendering the same notification twice gives the same
 * message (a retried POST or a polled feed is a duplicate the receiver can drop, not a new alert), and the
 * original Alert's reference can be recomputed after a restart. An Update of an open incident happens
 * later than either, so it needs `sentMs`.
 *
 * Urgency, severity, certainty (the mapping; the monitor observed every outage itself, so certainty is
 * always Observed). The two clocks are the regency's service standard (../shared/reference/badung.md):
 * critical sites within 2 hours, the rest within 24.
 *
 *   incident                                 status    urgency    severity  certainty responseType
 *   area_outage (many sites of a kecamatan)  firing    Immediate  Severe    Observed  Monitor
 *   site, criticality critical (puskesmas)   firing    Immediate  Severe    Observed  Monitor
 *   site, high (kantor camat, pustu)         firing    Immediate  Moderate  Observed  Monitor
 *   site, medium (desa/lurah, schools, wisata) firing  Future     Minor     Observed  None
 *   site, low (banjar, lingkungan)           firing    Future     Minor     Observed  None
 *   any, answering again (recovering)        firing    Past       Minor     Observed  Monitor
 *   any                                      resolved  Past       Minor     Observed  AllClear
 *
 * Recovering. While a recovery settles (alerts.flapping.settle) the incident is still open: the feed
 * carries an `Update` of it (sent at the moment the device answered again) whose texts say it is
 * recovering and when that is confirmed; the AllClear follows at that time if it stays up.
 *
 * Silenced. An outage inside a silence or maintenance window paged nobody: its description says so
 * (who silenced it, until when) and the parameter `silenced` names the silence or window.
 */
import { isoWitaSeconds } from '../core/time-zone.ts';
import type { Notification } from '../notify/notification.ts';
import { outageCircle } from './geo.ts';
import { areaDescription, eventText, headline, instruction, silencedNote, type Bilingual } from './texts.ts';
import { xmlElement } from './xml.ts';

export const CAP_NAMESPACE = 'urn:oasis:names:tc:emergency:cap:1.2';
/** IANA-registered media type of a CAP document. */
export const CAP_MEDIA_TYPE = 'application/cap+xml';

export type CapStatus = 'Actual' | 'Exercise' | 'Test';
export type CapScope = 'Public' | 'Restricted';
export type CapMsgType = 'Alert' | 'Update';
export type CapUrgency = 'Immediate' | 'Expected' | 'Future' | 'Past';
export type CapSeverity = 'Extreme' | 'Severe' | 'Moderate' | 'Minor';
export type CapCertainty = 'Observed';
export type CapResponseType = 'Monitor' | 'None' | 'AllClear';

/** A message as CAP `<references>` names it: "sender,identifier,sent". */
export interface CapRef {
  readonly sender: string;
  readonly identifier: string;
  readonly sent: string;
}

export interface CapOptions {
  /** CAP `<sender>`: globally unique, e.g. "netmon@kominfo.badungkab.go.id"; no spaces, commas, < or &. */
  readonly sender: string;
  readonly senderName?: string | undefined;
  /** The incident's first message; makes a firing notification an Update. */
  readonly prior?: CapRef | undefined;
  /** When this message is sent (epoch ms). Default: the event's own time (see above). */
  readonly sentMs?: number | undefined;
  readonly status?: CapStatus | undefined;
  readonly scope?: CapScope | undefined;
  /** The `<restriction>` text when scope is Restricted. */
  readonly restriction?: string | undefined;
  /** `<web>` when the notification has no link of its own; must be an absolute http(s) URL. */
  readonly web?: string | undefined;
  readonly contact?: string | undefined;
  /** First part of every identifier. Default "badung-netmon". */
  readonly identifierPrefix?: string | undefined;
}

export interface CapProfile {
  readonly urgency: CapUrgency;
  readonly severity: CapSeverity;
  readonly certainty: CapCertainty;
  readonly responseType: CapResponseType;
}

export interface CapMessage {
  readonly ref: CapRef;
  readonly msgType: CapMsgType;
  /** The message(s) this one updates (empty for an Alert). */
  readonly references: readonly CapRef[];
  readonly incidentId: string;
  readonly headline: Bilingual;
  readonly profile: CapProfile;
  readonly xml: string;
}

export const DEFAULT_RESTRICTION =
  'BPBD Kabupaten Badung dan instansi mitra gambaran kedaruratan (Perisai); bukan untuk siaran publik. / ' +
  'BPBD Badung and partner agencies of the Perisai emergency picture; not for public broadcast.';

/** The mapping table in the module comment. */
export function capProfile(n: Notification): CapProfile {
  if (n.status === 'resolved') {
    return { urgency: 'Past', severity: 'Minor', certainty: 'Observed', responseType: 'AllClear' };
  }
  if (n.recovery) {
    return { urgency: 'Past', severity: 'Minor', certainty: 'Observed', responseType: 'Monitor' };
  }
  if (n.kind === 'area_outage' || n.severity === 'critical') {
    return { urgency: 'Immediate', severity: 'Severe', certainty: 'Observed', responseType: 'Monitor' };
  }
  if (n.severity === 'high') {
    return { urgency: 'Immediate', severity: 'Moderate', certainty: 'Observed', responseType: 'Monitor' };
  }
  return { urgency: 'Future', severity: 'Minor', certainty: 'Observed', responseType: 'None' };
}

const p2 = (n: number): string => String(n).padStart(2, '0');

/** CAP dateTime in WITA: "2026-11-23T10:15:00+08:00" (whole seconds, numeric offset, never "Z"). */
export function capDateTime(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`CAP dateTime: not a time: ${ms}`);
  return isoWitaSeconds(ms);
}

/** "20261123T021500Z": a UTC stamp for identifiers. */
function compactUtc(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}T${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}${p2(d.getUTCSeconds())}Z`;
}

// CAP 1.2 §3.2.1: identifier and sender MUST NOT include spaces, commas or restricted characters (< and &).
const CAP_TOKEN = /^[^\s,<&]+$/;

/** An incident id as a CAP token: spaces (kecamatan names), commas and markup characters become "_". */
function token(s: string): string {
  return s.replace(/[^A-Za-z0-9._:@-]+/g, '_');
}

function parseTime(iso: string | undefined, what: string): number {
  const ms = iso === undefined ? NaN : Date.parse(iso);
  if (!Number.isFinite(ms)) throw new RangeError(`CAP: ${what} is not a time: ${String(iso)}`);
  return ms;
}

function checkSender(sender: string): void {
  if (!CAP_TOKEN.test(sender)) {
    throw new RangeError(`CAP sender ${JSON.stringify(sender)} must not contain spaces, commas, < or &`);
  }
}

function identifier(n: Notification, opts: CapOptions, label: string, sentMs: number): string {
  const prefix = opts.identifierPrefix ?? 'badung-netmon';
  const id = `${token(prefix)}:${token(n.id)}:${label}:${compactUtc(sentMs)}`;
  if (!CAP_TOKEN.test(id)) throw new RangeError(`CAP identifier ${JSON.stringify(id)} is not a CAP token`);
  return id;
}

/** The reference of the incident's first message (its Alert, sent at the outage start). */
export function originalRef(n: Notification, opts: Pick<CapOptions, 'sender' | 'identifierPrefix'>): CapRef {
  checkSender(opts.sender);
  const startMs = Math.floor(parseTime(n.startedAt, 'startedAt') / 1000) * 1000;
  return {
    sender: opts.sender,
    identifier: identifier(n, { ...opts }, 'alert', startMs),
    sent: capDateTime(startMs),
  };
}

function absoluteHttpUrl(s: string | undefined): string | undefined {
  if (s === undefined || !/^https?:\/\//i.test(s) || !URL.canParse(s)) return undefined;
  return s;
}

function parameters(n: Notification): [string, string][] {
  const out: [string, string][] = [
    ['incidentId', n.id],
    ['kind', n.kind],
    ['severity', n.severity],
  ];
  if (n.site) {
    out.push(
      ['siteId', n.site.id],
      ['siteName', n.site.name],
      ['category', n.site.category],
      ['kecamatan', n.site.kecamatan],
      ['desa', n.site.desa],
    );
  }
  if (n.area) {
    out.push(
      ['kecamatan', n.area.kecamatan],
      ['sitesDown', String(n.area.sitesDown)],
      ['sitesTotal', String(n.area.sitesTotal)],
      ['siteIds', n.area.sites.map((s) => s.id).join(' ')],
    );
  }
  if (n.affected.sites.length > 0 && !n.area) {
    out.push(['affectedSiteIds', n.affected.sites.map((s) => s.id).join(' ')]);
  }
  if (n.resolvedAt !== undefined)
    out.push(['resolvedAt', capDateTime(parseTime(n.resolvedAt, 'resolvedAt'))]);
  if (n.durationS !== undefined) out.push(['durationS', String(n.durationS)]);
  if (n.recovery && n.status !== 'resolved') {
    out.push(['recoveringSince', capDateTime(parseTime(n.recovery.since, 'recovery.since'))]);
    out.push(['recoveryConfirmAt', capDateTime(parseTime(n.recovery.confirmAt, 'recovery.confirmAt'))]);
  }
  if (n.silenced && n.status !== 'resolved') {
    const s = n.silenced;
    out.push([
      'silenced',
      `${s.kind} ${s.id}${s.by ? ` by ${s.by}` : ''} until ${capDateTime(parseTime(s.until, 'silenced.until'))}`,
    ]);
  }
  return out;
}

/** The CAP message for a notification: its reference, type and XML. Throws RangeError on unusable input. */
export function capMessage(n: Notification, opts: CapOptions): CapMessage {
  checkSender(opts.sender);
  const startMs = parseTime(n.startedAt, 'startedAt');
  const resolved = n.status === 'resolved';
  const recovering = !resolved && n.recovery !== undefined;
  const prior = opts.prior;
  const msgType: CapMsgType = resolved || recovering || prior ? 'Update' : 'Alert';
  let sentMs: number;
  if (opts.sentMs !== undefined) sentMs = opts.sentMs;
  else if (resolved) sentMs = n.resolvedAt === undefined ? startMs : parseTime(n.resolvedAt, 'resolvedAt');
  // The moment it answered again: the same message however often the feed is read.
  else if (recovering) sentMs = parseTime(n.recovery?.since, 'recovery.since');
  else if (!prior) sentMs = startMs;
  else throw new RangeError(`CAP: an Update of open incident ${n.id} needs sentMs (it is not the Alert)`);
  sentMs = Math.floor(sentMs / 1000) * 1000;

  const label = resolved ? 'allclear' : recovering ? 'recovering' : msgType === 'Alert' ? 'alert' : 'update';
  const ref: CapRef = {
    sender: opts.sender,
    identifier: identifier(n, opts, label, sentMs),
    sent: capDateTime(sentMs),
  };
  const references = msgType === 'Alert' ? [] : [prior ?? originalRef(n, opts)];
  for (const r of references) {
    if (!CAP_TOKEN.test(r.sender) || !CAP_TOKEN.test(r.identifier) || !CAP_TOKEN.test(r.sent)) {
      throw new RangeError(`CAP: reference ${JSON.stringify(r)} has spaces, commas, < or &`);
    }
  }
  const scope = opts.scope ?? 'Restricted';
  const profile = capProfile(n);
  const title = headline(n);
  const web = absoluteHttpUrl(n.link) ?? absoluteHttpUrl(opts.web);

  const lines: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<alert xmlns="${CAP_NAMESPACE}">`,
    xmlElement('  ', 'identifier', ref.identifier),
    xmlElement('  ', 'sender', ref.sender),
    xmlElement('  ', 'sent', ref.sent),
    xmlElement('  ', 'status', opts.status ?? 'Actual'),
    xmlElement('  ', 'msgType', msgType),
    xmlElement('  ', 'scope', scope),
  ];
  if (scope === 'Restricted')
    lines.push(xmlElement('  ', 'restriction', opts.restriction ?? DEFAULT_RESTRICTION));
  if (references.length > 0) {
    lines.push(
      xmlElement(
        '  ',
        'references',
        references.map((r) => `${r.sender},${r.identifier},${r.sent}`).join(' '),
      ),
    );
  }
  lines.push(xmlElement('  ', 'incidents', token(n.id)));

  const circle = outageCircle(n);
  const where = areaDescription(n);
  const event = eventText(n);
  const todo = instruction(n);
  const silenced = silencedNote(n);
  const params = parameters(n);
  for (const lang of ['id', 'en'] as const) {
    const i = '    ';
    lines.push('  <info>');
    lines.push(xmlElement(i, 'language', lang === 'id' ? 'id-ID' : 'en-US'));
    lines.push(xmlElement(i, 'category', 'Infra'));
    lines.push(xmlElement(i, 'event', event[lang]));
    lines.push(xmlElement(i, 'responseType', profile.responseType));
    lines.push(xmlElement(i, 'urgency', profile.urgency));
    lines.push(xmlElement(i, 'severity', profile.severity));
    lines.push(xmlElement(i, 'certainty', profile.certainty));
    lines.push(`${i}<eventCode>`, xmlElement(`${i}  `, 'valueName', 'badung-netmon'));
    lines.push(xmlElement(`${i}  `, 'value', n.kind), `${i}</eventCode>`);
    lines.push(xmlElement(i, 'onset', capDateTime(startMs)));
    if (opts.senderName !== undefined) lines.push(xmlElement(i, 'senderName', opts.senderName));
    lines.push(xmlElement(i, 'headline', title[lang]));
    lines.push(xmlElement(i, 'description', silenced ? `${n.text[lang]}\n${silenced[lang]}` : n.text[lang]));
    lines.push(xmlElement(i, 'instruction', todo[lang]));
    if (web !== undefined) lines.push(xmlElement(i, 'web', web));
    if (opts.contact !== undefined) lines.push(xmlElement(i, 'contact', opts.contact));
    for (const [name, value] of params) {
      lines.push(`${i}<parameter>`, xmlElement(`${i}  `, 'valueName', name));
      lines.push(xmlElement(`${i}  `, 'value', value), `${i}</parameter>`);
    }
    lines.push(`${i}<area>`, xmlElement(`${i}  `, 'areaDesc', where[lang]));
    if (circle) {
      // CAP 1.2 §3.2.4 <circle>: "lat,lon radius", WGS 84 degrees and kilometres.
      const c = `${circle.centre.lat.toFixed(6)},${circle.centre.lon.toFixed(6)} ${circle.radiusKm.toFixed(1)}`;
      lines.push(xmlElement(`${i}  `, 'circle', c));
    }
    lines.push(`${i}</area>`, '  </info>');
  }
  lines.push('</alert>', '');
  return {
    ref,
    msgType,
    references,
    incidentId: n.id,
    headline: title,
    profile,
    xml: lines.join('\n'),
  };
}

/** The CAP 1.2 XML for a notification (capMessage(n, opts).xml). */
export function capAlert(n: Notification, opts: CapOptions): string {
  return capMessage(n, opts).xml;
}
