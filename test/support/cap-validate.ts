/**
 * A validator for CAP 1.2 documents (OASIS Common Alerting Protocol Version 1.2, 2010, §3.2 element
 * dictionary and §3.4 XSD), written from the spec so tests do not depend on the code under test:
 *
 * - well-formed XML, root <alert> in namespace urn:oasis:names:tc:emergency:cap:1.2;
 * - the XSD's sequences: element order, required elements (alert: identifier, sender, sent, status,
 *   msgType, scope; info: category, event, urgency, severity, certainty; area: areaDesc; …), maximum
 *   occurrences, no unknown elements (only an XML-DSig signature may follow the last <info>);
 * - the enumerations (status, msgType, scope, category, responseType, urgency, severity, certainty);
 * - dateTime: "YYYY-MM-DDThh:mm:ss±hh:mm", a real date, a numeric offset and never "Z" (§3.3.2);
 * - identifier and sender without whitespace, commas, "<" or "&" (§3.2.1), references as
 *   whitespace-separated "sender,identifier,sent" triplets, required for Update/Cancel/Ack/Error;
 *   restriction with scope Restricted, addresses with scope Private;
 * - circle "lat,lon radius" and polygon (≥ 4 "lat,lon" pairs, first = last), WGS 84 ranges (§3.2.4);
 * - language as xs:language, web as an absolute URI, altitude/ceiling as decimals (ceiling needs altitude).
 *
 * Things the spec only recommends (headline under 160 characters, a note with an Error) are warnings.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export const CAP12_NS = 'urn:oasis:names:tc:emergency:cap:1.2';
const XMLDSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';

export interface CapValidation {
  readonly errors: string[];
  readonly warnings: string[];
}

interface El {
  readonly name: string;
  readonly ns: string | undefined;
  readonly path: string;
  readonly children: El[];
  /** Concatenated text children (entities resolved). */
  readonly text: string;
}

const ENUMS = {
  status: ['Actual', 'Exercise', 'System', 'Test', 'Draft'],
  msgType: ['Alert', 'Update', 'Cancel', 'Ack', 'Error'],
  scope: ['Public', 'Restricted', 'Private'],
  category: [
    'Geo',
    'Met',
    'Safety',
    'Security',
    'Rescue',
    'Fire',
    'Health',
    'Env',
    'Transport',
    'Infra',
    'CBRNE',
    'Other',
  ],
  responseType: [
    'Shelter',
    'Evacuate',
    'Prepare',
    'Execute',
    'Avoid',
    'Monitor',
    'Assess',
    'AllClear',
    'None',
  ],
  urgency: ['Immediate', 'Expected', 'Future', 'Past', 'Unknown'],
  severity: ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'],
  certainty: ['Observed', 'Likely', 'Possible', 'Unlikely', 'Unknown'],
} as const;

type Occ = readonly [name: string, min: number, max: number];
const N = Infinity;

/** The XSD's sequences. */
const SEQ: Readonly<Record<string, readonly Occ[]>> = {
  alert: [
    ['identifier', 1, 1],
    ['sender', 1, 1],
    ['sent', 1, 1],
    ['status', 1, 1],
    ['msgType', 1, 1],
    ['source', 0, 1],
    ['scope', 1, 1],
    ['restriction', 0, 1],
    ['addresses', 0, 1],
    ['code', 0, N],
    ['note', 0, 1],
    ['references', 0, 1],
    ['incidents', 0, 1],
    ['info', 0, N],
  ],
  info: [
    ['language', 0, 1],
    ['category', 1, N],
    ['event', 1, 1],
    ['responseType', 0, N],
    ['urgency', 1, 1],
    ['severity', 1, 1],
    ['certainty', 1, 1],
    ['audience', 0, 1],
    ['eventCode', 0, N],
    ['effective', 0, 1],
    ['onset', 0, 1],
    ['expires', 0, 1],
    ['senderName', 0, 1],
    ['headline', 0, 1],
    ['description', 0, 1],
    ['instruction', 0, 1],
    ['web', 0, 1],
    ['contact', 0, 1],
    ['parameter', 0, N],
    ['resource', 0, N],
    ['area', 0, N],
  ],
  eventCode: [
    ['valueName', 1, 1],
    ['value', 1, 1],
  ],
  parameter: [
    ['valueName', 1, 1],
    ['value', 1, 1],
  ],
  geocode: [
    ['valueName', 1, 1],
    ['value', 1, 1],
  ],
  resource: [
    ['resourceDesc', 1, 1],
    ['mimeType', 1, 1],
    ['size', 0, 1],
    ['uri', 0, 1],
    ['derefUri', 0, 1],
    ['digest', 0, 1],
  ],
  area: [
    ['areaDesc', 1, 1],
    ['polygon', 0, N],
    ['circle', 0, N],
    ['geocode', 0, N],
    ['altitude', 0, 1],
    ['ceiling', 0, 1],
  ],
};

type RawNode = Record<string, unknown>;

function toEl(
  raw: RawNode,
  parentNs: Map<string, string>,
  parentPath: string,
  errors: string[],
): El | undefined {
  const attrs = (raw[':@'] ?? {}) as Record<string, string>;
  const qname = Object.keys(raw).find((k) => k !== ':@');
  if (qname === undefined || qname === '#text' || qname === '#comment' || qname.startsWith('?'))
    return undefined;
  const ns = new Map(parentNs);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'xmlns') ns.set('', v);
    else if (k.startsWith('xmlns:')) ns.set(k.slice(6), v);
  }
  const colon = qname.indexOf(':');
  const prefix = colon < 0 ? '' : qname.slice(0, colon);
  const name = colon < 0 ? qname : qname.slice(colon + 1);
  const path = parentPath ? `${parentPath}/${name}` : name;
  if (prefix && !ns.has(prefix)) errors.push(`${path}: undeclared namespace prefix "${prefix}"`);
  const children: El[] = [];
  let text = '';
  for (const c of (raw[qname] ?? []) as RawNode[]) {
    if ('#text' in c) text += String(c['#text']);
    else if ('#comment' in c) continue;
    else {
      const el = toEl(c, ns, path, errors);
      if (el) children.push(el);
    }
  }
  return { name, ns: ns.get(prefix), path, children, text };
}

function parse(xml: string, errors: string[]): El | undefined {
  const wf = XMLValidator.validate(xml);
  if (wf !== true) {
    errors.push(`not well-formed XML: ${wf.err.msg} (line ${wf.err.line}, column ${wf.err.col})`);
    return undefined;
  }
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    processEntities: true,
    htmlEntities: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    commentPropName: '#comment',
  });
  const nodes = parser.parse(xml) as RawNode[];
  const roots = nodes.map((n) => toEl(n, new Map(), '', errors)).filter((e): e is El => e !== undefined);
  if (roots.length !== 1) {
    errors.push(`expected one root element, found ${roots.length}`);
    return undefined;
  }
  return roots[0];
}

/** Children against a sequence: order, unknown elements, min/max occurrences. */
function checkSequence(el: El, seq: readonly Occ[], errors: string[], allowTrailingNs?: string): void {
  const counts = new Map<string, number>();
  let at = 0;
  let trailing = false;
  for (const c of el.children) {
    if (allowTrailingNs !== undefined && c.ns === allowTrailingNs) {
      trailing = true;
      continue;
    }
    if (c.ns !== CAP12_NS) {
      errors.push(`${c.path}: element in namespace ${c.ns ?? '(none)'}, expected ${CAP12_NS}`);
      continue;
    }
    if (trailing) {
      errors.push(`${c.path}: <${c.name}> after the signature`);
      continue;
    }
    let j = at;
    while (j < seq.length && seq[j]?.[0] !== c.name) j++;
    if (j === seq.length) {
      const earlier = seq.findIndex(([name]) => name === c.name);
      errors.push(
        earlier >= 0
          ? `${c.path}: <${c.name}> out of order (the XSD puts it before <${seq[at]?.[0] ?? '?'}>)`
          : `${c.path}: <${c.name}> is not a CAP 1.2 element here`,
      );
      continue;
    }
    at = j;
    const n = (counts.get(c.name) ?? 0) + 1;
    counts.set(c.name, n);
    const max = seq[j]?.[2] ?? 1;
    if (n > max) errors.push(`${c.path}: <${c.name}> occurs ${n} times, at most ${max} allowed`);
  }
  for (const [name, min] of seq) {
    if ((counts.get(name) ?? 0) < min) errors.push(`${el.path}: missing required <${name}>`);
  }
  if (el.text.trim() !== '')
    errors.push(`${el.path}: unexpected text ${JSON.stringify(el.text.trim().slice(0, 40))}`);
}

function simpleText(el: El, errors: string[]): string {
  if (el.children.length > 0) errors.push(`${el.path}: <${el.name}> must hold text only`);
  return el.text;
}

function kids(el: El, name: string): El[] {
  return el.children.filter((c) => c.name === name && c.ns === CAP12_NS);
}

const DATE_TIME = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)([-+])(\d\d):(\d\d)$/;

/** CAP 1.2 dateTime: errors for the value, or [] when valid. */
export function capDateTimeErrors(value: string): string[] {
  if (/Z$/i.test(value.trim()))
    return [`"${value}" uses "Z"; CAP requires a numeric offset ("-00:00" for UTC)`];
  const m = DATE_TIME.exec(value);
  if (!m) return [`"${value}" is not YYYY-MM-DDThh:mm:ss±hh:mm (no fractions, numeric offset)`];
  const [y, mo, d, h, mi, s, , oh, om] = m.slice(1).map(Number);
  const days = new Date(Date.UTC(y ?? 0, mo ?? 0, 0)).getUTCDate();
  const bad =
    (mo ?? 0) < 1 ||
    (mo ?? 0) > 12 ||
    (d ?? 0) < 1 ||
    (d ?? 0) > days ||
    (h ?? 0) > 23 ||
    (mi ?? 0) > 59 ||
    (s ?? 0) > 59 ||
    (oh ?? 0) > 14 ||
    (om ?? 0) > 59;
  return bad ? [`"${value}" is not a real date and time`] : [];
}

// §3.2.1: identifier and sender "MUST NOT include spaces, commas or restricted characters (< and &)".
const CAP_TOKEN = /^[^\s,<&]+$/;
const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)$/;

function latLonErrors(pair: string, where: string): string[] {
  const parts = pair.split(',');
  if (parts.length !== 2 || !parts.every((p) => NUMBER.test(p)))
    return [`${where}: "${pair}" is not "lat,lon"`];
  const [lat, lon] = parts.map(Number) as [number, number];
  const out: string[] = [];
  if (Math.abs(lat) > 90) out.push(`${where}: latitude ${lat} outside -90..90`);
  if (Math.abs(lon) > 180) out.push(`${where}: longitude ${lon} outside -180..180`);
  return out;
}

export function circleErrors(value: string, where = 'circle'): string[] {
  const m = /^(\S+) (\S+)$/.exec(value.trim());
  if (!m) return [`${where}: "${value}" is not "lat,lon radius"`];
  const out = latLonErrors(m[1] ?? '', where);
  const r = m[2] ?? '';
  if (!NUMBER.test(r) || Number(r) < 0)
    out.push(`${where}: radius "${r}" is not a non-negative number of km`);
  return out;
}

export function polygonErrors(value: string, where = 'polygon'): string[] {
  const pairs = value.trim().split(/\s+/);
  if (pairs.length < 4) return [`${where}: ${pairs.length} coordinate pairs, at least 4 required`];
  const out = pairs.flatMap((p) => latLonErrors(p, where));
  if (out.length > 0) return out;
  const [fLat, fLon] = (pairs[0] ?? '').split(',').map(Number);
  const [lLat, lLon] = (pairs[pairs.length - 1] ?? '').split(',').map(Number);
  if (fLat !== lLat || fLon !== lLon)
    out.push(`${where}: first and last pairs differ (the ring is not closed)`);
  return out;
}

function enumCheck(el: El, values: readonly string[], errors: string[]): string {
  const v = simpleText(el, errors);
  if (!values.includes(v)) errors.push(`${el.path}: "${v}" is not one of ${values.join(', ')}`);
  return v;
}

function checkInfo(info: El, errors: string[], warnings: string[]): void {
  checkSequence(info, SEQ.info ?? [], errors);
  for (const c of info.children) {
    const v = (): string => simpleText(c, errors);
    switch (c.name) {
      case 'language':
        if (!/^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(v()))
          errors.push(`${c.path}: "${c.text}" is not xs:language`);
        break;
      case 'category':
      case 'responseType':
      case 'urgency':
      case 'severity':
      case 'certainty':
        enumCheck(c, ENUMS[c.name], errors);
        break;
      case 'effective':
      case 'onset':
      case 'expires':
        for (const e of capDateTimeErrors(v())) errors.push(`${c.path}: ${e}`);
        break;
      case 'headline':
        if ([...v()].length >= 160)
          warnings.push(`${c.path}: ${[...c.text].length} characters; CAP asks for < 160`);
        break;
      case 'web':
        if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(v()) || !URL.canParse(c.text)) {
          errors.push(`${c.path}: "${c.text}" is not an absolute URI`);
        }
        break;
      case 'event':
        if (v().trim() === '') errors.push(`${c.path}: empty`);
        break;
      case 'eventCode':
      case 'parameter':
        checkSequence(c, SEQ[c.name] ?? [], errors);
        for (const k of c.children) simpleText(k, errors);
        break;
      case 'resource':
        checkSequence(c, SEQ.resource ?? [], errors);
        for (const k of c.children) {
          const t = simpleText(k, errors);
          if (k.name === 'size' && !/^[-+]?\d+$/.test(t)) errors.push(`${k.path}: "${t}" is not an integer`);
        }
        break;
      case 'area':
        checkArea(c, errors);
        break;
      default:
        if (c.ns === CAP12_NS) v();
    }
  }
}

function checkArea(area: El, errors: string[]): void {
  checkSequence(area, SEQ.area ?? [], errors);
  for (const c of area.children) {
    if (c.name === 'geocode') {
      checkSequence(c, SEQ.geocode ?? [], errors);
      continue;
    }
    const t = simpleText(c, errors);
    if (c.name === 'circle') errors.push(...circleErrors(t, c.path));
    if (c.name === 'polygon') errors.push(...polygonErrors(t, c.path));
    if ((c.name === 'altitude' || c.name === 'ceiling') && !NUMBER.test(t.trim())) {
      errors.push(`${c.path}: "${t}" is not a decimal`);
    }
  }
  if (kids(area, 'ceiling').length > 0 && kids(area, 'altitude').length === 0) {
    errors.push(`${area.path}: <ceiling> needs <altitude>`);
  }
}

export function validateCap(xml: string): CapValidation {
  const errors: string[] = [];
  const warnings: string[] = [];
  const alert = parse(xml, errors);
  if (!alert) return { errors, warnings };
  if (alert.name !== 'alert' || alert.ns !== CAP12_NS) {
    errors.push(`root is <${alert.name}> in ${alert.ns ?? 'no namespace'}, expected <alert> in ${CAP12_NS}`);
    return { errors, warnings };
  }
  checkSequence(alert, SEQ.alert ?? [], errors, XMLDSIG_NS);
  const one = (name: string): string | undefined => {
    const el = kids(alert, name)[0];
    return el ? simpleText(el, errors) : undefined;
  };
  for (const name of ['identifier', 'sender'] as const) {
    const v = one(name);
    if (v !== undefined && !CAP_TOKEN.test(v)) {
      errors.push(
        `alert/${name}: ${JSON.stringify(v)} contains whitespace, a comma, "<" or "&" (or is empty)`,
      );
    }
  }
  const sent = one('sent');
  if (sent !== undefined) for (const e of capDateTimeErrors(sent)) errors.push(`alert/sent: ${e}`);
  for (const name of ['status', 'msgType', 'scope'] as const) {
    const el = kids(alert, name)[0];
    if (el) enumCheck(el, ENUMS[name], errors);
  }
  const scope = one('scope');
  const msgType = one('msgType');
  if (scope === 'Restricted' && !one('restriction')?.trim())
    errors.push('alert: scope Restricted needs <restriction>');
  if (scope === 'Private' && !one('addresses')?.trim()) errors.push('alert: scope Private needs <addresses>');
  const refs = one('references');
  if (refs !== undefined) {
    const triplets = refs.trim().split(/\s+/);
    for (const t of triplets) {
      const parts = t.split(',');
      if (parts.length !== 3) {
        errors.push(`alert/references: "${t}" is not "sender,identifier,sent"`);
        continue;
      }
      const [s, id, at] = parts as [string, string, string];
      if (!CAP_TOKEN.test(s) || !CAP_TOKEN.test(id))
        errors.push(`alert/references: bad sender or identifier in "${t}"`);
      for (const e of capDateTimeErrors(at)) errors.push(`alert/references: ${e}`);
    }
  }
  if (msgType !== undefined && msgType !== 'Alert' && (refs === undefined || refs.trim() === '')) {
    errors.push(`alert: msgType ${msgType} needs <references> to the message(s) it concerns`);
  }
  if (msgType === 'Error' && !one('note')) warnings.push('alert: an Error should explain itself in <note>');
  for (const info of kids(alert, 'info')) checkInfo(info, errors, warnings);
  return { errors, warnings };
}

/** Throws with every error when the document is not valid CAP 1.2. */
export function assertValidCap(xml: string): void {
  const { errors } = validateCap(xml);
  if (errors.length > 0) throw new Error(`invalid CAP 1.2:\n  ${errors.join('\n  ')}`);
}
