/**
 * The demo's webhook receiver: the simulator's control server takes the monitor's webhook POSTs at
 * /webhook and keeps the last ones, so a user trying an outage can watch the page arrive (`curl
 * http://127.0.0.1:8161/webhook`, or the simulator's log) without running a receiver of their own. Pure:
 * bodies in, summaries out; the HTTP side is control-http.ts. Not a store: the newest `capacity` only.
 */

/** One received notification, summarised for a person, with the body as it came. */
export interface WebhookDelivery {
  /** 1, 2, 3, ... since the simulator started. */
  readonly seq: number;
  readonly receivedAt: string;
  /** "firing" / "resolved" (the monitor's schema badung-netmon/alert/v1); "?" for another body. */
  readonly status: string;
  readonly kind: string;
  readonly severity: string;
  readonly device: string | null;
  readonly site: string | null;
  /** The first line of the notification's text, Bahasa Indonesia and English. */
  readonly title: { readonly id: string; readonly en: string } | null;
  readonly body: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const firstLine = (v: unknown): string => (str(v) ?? '').split('\n')[0] ?? '';

export class WebhookInbox {
  readonly #capacity: number;
  readonly #items: WebhookDelivery[] = [];
  #seq = 0;

  constructor(capacity = 200) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
    this.#capacity = capacity;
  }

  /** Keep one delivery (any JSON body: what is not the monitor's schema is kept with "?" fields). */
  add(body: unknown, nowMs: number): WebhookDelivery {
    const n = obj(body) ?? {};
    const text = obj(n.text);
    const kecamatan = str(obj(n.area)?.kecamatan);
    const d: WebhookDelivery = {
      seq: ++this.#seq,
      receivedAt: new Date(nowMs).toISOString(),
      status: str(n.status) ?? '?',
      kind: str(n.kind) ?? '?',
      severity: str(n.severity) ?? '?',
      device: str(obj(n.device)?.id) ?? null,
      site: str(obj(n.site)?.name) ?? (kecamatan === undefined ? null : `Kec. ${kecamatan}`),
      title: text ? { id: firstLine(text.id), en: firstLine(text.en) } : null,
      body,
    };
    this.#items.push(d);
    if (this.#items.length > this.#capacity) this.#items.splice(0, this.#items.length - this.#capacity);
    return d;
  }

  /** How many were received since the start (also those no longer kept). */
  get received(): number {
    return this.#seq;
  }

  /** The kept deliveries, newest first; `since` (a seq) keeps only later ones. */
  list(since = 0): WebhookDelivery[] {
    return this.#items.filter((d) => d.seq > since).reverse();
  }

  clear(): void {
    this.#items.length = 0;
  }
}

/** One line per delivery, for the simulator's log and the text view: "#3 firing device_down ...". */
export function deliveryLine(d: WebhookDelivery): string {
  const who = [d.site, d.device].filter((x) => x !== null).join(' / ');
  const title = d.title ? ` | ${d.title.id} | ${d.title.en}` : '';
  return `#${d.seq} ${d.receivedAt} ${d.status} ${d.kind} ${d.severity}${who ? ` ${who}` : ''}${title}`;
}
