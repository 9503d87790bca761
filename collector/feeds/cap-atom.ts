/**
 * The index of current CAP messages, as CAP publishers serve it: an Atom feed (RFC 4287) with one entry
 * per message, each linking to the CAP document with `rel="alternate" type="application/cap+xml"`. This
 * is the shape the WMO Register of Alerting Authorities' feeds, Google Public Alerts and aggregators
 * poll (the NWS and MeteoAlarm feeds look the same); the CAP XML itself is served at the linked URL.
 * Pure: (messages, options) → XML text.
 */
import { CAP_MEDIA_TYPE, capDateTime, type CapMessage } from './cap.ts';
import { xmlElement, xmlEscape } from './xml.ts';

export const ATOM_NAMESPACE = 'http://www.w3.org/2005/Atom';
export const ATOM_MEDIA_TYPE = 'application/atom+xml';

export interface CapFeedOptions {
  /** The feed's permanent IRI (RFC 4287 §4.2.6), e.g. its own URL. */
  readonly id: string;
  readonly title: string;
  /** Where this feed is served: the `rel="self"` link. */
  readonly selfUrl: string;
  /** When the feed last changed (epoch ms): time is an input. */
  readonly updatedMs: number;
  readonly authorName: string;
  /** Where the CAP document of a message is served; also the entry's id. */
  readonly messageUrl: (m: CapMessage) => string;
  /** Language of entry titles; the other language goes in the summary. Default "id". */
  readonly lang?: 'id' | 'en' | undefined;
}

export function capAtomFeed(messages: readonly CapMessage[], opts: CapFeedOptions): string {
  const lang = opts.lang ?? 'id';
  const other = lang === 'id' ? 'en' : 'id';
  // Newest first, as feed readers expect; ties in a stable order.
  const sorted = [...messages].sort(
    (a, b) =>
      Date.parse(b.ref.sent) - Date.parse(a.ref.sent) || a.ref.identifier.localeCompare(b.ref.identifier),
  );
  const lines: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<feed xmlns="${ATOM_NAMESPACE}" xml:lang="${lang}">`,
    xmlElement('  ', 'id', opts.id),
    xmlElement('  ', 'title', opts.title),
    xmlElement('  ', 'updated', capDateTime(opts.updatedMs)),
    `  <author>${xmlElement('', 'name', opts.authorName)}</author>`,
    `  <link rel="self" type="${ATOM_MEDIA_TYPE}" href="${xmlEscape(opts.selfUrl)}"/>`,
  ];
  for (const m of sorted) {
    const url = opts.messageUrl(m);
    const p = m.profile;
    lines.push(
      '  <entry>',
      xmlElement('    ', 'id', url),
      xmlElement('    ', 'title', m.headline[lang]),
      // A CAP dateTime is also an RFC 3339 date-time, as Atom dates must be (RFC 4287 §3.3).
      xmlElement('    ', 'updated', m.ref.sent),
      xmlElement('    ', 'published', m.ref.sent),
      `    <link rel="alternate" type="${CAP_MEDIA_TYPE}" href="${xmlEscape(url)}"/>`,
      '    <category term="Infra"/>',
      xmlElement(
        '    ',
        'summary',
        `${m.headline[other]} (${m.msgType}; ${p.urgency}/${p.severity}/${p.certainty}; ${m.ref.identifier})`,
      ),
      '  </entry>',
    );
  }
  lines.push('</feed>', '');
  return lines.join('\n');
}
