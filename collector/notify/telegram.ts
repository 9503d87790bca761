/**
 * Telegram through the Bot API's sendMessage (https://core.telegram.org/bots/api#sendmessage): one message per
 * notification, Bahasa Indonesia first, then English, then the link once, as HTML.
 *
 * Failures (https://core.telegram.org/bots/api#making-requests: `{ok:false, error_code, description,
 * parameters?}`): network errors, timeouts and 5xx are retryable; 429 is retryable after
 * `parameters.retry_after` seconds; any other 4xx is not (bad token, unknown chat, bot blocked: sending again
 * will not help) and its message carries Telegram's `description`. The token is part of the request path, so
 * no URL, error text or cause that could hold it leaves this file: errors name the redacted URL only.
 */
import { NotifyError, errorMessage } from '../core/errors.ts';
import type { Secret } from '../core/secret.ts';
import type { Notification } from './notification.ts';
import type { Notifier } from './notifier.ts';

export const TELEGRAM_API_BASE = 'https://api.telegram.org';
/** sendMessage `text`: "1-4096 characters after entities parsing". */
export const TELEGRAM_MAX_CHARS = 4096;

export interface TelegramOptions {
  readonly name: string;
  readonly botToken: Secret;
  /** A numeric chat id (groups and channels are negative, e.g. -1001234567890) or '@channelusername'. */
  readonly chatId: string;
  /** A topic of a forum supergroup. */
  readonly messageThreadId?: number | undefined;
  /** Default https://api.telegram.org; tests and a self-hosted Bot API server point it elsewhere. */
  readonly apiBase?: string | undefined;
  /** The link goes to the monitor itself: a preview card of it only takes room. Default true. */
  readonly disableLinkPreview?: boolean | undefined;
  readonly timeoutMs?: number | undefined;
}

interface BotApiReply {
  readonly ok?: boolean;
  readonly error_code?: number;
  readonly description?: string;
  readonly parameters?: { readonly retry_after?: number; readonly migrate_to_chat_id?: number };
}

export class TelegramNotifier implements Notifier {
  readonly name: string;
  readonly #opts: TelegramOptions;
  readonly #base: string;

  constructor(opts: TelegramOptions) {
    this.name = `telegram:${opts.name}`;
    this.#opts = opts;
    this.#base = (opts.apiBase ?? TELEGRAM_API_BASE).replace(/\/+$/, '');
  }

  async send(n: Notification): Promise<void> {
    const token = this.#opts.botToken.reveal();
    const redact = (s: string): string => (token ? s.split(token).join('<token>') : s);
    const shownUrl = `${this.#base}/bot<token>/sendMessage`;
    const body = {
      chat_id: this.#opts.chatId,
      message_thread_id: this.#opts.messageThreadId,
      text: telegramText(n),
      parse_mode: 'HTML',
      link_preview_options: { is_disabled: this.#opts.disableLinkPreview ?? true },
    };
    let res: Response;
    try {
      res = await fetch(`${this.#base}/bot${token}/sendMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.#opts.timeoutMs ?? 10_000),
      });
    } catch (err) {
      // No `cause`: undici's errors can carry the request, and so the token.
      throw new NotifyError(
        'telegram_unreachable',
        `${this.name}: POST ${shownUrl}: ${redact(describeFetchError(err))}`,
        { retryable: true },
      );
    }
    const raw = await res.text().catch(() => '');
    let reply: BotApiReply | undefined;
    try {
      reply = JSON.parse(raw) as BotApiReply;
    } catch {
      reply = undefined;
    }
    if (res.ok && reply?.ok === true) return;

    const status = reply?.error_code ?? res.status;
    const description = redact(reply?.description ?? raw.slice(0, 200)).trim();
    if (res.ok) {
      throw new NotifyError(
        'telegram_bad_reply',
        `${this.name}: POST ${shownUrl}: HTTP ${res.status} but not a Bot API success reply (is apiBase right?): ${description}`,
        { retryable: false },
      );
    }
    if (status === 429 || res.status === 429) {
      const after = reply?.parameters?.retry_after ?? Number(res.headers.get('retry-after'));
      throw new NotifyError('telegram_rate_limited', `${this.name}: HTTP 429 ${description}`, {
        retryable: true,
        retryAfterMs: Number.isFinite(after) && after > 0 ? after * 1000 : undefined,
      });
    }
    const retryable = res.status >= 500;
    const migrated = reply?.parameters?.migrate_to_chat_id;
    const hint =
      migrated !== undefined
        ? ` (the group became a supergroup: set chatId: '${migrated}')`
        : res.status === 401 || res.status === 404
          ? ' (check the bot token)'
          : '';
    throw new NotifyError('telegram_status', `${this.name}: HTTP ${res.status} ${description}${hint}`, {
      retryable,
    });
  }
}

/** The message: Indonesian, English, the link once; HTML-escaped, cut to fit 4096 characters. Pure. */
export function telegramText(n: Notification): string {
  const strip = (t: string): string =>
    n.link && t.endsWith(`\n${n.link}`) ? t.slice(0, -n.link.length - 1) : t;
  const id = strip(n.text.id);
  const en = strip(n.text.en);
  const link = n.link ? `\n\n${n.link}` : '';
  // Telegram counts the text after entity parsing: an escaped '&amp;' is one character, so cut before escaping.
  const room = TELEGRAM_MAX_CHARS - link.length - 2;
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
function cut(s: string, max: number): string {
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

function describeFetchError(err: unknown): string {
  const cause =
    err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (err instanceof Error && err.name === 'TimeoutError') return 'timed out';
  const detail =
    cause && typeof cause === 'object'
      ? typeof cause.code === 'string'
        ? cause.code
        : typeof cause.message === 'string'
          ? cause.message
          : ''
      : '';
  return detail ? `${errorMessage(err)} (${detail})` : errorMessage(err);
}
