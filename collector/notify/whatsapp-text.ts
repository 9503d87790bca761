/**
 * A notification as WhatsApp text. Pure.
 *
 * - whatsappText: one message for an HTTP gateway: Bahasa Indonesia, then English, then the link once,
 *   cut to fit the limit (WhatsApp takes 4096 characters in a text message).
 * - templateParameters: the body parameters of a Cloud API template message, named fields picked by the
 *   config. A template parameter may hold no newline or tab and no more than 4 spaces in a row (Meta error
 *   132018), so each is one line; each is cut to its share of the body (a template body is at most 1024
 *   characters, Meta's limit, with its own text).
 */
import { formatWita } from '../core/time-zone.ts';
import type { Notification } from './notification.ts';
import { cut } from './telegram-text.ts';

export const WHATSAPP_MAX_CHARS = 4096;

export function whatsappText(n: Notification, max = WHATSAPP_MAX_CHARS): string {
  const strip = (t: string): string =>
    n.link && t.endsWith(`\n${n.link}`) ? t.slice(0, -n.link.length - 1) : t;
  const link = n.link ? `\n\n${n.link}` : '';
  let id = strip(n.text.id);
  let en = strip(n.text.en);
  const room = max - link.length - 2;
  if (id.length + en.length > room) {
    const half = Math.floor(room / 2);
    if (id.length <= half) en = cut(en, room - id.length);
    else if (en.length <= half) id = cut(id, room - en.length);
    else {
      id = cut(id, half);
      en = cut(en, room - half);
    }
  }
  return `${id}\n\n${en}${link}`;
}

export const TEMPLATE_FIELDS = [
  'text_id',
  'text_en',
  'title_id',
  'title_en',
  'site',
  'desa',
  'kecamatan',
  'severity',
  'since',
  'link',
  'incident',
] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];

/** Room for the parameters together, the rest of 1024 left to the template's own words. */
export const TEMPLATE_PARAMS_MAX_CHARS = 900;

export function templateParameters(n: Notification, fields: readonly TemplateField[]): string[] {
  const each = Math.floor(TEMPLATE_PARAMS_MAX_CHARS / Math.max(1, fields.length));
  return fields.map((f) => cut(oneLine(fieldValue(n, f)), each) || '-');
}

function fieldValue(n: Notification, f: TemplateField): string {
  const strip = (t: string): string =>
    n.link && t.endsWith(`\n${n.link}`) ? t.slice(0, -n.link.length - 1) : t;
  switch (f) {
    case 'text_id':
      return strip(n.text.id);
    case 'text_en':
      return strip(n.text.en);
    case 'title_id':
      return firstSentence(n.text.id);
    case 'title_en':
      return firstSentence(n.text.en);
    case 'site':
      return n.site?.name ?? (n.area ? `Kec. ${n.area.kecamatan}` : '');
    case 'desa':
      return n.site?.desa ?? '';
    case 'kecamatan':
      return n.site?.kecamatan ?? n.area?.kecamatan ?? '';
    case 'severity':
      return n.severity;
    case 'since': {
      const t = Date.parse(n.startedAt);
      return Number.isFinite(t) ? formatWita(t) : n.startedAt;
    }
    case 'link':
      return n.link ?? '';
    case 'incident':
      return n.id;
  }
}

/** "[KRITIS] GANGGUAN: Router … tidak merespons sejak 14:05 WITA, 22-11-2026." */
function firstSentence(t: string): string {
  const line = t.split('\n')[0] ?? '';
  // Not at the abbreviations place names carry: "Kec. Petang", "Kel. Kuta", "Jl. Raya", "Br. Kiadan".
  const end = line.search(/(?<!\b(?:Kec|Kel|Ds|Jl|Br|No))\.(\s|$)/);
  return end < 0 ? line : line.slice(0, end + 1);
}

/** No newline or tab, at most 4 spaces in a row (Meta 132018). */
export function oneLine(s: string): string {
  return s
    .replace(/\s*\n\s*/g, ' · ')
    .replace(/\t/g, ' ')
    .replace(/ {4,}/g, '   ')
    .trim();
}
