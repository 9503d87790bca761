/**
 * A notification as one Telegram message (HTML, https://core.telegram.org/bots/api#html-style): Bahasa
 * Indonesia first, then English, then the link once. Pure.
 */
import type { Notification } from './notification.ts';

/** sendMessage `text`: "1-4096 characters after entities parsing". */
export const TELEGRAM_MAX_CHARS = 4096;

/**
 * The message: Indonesian, English, the link once; HTML-escaped, cut to fit 4096 characters less `reserve`
 * (room kept for status lines a later edit adds).
 */
export function telegramText(n: Notification, reserve = 0): string {
  const strip = (t: string): string =>
    n.link && t.endsWith(`\n${n.link}`) ? t.slice(0, -n.link.length - 1) : t;
  const id = strip(n.text.id);
  const en = strip(n.text.en);
  const link = n.link ? `\n\n${n.link}` : '';
  // Telegram counts the text after entity parsing: an escaped '&amp;' is one character, so cut before escaping.
  const room = TELEGRAM_MAX_CHARS - reserve - link.length - 2;
  let idPart = id;
  let enPart = en;
  if (id.length + en.length > room) {
    const half = Math.floor(room / 2);
    // The shorter text keeps all of itself; the longer one gets the rest.
    if (id.length <= half) enPart = cut(en, room - id.length);
    else if (en.length <= half) idPart = cut(id, room - en.length);
    else {
      idPart = cut(id, half);
      enPart = cut(en, room - half);
    }
  }
  const linkHtml = n.link ? `\n\n<a href="${escapeHtml(n.link)}">${escapeHtml(n.link)}</a>` : '';
  return `${escapeHtml(idPart)}\n\n${escapeHtml(enPart)}${linkHtml}`;
}

/** At most `max` UTF-16 units ending in '…', never splitting a surrogate pair. */
export function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = Math.max(0, max - 1);
  const code = s.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${s.slice(0, end)}…`;
}

/** The Bot API's HTML mode knows &lt; &gt; &amp; &quot; (https://core.telegram.org/bots/api#html-style). */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
