/**
 * Telegram through the Bot API's sendMessage (https://core.telegram.org/bots/api#sendmessage): one message per
 * notification, Bahasa Indonesia first, then English, then the link once, as HTML (telegram-text.ts).
 *
 * With buttons (a channel with `operators`): a page about a device outage carries an inline keyboard
 * (acknowledge, resolve, silence; telegram-buttons.ts) and is remembered (telegram-state.ts), so the
 * presses (telegram-updates.ts) know their incident and the page can be edited. On the recovery, besides
 * the recovery message, each page of the incident is edited: marked recovered, its buttons removed. That
 * edit is best effort: the recovery itself was delivered, so a failed edit is logged, not retried.
 *
 * Failures of sendMessage are NotifyError (telegram-bot-api.ts): network, timeouts, 5xx and 429 retryable.
 * The token never leaves telegram-bot-api.ts.
 */
import type { Clock } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Secret } from '../core/secret.ts';
import type { Notification } from './notification.ts';
import type { Notifier } from './notifier.ts';
import { BotApi, TelegramApiError } from './telegram-bot-api.ts';
import { editedHtml, pageKeyboard, recoveredLine, STATUS_ROOM_CHARS } from './telegram-buttons.ts';
import type { PageRef, TelegramState } from './telegram-state.ts';
import { telegramText } from './telegram-text.ts';

export { TELEGRAM_API_BASE } from './telegram-bot-api.ts';
export { TELEGRAM_MAX_CHARS, escapeHtml, telegramText } from './telegram-text.ts';

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
  /** Buttons on pages (the channel has operators); absent: plain messages. */
  readonly buttons?: TelegramButtonsOptions | undefined;
}

export interface TelegramButtonsOptions {
  readonly state: TelegramState;
  /** How long the silence button silences. */
  readonly silenceMs: number;
  readonly clock: Clock;
  readonly log?: Logger | undefined;
}

interface SentMessage {
  readonly message_id: number;
  readonly chat: { readonly id: number | string };
}

export class TelegramNotifier implements Notifier {
  readonly name: string;
  readonly #opts: TelegramOptions;
  readonly #api: BotApi;

  constructor(opts: TelegramOptions, api?: BotApi) {
    this.name = `telegram:${opts.name}`;
    this.#opts = opts;
    this.#api =
      api ??
      new BotApi({
        name: this.name,
        botToken: opts.botToken,
        apiBase: opts.apiBase,
        timeoutMs: opts.timeoutMs,
      });
  }

  async send(n: Notification): Promise<void> {
    const buttons = this.#opts.buttons;
    const paged = buttons !== undefined && n.status === 'firing' && n.device !== undefined;
    const html = telegramText(n, paged ? STATUS_ROOM_CHARS : 0);
    const sent = await this.#api.call<SentMessage>('sendMessage', {
      chat_id: this.#opts.chatId,
      message_thread_id: this.#opts.messageThreadId,
      text: html,
      parse_mode: 'HTML',
      link_preview_options: { is_disabled: this.#opts.disableLinkPreview ?? true },
      reply_markup: paged
        ? pageKeyboard(n.id, { acknowledged: false, silenceMs: buttons.silenceMs })
        : undefined,
    });
    if (!buttons) return;
    if (paged) {
      try {
        buttons.state.addPage({
          incidentId: n.id,
          chatId: String(sent.chat.id),
          messageId: sent.message_id,
          html,
          lines: [],
          acknowledged: false,
          sentAt: buttons.clock.now(),
        });
      } catch (err) {
        // The page went out: a failure to remember it costs its edits (its buttons still carry the
        // incident id), not a second page.
        buttons.log?.error('telegram page not remembered', {
          channel: this.name,
          alert: n.id,
          error: errorMessage(err),
        });
      }
    } else if (n.status === 'resolved' && n.kind !== 'flapping') {
      const at = n.resolvedAt ? Date.parse(n.resolvedAt) : buttons.clock.now();
      for (const page of buttons.state.pagesOf(n.id)) {
        try {
          await editPage(this.#api, page, { lines: [...page.lines, recoveredLine(at)], keyboard: false });
        } catch (err) {
          buttons.log?.warn('telegram page not marked recovered', {
            channel: this.name,
            alert: n.id,
            messageId: page.messageId,
            error: errorMessage(err),
          });
        }
      }
      try {
        buttons.state.forget(n.id);
      } catch (err) {
        buttons.log?.error('telegram pages not forgotten', {
          channel: this.name,
          alert: n.id,
          error: errorMessage(err),
        });
      }
    }
  }
}

/**
 * Edit a page: its text with `lines` added, with the keyboard (acknowledged or not) or without any.
 * Telegram's "message is not modified" (the same edit again, after a retry) counts as done.
 */
export async function editPage(
  api: BotApi,
  page: PageRef,
  opts:
    | { lines: readonly string[]; keyboard: false }
    | { lines: readonly string[]; keyboard: true; silenceMs: number; acknowledged: boolean },
): Promise<void> {
  try {
    await api.call('editMessageText', {
      chat_id: page.chatId,
      message_id: page.messageId,
      text: editedHtml(page.html, opts.lines),
      parse_mode: 'HTML',
      link_preview_options: { is_disabled: true },
      // Without reply_markup the edited message has no keyboard.
      reply_markup: opts.keyboard
        ? pageKeyboard(page.incidentId, { acknowledged: opts.acknowledged, silenceMs: opts.silenceMs })
        : undefined,
    });
  } catch (err) {
    if (err instanceof TelegramApiError && /message is not modified/i.test(err.description)) return;
    throw err;
  }
}
