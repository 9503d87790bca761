/**
 * Button presses on Telegram pages, received and acted on. Telegram delivers them as `callback_query`
 * updates (https://core.telegram.org/bots/api#getting-updates), by default through getUpdates long polling
 * (the office behind NAT needs no public URL), or to a webhook when configured (setWebhook with a
 * `secret_token` that every delivery carries in `X-Telegram-Bot-Api-Secret-Token`).
 *
 * A press: the Telegram user is mapped to a configured operator (anyone else is refused, and told so), the
 * action goes through IncidentActions as that operator "via Telegram" (the incident's timeline), the press
 * is answered (answerCallbackQuery), and the page is edited (editMessageText): a status line added, the
 * acknowledge button gone once acknowledged. A resolve's edit comes with its recovery (telegram.ts).
 *
 * Lifecycle: constructing touches no network; start(actions) starts polling (after deleteWebhook, since
 * Telegram refuses getUpdates while a webhook is set) or registers the webhook; stop() aborts the poll in
 * flight, waits for the press being handled and confirms the offset to Telegram. The offset (last update
 * handled + 1) is kept in the channel's state file after each update, so a restart does not replay presses;
 * polling errors back off
 * exponentially (honouring 429's retry_after), never spinning.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { errorMessage, NetmonError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Secret } from '../core/secret.ts';
import type { ActionOutcome, IncidentActions } from './incident-actions.ts';
import type { BotApi } from './telegram-bot-api.ts';
import { ANSWERS, fitAnswer, parseCallbackData, statusLine, type ButtonAction } from './telegram-buttons.ts';
import type { TelegramState } from './telegram-state.ts';
import { editPage } from './telegram.ts';

export const SECRET_TOKEN_HEADER = 'x-telegram-bot-api-secret-token';
export const VIA_TELEGRAM = 'via Telegram';
/** An empty poll answered faster than this waits this long before the next. */
const MIN_EMPTY_POLL_MS = 1000;

export type UpdatesMode =
  | { readonly kind: 'polling'; readonly pollTimeoutS: number }
  | { readonly kind: 'webhook'; readonly url: string; readonly secretToken: Secret };

export interface TelegramUpdatesOptions {
  /** The channel's notifier name, e.g. telegram:noc. */
  readonly name: string;
  /** The channel's name, for the webhook path /hooks/telegram/<channel>. */
  readonly channel: string;
  readonly api: BotApi;
  readonly state: TelegramState;
  /** Telegram user id (as a string) → operator name. */
  readonly operators: Readonly<Record<string, string>>;
  readonly silenceMs: number;
  readonly mode: UpdatesMode;
  readonly clock: Clock;
  readonly log: Logger;
  /** Backoff after a failed poll: base doubled per failure up to max. Default 1 s .. 60 s. */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number } | undefined;
}

/** The parts of a Bot API Update this reads. */
export interface TelegramUpdate {
  readonly update_id: number;
  readonly callback_query?:
    | {
        readonly id: string;
        readonly from: { readonly id: number; readonly username?: string | undefined };
        readonly message?: { readonly message_id: number; readonly chat: { readonly id: number | string } };
        readonly data?: string | undefined;
      }
    | undefined;
}

/** A webhook route for the HTTP server: framework-free, the server mounts it. */
export interface ChatHook {
  readonly path: string;
  handle(
    headers: Readonly<Record<string, string | string[] | undefined>>,
    body: unknown,
  ): Promise<{
    status: number;
    body: unknown;
  }>;
}

export class TelegramUpdates {
  readonly #o: TelegramUpdatesOptions;
  #actions: IncidentActions | undefined;
  #running = false;
  #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #sleeping: { timer: TimerHandle; wake: () => void } | undefined;
  /** Presses being handled (webhook deliveries run concurrently with nothing else here). */
  readonly #inFlight = new Set<Promise<void>>();
  #handled = 0;
  #refused = 0;

  constructor(opts: TelegramUpdatesOptions) {
    this.#o = opts;
  }

  /** The webhook route, in webhook mode. */
  get hook(): ChatHook | undefined {
    const mode = this.#o.mode;
    if (mode.kind !== 'webhook') return undefined;
    return {
      path: `/hooks/telegram/${this.#o.channel}`,
      handle: (headers, body) => this.#onWebhook(mode.secretToken, headers, body),
    };
  }

  stats(): { handled: number; refused: number; offset: number | undefined } {
    return { handled: this.#handled, refused: this.#refused, offset: this.#o.state.offset() };
  }

  start(actions: IncidentActions): void {
    if (this.#running) return;
    this.#actions = actions;
    this.#running = true;
    this.#abort = new AbortController();
    const run = this.#o.mode.kind === 'polling' ? this.#poll(this.#o.mode.pollTimeoutS) : this.#register();
    // Nothing in the loop should throw; if something does, it is logged and the receiver stops, not the monitor.
    this.#loop = run.catch((err: unknown) => {
      this.#running = false;
      this.#o.log.error('telegram receiver stopped', { channel: this.#o.name, error: errorMessage(err) });
    });
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#abort.abort();
    if (this.#sleeping) {
      this.#o.clock.clearTimeout(this.#sleeping.timer);
      this.#sleeping.wake();
    }
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
    // Telegram forgets updates only when asked for a later offset: confirm what was handled, so a receiver
    // that starts without this state (another host, a lost file) does not act on those presses again.
    const offset = this.#o.state.offset();
    if (this.#o.mode.kind === 'polling' && offset !== undefined)
      await this.#o.api
        .call(
          'getUpdates',
          { offset, timeout: 0, limit: 1, allowed_updates: ['callback_query'] },
          { timeoutMs: 2000 },
        )
        .catch((err: unknown) =>
          this.#o.log.warn('telegram offset not confirmed on stop', {
            channel: this.#o.name,
            error: errorMessage(err),
          }),
        );
  }

  /** Handle one update (polling and webhook both end here). Never throws. */
  async handleUpdate(u: TelegramUpdate): Promise<void> {
    const p = this.#handle(u).catch((err: unknown) =>
      this.#o.log.error('telegram update not handled', {
        channel: this.#o.name,
        updateId: u.update_id,
        error: errorMessage(err),
      }),
    );
    this.#inFlight.add(p);
    try {
      await p;
    } finally {
      this.#inFlight.delete(p);
    }
  }

  // ---- receiving -----------------------------------------------------------------------------------------

  async #poll(timeoutS: number): Promise<void> {
    const { api, state, log } = this.#o;
    // Telegram refuses getUpdates while a webhook is set (409): a channel switched back to polling clears it.
    await this.#untilDone('deleteWebhook', () =>
      api.call('deleteWebhook', {}, { signal: this.#abort.signal }),
    );
    let failures = 0;
    while (this.#running) {
      let updates: TelegramUpdate[];
      const askedAt = this.#o.clock.now();
      try {
        updates = await api.call<TelegramUpdate[]>(
          'getUpdates',
          { offset: state.offset(), timeout: timeoutS, allowed_updates: ['callback_query'] },
          { timeoutMs: (timeoutS + 15) * 1000, signal: this.#abort.signal },
        );
        failures = 0;
      } catch (err) {
        if (!this.#running) break;
        failures++;
        const delay = this.#backoffMs(failures, err);
        log.warn('telegram getUpdates failed', {
          channel: this.#o.name,
          attempt: failures,
          delayMs: delay,
          error: errorMessage(err),
        });
        await this.#sleep(delay);
        continue;
      }
      // Telegram holds an empty answer for the whole timeout; one that comes back at once (a proxy, a
      // stand-in) must not turn the loop into a busy one.
      if (updates.length === 0 && this.#o.clock.now() - askedAt < MIN_EMPTY_POLL_MS) {
        await this.#sleep(MIN_EMPTY_POLL_MS);
        continue;
      }
      for (const u of updates) {
        // After stop() the rest stays unconfirmed: Telegram hands it out again on the next start.
        if (!this.#running) break;
        await this.handleUpdate(u);
        this.#keepOffset(u.update_id + 1);
      }
    }
  }

  /** Webhook mode: register the URL and secret once, retrying with backoff until it takes. */
  async #register(): Promise<void> {
    const mode = this.#o.mode;
    if (mode.kind !== 'webhook') return;
    await this.#untilDone('setWebhook', () =>
      this.#o.api.call(
        'setWebhook',
        { url: mode.url, secret_token: mode.secretToken.reveal(), allowed_updates: ['callback_query'] },
        { signal: this.#abort.signal },
      ),
    );
  }

  async #untilDone(what: string, fn: () => Promise<unknown>): Promise<void> {
    for (let failures = 1; this.#running; failures++) {
      try {
        await fn();
        return;
      } catch (err) {
        if (!this.#running) return;
        const delay = this.#backoffMs(failures, err);
        this.#o.log.warn(`telegram ${what} failed`, {
          channel: this.#o.name,
          attempt: failures,
          delayMs: delay,
          error: errorMessage(err),
        });
        await this.#sleep(delay);
      }
    }
  }

  async #onWebhook(
    secret: Secret,
    headers: Readonly<Record<string, string | string[] | undefined>>,
    body: unknown,
  ): Promise<{ status: number; body: unknown }> {
    const given = headers[SECRET_TOKEN_HEADER];
    if (typeof given !== 'string' || !sameSecret(given, secret.reveal())) {
      this.#o.log.warn('telegram webhook refused: wrong or missing secret token', { channel: this.#o.name });
      return { status: 401, body: { error: 'unauthorized', message: 'wrong or missing secret token' } };
    }
    if (!this.#running) return { status: 503, body: { error: 'unavailable', message: 'not running' } };
    const u = body as Partial<TelegramUpdate> | undefined;
    if (!u || typeof u.update_id !== 'number')
      return { status: 400, body: { error: 'bad_request', message: 'expected a Telegram Update' } };
    const offset = this.#o.state.offset();
    // Telegram delivers again what was not answered 2xx: one already handled is only acknowledged.
    if (offset === undefined || u.update_id >= offset) {
      await this.handleUpdate(u as TelegramUpdate);
      this.#keepOffset(u.update_id + 1);
    }
    return { status: 200, body: {} };
  }

  /** In memory at once; on disk unless the disk refuses (then a restart may replay, each press answered). */
  #keepOffset(offset: number): void {
    try {
      this.#o.state.setOffset(offset);
    } catch (err) {
      this.#o.log.error('telegram offset not saved', { channel: this.#o.name, error: errorMessage(err) });
    }
  }

  #backoffMs(failures: number, err: unknown): number {
    const { baseMs, maxMs } = this.#o.backoff ?? { baseMs: 1000, maxMs: 60_000 };
    const exp = Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 20));
    const after = err instanceof NetmonError ? err.retryAfterMs : undefined;
    return after !== undefined ? Math.max(exp, after) : exp;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.#sleeping = undefined;
        resolve();
      };
      this.#sleeping = { timer: this.#o.clock.setTimeout(wake, ms), wake };
    });
  }

  // ---- acting --------------------------------------------------------------------------------------------

  async #handle(u: TelegramUpdate): Promise<void> {
    const cq = u.callback_query;
    if (!cq) return;
    const { log, state, operators } = this.#o;
    const userId = cq.from.id;
    const operator = Object.hasOwn(operators, String(userId)) ? operators[String(userId)] : undefined;
    if (operator === undefined) {
      this.#refused++;
      log.warn('telegram press refused: not an operator', {
        channel: this.#o.name,
        telegramUser: userId,
        username: cq.from.username,
      });
      await this.#answer(cq.id, ANSWERS.refused(userId), true);
      return;
    }
    const parsed = parseCallbackData(cq.data);
    if (!parsed) {
      await this.#answer(cq.id, ANSWERS.unknownButton, true);
      return;
    }
    const chatId = cq.message ? String(cq.message.chat.id) : undefined;
    const page =
      chatId !== undefined && cq.message ? state.pageByMessage(chatId, cq.message.message_id) : undefined;
    const incidentId = parsed.incidentId ?? page?.incidentId;
    const actions = this.#actions;
    if (!incidentId || !actions) {
      await this.#answer(cq.id, ANSWERS.unknownIncident, true);
      return;
    }
    const now = this.#o.clock.now();
    const outcome = this.#act(actions, parsed.action, incidentId, operator);
    if (!outcome.ok) {
      log.warn('telegram press not done', {
        channel: this.#o.name,
        operator,
        action: parsed.action,
        incident: incidentId,
        reason: outcome.reason,
        message: outcome.message,
      });
      const text =
        outcome.reason === 'not_found'
          ? ANSWERS.unknownIncident
          : outcome.reason === 'failed'
            ? ANSWERS.failed
            : ANSWERS.conflict(outcome.message.replace(/^incident '[^']*': /, ''));
      await this.#answer(cq.id, text, true);
      return;
    }
    this.#handled++;
    log.info('telegram press done', {
      channel: this.#o.name,
      operator,
      action: parsed.action,
      incident: incidentId,
    });
    // The status line goes into the state before anything is awaited: a resolve's recovery (sent by the
    // dispatcher meanwhile) edits the page from the state and so shows who resolved it.
    const line = statusLine(parsed.action, operator, now, this.#o.silenceMs);
    const pages = state.pagesOf(incidentId).map((p) => ({
      ...p,
      lines: [...p.lines, line],
      acknowledged: p.acknowledged || parsed.action === 'ack',
    }));
    for (const p of pages) state.updatePage(p);
    await this.#answer(cq.id, this.#doneText(parsed.action, incidentId), false);
    if (parsed.action === 'resolve') return;
    for (const p of pages) {
      try {
        await editPage(this.#o.api, p, {
          lines: p.lines,
          keyboard: true,
          acknowledged: p.acknowledged,
          silenceMs: this.#o.silenceMs,
        });
      } catch (err) {
        log.warn('telegram page not edited', {
          channel: this.#o.name,
          incident: incidentId,
          messageId: p.messageId,
          error: errorMessage(err),
        });
      }
    }
  }

  #act(actions: IncidentActions, action: ButtonAction, id: string, operator: string): ActionOutcome {
    switch (action) {
      case 'ack':
        return actions.acknowledge(id, operator, VIA_TELEGRAM);
      case 'resolve':
        return actions.resolve(id, operator, VIA_TELEGRAM);
      case 'silence':
        return actions.silence(id, this.#o.silenceMs, operator, VIA_TELEGRAM);
    }
  }

  #doneText(action: ButtonAction, id: string): string {
    return action === 'silence' ? ANSWERS.silence(this.#o.silenceMs) : ANSWERS[action](id);
  }

  async #answer(callbackQueryId: string, text: string, alert: boolean): Promise<void> {
    try {
      await this.#o.api.call('answerCallbackQuery', {
        callback_query_id: callbackQueryId,
        text: fitAnswer(text),
        show_alert: alert,
      });
    } catch (err) {
      // Too late (Telegram gives about 15 s) or Telegram away: the action itself is done or refused.
      this.#o.log.warn('telegram press not answered', { channel: this.#o.name, error: errorMessage(err) });
    }
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
