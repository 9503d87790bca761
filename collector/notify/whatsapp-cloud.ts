/**
 * WhatsApp through Meta's WhatsApp Business Cloud API: a template message per recipient
 * (POST {baseUrl}/{version}/{phoneNumberId}/messages, `Authorization: Bearer <token>`,
 * https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages). A business may only start a
 * conversation with an approved template, so pages and recoveries each use one (config: `templates`), in
 * one language, with body parameters the config picks from the notification (whatsapp-text.ts).
 *
 * Failures: network errors, timeouts, 5xx and 429 are retryable, and so are the Graph API codes that mean
 * "slow down" or "try again" even in a 400 (rate limits 4, 80007, 130429, 131056; temporary 1, 2, 131000,
 * 131016, 133004). Anything else (bad token 190, unknown template 132001, parameter count 132000, ...)
 * is not, and its message is Meta's. Each recipient is one request; a retry goes only to those not reached
 * (recipients.ts). The token is only in the Authorization header (http-post.ts reveals it there).
 */
import { Secret } from '../core/secret.ts';
import { ledgerKind } from './dispatcher.ts';
import { postNotification } from './http-post.ts';
import type { Notification } from './notification.ts';
import type { Notifier } from './notifier.ts';
import { RecipientFanOut } from './recipients.ts';
import { templateParameters, type TemplateField } from './whatsapp-text.ts';

export const WHATSAPP_GRAPH_BASE = 'https://graph.facebook.com';
export const WHATSAPP_API_VERSION = 'v21.0';

const RETRYABLE_CODES = new Set([1, 2, 4, 80007, 130429, 131000, 131016, 131056, 133004]);

export interface WhatsAppCloudOptions {
  readonly name: string;
  readonly accessToken: Secret;
  readonly phoneNumberId: string;
  /** Numbers with country code, digits only (6281234567890). */
  readonly to: readonly string[];
  readonly templates: { readonly firing: string; readonly resolved: string };
  /** Template language code, e.g. `id` or `en_US`. */
  readonly language: string;
  readonly parameters: readonly TemplateField[];
  readonly baseUrl?: string | undefined;
  readonly apiVersion?: string | undefined;
  readonly timeoutMs?: number | undefined;
}

export class WhatsAppCloudNotifier implements Notifier {
  readonly name: string;
  readonly #o: WhatsAppCloudOptions;
  readonly #url: string;
  readonly #auth: Readonly<Record<string, Secret>>;
  readonly #fanOut: RecipientFanOut;

  constructor(opts: WhatsAppCloudOptions) {
    this.name = `whatsapp-cloud:${opts.name}`;
    this.#o = opts;
    const base = (opts.baseUrl ?? WHATSAPP_GRAPH_BASE).replace(/\/+$/, '');
    this.#url = `${base}/${opts.apiVersion ?? WHATSAPP_API_VERSION}/${encodeURIComponent(opts.phoneNumberId)}/messages`;
    this.#auth = { authorization: new Secret(`Bearer ${opts.accessToken.reveal()}`) };
    this.#fanOut = new RecipientFanOut(this.name);
  }

  async send(n: Notification): Promise<void> {
    const template = n.status === 'resolved' ? this.#o.templates.resolved : this.#o.templates.firing;
    const parameters = templateParameters(n, this.#o.parameters).map((text) => ({ type: 'text', text }));
    await this.#fanOut.send(`${n.id}|${ledgerKind(n)}`, this.#o.to, async (to) => {
      const body = {
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to,
        type: 'template',
        template: {
          name: template,
          language: { code: this.#o.language },
          components: parameters.length > 0 ? [{ type: 'body', parameters }] : [],
        },
      };
      await postNotification(
        {
          name: this.name,
          url: this.#url,
          headers: this.#auth,
          timeoutMs: this.#o.timeoutMs,
          codePrefix: 'whatsapp',
          judge: judgeGraphReply,
        },
        'application/json',
        JSON.stringify(body),
      );
    });
  }
}

interface GraphError {
  readonly error?: {
    readonly message?: string;
    readonly code?: number;
    readonly error_data?: { readonly details?: string };
  };
}

/** Meta's error body: `{error:{message, type, code, error_data:{details}, fbtrace_id}}`. */
export function judgeGraphReply(
  status: number,
  body: string,
): { message: string; retryable: boolean } | undefined {
  let parsed: GraphError | undefined;
  try {
    parsed = JSON.parse(body) as GraphError;
  } catch {
    parsed = undefined;
  }
  const e = parsed?.error;
  if (status >= 200 && status < 300) {
    if (parsed && typeof parsed === 'object' && 'messages' in parsed) return undefined;
    return { message: `not a Cloud API answer (is baseUrl right?): ${body.slice(0, 200)}`, retryable: false };
  }
  if (!e) return undefined; // status rules: 5xx and 429 retryable
  const code = typeof e.code === 'number' ? e.code : undefined;
  const details = e.error_data?.details ? ` (${e.error_data.details})` : '';
  const hint =
    code === 190
      ? ' (check the access token)'
      : code === 132001
        ? ' (check the template name and language)'
        : '';
  return {
    message: `${code !== undefined ? `#${code} ` : ''}${e.message ?? ''}${details}${hint}`.slice(0, 400),
    retryable: status >= 500 || status === 429 || (code !== undefined && RETRYABLE_CODES.has(code)),
  };
}
