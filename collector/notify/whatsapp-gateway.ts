/**
 * WhatsApp through an HTTP gateway of the kind Indonesian teams run (Fonnte, Wablas and the like): a form
 * POST (application/x-www-form-urlencoded) per recipient with the target number and the message, an
 * Authorization header with the gateway's token, field names and fixed extra fields as the gateway wants
 * them (Fonnte: `target`, `message`, `countryCode`; Wablas: `phone`, `message`).
 *
 * The text is plain: Bahasa Indonesia, then English, then the link (whatsapp-text.ts). Failures: network,
 * timeouts, 5xx and 429 are retryable; other 4xx are not; and since these gateways answer 200 with
 * `{"status": false, "reason"|"message": …}` for a refusal (bad token, number not on WhatsApp, device
 * disconnected), such an answer is a failure too, not retried. A retry goes only to the recipients not
 * reached (recipients.ts). Header values are secrets.
 */
import type { Secret } from '../core/secret.ts';
import { ledgerKind } from './dispatcher.ts';
import { postNotification } from './http-post.ts';
import type { Notification } from './notification.ts';
import type { Notifier } from './notifier.ts';
import { RecipientFanOut } from './recipients.ts';
import { whatsappText } from './whatsapp-text.ts';

export interface WhatsAppGatewayOptions {
  readonly name: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, Secret>>;
  readonly to: readonly string[];
  /** Default `target`. */
  readonly targetField?: string | undefined;
  /** Default `message`. */
  readonly messageField?: string | undefined;
  /** Sent with every request, e.g. { countryCode: '62' }. */
  readonly fields?: Readonly<Record<string, string>> | undefined;
  readonly maxChars?: number | undefined;
  readonly timeoutMs?: number | undefined;
}

export class WhatsAppGatewayNotifier implements Notifier {
  readonly name: string;
  readonly #o: WhatsAppGatewayOptions;
  readonly #fanOut: RecipientFanOut;

  constructor(opts: WhatsAppGatewayOptions) {
    this.name = `whatsapp-gateway:${opts.name}`;
    this.#o = opts;
    this.#fanOut = new RecipientFanOut(this.name);
  }

  async send(n: Notification): Promise<void> {
    const text = whatsappText(n, this.#o.maxChars);
    await this.#fanOut.send(`${n.id}|${ledgerKind(n)}`, this.#o.to, async (to) => {
      const form = new URLSearchParams(this.#o.fields ?? {});
      form.set(this.#o.targetField ?? 'target', to);
      form.set(this.#o.messageField ?? 'message', text);
      await postNotification(
        {
          name: this.name,
          url: this.#o.url,
          headers: this.#o.headers,
          timeoutMs: this.#o.timeoutMs,
          codePrefix: 'whatsapp_gateway',
          judge: judgeGatewayReply,
        },
        'application/x-www-form-urlencoded',
        form.toString(),
      );
    });
  }
}

/** A 2xx whose JSON says `status: false` is a refusal; the gateway's reason is the message. */
export function judgeGatewayReply(
  status: number,
  body: string,
): { message: string; retryable: boolean } | undefined {
  if (status < 200 || status >= 300) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined; // a gateway that answers plain text: its 2xx is the success
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const r = parsed as Record<string, unknown>;
  if (r.status !== false && r.status !== 'false') return undefined;
  const reason = [r.reason, r.message, r.detail].find((v): v is string => typeof v === 'string');
  return { message: `refused by the gateway: ${(reason ?? body).slice(0, 200)}`, retryable: false };
}
